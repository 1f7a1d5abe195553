// SGD with (heavy-ball) momentum, in PyTorch's form.
import { parallelRange } from '../tensor/gemm-wasm.js';
import { RANGE_MOMENTUM, momentumKernel } from '../tensor/heap-tasks.js';
import { checkKeys, readNumber } from '../config.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link Momentum} hyperparameters. */
export interface MomentumConfig {
  /** Learning rate, default 0.01. */
  lr: number;
  /** Momentum coefficient μ in [0, 1), default 0.9. */
  momentum: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
}

/** Defaults of {@link Momentum}. */
export const MOMENTUM_DEFAULTS: Readonly<MomentumConfig> = { lr: 0.01, momentum: 0.9, weightDecay: 0 };

/**
 * SGD with momentum (Polyak 1964; Sutskever et al. 2013), registered as `"momentum"`:
 *
 *     g ← g + weightDecay·decayMul·p
 *     b ← μ·b + g            (b starts at 0, so the first step gives b = g)
 *     p ← p − lr·b
 *
 * Identical to `torch.optim.SGD(params, lr, momentum=μ, dampening=0, weight_decay)`. Like PyTorch and
 * unlike Polyak's / Sutskever's `v ← μ·v − lr·g`, the learning rate sits outside the buffer, so
 * changing lr mid-run rescales the whole velocity at once. Slot: `b` (the momentum buffer).
 */
export class Momentum extends BaseOptimizer<'b'> {
  readonly kind = 'momentum';
  readonly momentum: number;

  /** `config` is merged onto {@link MOMENTUM_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<MomentumConfig> = {}) {
    checkKeys('momentum', config, Object.keys(MOMENTUM_DEFAULTS));
    super({ ...readBaseConfig('momentum', config, MOMENTUM_DEFAULTS.lr, false), slots: ['b'] });
    this.momentum = readNumber('momentum', config, 'momentum', MOMENTUM_DEFAULTS.momentum, { min: 0, max: 1, maxExclusive: true });
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'b', Float32Array>): void {
    const b = slots.b;
    if (!parallelRange(RANGE_MOMENTUM, p.length, p, g, b, null, this.lr, this.momentum)) momentumKernel(p, 0, g, 0, b, 0, p.length, this.lr, this.momentum);
  }

  getConfig(): MomentumConfig & Record<string, number> {
    return { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
  }
}
