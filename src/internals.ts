// tensorkit/internals: the tuning constants and low-level entry points that tests and benchmarks use.
// Not part of the stable surface: names and values change when a benchmark says so.
export { GEMM_MR, GEMM_NR, GEMM_MC, GEMM_KC, GEMM_NC, GEMM_WASM_MIN_VOLUME, gemmNaive, gemmTs, gemmWasm } from './tensor/gemm.js';
export {
  WASM_GEMM_MR, WASM_GEMM_NR, WASM_GEMM_MC, WASM_GEMM_KC, WASM_GEMM_NC, WASM_THREAD_MIN_VOLUME, WASM_SHARES_PER_THREAD,
  WASM_SHARE_MIN_SPAN, WASM_DEPTH_SPLIT_MIN_K, WASM_DEPTH_SPLIT_MAX_MN, WASM_DEPTH_SPLIT_MAX_PARTS, depthParts,
} from './runtime/gemm-plan.js';
export { wasmGemmShares, sgemmWasm } from './runtime/tasks.js';
export { int32View } from './runtime/twins.js';
export { CONV_COLUMN_BUDGET } from './tensor/conv2d-engine.js';
