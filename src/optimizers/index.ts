// Optimizers: the interface, the registry and the built-ins (registered here).
export * from './optimizer.js';
