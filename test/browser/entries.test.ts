// The entries' name lists: the browser core (src/browser.ts), the Node-only part (src/node.ts, the
// `tensorkit/node` subpath) and the Node root (src/index.ts), which must be exactly their union so that
// every name the root exported before the split still works in Node.
import { describe, expect, it } from 'vitest';
import * as core from '../../src/browser.js';
import * as root from '../../src/index.js';
import * as nodeOnly from '../../src/node.js';

/** The browser entry's runtime names: the core (a deliberate list; update it with the README). */
const CORE_NAMES = [
  'AutogradError', 'StepBuffers', 'Variable', 'grad', 'isGradEnabled', 'noGrad', 'ops', 'valueAndGrad', 'variable',
  'Activation', 'Adam', 'AvgPool2D', 'BaseOptimizer', 'BatchNorm1d', 'BatchNorm2d', 'Batcher', 'Conv2D',
  'CosineSchedule', 'Dense', 'Dropout', 'EarlyStopping', 'ExponentialSchedule', 'FASHION_MNIST_CLASSES', 'Flatten',
  'Identity', 'IdxFormatError', 'LeakyReLU', 'MNIST_CLASSES', 'MODEL_MAX_LAYERS', 'MODEL_MAX_PARAMS', 'MaxPool2D',
  'MeanSquaredError', 'ModelFileError', 'Momentum', 'NAdam', 'Nesterov', 'NonFiniteError', 'ReLU', 'ReduceOnPlateau',
  'RmsProp', 'Rng', 'SafetensorsError', 'Sequential', 'Sgd', 'Sigmoid', 'Softmax', 'SoftmaxCrossEntropy',
  'StepSchedule', 'Tanh', 'Tensor', 'Trainer', 'accuracy', 'augmentBatch', 'availableCores', 'batchHistoryCsv',
  'calculateGain', 'classMetrics', 'computeFans', 'confusionMatrix', 'createInitializer', 'createLayer', 'createLoss',
  'createOptimizer', 'createRegistry', 'createSchedule', 'decodeIdx', 'decodeIdxAsync', 'decodeModel',
  'decodeSafetensors', 'encodeModel', 'encodeOnnx', 'encodeSafetensors', 'epochHistoryCsv', 'evaluate', 'fit',
  'formatConfusion', 'formatShape', 'fromNdarray', 'full', 'getGemmBackend', 'getThreads', 'initializerNames',
  'layerNames', 'lossNames', 'ones', 'optimizerNames', 'parseCsv', 'predict', 'predictionsCsv', 'progressCallback',
  'rand', 'randn', 'readBaseConfig', 'registerInitializer', 'registerLayer', 'registerLoss', 'registerOptimizer',
  'registerSchedule', 'scheduleNames', 'setGemmBackend', 'setLossWarningHandler', 'setThreads', 'shapeSize', 'tensor',
  'toCsv', 'toNdarray', 'trainValSplit', 'wasmGemmVariant', 'zeros',
  // Files in a web page (io/web.ts).
  'INDEXEDDB_DATABASE', 'INDEXEDDB_MAX_NAME', 'MODEL_MIME_TYPE', 'WebIoError', 'deleteIndexedDbModel', 'describeSource', 'downloadBytes',
  'downloadModel', 'listIndexedDbModels', 'loadIdxFrom', 'loadIdxSplit', 'loadModelFrom', 'loadModelFromIndexedDb', 'loadSafetensorsFrom',
  'modelToBlob', 'readBytes', 'readIndexedDbModel', 'saveModelToIndexedDb',
  'ready', 'runtimeInfo',
  // Models as classes (src/model/: Module, Parameter, layer modules, the module registry, tracing).
  'Module', 'ModuleTrainable', 'Parameter', 'LayerModule', 'layerModule', 'nn', 'registerModule', 'createModule', 'moduleNames',
  'registeredModuleName', 'traceModule',
];

/** What only Node gets: paths, the dataset locator, checkpoints and the CSV file logger. */
const NODE_NAMES = [
  'Checkpoint', 'CsvLogger', 'DATASETS_PACKAGE', 'FileWriteError', 'exportOnnx', 'loadFashionMnist', 'loadMnist', 'loadModel',
  'loadSafetensors', 'locateDataset', 'readIdx', 'readSafetensors', 'readSafetensorsMetadata', 'readTrainingState', 'saveModel',
  'saveSafetensors', 'vendoredDataDir',
];

describe('the entries', () => {
  it('browser core and Node-only part are the documented, disjoint lists', () => {
    expect(Object.keys(core).sort()).toEqual([...CORE_NAMES].sort());
    expect(Object.keys(nodeOnly).sort()).toEqual([...NODE_NAMES].sort());
    expect(CORE_NAMES.filter((name) => NODE_NAMES.includes(name))).toEqual([]);
  });

  it('the Node root exports both, the very same objects', () => {
    expect(Object.keys(root).sort()).toEqual([...CORE_NAMES, ...NODE_NAMES].sort());
    const all = root as Record<string, unknown>;
    for (const [name, value] of [...Object.entries(core), ...Object.entries(nodeOnly)]) expect(all[name], name).toBe(value);
  });
});
