// Model files and interop: safetensors, tensorkit model files, ONNX export, ndarray views; from and to
// bytes (browser-safe) and from and to paths (files.ts, atomic.ts, checkpoint.ts: Node only).
export * from './safetensors.js';
export { ensureDirectory, FileWriteError, removeStaleTempFiles, writeFileAtomic } from './atomic.js';
export * from './model-file.js';
export { inferLayerShapes, LayerShapeError, type LayerShapes } from './layer-shapes.js';
export * from './onnx.js';
export * from './files.js';
export * from './ndarray.js';
export { Checkpoint, type CheckpointOptions } from './checkpoint.js';
