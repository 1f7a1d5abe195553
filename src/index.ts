// tensorkit's public surface: re-exports only.
export * from './tensor/index.js';
export * from './init/index.js';
export * from './layers/index.js';
export * from './losses/index.js';
export * from './optimizers/index.js';
export { createRegistry, type Registry, type RegisterOptions } from './registry.js';
export * from './model/index.js';
export * from './train/index.js';
export * from './data/index.js';
export { readNumber, readBoolean, readChoice, readPair, checkKeys, type NumberRule } from './config.js';
export * from './analysis/index.js';
export * from './plots/index.js';
export * from './io/index.js';
export { runTrain, type CliIo } from './cli/train.js';
export * from './experiments/index.js';
