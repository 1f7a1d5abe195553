// Layers: the interface, the registry and the built-ins (registered here, the only side effect of this folder).
export * from './layer.js';
