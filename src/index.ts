// tensorkit's public surface in Node, a deliberate list: the browser-safe core (browser.ts: tensors,
// layers, losses, optimizers, initializers, the model, training, data and io from bytes) and the
// Node-only part (node.ts, also the `tensorkit/node` subpath: files by path, datasets, checkpoints).
// Beside it: `tensorkit/plugin` (the kit plugins and built-ins are written with), `tensorkit/experiments`,
// `tensorkit/plots`, `tensorkit/analysis`, and `tensorkit/internals` (tuning constants). The CLI is a
// command, not an export.

export * from './browser.js';
export * from './node.js';
