// RMSprop, in PyTorch's form (eps outside the square root, optional momentum).
import { checkKeys, readNumber } from '../config.js';
import { RMSPROP, RMSPROP_MOMENTUM } from '../plugin/index.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link RmsProp} hyperparameters. */
export interface RmsPropConfig {
  /** Learning rate, default 0.01. */
  lr: number;
  /** Decay β of the squared-gradient average, in [0, 1) (torch's `alpha`), default 0.99. */
  beta: number;
  /** Added to √v, default 1e-8. */
  eps: number;
  /** Momentum μ in [0, 1) on the scaled step, default 0 (off, no buffer allocated). */
  momentum: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
}

/** Defaults of {@link RmsProp}: torch.optim.RMSprop's. */
export const RMSPROP_DEFAULTS: Readonly<RmsPropConfig> = { lr: 0.01, beta: 0.99, eps: 1e-8, momentum: 0, weightDecay: 0 };

/**
 * RMSprop (Tieleman & Hinton 2012, Coursera lecture 6.5), registered as `"rmsprop"`:
 *
 *     g ← g + weightDecay·decayMul·p
 *     v ← β·v + (1 − β)·g²                     (v starts at 0)
 *     momentum = 0:  p ← p − lr·g / (√v + ε)
 *     momentum > 0:  b ← μ·b + g / (√v + ε),  p ← p − lr·b
 *
 * Identical to `torch.optim.RMSprop(params, lr, alpha=β, eps, weight_decay, momentum)` (not centered).
 * ε is added outside the square root (the lecture and Keras put it inside), and v starts at 0 with
 * no bias correction, as in PyTorch. Slots: `v`, plus `b` when momentum > 0.
 */
export class RmsProp extends BaseOptimizer<'v' | 'b'> {
  readonly kind = 'rmsprop';
  readonly beta: number;
  readonly eps: number;
  readonly momentum: number;

  /** `config` is merged onto {@link RMSPROP_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<RmsPropConfig> = {}) {
    checkKeys('rmsprop', config, Object.keys(RMSPROP_DEFAULTS));
    const momentum = readNumber('rmsprop', config, 'momentum', RMSPROP_DEFAULTS.momentum, { min: 0, max: 1, maxExclusive: true });
    super({ ...readBaseConfig('rmsprop', config, RMSPROP_DEFAULTS.lr, false), slots: momentum > 0 ? ['v', 'b'] : ['v'] });
    this.beta = readNumber('rmsprop', config, 'beta', RMSPROP_DEFAULTS.beta, { min: 0, max: 1, maxExclusive: true });
    this.eps = readNumber('rmsprop', config, 'eps', RMSPROP_DEFAULTS.eps, { min: 0 });
    this.momentum = momentum;
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'v' | 'b', Float32Array>): void {
    const v = slots.v;
    if (this.momentum === 0) RMSPROP.run(p.length, p, g, v, this.lr, this.beta, 1 - this.beta, this.eps);
    else RMSPROP_MOMENTUM.run(p.length, p, g, v, slots.b, this.lr, this.beta, 1 - this.beta, this.eps, this.momentum);
  }

  getConfig(): RmsPropConfig & Record<string, number> {
    return { lr: this.lr, beta: this.beta, eps: this.eps, momentum: this.momentum, weightDecay: this.weightDecay };
  }
}
