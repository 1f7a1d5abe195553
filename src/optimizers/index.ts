// Optimizers: the interface, the registry, the base class, the built-ins and the learning-rate
// schedules. The only side-effect module here: it registers the built-ins by name, through the same
// public calls a user makes.
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { Momentum, Nesterov } from './momentum.js';
import { NAdam } from './nadam.js';
import { registerOptimizer } from './optimizer.js';
import { RmsProp } from './rmsprop.js';
import { CosineSchedule, ExponentialSchedule, ReduceOnPlateau, registerSchedule, StepSchedule, WarmupSchedule } from './schedules.js';
import { Sgd } from './sgd.js';

export * from './optimizer.js';
export { BaseOptimizer, readBaseConfig, type BaseOptimizerConfig, type BaseOptimizerSpec } from './base.js';
export { Sgd, SGD_DEFAULTS, type SgdConfig } from './sgd.js';
export { Momentum, Nesterov, MOMENTUM_DEFAULTS, type MomentumConfig } from './momentum.js';
export { RmsProp, RMSPROP_DEFAULTS, type RmsPropConfig } from './rmsprop.js';
export { Adam, ADAM_DEFAULTS, type AdamConfig } from './adam.js';
export { NAdam, NADAM_DEFAULTS, type NAdamConfig } from './nadam.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWConfig } from './adamw.js';
export * from './schedules.js';

registerOptimizer('sgd', (config) => new Sgd(config));
registerOptimizer('momentum', (config) => new Momentum(config));
registerOptimizer('nag', (config) => new Nesterov(config));
registerOptimizer('rmsprop', (config) => new RmsProp(config));
registerOptimizer('adam', (config) => new Adam(config));
registerOptimizer('nadam', (config) => new NAdam(config));
registerOptimizer('adamw', (config) => new AdamW(config));

registerSchedule('step', (optimizer, config) => new StepSchedule(optimizer, config));
registerSchedule('exponential', (optimizer, config) => new ExponentialSchedule(optimizer, config));
registerSchedule('cosine', (optimizer, config) => new CosineSchedule(optimizer, config));
registerSchedule('reduce-on-plateau', (optimizer, config) => new ReduceOnPlateau(optimizer, config));
registerSchedule('warmup', (optimizer, config) => new WarmupSchedule(optimizer, config));
