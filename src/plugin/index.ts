// tensorkit/plugin: the kit that built-in layers and optimizers are written with, and that a user's
// plugin uses to run at the same speed: arrays in the shared heap, the kernel table (declare a SIMD
// kernel with its TypeScript twin, or compile one from an elementwise expression), destination-first
// maps and reductions, gemm, convolution and pooling calls, and the layer helpers.

// Memory: parameters, gradients, optimizer slots and layer buffers in the shared heap.
export {
  heapFloat32, heapInt32, isHeapArray, fillFloat32, copyFloat32, heapStats, sharedHeap,
  type SharedHeap, type HeapArray, type HeapStats,
} from '../runtime/heap.js';
// The kernel table and its built-in kernels.
export {
  defineKernel, getKernel, kernelNames, Kernel, KERNEL_CHUNK, KERNEL_MIN_PARALLEL, type KernelSpec, type Operand,
  RELU, RELU_BACKWARD, TANH, SIGMOID, SGD, MOMENTUM, NAG, ADAM, RMSPROP, RMSPROP_MOMENTUM, NADAM, DECAY, SHRINK, ADD_PARTS,
  MAX_POOL2, MAX_POOL2_BACKWARD,
} from '../runtime/kernel-table.js';
export { setThreads, getThreads, availableCores } from '../runtime/workers.js';
export { setWorkerPlatform, type WorkerPlatform } from '../runtime/platform.js';
// Destination-first maps, reductions, products, convolution and pooling.
export {
  relu, reluBackward, add, sub, mul, scale, addScalar, axpy, addRowVector, addColVector, colSums, rowSums,
} from '../tensor/elementwise.js';
export { sum, mean, max, min, dot, sumSquares, softmaxRows, logSoftmaxRows, argmaxRows } from '../tensor/reduce.js';
export { gemm, type GemmOptions } from '../tensor/gemm.js';
export { im2col, col2im, convGeometry, type ConvGeometry } from '../tensor/im2col.js';
export { WideConv, sharedConvHeap, CONV_COLUMN_BUDGET } from '../tensor/conv2d-engine.js';
export {
  WinogradConv, setConvAlgorithm, getConvAlgorithm, autoWinogradTile, winogradTileFor, WINOGRAD_GROUP_FLOATS, WINOGRAD_KEEP_FLOATS, setWinogradWeightGrad,
  getWinogradWeightGrad, autoWinogradWeightGrad, winogradWeightGradTile, type ConvAlgorithm, type WinogradShape, type WinogradTile,
  type WinogradWeightGrad,
} from '../tensor/winograd.js';
export {
  poolGeometry, maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward, type PoolGeometry,
} from '../tensor/pooling.js';
// Layer helpers.
export {
  requireBuilt, checkInput, checkGrad, NO_PARAMS, unbuiltParam, resolveInit, copySpec, BatchBuffer, heapTensor, createParam,
  type ResolvedInit,
} from './layer-helpers.js';
// Config readers for a plugin's factory: defaults merged, every value validated with a named error.
export { readNumber, readBoolean, readChoice, readPair, checkKeys, type NumberRule } from '../config.js';
// A plugin's own SIMD kernel from an elementwise expression.
export { defineElementwise, type Value, type Mask, type ElementwiseDefinition } from '../runtime/define-elementwise.js';
// What a layer written only against this kit needs besides: the tensor class (views sharing data),
// shape formatting for messages, the parameter and Rng types, and the fan computation of initializers.
export { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
export type { Param } from '../tensor/param.js';
export type { Rng } from '../tensor/rng.js';
export { computeFans, type InitializerSpec } from '../init/index.js';
