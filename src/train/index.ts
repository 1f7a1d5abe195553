// Training: the fit loop over any Trainable model, metrics, callbacks, confusion matrix, CSV outputs.
export * from './metrics.js';
export * from './callbacks.js';
export * from './confusion.js';
export * from './csv.js';
export * from './csv-logger.js';
export * from './early-stopping.js';
export * from './fit.js';
