// Param: a trainable tensor with its gradient. The only thing optimizers ever see of a model.
import type { Tensor } from './tensor.js';

/** A trainable parameter. */
export interface Param {
  /** Stable name, e.g. `"0.weight"` in a Sequential; the optimizer-state key. */
  readonly name: string;
  readonly value: Tensor;
  /** Same shape as `value`; backward accumulates (+=) into it, the training loop zeroes it. */
  readonly grad: Tensor;
  /** Per-parameter multiplier of `weightDecay` (default 1; set 0 to exempt a tensor). */
  readonly decayMul?: number;
}
