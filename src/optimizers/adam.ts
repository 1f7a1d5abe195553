// Adam, in PyTorch's form (bias correction, eps outside the square root), with optional AdamW decay.
import { ADAM } from '../plugin/index.js';
import { checkKeys, readNumber } from '../config.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link Adam} hyperparameters. */
export interface AdamConfig {
  /** Learning rate α, default 1e-3. */
  lr: number;
  /** First-moment decay β1 in [0, 1), default 0.9. */
  beta1: number;
  /** Second-moment decay β2 in [0, 1), default 0.999. */
  beta2: number;
  /** Added to the bias-corrected √v̂, default 1e-8. */
  eps: number;
  /** Weight decay (× `param.decayMul`), default 0; coupled (L2 in the gradient) unless `decoupledWeightDecay`. */
  weightDecay: number;
  /** `true` gives AdamW (Loshchilov & Hutter 2019): p ← p·(1 − lr·weightDecay·decayMul) before the step. Default false. */
  decoupledWeightDecay: boolean;
}

/** Defaults of {@link Adam}: torch.optim.Adam's. */
export const ADAM_DEFAULTS: Readonly<AdamConfig> = {
  lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false,
};

/**
 * Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization"), registered as `"adam"`.
 * At step t (1-based):
 *
 *     g ← g + weightDecay·decayMul·p            (coupled decay; or, decoupled: p ← p·(1 − lr·wd·decayMul))
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * Identical to `torch.optim.Adam` (and, with `decoupledWeightDecay`, to `torch.optim.AdamW`). The
 * paper's Algorithm 1 adds ε to √v̂ as here; its "efficient" form in section 2 adds ε to √v before
 * the bias correction instead, which differs slightly early in training. Slots: `m`, `v`.
 */
export class Adam extends BaseOptimizer<'m' | 'v'> {
  readonly kind = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  /** `config` is merged onto {@link ADAM_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<AdamConfig> = {}) {
    checkKeys('adam', config, Object.keys(ADAM_DEFAULTS));
    super({ ...readBaseConfig('adam', config, ADAM_DEFAULTS.lr, true), slots: ['m', 'v'] });
    this.beta1 = readNumber('adam', config, 'beta1', ADAM_DEFAULTS.beta1, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = readNumber('adam', config, 'beta2', ADAM_DEFAULTS.beta2, { min: 0, max: 1, maxExclusive: true });
    this.eps = readNumber('adam', config, 'eps', ADAM_DEFAULTS.eps, { min: 0 });
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'m' | 'v', Float32Array>, t: number): void {
    const m = slots.m;
    const v = slots.v;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = this.lr / (1 - b1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    ADAM.run(p.length, p, g, m, v, b1, b2, 1 - b1, 1 - b2, this.eps, stepSize, invSqrtBc2);
  }

  getConfig(): AdamConfig & Record<string, number | boolean> {
    return {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps,
      weightDecay: this.weightDecay, decoupledWeightDecay: this.decoupledWeightDecay,
    };
  }
}
