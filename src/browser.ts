// tensorkit's browser-safe core: everything of the root entry that touches no file system, so it
// imports nothing from Node. Bundlers pick it through the `browser` export condition; in Node the root
// entry (index.ts) re-exports it with the Node-only part (node.ts: paths, datasets, checkpoints, CSV files).

// Loaded for its side effect only: it gives Sequential.summary() its FLOP columns (analysis sits above
// the model in the module graph, so it registers the formatter rather than being imported by it).
import './analysis/index.js';

// Tensors, randomness, threads.
export { Tensor, tensor, zeros, ones, full, randn, rand, shapeSize, formatShape } from './tensor/tensor.js';
export { Rng, type RngState } from './tensor/rng.js';
export type { Param } from './tensor/param.js';
export { setThreads, getThreads, availableCores } from './runtime/workers.js';
export { setGemmBackend, getGemmBackend, type GemmBackend } from './tensor/gemm.js';
export { wasmGemmVariant, ready, runtimeInfo, type RuntimeInfo } from './runtime/tasks.js';
export type { WasmVariant } from './runtime/module.js';
export { createRegistry, type Registry, type RegisterOptions } from './registry.js';

// Layers.
export {
  Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Dropout, BatchNorm1d, BatchNorm2d,
  ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, Identity, Activation,
  registerLayer, createLayer, layerNames,
  type Layer, type LayerFactory, type Buffer, type DenseOptions, type Conv2DOptions, type Pool2DConfig, type AvgPool2DConfig,
  type DropoutOptions, type BatchNormConfig, type LeakyReLUOptions, type Size2,
} from './layers/index.js';

// Autograd: Variables, differentiable ops (the `ops` namespace, also Variable methods), backward, noGrad, grad/valueAndGrad.
export {
  Variable, variable, AutogradError, noGrad, isGradEnabled, grad, valueAndGrad, ops, StepBuffers,
  type BackwardOptions, type ArgNums, type ValueAndGrad, type OpInput, type ReduceOptions,
} from './ops/index.js';
export type { VarOptions, MatmulOptions, GeluOptions, SliceRange, CrossEntropyOptions } from './ops/index.js';

// Losses.
export {
  SoftmaxCrossEntropy, MeanSquaredError, registerLoss, createLoss, lossNames, setLossWarningHandler, type Loss, type LossFactory, type CrossEntropyConfig,
} from './losses/index.js';

// Optimizers and learning-rate schedules.
export {
  Sgd, Momentum, Nesterov, RmsProp, Adam, NAdam, BaseOptimizer, readBaseConfig,
  registerOptimizer, createOptimizer, optimizerNames,
  StepSchedule, ExponentialSchedule, CosineSchedule, ReduceOnPlateau, registerSchedule, createSchedule, scheduleNames,
  type Optimizer, type OptimizerFactory, type OptimizerState, type StepContext, type BaseOptimizerConfig, type BaseOptimizerSpec,
  type SgdConfig, type MomentumConfig, type RmsPropConfig, type AdamConfig, type NAdamConfig,
  type Schedule, type ScheduleFactory, type ScheduleState,
} from './optimizers/index.js';

// Initializers.
export {
  registerInitializer, createInitializer, initializerNames, computeFans, calculateGain,
  type Initializer, type InitializerFactory, type InitializerSpec, type Fan,
} from './init/index.js';

// The model.
export {
  Sequential, NonFiniteError,
  type SequentialOptions, type CompileOptions, type FitOptions, type History, type EvaluateResult, type SequentialConfig,
} from './model/index.js';
// Models as classes: Module, Parameter, the built-in layers as modules (`nn`), the module registry.
export {
  Module, ModuleTrainable, Parameter, LayerModule, layerModule, nn, registerModule, createModule, moduleNames, registeredModuleName, traceModule,
  type Trace, type TraceOp, type TraceValue, type TraceOptions, type ModuleOutput, type BuildOptions, type ParameterOptions, type LayerModuleOptions, type ModuleClass,
} from './model/index.js';

// Training: the fit loop over any Trainable model, callbacks, metrics, confusion matrices, CSV text.
export { fit, evaluate, predict, Trainer, type Trainable, type TrainerOptions, type EpochSchedule } from './train/fit.js';
export { progressCallback, type Callback, type CallbackState, type TrainingControl, type BatchLogs, type EpochLogs, type FitPosition } from './train/callbacks.js';
export { EarlyStopping, type EarlyStoppingOptions } from './train/early-stopping.js';
export { accuracy } from './train/metrics.js';
export { confusionMatrix, classMetrics, formatConfusion, type ClassMetrics } from './train/confusion.js';
export { toCsv, parseCsv, predictionsCsv, epochHistoryCsv, batchHistoryCsv } from './train/csv.js';

// Data: IDX from bytes, batching, splits, augmentation.
export { decodeIdx, decodeIdxAsync, IdxFormatError, type IdxArray } from './data/idx.js';
export { FASHION_MNIST_CLASSES, MNIST_CLASSES, type Dataset, type Split } from './data/dataset.js';
export { Batcher, type BatchOptions, type Batch } from './data/batches.js';
export { trainValSplit, type SplitOptions } from './data/split.js';
export { augmentBatch, type AugmentOptions } from './data/augment.js';

// Files and interop, from and to bytes.
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type SafetensorsContents, type SafetensorsDtype } from './io/safetensors.js';
export {
  encodeModel, decodeModel, ModelFileError, MODEL_MAX_LAYERS, MODEL_MAX_PARAMS,
  type TrainingState, type SaveModelOptions, type LoadedModel,
} from './io/model-file.js';
export { encodeOnnx } from './io/onnx.js';
export { fromNdarray, toNdarray } from './io/ndarray.js';

// Files in a web page: bytes from ArrayBuffer / Blob / File / URL, model downloads, IndexedDB.
export {
  WebIoError, readBytes, describeSource, loadIdxFrom, loadIdxSplit, loadSafetensorsFrom, loadModelFrom, modelToBlob, downloadBytes, downloadModel,
  saveModelToIndexedDb, loadModelFromIndexedDb, readIndexedDbModel, listIndexedDbModels, deleteIndexedDbModel, MODEL_MIME_TYPE, INDEXEDDB_DATABASE, INDEXEDDB_MAX_NAME,
  type ByteSource, type ReadOptions, type IdxSplitOptions, type IndexedDbOptions, type StoredModelInfo,
} from './io/web.js';
