// Public surface of the tensor core.
export { Tensor, tensor, zeros, ones, full, randn, rand, shapeSize, formatShape } from './tensor.js';
export { Rng, type RngState } from './rng.js';
export type { Param } from './param.js';
export { gemm, gemmNaive, type GemmOptions } from './gemm.js';
export { GEMM_MR, GEMM_NR, GEMM_MC, GEMM_KC, GEMM_NC } from './gemm.js';
export { im2col, col2im, convGeometry, type ConvGeometry } from './im2col.js';
export { softmaxRows, logSoftmaxRows, argmaxRows } from './reduce.js';
export { sum, mean, max, min, dot, sumSquares } from './reduce.js';
export { relu, reluBackward, int32View, add, sub, mul, scale, addScalar, axpy, addRowVector, addColVector, colSums, rowSums } from './elementwise.js';
export { poolGeometry, maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward, type PoolGeometry } from './pool.js';
export { gemmTs, gemmWasm, setGemmBackend, getGemmBackend, GEMM_WASM_MIN_VOLUME, type GemmBackend } from './gemm.js';
export { wasmGemmVariant, WASM_GEMM_MR, WASM_GEMM_NR, WASM_GEMM_MC, WASM_GEMM_KC, WASM_GEMM_NC, type WasmGemmVariant } from './gemm-wasm.js';
export { setThreads, getThreads, availableCores } from './threads.js';
export { wasmGemmShares, WASM_THREAD_MIN_VOLUME, WASM_SHARES_PER_THREAD, WASM_SHARE_MIN_SPAN } from './gemm-wasm.js';
