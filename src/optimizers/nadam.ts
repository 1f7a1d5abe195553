// NAdam, in PyTorch's form (momentum-decay schedule for β1), with optional decoupled weight decay.
import { checkKeys, readNumber } from '../config.js';
import { NADAM } from '../plugin/index.js';
import type { StepContext } from './optimizer.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link NAdam} hyperparameters. */
export interface NAdamConfig {
  /** Learning rate, default 2e-3. */
  lr: number;
  /** First-moment decay β1 in [0, 1), default 0.9. */
  beta1: number;
  /** Second-moment decay β2 in [0, 1), default 0.999. */
  beta2: number;
  /** Added to the bias-corrected √v̂, default 1e-8. */
  eps: number;
  /** ψ of the μ_t warm-up schedule (≥ 0), default 0.004 (Dozat's 1/250); 0 makes μ_t = β1/2 constant. */
  momentumDecay: number;
  /** Weight decay (× `param.decayMul`), default 0; coupled (L2 in the gradient) unless `decoupledWeightDecay`. */
  weightDecay: number;
  /** `true`: p ← p·(1 − lr·weightDecay·decayMul) before the step (AdamW-style). Default false. */
  decoupledWeightDecay: boolean;
}

/** Defaults of {@link NAdam}: torch.optim.NAdam's. */
export const NADAM_DEFAULTS: Readonly<NAdamConfig> = {
  lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 0.004, weightDecay: 0, decoupledWeightDecay: false,
};

/**
 * NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"), registered as `"nadam"`. At step t:
 *
 *     g ← g + weightDecay·decayMul·p            (coupled decay; or, decoupled: p ← p·(1 − lr·wd·decayMul))
 *     μ_t = β1·(1 − ½·0.96^(t·ψ)),  μ_{t+1} = β1·(1 − ½·0.96^((t+1)·ψ)),  Π_t = μ_1·…·μ_t
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     d = √v / √(1 − β2ᵗ) + ε
 *     p ← p − lr·(1 − μ_t)/(1 − Π_t) · g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d
 *
 * Identical to `torch.optim.NAdam` (torch 2.x; Debian's torch 1.13 single-tensor path multiplies
 * Π_{t+1} by an extra μ, its `foreach=True` path agrees with this). ψ = `momentumDecay`.
 * Where this differs from the paper: as in PyTorch, the m-buffer decays with the constant β1 while
 * only the Nesterov weights use the warming-up μ_t, and v is bias-corrected like Adam's. Note that
 * ψ = 0 does not give μ_t = β1: 0.96⁰ = 1, so μ_t = β1/2 for every t (a constant-momentum form,
 * with half the momentum). Π_t is optimizer-wide (all parameters share t) and is saved as the
 * global `muProduct`. Slots: `m`, `v`.
 */
export class NAdam extends BaseOptimizer<'m' | 'v', 'muProduct'> {
  readonly kind = 'nadam';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly momentumDecay: number;
  /** Per-step coefficients, set in beginStep: weight of g/d and of m/d in the update. */
  private gradCoef = 0;
  private momentCoef = 0;

  /** `config` is merged onto {@link NADAM_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<NAdamConfig> = {}) {
    checkKeys('nadam', config, Object.keys(NADAM_DEFAULTS));
    super({ ...readBaseConfig('nadam', config, NADAM_DEFAULTS.lr, true), slots: ['m', 'v'], globals: { muProduct: 1 } });
    this.beta1 = readNumber('nadam', config, 'beta1', NADAM_DEFAULTS.beta1, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = readNumber('nadam', config, 'beta2', NADAM_DEFAULTS.beta2, { min: 0, max: 1, maxExclusive: true });
    this.eps = readNumber('nadam', config, 'eps', NADAM_DEFAULTS.eps, { min: 0 });
    this.momentumDecay = readNumber('nadam', config, 'momentumDecay', NADAM_DEFAULTS.momentumDecay, { min: 0 });
  }

  protected override beginStep(_ctx: StepContext, t: number): void {
    const b1 = this.beta1;
    const psi = this.momentumDecay;
    const mu = b1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    const muProduct = this.globals.muProduct * mu;
    this.globals.muProduct = muProduct;
    this.gradCoef = (this.lr * (1 - mu)) / (1 - muProduct);
    this.momentCoef = (this.lr * muNext) / (1 - muProduct * muNext);
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'m' | 'v', Float32Array>, t: number): void {
    const m = slots.m;
    const v = slots.v;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    const cg = this.gradCoef;
    const cm = this.momentCoef;
    NADAM.run(p.length, p, g, m, v, b1, b2, 1 - b1, 1 - b2, this.eps, invSqrtBc2, cg, cm);
  }

  getConfig(): NAdamConfig & Record<string, number | boolean> {
    return {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, momentumDecay: this.momentumDecay,
      weightDecay: this.weightDecay, decoupledWeightDecay: this.decoupledWeightDecay,
    };
  }
}
