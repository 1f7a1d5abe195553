// Model files and interop: safetensors, tensorkit model files, ONNX export, ndarray views.
export * from './safetensors.js';
export { ensureDirectory, FileWriteError, removeStaleTempFiles, writeFileAtomic } from './atomic.js';
export * from './model-file.js';
export { inferLayerShapes, LayerShapeError, type LayerShapes } from './layer-shapes.js';
export * from './onnx.js';
export * from './ndarray.js';
export { Checkpoint, type CheckpointOptions } from './checkpoint.js';
