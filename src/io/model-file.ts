// tensorkit model files: one safetensors file holding the weights under PyTorch keys, the optimizer
// slots, and in `__metadata__` the architecture, optimizer and training position as JSON. Written
// atomically; read back only through the registries (no code in a file is ever evaluated), with every
// parameter shape checked against the file before anything is built.
import { createLayer, layerRegistry, type Layer } from '../layers/layer.js';
import { Module } from '../model/module.js';
import { createModule, moduleRegistry, registeredModuleName } from '../model/module-registry.js';
import { Sequential } from '../model/sequential.js';
import { optimizerRegistry, type Optimizer, type OptimizerState } from '../optimizers/optimizer.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { shapeSize, Tensor } from '../tensor/tensor.js';
import { inferLayerShapes } from './layer-shapes.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
import { clipText, describeValue, errorText, exceedsDepth, listNames, MAX_JSON_DEPTH } from './untrusted.js';

/**
 * Error thrown for a model file whose contents do not describe a loadable model; names the file and
 * the problem, cut to 300 characters (`MAX_PROBLEM_LENGTH`).
 */
export class ModelFileError extends Error {
  readonly problem: string;
  constructor(readonly source: string, problem: string) {
    const clipped = clipText(problem);
    super(`${source}: ${clipped}`);
    this.name = 'ModelFileError';
    this.problem = clipped;
  }
}

/** Value of the `format` metadata entry that marks a tensorkit model file. */
export const MODEL_FORMAT = 'tensorkit-model';
/** Version of the layout described in {@link encodeModel}. */
export const MODEL_FORMAT_VERSION = '1';
/** Prefix of optimizer-slot tensors: `optimizer/<param name>/<slot>`. Layer keys start with a digit, so they never collide. */
export const OPTIMIZER_TENSOR_PREFIX = 'optimizer/';
/**
 * Prefix of callback-state tensors: `state/<callback key>/<name>` for the `tensors` of
 * `trainingState.callbacks.<key>` (EarlyStopping's best weights). The JSON keeps their names as
 * `tensors: ["<name>", …]`; reading puts the tensors back.
 */
export const STATE_TENSOR_PREFIX = 'state/';
/** Largest per-sample input (elements) a model file may declare; bounds the buffers built before the weights are checked. */
export const MODEL_MAX_SAMPLE_ELEMENTS = 2 ** 24;
/**
 * Integers in a layer config (units, filters, kernel sizes, …) may not exceed the largest dimension
 * of a non-empty tensor stored in the file, or this floor. A real file's sizes show up in its weight shapes; a
 * forged `units: 1e9` is refused before `build` would allocate for it.
 */
export const MODEL_CONFIG_INT_FLOOR = 4096;
/**
 * Longest JSON text of a metadata entry (architecture, optimizer, training state), in UTF-16 code
 * units: 8 Mi, room for {@link MODEL_MAX_LAYERS} layers with long configs, refused before parsing.
 */
export const MODEL_MAX_METADATA_JSON = 2 ** 23;
/** Most axes of a per-sample shape (input or any layer's output) in a model file. */
export const MODEL_MAX_RANK = 8;
/** Most layers a model file may declare. */
export const MODEL_MAX_LAYERS = 10_000;
/**
 * Most floats a model file may make the reader allocate when it builds the model (1 GiB of float32):
 * each parameter counts twice (value and gradient), plus buffers and build-time scratch such as a
 * strided Conv2D's im2col matrix. A model of up to about 134 million parameters fits.
 */
export const MODEL_MAX_PARAMS = 2 ** 28;

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

/**
 * The result of {@link loadModel}. The type parameter says what the file holds: a Sequential (the
 * default) or, for a file saved from a registered Module, that module's class (`loadModel<Net>(path)`);
 * it is not checked at run time (test with `instanceof`).
 */
export interface LoadedModel<M extends Module = Sequential> {
  readonly model: M;
  /** Present when the file holds an optimizer: created through the registry, state loaded. */
  readonly optimizer?: Optimizer;
  readonly trainingState?: TrainingState;
}

/**
 * Serialises a model file: a safetensors file whose tensors are `model.stateDict()` (PyTorch
 * `nn.Sequential` keys, or a Module's attribute paths, so the file loads into the equivalent torch
 * model after dropping the `optimizer/` keys) plus `optimizer/<param>/<slot>` for every optimizer
 * slot, and whose `__metadata__` holds
 * - `format`: `"tensorkit-model"`, `format_version`: `"1"`;
 * - `architecture`: JSON of `model.getConfig()` (input shape, layer registry names and configs) for a
 *   Sequential; for another Module `{ module, config, inputShapes }`: the name its class was registered
 *   under with `registerModule`, its `getConfig()` and the per-sample input shapes it was built for
 *   (no code: loading calls the registered class with the config, then builds it);
 * - `optimizer` (optional): JSON `{ kind, config, step, globals }`;
 * - `training_state` (optional): JSON of the {@link TrainingState}; the tensors of its callback
 *   states are stored as `state/<key>/<name>` tensors (see {@link STATE_TENSOR_PREFIX}).
 * Non-finite numbers in the JSON are written as `{"$number": "Infinity"}` (JSON has no Infinity).
 */
export function encodeModel(model: Sequential | Module, options: SaveModelOptions = {}): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError('saveModel: model must be a Sequential or a Module');
  let architecture: unknown;
  if (model instanceof Sequential) architecture = model.getConfig();
  else {
    const name = registeredModuleName(model);
    if (name === null) {
      throw new TypeError(`saveModel: ${model.constructor.name} is not a registered module; call registerModule('${kebab(model.constructor.name)}', ${model.constructor.name}) `
        + 'so that a model file can name the class and rebuild it from its config');
    }
    const inputShapes = model.inputShapes;
    if (inputShapes === null) throw new TypeError(`saveModel: ${model.constructor.name} has no input shape yet; call build(inputShape) or run a forward first`);
    architecture = { module: name, config: model.getConfig(), inputShapes };
  }
  const tensors: Record<string, Tensor> = model.stateDict();
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    architecture: stringifyJson(architecture),
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
    metadata.training_state = stringifyJson(moveStateTensors(options.trainingState, tensors));
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * The training state held in a model file's `__metadata__` (as read by `readSafetensorsMetadata`),
 * or `undefined` when it has none. Throws {@link ModelFileError} naming `source`.
 */
export function trainingStateFromMetadata(metadata: Record<string, string>, source: string): TrainingState | undefined {
  const fail = (problem: string): never => {
    throw new ModelFileError(source, problem);
  };
  if (metadata.format !== MODEL_FORMAT) fail(`not a tensorkit model file (metadata "format" is ${describeValue(metadata.format)})`);
  if (metadata.training_state === undefined) return undefined;
  const state = parseJson(metadata.training_state, 'training_state', fail);
  checkTrainingState(state, (problem) => new ModelFileError(source, `training_state ${problem}`));
  return state as TrainingState;
}

/**
 * Rebuilds a model (and optimizer and training state, when saved) from model-file bytes. Layers and
 * the optimizer are created by registry name from JSON configs; an unregistered name fails with a
 * message saying what to register. The weights must match the rebuilt model's parameters key for
 * key and shape for shape, and this is checked before any layer is built: the parameter shapes
 * come from the architecture (see `planArchitecture`), within {@link MODEL_MAX_LAYERS},
 * {@link MODEL_MAX_PARAMS}, {@link MODEL_MAX_SAMPLE_ELEMENTS}, {@link MODEL_MAX_RANK} and
 * {@link MODEL_MAX_METADATA_JSON}, so a small hostile file cannot make the reader allocate much.
 * Malformed bytes throw {@link SafetensorsError}; a well-formed file that does not describe a
 * loadable model throws {@link ModelFileError}. Messages are short whatever the file holds.
 */
export function decodeModel<M extends Module = Sequential>(bytes: Uint8Array, source = '<bytes>'): LoadedModel<M> {
  const fail = (problem: string): never => {
    throw new ModelFileError(source, problem);
  };
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== MODEL_FORMAT) {
    fail(`not a tensorkit model file (metadata "format" is ${describeValue(metadata.format)}, expected "${MODEL_FORMAT}"); plain weights load with loadSafetensors`);
  }
  if (metadata.format_version !== MODEL_FORMAT_VERSION) {
    fail(`unsupported format_version ${describeValue(metadata.format_version)} (this tensorkit reads "${MODEL_FORMAT_VERSION}")`);
  }
  const architecture = parseJson(metadata.architecture, 'architecture', fail);
  let maxDim = MODEL_CONFIG_INT_FLOOR;
  // Only tensors with data count: an empty one costs no bytes, so its shape could name any size.
  for (const t of Object.values(tensors)) if (t.size > 0) for (const d of t.shape) maxDim = Math.max(maxDim, d);
  const weights: Record<string, Tensor> = {};
  const slotTensors: [string, Tensor][] = [];
  const stateTensors = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(OPTIMIZER_TENSOR_PREFIX)) slotTensors.push([name, t]);
    else if (name.startsWith(STATE_TENSOR_PREFIX)) stateTensors.set(name, t);
    else Object.defineProperty(weights, name, { value: t, enumerable: true, configurable: true, writable: true });
  }
  let model: Module;
  if (isRecord(architecture) && architecture.module !== undefined) {
    model = buildModule(architecture, maxDim, fail);
  } else {
    const plan = planArchitecture(architecture, maxDim, weights, fail);
    try {
      model = new Sequential(plan.layers, { inputShape: plan.inputShape });
    } catch (err) {
      return fail(`cannot build the architecture: ${errorText(err)}`);
    }
  }
  try {
    model.loadStateDict(weights);
  } catch (err) {
    return fail(`the weights do not fit the architecture: ${errorText(err)}`);
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
    trainingState = restoreStateTensors(state as TrainingState, stateTensors, fail);
  }
  if (stateTensors.size > 0) fail(`has state tensors (${stateTensors.keys().next().value}, …) that no callback state in training_state names`);
  return { model: model as M, optimizer, trainingState };
}

/** `MyNet` → `my-net`, for the registerModule hint. */
function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase() || 'my-module';
}

/**
 * Rebuilds a registered Module from `{ module, config, inputShapes }`: the name must be registered,
 * every integer in the config at most the largest tensor dimension in the file (as for layer configs),
 * the input shapes within {@link MODEL_MAX_RANK} and {@link MODEL_MAX_SAMPLE_ELEMENTS}; the class is
 * constructed with the config and built for the shapes (its parameters then counted against
 * {@link MODEL_MAX_PARAMS}). Unlike a Sequential's, a module's parameter shapes are only known by
 * running its code, so the weights are checked after building.
 */
function buildModule(value: Record<string, unknown>, maxInt: number, fail: (problem: string) => never): Module {
  const { module: name, config, inputShapes } = value;
  if (typeof name !== 'string') return fail(`architecture.module must be a registered module name, got ${describeValue(name)}`);
  if (!moduleRegistry.has(name)) {
    fail(`module ${describeValue(name)} is not registered; call registerModule(${describeValue(name)}, ModuleClass) before loading `
      + `(registered modules: ${listNames(moduleRegistry.names(), 20) || 'none'})`);
  }
  if (!isRecord(config)) fail(`architecture.config must be an object, got ${describeValue(config)}`);
  const big = largestInteger(config);
  if (big > maxInt) fail(`module ${describeValue(name)} has a config integer ${big}, larger than any tensor dimension in the file (limit ${maxInt})`);
  if (!Array.isArray(inputShapes) || inputShapes.length === 0 || inputShapes.length > MODEL_MAX_RANK) {
    fail(`architecture.inputShapes must be a non-empty array of per-sample shapes, got ${describeValue(inputShapes)}`);
  }
  for (const s of inputShapes as unknown[]) {
    if (!Array.isArray(s) || s.length > MODEL_MAX_RANK || s.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`architecture.inputShapes must hold arrays of non-negative integers (at most ${MODEL_MAX_RANK}), got ${describeValue(s)}`);
    }
    if (shapeSize(s as number[]) > MODEL_MAX_SAMPLE_ELEMENTS) fail(`architecture.inputShapes ${describeValue(s)} is over the limit of ${MODEL_MAX_SAMPLE_ELEMENTS} elements per sample`);
  }
  let model: Module;
  try {
    model = createModule(name, config as Record<string, unknown>);
    if (!(model instanceof Module)) throw new Error('the registered class did not make a Module');
    model.build(inputShapes as number[][]);
  } catch (err) {
    return fail(`cannot build the architecture: module ${describeValue(name)}: ${errorText(err)}`);
  }
  const params = model.countParams();
  if (2 * params > MODEL_MAX_PARAMS) fail(`module ${describeValue(name)} has ${params} parameters, over the limit of ${MODEL_MAX_PARAMS / 2}`);
  return model;
}

/**
 * Validates the architecture JSON and checks it against the file's weights before anything large is
 * allocated: the layer count, registered kinds and config sizes first; then, layer by layer, the
 * parameter and buffer shapes the layer will build (derived without building for the built-in
 * layers, see {@link inferLayerShapes}; a user's layer kind is built on its own and its parameters
 * checked right after) must each be a tensor of the file with the same shape, and the total stays
 * under {@link MODEL_MAX_PARAMS}. Returns the constructed (unbuilt) layers.
 */
function planArchitecture(
  value: unknown, maxInt: number, weights: Record<string, Tensor>, fail: (problem: string) => never,
): { inputShape: number[]; layers: Layer[] } {
  if (!isRecord(value)) return fail('architecture must be an object { inputShape, layers }');
  const { inputShape, layers } = value;
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.length > MODEL_MAX_RANK || inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    fail(`architecture.inputShape must be a non-empty array of positive integers (at most ${MODEL_MAX_RANK}), got ${describeValue(inputShape)}`);
  }
  const sample = shapeSize(inputShape as number[]);
  if (sample > MODEL_MAX_SAMPLE_ELEMENTS) {
    fail(`architecture.inputShape ${describeValue(inputShape)} has ${sample} elements per sample, over the limit of ${MODEL_MAX_SAMPLE_ELEMENTS}`);
  }
  if (!Array.isArray(layers) || layers.length === 0) return fail('architecture.layers must be a non-empty array');
  if (layers.length > MODEL_MAX_LAYERS) fail(`architecture has ${layers.length} layers, over the limit of ${MODEL_MAX_LAYERS}`);
  // Cheap checks of every entry first, so a bad one late in the list costs nothing built.
  for (let i = 0; i < layers.length; i++) {
    const layer: unknown = layers[i];
    if (!isRecord(layer) || typeof layer.kind !== 'string' || !isRecord(layer.config)) {
      fail(`architecture.layers[${i}] must be { kind: string, config: object }, got ${describeValue(layer)}`);
    }
    const { kind, config } = layer as { kind: string; config: Record<string, unknown> };
    if (!layerRegistry.has(kind)) {
      const name = describeValue(kind);
      fail(`layer ${i} has kind ${name}, which is not registered; call registerLayer(${name}, factory) ` +
        `before loading (registered layers: ${listNames(layerRegistry.names(), 20)})`);
    }
    const big = largestInteger(config);
    if (big > maxInt) {
      fail(`layer ${i} (${kind}) has a config integer ${big}, larger than any tensor dimension in the file (limit ${maxInt})`);
    }
  }

  const expected = new Set<string>();
  const missing: string[] = [];
  let budget = 0;
  const rng = new Rng(0);
  const built: Layer[] = [];
  let shape: number[] = (inputShape as number[]).slice();
  // The first layer that takes the total over the limit; reported after missing tensors (the more
  // telling problem of a forged file), but before any user layer is built.
  let overBudget: string | null = null;
  const spend = (i: number, kind: string, floats: number): void => {
    budget += floats;
    if (budget > MODEL_MAX_PARAMS && overBudget === null) {
      overBudget = `layer ${i} (${kind}) brings the parameters, buffers and scratch to more than ${MODEL_MAX_PARAMS} floats (the limit)`;
    }
  };
  /** Checks one parameter or buffer the layer will have against the file's tensor of that key. */
  const expectTensor = (i: number, kind: string, key: string, tensorShape: readonly number[]): void => {
    expected.add(key);
    const size = shapeSize(tensorShape);
    spend(i, kind, size);
    const t = Object.hasOwn(weights, key) ? weights[key] : undefined;
    if (t === undefined) {
      missing.push(key);
      return;
    }
    if (t.shape.length !== tensorShape.length || t.shape.some((d, j) => d !== tensorShape[j])) {
      fail(`the weights do not fit the architecture: "${key}" has shape ${describeValue(t.shape)}, layer ${i} (${kind}) needs ${describeValue(tensorShape)}`);
    }
  };
  for (let i = 0; i < layers.length; i++) {
    const { kind, config } = layers[i] as { kind: string; config: Record<string, unknown> };
    let layer: Layer;
    try {
      layer = createLayer(kind, config);
    } catch (err) {
      return fail(`cannot build the architecture: layer ${i} (${kind}): ${errorText(err)}`);
    }
    let out: number[];
    let inferred;
    try {
      inferred = inferLayerShapes(layer, shape);
    } catch (err) {
      return fail(`cannot build the architecture: layer ${i} (${kind}) cannot take input ${describeValue(shape)}: ${errorText(err)}`);
    }
    if (inferred !== null) {
      // Parameters and their gradients are allocated; buffers once.
      for (const p of inferred.params) {
        expectTensor(i, kind, `${i}.${p.name}`, p.shape);
        spend(i, kind, shapeSize(p.shape));
      }
      for (const b of inferred.buffers) expectTensor(i, kind, `${i}.${b.name}`, b.shape);
      spend(i, kind, inferred.scratch);
      out = inferred.outputShape;
    } else {
      // A user's layer: nothing says what it allocates but building it, so first make sure every
      // earlier layer's weights are present, then build this one alone and check what it made.
      if (missing.length > 0 || overBudget !== null) break;
      let params: { name: string; shape: number[] }[];
      let buffers: { name: string; shape: number[] }[];
      try {
        out = Array.from(layer.build(shape, rng));
        params = layer.params().map((p) => ({ name: String(p.name), shape: Array.from(p.value.shape) }));
        buffers = (layer.buffers?.() ?? []).map((b) => ({ name: String(b.name), shape: Array.from(b.value.shape) }));
      } catch (err) {
        return fail(`cannot build the architecture: layer ${i} (${kind}) cannot take input ${describeValue(shape)}: ${errorText(err)}`);
      }
      for (const p of params) {
        expectTensor(i, kind, `${i}.${p.name}`, p.shape);
        spend(i, kind, shapeSize(p.shape));
      }
      for (const b of buffers) expectTensor(i, kind, `${i}.${b.name}`, b.shape);
    }
    if (!Array.isArray(out) || out.length > MODEL_MAX_RANK || out.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`cannot build the architecture: layer ${i} (${kind}) gives an invalid output shape ${describeValue(out)}`);
    }
    if (shapeSize(out) > MODEL_MAX_SAMPLE_ELEMENTS) {
      fail(`layer ${i} (${kind}) outputs ${describeValue(out)}, ${shapeSize(out)} elements per sample, over the limit of ${MODEL_MAX_SAMPLE_ELEMENTS}`);
    }
    built.push(layer);
    shape = out;
  }
  if (missing.length > 0) {
    fail(`the weights do not fit the architecture: the file lacks ${missing.length} tensor(s) it needs: ${listNames(missing)}`);
  }
  if (overBudget !== null) fail(overBudget);
  const unexpected = Object.keys(weights).filter((k) => !expected.has(k));
  if (unexpected.length > 0) {
    fail(`the weights do not fit the architecture: ${unexpected.length} tensor(s) belong to no layer: ${listNames(unexpected)}`);
  }
  return { inputShape: (inputShape as number[]).slice(), layers: built };
}

/** Creates the saved optimizer through its registry and loads its step, slots and globals. */
function buildOptimizer(value: unknown, slotTensors: [string, Tensor][], model: Module, fail: (problem: string) => never): Optimizer {
  if (!isRecord(value) || typeof value.kind !== 'string' || !isRecord(value.config) || !isRecord(value.globals)) {
    return fail('optimizer metadata must be { kind, config, step, globals }');
  }
  const kind = value.kind;
  if (!optimizerRegistry.has(kind)) {
    fail(`optimizer ${describeValue(kind)} is not registered; call registerOptimizer(${describeValue(kind)}, factory) ` +
      `before loading (registered optimizers: ${optimizerRegistry.names().join(', ')})`);
  }
  const paramNames = new Set(model.params().map((p) => p.name));
  const slots: OptimizerState['slots'] = {};
  for (const [name, t] of slotTensors) {
    const cut = name.lastIndexOf('/');
    const param = name.slice(OPTIMIZER_TENSOR_PREFIX.length, cut);
    const slot = name.slice(cut + 1);
    if (cut < OPTIMIZER_TENSOR_PREFIX.length || slot.length === 0 || !paramNames.has(param)) {
      fail(`optimizer tensor ${describeValue(name)} does not name a model parameter and slot (optimizer/<param>/<slot>)`);
    }
    if (!Object.hasOwn(slots, param)) Object.defineProperty(slots, param, { value: {}, enumerable: true });
    Object.defineProperty(slots[param], slot, { value: t.data, enumerable: true });
  }
  let optimizer: Optimizer;
  try {
    optimizer = optimizerRegistry.get(kind)(value.config);
    optimizer.loadStateDict({ step: value.step as number, slots, globals: value.globals as Record<string, number> });
  } catch (err) {
    return fail(`cannot restore optimizer ${describeValue(kind)}: ${errorText(err)}`);
  }
  return optimizer;
}

/** Training-state keys holding Rng states: the current names, then the former ones (see {@link TrainingState}). */
const RNG_STATE_KEYS = ['shuffleRng', 'modelRng', 'rng', 'epochRng'] as const;

/**
 * A copy of `state` whose callback states name their tensors (`tensors: [names]`) instead of holding
 * them; the tensors go into `tensors` as `state/<key>/<name>`.
 */
function moveStateTensors(state: TrainingState, tensors: Record<string, Tensor>): TrainingState {
  const callbacks = state.callbacks;
  if (!isRecord(callbacks)) return state;
  const out: Record<string, unknown> = {};
  for (const [key, cbState] of Object.entries(callbacks)) {
    if (!isRecord(cbState) || !isRecord(cbState.tensors)) {
      out[key] = cbState;
      continue;
    }
    if (key.includes('/')) throw new TypeError(`saveModel: trainingState callback key ${JSON.stringify(key)} must not contain "/"`);
    const names: string[] = [];
    for (const [name, t] of Object.entries(cbState.tensors)) {
      if (!(t instanceof Tensor)) throw new TypeError(`saveModel: trainingState.callbacks.${key}.tensors.${name} must be a Tensor`);
      tensors[`${STATE_TENSOR_PREFIX}${key}/${name}`] = t;
      names.push(name);
    }
    out[key] = { ...cbState, tensors: names };
  }
  return { ...state, callbacks: out };
}

/** Puts the `state/<key>/<name>` tensors back into the callback states that name them (removed from `pool`). */
function restoreStateTensors(state: TrainingState, pool: Map<string, Tensor>, fail: (problem: string) => never): TrainingState {
  const callbacks = state.callbacks;
  if (callbacks === undefined) return state;
  if (!isRecord(callbacks)) return fail('training_state callbacks must be an object of callback states');
  for (const [key, cbState] of Object.entries(callbacks)) {
    if (!isRecord(cbState) || cbState.tensors === undefined) continue;
    const names = cbState.tensors;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) fail(`training_state callbacks.${key}.tensors must be a list of tensor names`);
    const found: Record<string, Tensor> = {};
    for (const name of names as string[]) {
      const full = `${STATE_TENSOR_PREFIX}${key}/${name}`;
      const t = pool.get(full);
      if (t === undefined) fail(`training_state callbacks.${key} names tensor ${describeValue(name)}, but the file has no ${describeValue(full)}`);
      Object.defineProperty(found, name, { value: t, enumerable: true, configurable: true, writable: true });
      pool.delete(full);
    }
    cbState.tensors = found;
  }
  return state;
}

function checkTrainingState(value: unknown, error: (problem: string) => Error): void {
  if (!isRecord(value)) throw error('must be an object { epoch, step, shuffleRng?, modelRng?, schedule? }');
  for (const key of ['epoch', 'step']) {
    const v = value[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw error(`${key} must be a non-negative integer, got ${describeValue(v)}`);
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

/**
 * Parses a metadata JSON string: no more than {@link MAX_JSON_DEPTH} levels deep (checked before any
 * recursive walk), with `{"$number": "Infinity"}` tags turned back into numbers.
 */
function parseJson(text: string | undefined, what: string, fail: (problem: string) => never): unknown {
  if (text === undefined) return fail(`metadata "${what}" is missing`);
  if (text.length > MODEL_MAX_METADATA_JSON) fail(`metadata "${what}" is ${text.length} characters long, over the limit of ${MODEL_MAX_METADATA_JSON}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`metadata "${what}" is not valid JSON (${errorText(err)})`);
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) fail(`metadata "${what}" nests deeper than ${MAX_JSON_DEPTH} levels`);
  return reviveNonFinite(value);
}

/** Replaces every `{"$number": "Infinity" | "-Infinity" | "NaN"}` inside a parsed JSON value (iteratively). */
function reviveNonFinite(value: unknown): unknown {
  const tagged = (v: unknown): number | undefined => {
    if (!isRecord(v) || typeof v[NON_FINITE_TAG] !== 'string') return undefined;
    let keys = 0;
    for (const k in v) if (Object.hasOwn(v, k) && ++keys > 1) return undefined;
    const n = Number(v[NON_FINITE_TAG]);
    return Number.isFinite(n) ? undefined : n;
  };
  const top = tagged(value);
  if (top !== undefined) return top;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const record = v as Record<string, unknown>;
    for (const k of Object.keys(record)) {
      const n = tagged(record[k]);
      if (n !== undefined) Object.defineProperty(record, k, { value: n, enumerable: true, configurable: true, writable: true });
      else if (record[k] !== null && typeof record[k] === 'object') stack.push(record[k]);
    }
  }
  return value;
}
