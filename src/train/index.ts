// Training utilities: metrics and callbacks.
export * from './metrics.js';
export * from './callbacks.js';
