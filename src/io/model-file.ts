// tensorkit model files: one safetensors file holding the weights under PyTorch keys, the optimizer
// slots, and in `__metadata__` the architecture, optimizer and training position as JSON. Written
// atomically; read back only through the registries (no code in a file is ever evaluated).
import { readFileSync } from 'node:fs';
import { layerRegistry } from '../layers/layer.js';
import { Sequential, type SequentialConfig } from '../model/sequential.js';
import { optimizerRegistry, type Optimizer, type OptimizerState } from '../optimizers/optimizer.js';
import type { RngState } from '../tensor/rng.js';
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';

/** Error thrown for a model file whose contents do not describe a loadable model; names the file and the problem. */
export class ModelFileError extends Error {
  constructor(readonly source: string, readonly problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'ModelFileError';
  }
}

/** Value of the `format` metadata entry that marks a tensorkit model file. */
export const MODEL_FORMAT = 'tensorkit-model';
/** Version of the layout described in {@link encodeModel}. */
export const MODEL_FORMAT_VERSION = '1';
/** Prefix of optimizer-slot tensors: `optimizer/<param name>/<slot>`. Layer keys start with a digit, so they never collide. */
export const OPTIMIZER_TENSOR_PREFIX = 'optimizer/';
/** Largest per-sample input (elements) a model file may declare; bounds the buffers built before the weights are checked. */
export const MODEL_MAX_SAMPLE_ELEMENTS = 2 ** 24;
/**
 * Integers in a layer config (units, filters, kernel sizes, …) may not exceed the largest dimension
 * of a non-empty tensor stored in the file, or this floor. A real file's sizes show up in its weight shapes; a
 * forged `units: 1e9` is refused before `build` would allocate for it.
 */
export const MODEL_CONFIG_INT_FLOOR = 4096;

/**
 * The training position saved beside the weights so that training resumes exactly: usually a fit
 * position (`control.position()`, see `FitPosition`) plus what a callback adds. `epoch` and `step`
 * count completed epochs and optimizer steps; `shuffleRng` is the state of fit's shuffling Rng at the
 * start of `epoch` and `modelRng` that of the model's Rng (dropout masks), the names `FitPosition`
 * uses; `schedule` is a learning-rate schedule's `stateDict()`. Further JSON-serialisable fields are
 * kept as they are (numbers may be ±Infinity or NaN).
 */
export interface TrainingState {
  epoch: number;
  step: number;
  shuffleRng?: RngState;
  modelRng?: RngState;
  /**
   * The former name of `shuffleRng` (fit positions wrote it as `epochRng`). Files holding either still
   * resume: `fit`'s `resumeFrom` reads them when `shuffleRng` is absent.
   */
  rng?: RngState;
  schedule?: Record<string, number>;
  [key: string]: unknown;
}

/** What {@link saveModel} stores beside the model. */
export interface SaveModelOptions {
  /** Its kind, hyperparameters and state (step, per-parameter slots, globals) are saved. */
  readonly optimizer?: Optimizer;
  readonly trainingState?: TrainingState;
}

/** The result of {@link loadModel}. */
export interface LoadedModel {
  readonly model: Sequential;
  /** Present when the file holds an optimizer: created through the registry, state loaded. */
  readonly optimizer?: Optimizer;
  readonly trainingState?: TrainingState;
}

/**
 * Serialises a model file: a safetensors file whose tensors are `model.stateDict()` (PyTorch
 * `nn.Sequential` keys, so the file loads into torch after dropping the `optimizer/` keys) plus
 * `optimizer/<param>/<slot>` for every optimizer slot, and whose `__metadata__` holds
 * - `format`: `"tensorkit-model"`, `format_version`: `"1"`;
 * - `architecture`: JSON of `model.getConfig()` (input shape, layer registry names and configs);
 * - `optimizer` (optional): JSON `{ kind, config, step, globals }`;
 * - `training_state` (optional): JSON of the {@link TrainingState}.
 * Non-finite numbers in the JSON are written as `{"$number": "Infinity"}` (JSON has no Infinity).
 */
export function encodeModel(model: Sequential, options: SaveModelOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) throw new TypeError('saveModel: model must be a Sequential');
  const tensors: Record<string, Tensor> = model.stateDict();
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    architecture: stringifyJson(model.getConfig()),
  };
  const optimizer = options.optimizer;
  if (optimizer !== undefined) {
    const state = optimizer.stateDict();
    for (const [param, slots] of Object.entries(state.slots)) {
      for (const [slot, values] of Object.entries(slots)) {
        tensors[`${OPTIMIZER_TENSOR_PREFIX}${param}/${slot}`] = new Tensor(values, [values.length]);
      }
    }
    metadata.optimizer = stringifyJson({ kind: optimizer.kind, config: optimizer.getConfig(), step: state.step, globals: state.globals });
  }
  if (options.trainingState !== undefined) {
    checkTrainingState(options.trainingState, (problem) => new TypeError(`saveModel: trainingState ${problem}`));
    metadata.training_state = stringifyJson(options.trainingState);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Saves a model (and optionally its optimizer and training position) to one file, atomically: the
 * bytes go to a temporary file in the same directory, which is fsynced and renamed over `path`, so
 * a crash or a kill at any moment leaves the previous file at `path` intact. Layout: {@link encodeModel}.
 */
export function saveModel(model: Sequential, path: string, options: SaveModelOptions = {}): void {
  writeFileAtomic(path, encodeModel(model, options));
}

/** Reads a model file written by {@link saveModel}. Throws {@link SafetensorsError} or {@link ModelFileError}. */
export function loadModel(path: string): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelFileError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeModel(bytes, path);
}

/**
 * Rebuilds a model (and optimizer and training state, when saved) from model-file bytes. Layers and
 * the optimizer are created by registry name from JSON configs; an unregistered name fails with a
 * message saying what to register. The weights must match the rebuilt model's parameters key for
 * key and shape for shape. Malformed bytes throw {@link SafetensorsError}; a well-formed file that
 * does not describe a loadable model throws {@link ModelFileError}.
 */
export function decodeModel(bytes: Uint8Array, source = '<bytes>'): LoadedModel {
  const fail = (problem: string): never => {
    throw new ModelFileError(source, problem);
  };
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== MODEL_FORMAT) {
    fail(`not a tensorkit model file (metadata "format" is ${JSON.stringify(metadata.format)}, expected "${MODEL_FORMAT}"); plain weights load with loadSafetensors`);
  }
  if (metadata.format_version !== MODEL_FORMAT_VERSION) {
    fail(`unsupported format_version ${JSON.stringify(metadata.format_version)} (this tensorkit reads "${MODEL_FORMAT_VERSION}")`);
  }
  const architecture = parseJson(metadata.architecture, 'architecture', fail);
  let maxDim = MODEL_CONFIG_INT_FLOOR;
  // Only tensors with data count: an empty one costs no bytes, so its shape could name any size.
  for (const t of Object.values(tensors)) if (t.size > 0) for (const d of t.shape) maxDim = Math.max(maxDim, d);
  const config = checkArchitecture(architecture, maxDim, fail);
  const weights: Record<string, Tensor> = {};
  const slotTensors: [string, Tensor][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(OPTIMIZER_TENSOR_PREFIX)) slotTensors.push([name, t]);
    else Object.defineProperty(weights, name, { value: t, enumerable: true, configurable: true, writable: true });
  }

  let model: Sequential;
  try {
    model = Sequential.fromConfig(config);
  } catch (err) {
    return fail(`cannot build the architecture: ${(err as Error).message}`);
  }
  try {
    model.loadStateDict(weights);
  } catch (err) {
    return fail(`the weights do not fit the architecture: ${(err as Error).message}`);
  }

  let optimizer: Optimizer | undefined;
  if (metadata.optimizer !== undefined) {
    optimizer = buildOptimizer(parseJson(metadata.optimizer, 'optimizer', fail), slotTensors, model, fail);
  } else if (slotTensors.length > 0) {
    fail(`has optimizer tensors (${slotTensors[0][0]}, …) but no "optimizer" metadata`);
  }
  let trainingState: TrainingState | undefined;
  if (metadata.training_state !== undefined) {
    const state = parseJson(metadata.training_state, 'training_state', fail);
    checkTrainingState(state, (problem) => new ModelFileError(source, `training_state ${problem}`));
    trainingState = state as TrainingState;
  }
  return { model, optimizer, trainingState };
}

/** Validates the architecture JSON before anything is built: shapes, registered layer names, size bounds. */
function checkArchitecture(value: unknown, maxInt: number, fail: (problem: string) => never): SequentialConfig {
  if (!isRecord(value)) return fail('architecture must be an object { inputShape, layers }');
  const { inputShape, layers } = value;
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    fail(`architecture.inputShape must be a non-empty array of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  const sample = shapeSize(inputShape as number[]);
  if (sample > MODEL_MAX_SAMPLE_ELEMENTS) {
    fail(`architecture.inputShape ${formatShape(inputShape as number[])} has ${sample} elements per sample, over the limit of ${MODEL_MAX_SAMPLE_ELEMENTS}`);
  }
  if (!Array.isArray(layers) || layers.length === 0) return fail('architecture.layers must be a non-empty array');
  const out: SequentialConfig['layers'] = [];
  layers.forEach((layer: unknown, i: number) => {
    if (!isRecord(layer) || typeof layer.kind !== 'string' || !isRecord(layer.config)) {
      fail(`architecture.layers[${i}] must be { kind: string, config: object }, got ${JSON.stringify(layer)}`);
    }
    const { kind, config } = layer as { kind: string; config: Record<string, unknown> };
    if (!layerRegistry.has(kind)) {
      fail(`layer ${i} has kind ${JSON.stringify(kind)}, which is not registered; call registerLayer(${JSON.stringify(kind)}, factory) ` +
        `before loading (registered layers: ${layerRegistry.names().join(', ')})`);
    }
    const big = largestInteger(config);
    if (big > maxInt) {
      fail(`layer ${i} (${kind}) has a config integer ${big}, larger than any tensor dimension in the file (limit ${maxInt})`);
    }
    out.push({ kind, config });
  });
  return { inputShape: (inputShape as number[]).slice(), layers: out };
}

/** Creates the saved optimizer through its registry and loads its step, slots and globals. */
function buildOptimizer(value: unknown, slotTensors: [string, Tensor][], model: Sequential, fail: (problem: string) => never): Optimizer {
  if (!isRecord(value) || typeof value.kind !== 'string' || !isRecord(value.config) || !isRecord(value.globals)) {
    return fail('optimizer metadata must be { kind, config, step, globals }');
  }
  const kind = value.kind;
  if (!optimizerRegistry.has(kind)) {
    fail(`optimizer ${JSON.stringify(kind)} is not registered; call registerOptimizer(${JSON.stringify(kind)}, factory) ` +
      `before loading (registered optimizers: ${optimizerRegistry.names().join(', ')})`);
  }
  const paramNames = new Set(model.params().map((p) => p.name));
  const slots: OptimizerState['slots'] = {};
  for (const [name, t] of slotTensors) {
    const cut = name.lastIndexOf('/');
    const param = name.slice(OPTIMIZER_TENSOR_PREFIX.length, cut);
    const slot = name.slice(cut + 1);
    if (cut < OPTIMIZER_TENSOR_PREFIX.length || slot.length === 0 || !paramNames.has(param)) {
      fail(`optimizer tensor ${JSON.stringify(name)} does not name a model parameter and slot (optimizer/<param>/<slot>)`);
    }
    if (!Object.hasOwn(slots, param)) Object.defineProperty(slots, param, { value: {}, enumerable: true });
    Object.defineProperty(slots[param], slot, { value: t.data, enumerable: true });
  }
  let optimizer: Optimizer;
  try {
    optimizer = optimizerRegistry.get(kind)(value.config);
    optimizer.loadStateDict({ step: value.step as number, slots, globals: value.globals as Record<string, number> });
  } catch (err) {
    return fail(`cannot restore optimizer "${kind}": ${(err as Error).message}`);
  }
  return optimizer;
}

/** Training-state keys holding Rng states: the current names, then the former ones (see {@link TrainingState}). */
const RNG_STATE_KEYS = ['shuffleRng', 'modelRng', 'rng', 'epochRng'] as const;

function checkTrainingState(value: unknown, error: (problem: string) => Error): void {
  if (!isRecord(value)) throw error('must be an object { epoch, step, shuffleRng?, modelRng?, schedule? }');
  for (const key of ['epoch', 'step']) {
    const v = value[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw error(`${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  for (const key of RNG_STATE_KEYS) {
    const rng = value[key];
    if (rng === undefined) continue;
    const s = isRecord(rng) ? rng.s : undefined;
    const spare = isRecord(rng) ? rng.spare : undefined;
    const words = Array.isArray(s) && s.length === 4 && s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
    if (!words || !(spare === null || typeof spare === 'number')) {
      throw error(`${key} must be an Rng state { s: four unsigned 32-bit integers, spare: number | null }`);
    }
  }
  const schedule = value.schedule;
  if (schedule !== undefined && (!isRecord(schedule) || Object.values(schedule).some((v) => typeof v !== 'number'))) {
    throw error('schedule must be a schedule state (an object of numbers)');
  }
}

/** The largest integer anywhere inside a JSON value (0 if none); iterative, so nesting depth is no risk. */
function largestInteger(value: unknown): number {
  let best = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (Number.isInteger(v)) best = Math.max(best, Math.abs(v));
    } else if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v)) stack.push(child);
    }
  }
  return best;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const NON_FINITE_TAG = '$number';

/** JSON.stringify that keeps ±Infinity and NaN as `{"$number": "Infinity"}`. */
function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    (typeof v === 'number' && !Number.isFinite(v) ? { [NON_FINITE_TAG]: String(v) } : v));
}

function parseJson(text: string | undefined, what: string, fail: (problem: string) => never): unknown {
  if (text === undefined) return fail(`metadata "${what}" is missing`);
  try {
    return JSON.parse(text, (_key, v: unknown) => {
      if (isRecord(v) && Object.keys(v).length === 1 && typeof v[NON_FINITE_TAG] === 'string') {
        const n = Number(v[NON_FINITE_TAG]);
        if (!Number.isFinite(n)) return n;
      }
      return v;
    });
  } catch (err) {
    return fail(`metadata "${what}" is not valid JSON (${(err as Error).message})`);
  }
}

