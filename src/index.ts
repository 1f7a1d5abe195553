// tensorkit's public surface, a deliberate list: tensors, layers, losses, optimizers, initializers,
// the model, training, data and io. Beside it: `tensorkit/plugin` (the kit plugins and built-ins are
// written with), `tensorkit/experiments`, `tensorkit/plots`, `tensorkit/analysis`, and
// `tensorkit/internals` (tuning constants). The CLI is a command, not an export.

// Loaded for its side effect only: it gives Sequential.summary() its FLOP columns (analysis sits above
// the model in the module graph, so it registers the formatter rather than being imported by it).
import './analysis/index.js';

// Tensors, randomness, threads.
export { Tensor, tensor, zeros, ones, full, randn, rand, shapeSize, formatShape } from './tensor/tensor.js';
export { Rng, type RngState } from './tensor/rng.js';
export type { Param } from './tensor/param.js';
export { setThreads, getThreads, availableCores } from './runtime/workers.js';
export { setGemmBackend, getGemmBackend, type GemmBackend } from './tensor/gemm.js';
export { wasmGemmVariant } from './runtime/tasks.js';
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

// Training: the fit loop over any Trainable model, callbacks, metrics, confusion matrices, CSV.
export {
  fit, evaluate, predict, Trainer, type Trainable, type TrainerOptions, type EpochSchedule,
  progressCallback, EarlyStopping, CsvLogger, accuracy, confusionMatrix, classMetrics, formatConfusion,
  toCsv, parseCsv, predictionsCsv, epochHistoryCsv, batchHistoryCsv,
  type Callback, type CallbackState, type TrainingControl, type BatchLogs, type EpochLogs, type FitPosition, type EarlyStoppingOptions, type CsvLoggerOptions, type ClassMetrics,
} from './train/index.js';

// Data.
export {
  loadFashionMnist, loadMnist, vendoredDataDir, locateDataset, DATASETS_PACKAGE, readIdx, IdxFormatError, FASHION_MNIST_CLASSES, MNIST_CLASSES,
  Batcher, trainValSplit, augmentBatch,
  type Dataset, type Split, type LoadOptions, type IdxArray, type BatchOptions, type Batch, type SplitOptions, type AugmentOptions,
} from './data/index.js';

// Files and interop.
export {
  saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError,
  saveModel, loadModel, encodeModel, decodeModel, ModelFileError, FileWriteError, Checkpoint, exportOnnx, encodeOnnx, fromNdarray, toNdarray,
  readSafetensorsMetadata, readTrainingState, MODEL_MAX_LAYERS, MODEL_MAX_PARAMS,
  type SafetensorsContents, type SafetensorsDtype, type TrainingState, type SaveModelOptions, type LoadedModel, type CheckpointOptions,
} from './io/index.js';
