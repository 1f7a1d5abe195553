// `tensorkit train`: the second assignment's train.py as a command. Parses the arguments, builds an MLP
// (or CNN), trains it with a progress display, evaluates on the test set and writes the run's outputs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFashionMnist, loadMnist, type Dataset } from '../data/datasets.js';
import { trainValSplit } from '../data/split.js';
import { initializerNames, type InitializerSpec } from '../init/index.js';
import { createLayer, layerNames, type Layer } from '../layers/index.js';
import '../losses/index.js';
import { Sequential } from '../model/sequential.js';
import { getThreads, setThreads } from '../runtime/workers.js';
import type { FitPosition } from '../train/callbacks.js';
import { optimizerNames } from '../optimizers/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { progressCallback, type Callback } from '../train/callbacks.js';
import { Checkpoint } from '../io/checkpoint.js';
import { loadModel, saveModel } from '../io/files.js';
import { Rng } from '../tensor/rng.js';
import { classMetrics, confusionMatrix, formatConfusion } from '../train/confusion.js';
import { CsvLogger } from '../train/csv-logger.js';
import { predictionsCsv, toCsv } from '../train/csv.js';
import { EarlyStopping } from '../train/early-stopping.js';
import { createRun, safeSegment, type Run } from '../experiments/run.js';
import { convertArgs, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
import { importModule } from './import-module.js';

/** Where the command writes text: stdout for results and help, stderr for progress and errors. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
}

const PROCESS_IO: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** The assignment's optimizer names; any other registered optimizer name is accepted too. */
export const BUILTIN_OPTIMIZERS = ['sgd', 'momentum', 'nag', 'rmsprop', 'adam', 'nadam'] as const;
/** The assignment's init names; every registered initializer name is accepted too. */
export const ASSIGNMENT_INITS = ['random', 'Xavier'] as const;
/** The assignment's activation names; every registered activation layer (param-free, shape-preserving) is accepted too. */
export const ACTIVATIONS = ['identity', 'sigmoid', 'tanh', 'ReLU'] as const;
export const LOSSES = ['mean_squared_error', 'cross_entropy'] as const;
export const DATASETS = ['mnist', 'fashion_mnist'] as const;
export const MODELS = ['mlp', 'cnn'] as const;
export const POOLS = ['none', 'max', 'avg'] as const;

/**
 * What `-w_i random` and `-w_i Xavier` mean: the assignment's "random" is small Gaussian weights
 * (numpy's `randn * 0.01`), its "Xavier" Glorot's normal variant N(0, 2/(fanIn+fanOut)). Biases start at 0.
 */
export const WEIGHT_INIT_MAP: Readonly<Record<string, InitializerSpec>> = {
  random: { name: 'random-normal', mean: 0, std: 0.01 },
  Xavier: 'xavier-normal',
};

/** Layer registry names of the assignment's activations (any other `-a` value is a registry name itself). */
export const ACTIVATION_LAYERS: Readonly<Record<(typeof ACTIVATIONS)[number], string>> = {
  identity: 'identity', sigmoid: 'sigmoid', tanh: 'tanh', ReLU: 'relu',
};

/** Registered layers that are param-free and keep the shape but are not activations. */
const NOT_ACTIVATIONS = new Set(['softmax', 'dropout']);

/**
 * Whether the registered layer `name` works as an activation: created with no config and built on a
 * vector `[4]` and an image `[2, 3, 3]`, it has no parameters and keeps the shape of every input it
 * accepts (at least one). Flatten (which reshapes images) and pooling are thereby excluded.
 */
function isActivationLayer(name: string): boolean {
  if (NOT_ACTIVATIONS.has(name)) return false;
  let accepted = 0;
  for (const shape of [[4], [2, 3, 3]]) {
    let out: readonly number[];
    let params: number;
    try {
      const layer = createLayer(name);
      out = layer.build(shape, new Rng(0));
      params = layer.params().length;
    } catch {
      continue;
    }
    if (params !== 0 || out.length !== shape.length || out.some((d, i) => d !== shape[i])) return false;
    accepted++;
  }
  return accepted > 0;
}

/**
 * The `-a` choices: the assignment's names, then every other registered activation layer (in
 * registry order), so a layer registered by an `--import` module is accepted by its name.
 */
export function activationNames(): string[] {
  const taken = new Set<string>(ACTIVATIONS.map((a) => a.toLowerCase()));
  return [...ACTIVATIONS, ...layerNames().filter((n) => !taken.has(n) && isActivationLayer(n))];
}

/** Layer registry name of an `-a` value. */
export function activationLayer(name: string): string {
  return (ACTIVATION_LAYERS as Record<string, string>)[name] ?? name;
}

/** Most hidden layers of the MLP (`-nhl`). */
export const MAX_HIDDEN_LAYERS = 100;
/** Most units of a dense layer (`-sz`, `--dense_units`). */
export const MAX_UNITS = 65536;
/** Most entries of `--filters`, `--kernel_sizes` and `--dense_units`. */
export const MAX_LIST_LAYERS = 16;
/**
 * Most trainable parameters a `train` model may have: 50 million, i.e. 800 MB for the weights, their
 * gradients and two optimizer slots (4 bytes each). A larger model is refused before anything is allocated.
 */
export const MAX_PARAMETERS = 50_000_000;
/** Most bytes the activations of one batch may need (outputs and gradients of every layer, im2col scratch): 2 GiB. */
export const MAX_ACTIVATION_BYTES = 2 ** 31;

/** Loss registry names of the assignment's losses. */
export const LOSS_NAMES: Readonly<Record<(typeof LOSSES)[number], string>> = {
  mean_squared_error: 'mse', cross_entropy: 'cross-entropy',
};

/**
 * Every option of `tensorkit train`. The defaults are the best Fashion-MNIST MLP configuration found
 * (assignment 2's study): 4 hidden layers of 512 ReLU units, Xavier init, Adam lr 5e-4, weight decay
 * 5e-4, batch 64, up to 30 epochs with early stopping (patience 5, best weights restored),
 * cross-entropy. Published target 88.6% test accuracy; measured with seed 1: 88.76% (stopped after
 * 24 epochs, best epoch 19). Other configurations measured (seed 1): 3×128 Adam 1e-3, 10 epochs
 * 87.84%; 3×256 + wd 5e-4 88.20%; 2×512 + wd 5e-4 88.02%; 3×512 batch 128 wd 1e-4 88.28%.
 */
export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { key: 'wandbProject', long: 'wandb_project', short: 'wp', type: 'string', default: 'tensorkit', metavar: 'NAME', help: 'project name: first level of the output folder (OUT/PROJECT/ENTITY/RUN);\nno data leaves the machine' },
  { key: 'wandbEntity', long: 'wandb_entity', short: 'we', type: 'string', default: 'local', metavar: 'NAME', help: 'entity / run group: second level of the output folder' },
  { key: 'dataset', long: 'dataset', short: 'd', type: 'choice', choices: DATASETS, default: 'fashion_mnist', help: 'dataset (from the @tensorkit/datasets package, or read from --data)' },
  { key: 'epochs', long: 'epochs', short: 'e', type: 'int', min: 1, max: 10000, default: 30, help: 'number of epochs (at most; see --patience)' },
  { key: 'batchSize', long: 'batch_size', short: 'b', type: 'int', min: 1, max: 65536, default: 64, help: 'mini-batch size' },
  { key: 'loss', long: 'loss', short: 'l', type: 'choice', choices: LOSSES, default: 'cross_entropy', help: 'loss: cross_entropy (fused softmax) or mean_squared_error\n(squared error between softmax probabilities and one-hot labels)' },
  { key: 'optimizer', long: 'optimizer', short: 'o', type: 'choice', choices: () => [...BUILTIN_OPTIMIZERS, ...optimizerNames().filter((n) => !(BUILTIN_OPTIMIZERS as readonly string[]).includes(n))], default: 'adam', help: 'optimizer; any name registered with registerOptimizer works too\n(load the registering module with --import)' },
  { key: 'learningRate', long: 'learning_rate', short: 'lr', type: 'number', min: 0, minExclusive: true, max: 10, default: 5e-4, help: 'learning rate' },
  { key: 'momentum', long: 'momentum', short: 'm', type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, help: 'momentum of momentum and nag' },
  { key: 'beta', long: 'beta', short: 'beta', type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, help: 'decay of rmsprop\'s squared-gradient average' },
  { key: 'beta1', long: 'beta1', short: 'beta1', type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, help: 'first-moment decay of adam and nadam' },
  { key: 'beta2', long: 'beta2', short: 'beta2', type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.999, help: 'second-moment decay of adam and nadam' },
  { key: 'epsilon', long: 'epsilon', short: 'eps', type: 'number', min: 0, max: 1, default: 1e-8, help: 'epsilon of rmsprop, adam and nadam' },
  { key: 'weightDecay', long: 'weight_decay', short: 'w_d', type: 'number', min: 0, max: 1, default: 5e-4, help: 'L2 weight decay added to the gradient of every parameter, biases included\n(as torch.optim\'s weight_decay)' },
  { key: 'weightInit', long: 'weight_init', short: 'w_i', type: 'choice', choices: () => [...ASSIGNMENT_INITS, ...initializerNames()], default: 'Xavier', help: 'weight initializer: random = random-normal with std 0.01, Xavier = xavier-normal\n(Glorot normal); or any registered initializer name. Biases start at 0' },
  { key: 'numLayers', long: 'num_layers', short: 'nhl', type: 'int', min: 0, max: MAX_HIDDEN_LAYERS, default: 4, help: 'hidden layers of the MLP (0: softmax regression)' },
  { key: 'hiddenSize', long: 'hidden_size', short: 'sz', type: 'int', min: 1, max: MAX_UNITS, default: 512, help: 'units per hidden layer of the MLP' },
  { key: 'activation', long: 'activation', short: 'a', type: 'choice', choices: activationNames, default: 'ReLU', help: 'activation of the hidden layers (MLP and CNN); any activation layer registered\nwith registerLayer works too (load the registering module with --import)' },
  { key: 'model', long: 'model', type: 'choice', choices: MODELS, default: 'mlp', help: 'network: mlp (-nhl, -sz) or cnn (--filters, --kernel_sizes, --padding, --pool, --dense_units)' },
  { key: 'filters', long: 'filters', type: 'int-list', min: 1, max: 4096, maxItems: MAX_LIST_LAYERS, default: [16, 16], help: 'cnn: output channels of each conv layer' },
  { key: 'kernelSizes', long: 'kernel_sizes', type: 'int-list', min: 1, max: 28, maxItems: MAX_LIST_LAYERS, default: [3, 3], help: 'cnn: kernel size of each conv layer (one value, or one per layer)' },
  { key: 'padding', long: 'padding', type: 'int', min: 0, max: 14, default: 0, help: 'cnn: zero padding of every conv layer' },
  { key: 'pool', long: 'pool', type: 'choice', choices: POOLS, default: 'none', help: 'cnn: 2×2 pooling after each conv layer' },
  { key: 'denseUnits', long: 'dense_units', type: 'int-list', min: 1, max: MAX_UNITS, maxItems: MAX_LIST_LAYERS, default: [100], help: 'cnn: units of the hidden dense layers after the convs' },
  { key: 'seed', long: 'seed', type: 'int', min: 0, max: 4294967295, default: 1, help: 'seed of initialisation, split and shuffling (same seed ⇒ same run)' },
  { key: 'threads', long: 'threads', type: 'int', min: 0, max: 256, default: 0, help: 'gemm worker threads (0: TENSORKIT_THREADS if set, else all cores);\nresults are bit-identical for any count' },
  { key: 'valSplit', long: 'val_split', type: 'number', min: 0, max: 0.9, default: 0.1, help: 'fraction of the training set held out for validation (stratified; 0: none)' },
  { key: 'data', long: 'data', type: 'string', metavar: 'DIR', help: 'folder with the dataset\'s IDX files (default: the <dataset> folder of the @tensorkit/datasets package)' },
  { key: 'out', long: 'out', type: 'string', default: 'runs', metavar: 'DIR', help: 'output root folder' },
  { key: 'name', long: 'name', type: 'string', metavar: 'RUN', help: 'run folder name (default: from the config; -2, -3, … appended if taken)' },
  { key: 'augmentShift', long: 'augment_shift', type: 'int', min: 0, max: 14, default: 0, help: 'augmentation (--model cnn): shift each training image by up to N pixels' },
  { key: 'augmentRotate', long: 'augment_rotate', type: 'number', min: 0, max: 180, default: 0, help: 'augmentation (--model cnn): rotate each training image by up to DEG degrees' },
  { key: 'augmentFlip', long: 'augment_flip', type: 'flag', help: 'augmentation (--model cnn): mirror training images left-right at random\n(for clothing, not digits)' },
  { key: 'patience', long: 'patience', type: 'int', min: 0, max: 10000, default: 5, help: 'early stopping: stop after this many epochs without a lower validation loss\nand restore the best weights (0: off)' },
  { key: 'checkpointEvery', long: 'checkpoint_every', type: 'int', min: 0, max: 10000, default: 0, help: 'save a model file (weights, optimizer state, position) every N epochs\ninto RUN/checkpoints: epoch-NNNN.safetensors (last 3 kept), best.safetensors\nand last.safetensors (0: off)' },
  { key: 'resume', long: 'resume', type: 'string', metavar: 'FILE', help: 'continue an interrupted run from a checkpoint (e.g. RUN/checkpoints/last.safetensors):\nits weights, optimizer state and position are loaded; give the other options\nas in the original run, and the result is bit-identical to an uninterrupted one' },
  { key: 'import', long: 'import', type: 'string', metavar: 'MODULE', help: 'import a module first (a file path or package), e.g. one that registers\nan optimizer or initializer by name' },
  { key: 'quick', long: 'quick', type: 'flag', help: 'a seconds-long slice: 1000 training and 500 test images, at most 1 epoch' },
];

/** File name of the trained model in the run folder (a model file: architecture and weights). */
export const MODEL_FILE = 'model.safetensors';

/** Parsed and validated `tensorkit train` options (keys as in {@link TRAIN_OPTIONS}). */
export interface TrainOptions {
  wandbProject: string; wandbEntity: string; dataset: (typeof DATASETS)[number]; epochs: number; batchSize: number;
  loss: (typeof LOSSES)[number]; optimizer: string; learningRate: number; momentum: number; beta: number; beta1: number;
  beta2: number; epsilon: number; weightDecay: number; weightInit: string; numLayers: number; hiddenSize: number;
  activation: string; model: (typeof MODELS)[number]; filters: number[]; kernelSizes: number[];
  padding: number; pool: (typeof POOLS)[number]; denseUnits: number[]; seed: number; threads: number; valSplit: number;
  data?: string; out: string; name?: string; augmentShift: number; augmentRotate: number; augmentFlip: boolean; patience: number; checkpointEvery: number; resume?: string; import?: string; quick: boolean;
}

/** The full help text of `tensorkit train`. */
export function trainHelp(): string {
  return `usage: tensorkit train [options]

Trains a classifier on Fashion-MNIST or MNIST (the second assignment's train.py), evaluates it on the
test set and writes OUT/PROJECT/ENTITY/RUN/: params.json, metrics.json (per-epoch history, test loss and
accuracy, train and test time), history_epoch.csv, history_batch.csv, predictions.csv
(index,true,predicted,p0..p9), confusion.txt and confusion.csv (rows = true, columns = predicted),
summary.txt, and model.safetensors: the trained model (architecture and weights; the optimizer state
is in the checkpoints of --checkpoint_every), which tensorkit summary, tensorkit export-onnx and
loadModel read. PROJECT, ENTITY and RUN are each made one folder name
(path separators and '..' are dropped), so every output stays in OUT.

Epochs are counted from 1 in every file and line this command writes (progress, CSV files,
metrics.jsonl, summary.json, metrics.json, checkpoint names); the library's callback objects use
0-based epoch indices (EpochLogs.epoch), documented there.

Multi-letter short flags work as written (-lr 0.01, -w_d 0.0005); long options take the snake_case
form of the assignment or kebab-case (--learning_rate or --learning-rate); choice values take either
spelling (-l cross_entropy or cross-entropy, -d fashion_mnist or fashion-mnist); values may also
follow an = sign. Every numeric option has the range shown below, checked before anything runs, and
the network must stay within ${MAX_PARAMETERS} parameters and ${MAX_ACTIVATION_BYTES / 2 ** 30} GiB of activations per batch
("model too large: …"). Invalid values and unknown options exit with status 2.

Defaults are the best Fashion-MNIST MLP configuration found: 4 hidden layers of 512 ReLU units, Xavier
init, Adam (lr 5e-4, weight decay 5e-4), batch 64, up to 30 epochs with early stopping (patience 5, best
weights restored), cross-entropy, 10% stratified validation split. The assignment's published result is
88.6% test accuracy; these defaults measured 88.76% (seed 1; 3×128 with Adam 1e-3 for 10 epochs: 87.8%).

options:
${formatOptions(TRAIN_OPTIONS)}
  -h, --help                          show this help
`;
}

/**
 * Parses `tensorkit train` arguments (after the subcommand). Throws {@link UsageError} on unknown
 * options and invalid values. `--import` modules are loaded before the optimizer and initializer
 * names are checked, so names they register are accepted. Returns `null` for `--help`.
 */
export async function parseTrainArgs(argv: readonly string[]): Promise<TrainOptions | null> {
  const scanned = scanArgs(argv, TRAIN_OPTIONS);
  if (scanned.help) return null;
  const imp = scanned.raw.get('import');
  if (typeof imp === 'string' && imp !== '') await importModule(imp);
  const { values } = convertArgs(scanned, TRAIN_OPTIONS);
  const opts = values as unknown as TrainOptions;
  // Folder names: one safe path segment each, so every output stays under --out.
  for (const key of ['wandbProject', 'wandbEntity', 'name'] as const) {
    const given = opts[key];
    if (given === undefined) continue;
    const safe = safeSegment(given);
    if (safe === '') throw new UsageError(`--${key === 'name' ? 'name' : key === 'wandbProject' ? 'wandb_project' : 'wandb_entity'} ${JSON.stringify(given)} has no usable characters for a folder name`);
    opts[key] = safe;
  }
  if (opts.model === 'cnn' && opts.kernelSizes.length !== 1 && opts.kernelSizes.length !== opts.filters.length) {
    throw new UsageError(`--kernel_sizes has ${opts.kernelSizes.length} values for ${opts.filters.length} conv layers (--filters); give one value or one per layer`);
  }
  if (opts.model !== 'cnn' && (opts.augmentShift > 0 || opts.augmentRotate > 0 || opts.augmentFlip)) {
    throw new UsageError('--augment_shift, --augment_rotate and --augment_flip need --model cnn (MLP inputs are flattened)');
  }
  if (opts.quick) opts.epochs = Math.min(opts.epochs, 1);
  if (opts.resume === undefined) checkModelSize(opts);
  return opts;
}

/** The optimizer config the options give: each built-in gets exactly its own hyperparameters. */
export function optimizerConfig(opts: TrainOptions, given: ReadonlySet<string> = new Set()): { name: string } & Record<string, unknown> {
  const base = { name: opts.optimizer, lr: opts.learningRate, weightDecay: opts.weightDecay };
  switch (opts.optimizer) {
    case 'sgd':
      return base;
    case 'momentum':
    case 'nag':
      return { ...base, momentum: opts.momentum };
    case 'rmsprop':
      return { ...base, beta: opts.beta, eps: opts.epsilon };
    case 'adam':
    case 'nadam':
      return { ...base, beta1: opts.beta1, beta2: opts.beta2, eps: opts.epsilon };
    default: {
      // A user-registered optimizer gets lr, weight decay, and only the hyperparameters given explicitly.
      const extra: Record<string, unknown> = {};
      for (const [key, cfg] of [['momentum', 'momentum'], ['beta', 'beta'], ['beta1', 'beta1'], ['beta2', 'beta2'], ['epsilon', 'eps']] as const) {
        if (given.has(key)) extra[cfg] = opts[key];
      }
      return { ...base, ...extra };
    }
  }
}

/** Size of the network that {@link buildModel} would build, computed without allocating it. */
export interface ModelSize {
  /** Trainable parameters (weights and biases). */
  readonly parameters: number;
  /** Bytes of one batch's activations: each layer's output and input gradient, plus conv im2col scratch (float32). */
  readonly activationBytes: number;
}

/**
 * The parameter count and activation memory of the options' network (see {@link buildModel}),
 * computed from the shapes alone. Throws a {@link UsageError} when a conv or pooling layer would
 * shrink the image to nothing (the message names the layer and the sizes).
 */
export function modelSize(opts: TrainOptions, classes = 10): ModelSize {
  let parameters = 0;
  let perSample = 0;
  const dense = (inputs: number, units: number, activation: boolean) => {
    parameters += (inputs + 1) * units;
    perSample += 2 * units * (activation ? 2 : 1);
    return units;
  };
  if (opts.model === 'mlp') {
    let width = 784;
    for (let i = 0; i < opts.numLayers; i++) width = dense(width, opts.hiddenSize, true);
    dense(width, classes, true);
  } else {
    let [c, h, w] = [1, 28, 28];
    for (let i = 0; i < opts.filters.length; i++) {
      const k = opts.kernelSizes.length === 1 ? opts.kernelSizes[0] : opts.kernelSizes[i];
      const oh = h + 2 * opts.padding - k + 1;
      const ow = w + 2 * opts.padding - k + 1;
      if (oh < 1 || ow < 1) throw new UsageError(`conv layer ${i + 1} (kernel ${k}, padding ${opts.padding}) does not fit its ${h}×${w} input; use smaller --kernel_sizes, more --padding or fewer --filters`);
      const f = opts.filters[i];
      parameters += f * (c * k * k + 1);
      perSample += c * k * k * oh * ow + 2 * 2 * f * oh * ow;
      [c, h, w] = [f, oh, ow];
      if (opts.pool !== 'none') {
        if (h < 2 || w < 2) throw new UsageError(`the 2×2 pooling after conv layer ${i + 1} gets a ${h}×${w} input; use fewer --filters, smaller --kernel_sizes, more --padding or --pool none`);
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
        perSample += 2 * c * h * w;
      }
    }
    let width = c * h * w;
    for (const units of opts.denseUnits) width = dense(width, units, true);
    dense(width, classes, true);
  }
  return { parameters, activationBytes: 4 * perSample * opts.batchSize };
}

/** Throws a {@link UsageError} ("too large: …") when the options' network exceeds {@link MAX_PARAMETERS} or {@link MAX_ACTIVATION_BYTES}. */
export function checkModelSize(opts: TrainOptions): ModelSize {
  const size = modelSize(opts);
  if (size.parameters > MAX_PARAMETERS) {
    throw new UsageError(`model too large: ${size.parameters} parameters, limit ${MAX_PARAMETERS} (${opts.model === 'mlp' ? '-nhl, -sz' : '--filters, --dense_units'})`);
  }
  if (size.activationBytes > MAX_ACTIVATION_BYTES) {
    throw new UsageError(`model too large: a batch of ${opts.batchSize} needs ${(size.activationBytes / 2 ** 30).toFixed(1)} GiB of activations, limit ${MAX_ACTIVATION_BYTES / 2 ** 30} GiB (use a smaller -b or a smaller network)`);
  }
  return size;
}

/** The weight initializer spec of `-w_i` (see {@link WEIGHT_INIT_MAP}). */
export function weightInitSpec(name: string): InitializerSpec {
  return WEIGHT_INIT_MAP[name] ?? name;
}

/**
 * The network the options describe, ending in Softmax (cross-entropy fuses it with the logits; squared
 * error compares its probabilities with one-hot labels). MLP input: `[784]`; CNN input: `[1, 28, 28]`.
 */
export function buildModel(opts: TrainOptions, classes = 10): Sequential {
  const weightInit = weightInitSpec(opts.weightInit);
  const init = { weightInit, biasInit: 'zeros' };
  const act = () => createLayer(activationLayer(opts.activation));
  const layers: Layer[] = [];
  if (opts.model === 'mlp') {
    for (let i = 0; i < opts.numLayers; i++) layers.push(createLayer('dense', { units: opts.hiddenSize, ...init }), act());
  } else {
    opts.filters.forEach((filters, i) => {
      const kernelSize = opts.kernelSizes.length === 1 ? opts.kernelSizes[0] : opts.kernelSizes[i];
      layers.push(createLayer('conv2d', { filters, kernelSize, padding: opts.padding, ...init }), act());
      if (opts.pool !== 'none') layers.push(createLayer(opts.pool === 'max' ? 'max-pool2d' : 'avg-pool2d', { poolSize: 2 }));
    });
    layers.push(createLayer('flatten'));
    for (const units of opts.denseUnits) layers.push(createLayer('dense', { units, ...init }), act());
  }
  layers.push(createLayer('dense', { units: classes, ...init }), createLayer('softmax'));
  return new Sequential(layers, { inputShape: opts.model === 'mlp' ? [784] : [1, 28, 28], seed: opts.seed });
}

/** Default run-folder name: the main hyperparameters. */
export function runName(opts: TrainOptions): string {
  const arch = opts.model === 'mlp' ? `mlp${opts.numLayers}x${opts.hiddenSize}` : `cnn${opts.filters.join('-')}`;
  return `${arch}-${opts.activation.toLowerCase()}-${opts.optimizer}-lr${opts.learningRate}-b${opts.batchSize}-e${opts.epochs}-seed${opts.seed}`;
}

function loadData(opts: TrainOptions): Dataset {
  const limits = opts.quick ? { trainLimit: 1000, testLimit: 500 } : {};
  const load = opts.dataset === 'mnist' ? loadMnist : loadFashionMnist;
  return load({ dir: opts.data, ...limits });
}

const json = (v: unknown) => `${JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2)}\n`;

/**
 * Runs `tensorkit train` with `argv` (the arguments after `train`). Returns the exit status:
 * 0 done, 1 failed while loading data or training, 2 bad command line (message on stderr).
 */
export async function runTrain(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  let opts: TrainOptions | null;
  let model: Sequential;
  let given: ReadonlySet<string>;
  let resumeFrom: FitPosition | undefined;
  try {
    opts = await parseTrainArgs(argv);
    if (opts === null) {
      io.stdout.write(trainHelp());
      return 0;
    }
    given = new Set(scanArgs(argv, TRAIN_OPTIONS).raw.keys());
    if (opts.resume) {
      const loaded = loadModel(opts.resume);
      if (!loaded.optimizer || !loaded.trainingState) {
        throw new UsageError(`--resume ${opts.resume}: the file holds no optimizer state or training position (not a training checkpoint)`);
      }
      model = loaded.model;
      model.compile({ optimizer: loaded.optimizer, loss: LOSS_NAMES[opts.loss], metrics: ['accuracy'] });
      resumeFrom = loaded.trainingState as unknown as FitPosition;
    } else {
      model = buildModel(opts);
      model.compile({ optimizer: optimizerConfig(opts, given), loss: LOSS_NAMES[opts.loss], metrics: ['accuracy'] });
    }
  } catch (err) {
    io.stderr.write(`tensorkit train: ${(err as Error).message}\n`);
    if (!(err instanceof UsageError)) io.stderr.write('tensorkit train: the options describe an invalid configuration; see --help\n');
    return 2;
  }
  try {
    return await train(opts, model, given, argv, io, resumeFrom);
  } catch (err) {
    io.stderr.write(`tensorkit train: ${(err as Error).message}\n`);
    return 1;
  }
}

async function train(
  opts: TrainOptions, model: Sequential, given: ReadonlySet<string>, argv: readonly string[], io: CliIo, resumeFrom?: FitPosition,
): Promise<number> {
  const data = loadData(opts);
  const flat = (t: Tensor) => (opts.model === 'mlp' ? t.reshape([t.shape[0], 784]) : t);
  let trainX = flat(data.train.images);
  let trainY = data.train.labels;
  let validation: [Tensor, Tensor] | undefined;
  if (opts.valSplit > 0) {
    const split = trainValSplit(trainX, trainY, { fraction: opts.valSplit, seed: opts.seed, stratified: true });
    trainX = split.train.x;
    trainY = split.train.y;
    validation = [split.val.x, split.val.y];
  }
  if (opts.threads > 0) setThreads(opts.threads);
  const optimizer = optimizerConfig(opts, given);
  // The run folder is a tracked run (src/experiments): params.json, env.json, metrics.jsonl, summary.json.
  const run = createRun({ root: join(opts.out, opts.wandbProject, opts.wandbEntity), name: opts.name ?? runName(opts), threads: getThreads(), params: {
    ...opts,
    resolved: {
      optimizer, loss: LOSS_NAMES[opts.loss], weightInit: weightInitSpec(opts.weightInit), biasInit: 'zeros',
      trainSamples: trainX.shape[0], valSamples: validation ? validation[0].shape[0] : 0, testSamples: data.test.images.shape[0],
      parameters: model.countParams(), architecture: model.getConfig(),
    },
    argv,
    node: process.version,
  } });
  try {
    return await trainInRun(opts, model, run, trainX, trainY, validation, data, flat, io, resumeFrom);
  } catch (err) {
    // Any failure after the run folder exists ends the run as failed (never left "running").
    if (run.getSummary().status === 'running') run.finish({ error: (err as Error).message }, 'failed');
    throw err;
  }
}

async function trainInRun(
  opts: TrainOptions, model: Sequential, run: Run, trainX: Tensor, trainY: Tensor, validation: [Tensor, Tensor] | undefined,
  data: Dataset, flat: (t: Tensor) => Tensor, io: CliIo, resumeFrom?: FitPosition,
): Promise<number> {
  const dir = run.dir;
  writeFileSync(join(dir, 'summary.txt'), `${model.summary()}\n`);
  io.stdout.write(`training ${opts.model} on ${data.name} (${trainX.shape[0]} train / ${validation ? validation[0].shape[0] : 0} val / ${data.test.images.shape[0]} test), ${model.countParams()} parameters, ${opts.optimizer} lr ${opts.learningRate}, ${opts.epochs} epochs\n`);

  const callbacks: Callback[] = [
    new CsvLogger({ epochFile: join(dir, 'history_epoch.csv'), batchFile: join(dir, 'history_batch.csv') }),
    progressCallback({ stream: io.stderr as NodeJS.WriteStream }),
    run.callback(),
  ];
  const early = opts.patience > 0 && validation ? new EarlyStopping(model, { monitor: 'valLoss', patience: opts.patience }) : null;
  if (early) callbacks.push(early);
  if (opts.checkpointEvery > 0) callbacks.push(new Checkpoint(model, { dir: join(dir, 'checkpoints'), every: opts.checkpointEvery, keepLast: 3 }));

  const t0 = performance.now();
  const history = await model.fit(trainX, trainY, { epochs: opts.epochs, batchSize: opts.batchSize, validationData: validation, seed: opts.seed, callbacks, resumeFrom,
    augment: opts.augmentShift > 0 || opts.augmentRotate > 0 || opts.augmentFlip
      ? { shift: opts.augmentShift, rotate: opts.augmentRotate, flip: Boolean(opts.augmentFlip) } : undefined,
  });
  const trainSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const testX = flat(data.test.images);
  const test = model.evaluate(testX, data.test.labels);
  const probs = model.predict(testX);
  const testSeconds = (performance.now() - t1) / 1000;
  const predicted = model.predictClasses(testX);
  const matrix = confusionMatrix(predicted, data.test.labels, data.classNames.length);
  const perClass = classMetrics(matrix);

  writeFileSync(join(dir, 'predictions.csv'), predictionsCsv(probs, data.test.labels));
  writeFileSync(join(dir, 'confusion.txt'), formatConfusion(matrix, data.classNames));
  writeFileSync(join(dir, 'confusion.csv'), toCsv(['true\\predicted', ...data.classNames], matrix.map((row, i) => [data.classNames[i], ...row])));
  writeFileSync(join(dir, 'metrics.json'), json({
    test: { loss: test.loss, accuracy: test.accuracy },
    finalValidation: validation ? { loss: history.epoch.valLoss.at(-1), accuracy: history.epoch.valAccuracy.at(-1) } : null,
    epochsRun: history.epoch.loss.length,
    earlyStopping: early ? { bestEpoch: early.bestEpoch + 1, bestValLoss: early.best, restored: early.restored } : null,
    trainSeconds, testSeconds,
    history: history.epoch,
    perClass: { classNames: data.classNames, accuracy: perClass.perClassAccuracy, precision: perClass.precision, recall: perClass.recall, f1: perClass.f1, support: perClass.support },
    confusion: matrix,
  }));
  // The trained model (best weights when early stopping restored them), loadable by `tensorkit summary`,
  // `export-onnx` and loadModel. Weights only: the optimizer state would triple the file in every
  // sweep trial; --checkpoint_every keeps it for resuming.
  const modelPath = join(dir, MODEL_FILE);
  saveModel(model, modelPath);
  run.finish({ test_accuracy: test.accuracy, test_loss: test.loss, train_seconds: trainSeconds, test_seconds: testSeconds });
  io.stdout.write(`test accuracy ${(100 * test.accuracy).toFixed(2)}%, test loss ${test.loss.toFixed(4)}, train time ${trainSeconds.toFixed(1)}s\n`);
  io.stdout.write(`model saved to ${modelPath}\noutputs in ${dir}\n`);
  return 0;
}
