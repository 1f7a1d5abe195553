// ops.ts: the differentiable ops, gathered from the files that hold them (elementwise, reduce, shape,
// matmul, softmax, losses), and the install of Variable's methods. `export * as ops` in index.ts
// exposes this module; further op files append an `export *` line below.
import { abs, add, clamp, div, exp, gelu, leakyRelu, log, mul, neg, pow, relu, sigmoid, silu, sqrt, sub, tanh, where } from './elementwise.js';
import { matmul } from './matmul.js';
import { argmax, argmin, max, mean, min, sum, variance } from './reduce.js';
import { logSoftmax, softmax } from './softmax.js';
import {
  concat, flatten, indexSelect, pad, permute, reshape, select, slice, squeeze, stack, transpose, unsqueeze,
} from './shape.js';
import { installVariableOps } from './variable.js';

export type { OpInput, ReduceOptions } from './variable.js';
export { broadcastShapes } from './op-helpers.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './softmax.js';
export * from './losses.js';

// Variable's methods (x.add(y), x.relu(), …) call these through the table variable.ts keeps.
installVariableOps({
  add, sub, mul, div, neg, exp, log, sqrt, abs, pow, clamp, where, matmul, sum, mean, max, min, variance, argmax, argmin,
  reshape, transpose, permute, squeeze, unsqueeze, flatten, slice, select, indexSelect, pad, concat, stack,
  relu, leakyRelu, tanh, sigmoid, gelu, silu, softmax, logSoftmax,
});
export * from './nn.js';
