// AdamW, torch.optim.AdamW's semantics: Adam on the raw gradient with the weight decay decoupled from
// it (p ← p·(1 − lr·wd) first), default weightDecay 0.01, and the optional AMSGrad maximum.
import { ADAM, checkKeys, defineElementwise, readBoolean, readNumber } from '../plugin/index.js';
import { BaseOptimizer } from './base.js';

/** {@link AdamW} hyperparameters. */
export interface AdamWConfig {
  /** Learning rate α, default 1e-3. */
  lr: number;
  /** First-moment decay β1 in [0, 1), default 0.9. */
  beta1: number;
  /** Second-moment decay β2 in [0, 1), default 0.999. */
  beta2: number;
  /** Added to the bias-corrected √v̂, default 1e-8. */
  eps: number;
  /** Decoupled weight decay λ (× `param.decayMul`), default 0.01 (torch.optim.AdamW's). */
  weightDecay: number;
  /** Use the running maximum of v (Reddi et al. 2018, "On the Convergence of Adam and Beyond"). Default false. */
  amsgrad: boolean;
}

/** Defaults of {@link AdamW}: torch.optim.AdamW's. */
export const ADAMW_DEFAULTS: Readonly<AdamWConfig> = {
  lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, amsgrad: false,
};

/**
 * The AMSGrad step, in torch's order and with ADAM's float32 roundings: m and v as Adam,
 * v̂max = max(v̂max, v), p ← p − stepSize·m / (√v̂max·invSqrtBc2 + ε). NaN in v propagates into v̂max
 * (f32.max keeps a NaN, as torch.maximum does).
 */
const AMSGRAD = defineElementwise({
  name: 'adamw-amsgrad',
  arrays: ['p', 'g', 'm', 'v', 'vMax'],
  scalars: ['b1', 'b2', 'c1', 'c2', 'eps', 'stepSize', 'invSqrtBc2'],
  body: ({ p, g, m, v, vMax }, { b1, b2, c1, c2, eps, stepSize, invSqrtBc2 }) => {
    const m1 = m.mul(b1).add(c1.mul(g));
    const v1 = v.mul(b2).add(c2.mul(g).mul(g));
    const vm = vMax.max(v1);
    return { m: m1, v: v1, vMax: vm, p: p.sub(stepSize.mul(m1).div(vm.sqrt().mul(invSqrtBc2).add(eps))) };
  },
});

/**
 * AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"), registered as `"adamw"`.
 * At step t (1-based), with λ = weightDecay·decayMul:
 *
 *     p ← p·(1 − lr·λ)                          (decoupled decay, before the moments; the gradient is untouched)
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     v̂max ← max(v̂max, v)                       (amsgrad only; the denominator then uses v̂max for v)
 *     p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * Identical to `torch.optim.AdamW` (and to `adam` with `decoupledWeightDecay: true`, except for the
 * default weightDecay, 0.01 here, 0 there). As in torch, the decay is scaled by lr: with a schedule it
 * follows the schedule. The paper multiplies the decay by the schedule multiplier η_t rather than by lr
 * itself (its λ is torch's lr·weight_decay). ε sits outside the square root. Slots: `m`, `v` (and
 * `vMax` with amsgrad).
 */
export class AdamW extends BaseOptimizer<'m' | 'v' | 'vMax'> {
  readonly kind = 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly amsgrad: boolean;

  /** `config` is merged onto {@link ADAMW_DEFAULTS}; unknown keys and bad values throw naming them. */
  constructor(config: Partial<AdamWConfig> = {}) {
    const c = config as Record<string, unknown>;
    checkKeys('adamw', c, Object.keys(ADAMW_DEFAULTS));
    const amsgrad = readBoolean('adamw', c, 'amsgrad', ADAMW_DEFAULTS.amsgrad);
    super({
      lr: readNumber('adamw', c, 'lr', ADAMW_DEFAULTS.lr, { min: 0 }),
      weightDecay: readNumber('adamw', c, 'weightDecay', ADAMW_DEFAULTS.weightDecay, { min: 0 }),
      decoupledWeightDecay: true,
      slots: amsgrad ? ['m', 'v', 'vMax'] : ['m', 'v'],
    });
    this.amsgrad = amsgrad;
    this.beta1 = readNumber('adamw', c, 'beta1', ADAMW_DEFAULTS.beta1, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = readNumber('adamw', c, 'beta2', ADAMW_DEFAULTS.beta2, { min: 0, max: 1, maxExclusive: true });
    this.eps = readNumber('adamw', c, 'eps', ADAMW_DEFAULTS.eps, { min: 0 });
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'m' | 'v' | 'vMax', Float32Array>, t: number): void {
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = this.lr / (1 - b1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    if (this.amsgrad) {
      AMSGRAD.run(p.length, p, g, slots.m, slots.v, slots.vMax, b1, b2, 1 - b1, 1 - b2, this.eps, stepSize, invSqrtBc2);
    } else {
      ADAM.run(p.length, p, g, slots.m, slots.v, b1, b2, 1 - b1, 1 - b2, this.eps, stepSize, invSqrtBc2);
    }
  }

  getConfig(): AdamWConfig & Record<string, number | boolean> {
    return {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, amsgrad: this.amsgrad,
    };
  }
}
