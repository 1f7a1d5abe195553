// tensorkit's autograd: Variables recorded on a graph by differentiable ops, backward, noGrad, and the
// functional grad/valueAndGrad. The ops are also gathered in the `ops` namespace object.
export { Variable, variable, type BackwardOptions } from './variable.js';
export { AutogradError, noGrad, isGradEnabled } from './tape.js';
export { grad, valueAndGrad, type ArgNums, type ValueAndGrad } from './functional.js';
export { StepBuffers } from './buffers.js';
export * as ops from './ops.js';
export type {
  OpInput, ReduceOptions, VarOptions, MatmulOptions, GeluOptions, SliceRange, CrossEntropyOptions,
} from './ops.js';
