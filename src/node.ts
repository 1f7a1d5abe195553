// tensorkit's Node-only part, the `tensorkit/node` subpath: reading and writing files by path (IDX,
// safetensors, model files, ONNX), the dataset locator, checkpoints and the CSV logger. The root entry
// re-exports it in Node; a browser build leaves it out.

export { readIdx } from './data/idx-file.js';
export { loadFashionMnist, loadMnist, vendoredDataDir, locateDataset, DATASETS_PACKAGE, type LoadOptions } from './data/datasets.js';
export {
  saveSafetensors, loadSafetensors, readSafetensors, readSafetensorsMetadata, saveModel, loadModel, readTrainingState, exportOnnx,
} from './io/files.js';
export { FileWriteError } from './io/atomic.js';
export { Checkpoint, type CheckpointOptions } from './io/checkpoint.js';
export { CsvLogger, type CsvLoggerOptions } from './train/csv-logger.js';
