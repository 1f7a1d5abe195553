// Public surface of the tensor core (the kernels plugins call are in src/plugin, tuning constants in src/internals.ts).
export { Tensor, tensor, zeros, ones, full, randn, rand, shapeSize, formatShape } from './tensor.js';
export { Rng, type RngState } from './rng.js';
export type { Param } from './param.js';
export { setGemmBackend, getGemmBackend, type GemmBackend } from './gemm.js';
export { setThreads, getThreads, availableCores } from '../runtime/workers.js';
export { wasmGemmVariant } from '../runtime/tasks.js';
export type { WasmVariant } from '../runtime/module.js';
