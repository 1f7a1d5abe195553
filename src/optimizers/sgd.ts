// Plain stochastic gradient descent.
import { SGD } from '../plugin/index.js';
import { checkKeys } from '../config.js';
import { BaseOptimizer, readBaseConfig } from './base.js';

/** {@link Sgd} hyperparameters. */
export interface SgdConfig {
  /** Learning rate, default 0.01. */
  lr: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
}

/** Defaults of {@link Sgd}. torch.optim.SGD has no default lr; 0.01 is Keras's. */
export const SGD_DEFAULTS: Readonly<SgdConfig> = { lr: 0.01, weightDecay: 0 };

/**
 * Stochastic gradient descent (Robbins & Monro 1951), registered as `"sgd"`:
 *
 *     g ← g + weightDecay·decayMul·p
 *     p ← p − lr·g
 *
 * Identical to `torch.optim.SGD(params, lr, weight_decay=weightDecay)` with momentum 0. No slots.
 */
export class Sgd extends BaseOptimizer<never> {
  readonly kind = 'sgd';

  /** `config` is merged onto {@link SGD_DEFAULTS}; unknown keys and bad values throw. */
  constructor(config: Partial<SgdConfig> = {}) {
    checkKeys('sgd', config, Object.keys(SGD_DEFAULTS));
    super({ ...readBaseConfig('sgd', config, SGD_DEFAULTS.lr, false), slots: [] });
  }

  protected update(p: Float32Array, g: Float32Array): void {
    SGD.run(p.length, p, g, this.lr);
  }

  getConfig(): SgdConfig & Record<string, number> {
    return { lr: this.lr, weightDecay: this.weightDecay };
  }
}
