// Nesterov accelerated gradient, in PyTorch's form (SGD with nesterov=True).
import { checkKeys, readNumber } from '../config.js';
import { parallelRange } from '../tensor/gemm-wasm.js';
import { RANGE_NAG, nagKernel } from '../tensor/heap-tasks.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link Nesterov} hyperparameters. */
export interface NesterovConfig {
  /** Learning rate, default 0.01. */
  lr: number;
  /** Momentum coefficient μ in [0, 1), default 0.9. */
  momentum: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
}

/** Defaults of {@link Nesterov}. */
export const NESTEROV_DEFAULTS: Readonly<NesterovConfig> = { lr: 0.01, momentum: 0.9, weightDecay: 0 };

/**
 * Nesterov momentum (Nesterov 1983; Sutskever et al. 2013), registered as `"nag"`:
 *
 *     g ← g + weightDecay·decayMul·p
 *     b ← μ·b + g            (b starts at 0)
 *     p ← p − lr·(g + μ·b)
 *
 * Identical to `torch.optim.SGD(params, lr, momentum=μ, nesterov=True, weight_decay)`. This is the
 * look-ahead reformulated on the current parameters (Bengio et al. 2013) rather than the paper's
 * gradient at `p + μ·v`, and lr sits outside the buffer as in {@link Momentum}. Slot: `b`.
 */
export class Nesterov extends BaseOptimizer<'b'> {
  readonly kind = 'nag';
  readonly momentum: number;

  /** `config` is merged onto {@link NESTEROV_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<NesterovConfig> = {}) {
    checkKeys('nag', config, Object.keys(NESTEROV_DEFAULTS));
    super({ ...readBaseConfig('nag', config, NESTEROV_DEFAULTS.lr, false), slots: ['b'] });
    this.momentum = readNumber('nag', config, 'momentum', NESTEROV_DEFAULTS.momentum, { min: 0, max: 1, maxExclusive: true });
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'b', Float32Array>): void {
    const b = slots.b;
    if (!parallelRange(RANGE_NAG, p.length, p, g, b, null, this.lr, this.momentum)) nagKernel(p, 0, g, 0, b, 0, p.length, this.lr, this.momentum);
  }

  getConfig(): NesterovConfig & Record<string, number> {
    return { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
  }
}
