// SGD with momentum, heavy-ball or Nesterov, in PyTorch's form: one implementation under two names.
import { MOMENTUM, NAG } from '../plugin/index.js';
import { checkKeys, readBoolean, readNumber } from '../config.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link Momentum} hyperparameters. */
export interface MomentumConfig {
  /** Learning rate, default 0.01. */
  lr: number;
  /** Momentum coefficient μ in [0, 1), default 0.9. */
  momentum: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
  /** Nesterov's form (default false; true for the `"nag"` name). */
  nesterov: boolean;
}

/** Defaults of {@link Momentum} (`nesterov` is false under `"momentum"` and true under `"nag"`). */
export const MOMENTUM_DEFAULTS: Readonly<MomentumConfig> = { lr: 0.01, momentum: 0.9, weightDecay: 0, nesterov: false };

/**
 * SGD with momentum (Polyak 1964; Sutskever et al. 2013), registered as `"momentum"`, and with
 * Nesterov momentum (Nesterov 1983; Sutskever et al. 2013) as `"nag"`:
 *
 *     g ← g + weightDecay·decayMul·p
 *     b ← μ·b + g            (b starts at 0, so the first step gives b = g)
 *     p ← p − lr·b           (heavy ball)
 *     p ← p − lr·(g + μ·b)   (nesterov)
 *
 * Identical to `torch.optim.SGD(params, lr, momentum=μ, dampening=0, nesterov, weight_decay)`. Like
 * PyTorch and unlike Polyak's / Sutskever's `v ← μ·v − lr·g`, the learning rate sits outside the
 * buffer, so changing lr mid-run rescales the whole velocity at once; Nesterov's look-ahead is
 * reformulated on the current parameters (Bengio et al. 2013) rather than the paper's gradient at
 * `p + μ·v`. Slot: `b` (the momentum buffer).
 */
export class Momentum extends BaseOptimizer<'b'> {
  readonly kind: 'momentum' | 'nag';
  readonly momentum: number;
  readonly nesterov: boolean;

  /** `config` is merged onto {@link MOMENTUM_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<MomentumConfig> = {}) {
    const nesterov = readBoolean('momentum', config, 'nesterov', MOMENTUM_DEFAULTS.nesterov);
    const kind = nesterov ? 'nag' : 'momentum';
    checkKeys(kind, config, Object.keys(MOMENTUM_DEFAULTS));
    super({ ...readBaseConfig(kind, config, MOMENTUM_DEFAULTS.lr, false), slots: ['b'] });
    this.kind = kind;
    this.nesterov = nesterov;
    this.momentum = readNumber(kind, config, 'momentum', MOMENTUM_DEFAULTS.momentum, { min: 0, max: 1, maxExclusive: true });
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'b', Float32Array>): void {
    (this.nesterov ? NAG : MOMENTUM).run(p.length, p, g, slots.b, this.lr, this.momentum);
  }

  getConfig(): Omit<MomentumConfig, 'nesterov'> & Record<string, number> {
    return { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
  }
}

/** Nesterov momentum: {@link Momentum} with `nesterov: true`, registered as `"nag"`. */
export class Nesterov extends Momentum {
  constructor(config: Partial<Omit<MomentumConfig, 'nesterov'>> = {}) {
    super({ ...config, nesterov: true });
  }
}
