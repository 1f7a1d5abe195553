// Module: a model written as a class whose constructor assigns sub-modules and Parameters to fields and
// whose forward is plain code over ops. Owns the attribute-path naming (PyTorch state-dict keys), the
// recursive train/eval mode, the forward-pass bookkeeping layer modules rely on, and compile/fit for modules
// (which delegate to the ModuleTrainable adapter of module-trainable.ts).
import type { Buffer } from '../layers/layer.js';
import { Variable } from '../ops/variable.js';
import { noGrad } from '../ops/tape.js';
import { fillFloat32, heapFloat32 } from '../runtime/heap.js';
import type { Param } from '../tensor/param.js';
import { argmaxRows } from '../tensor/reduce.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { NonFiniteError, evaluate, predict, type EvaluateResult, type FitOptions, type History } from '../train/fit.js';
import type { CompileOptions } from './compile.js';
import { ModuleTrainable } from './module-trainable.js';
import { Parameter } from './parameter.js';

export { ModuleTrainable, currentStructureVersion, markStructureChanged } from './module-trainable.js';

/** What a module's forward returns: one Variable, or several in an array or a record (multiple outputs). */
export type ModuleOutput = Variable | readonly Variable[] | { readonly [name: string]: Variable };

// ---- Forward passes ----
// A pass is one top-level forward call (a module's forward entered while no other module's forward
// runs). Layer modules count their calls per pass: the k-th call of a layer in a pass uses its k-th
// copy, since a built-in layer caches the activations of one call for its fused backward.

let depth = 0;
let passCounter = 0;
let passRoot: Module | null = null;

/** Internal: the number of the forward pass running now (or of the last one). */
export function currentPass(): number {
  return passCounter;
}

/**
 * Internal: the Rng that lazily built layers draw their initial weights from: the one of the module
 * whose forward started the running pass (the root), else a fresh seed-0 Rng.
 */
export function passRng(): Rng {
  return passRoot === null ? new Rng(0) : passRoot.rng();
}

/** Internal: the root module of the running pass (null outside a forward). */
export function passRootModule(): Module | null {
  return passRoot;
}

/**
 * Internal: marks entry into a forward for modules that manage passes themselves (layer modules);
 * returns true when this call starts a pass, which the caller ends with {@link endPass}.
 */
export function beginPass(module: Module): boolean {
  if (depth !== 0) return false;
  passCounter++;
  passRoot = module;
  return true;
}

/** Internal: ends a pass begun by {@link beginPass}. */
export function endPass(): void {
  passRoot = null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The values of an array or a plain object, with their keys, when every one is a `T` (and there is one). */
function collection<T>(v: unknown, is: (x: unknown) => x is T): [string, T][] | null {
  let entries: [string, unknown][];
  if (Array.isArray(v)) entries = v.map((x, i) => [String(i), x]);
  else if (isPlainObject(v)) entries = Object.entries(v);
  else return null;
  if (entries.length === 0 || !entries.every(([, x]) => is(x))) return null;
  return entries as [string, T][];
}

const isModule = (x: unknown): x is Module => x instanceof Module;
const isParameter = (x: unknown): x is Parameter => x instanceof Parameter;

/** Options of {@link Module.build}. */
export interface BuildOptions {
  /** Seed of the module's Rng, which lazily built layers draw their initial weights from. Default: keep the current Rng (seed 0). */
  readonly seed?: number;
}

/**
 * Base class of user models, PyTorch `nn.Module` style. A subclass's constructor calls `super()`
 * (optionally with its config, for model files) and assigns sub-modules, arrays or records of
 * sub-modules (like `nn.ModuleList` / `nn.ModuleDict`) and {@link Parameter}s to fields; its
 * `forward(...inputs)` is plain code over `ops` and returns a Variable, or an array or record of them.
 *
 * Everything else comes from the fields, in assignment order: {@link namedParameters} with attribute
 * paths as keys (`block1.conv2.weight`, `layers.0.weight`), {@link params} for the optimizers,
 * buffers, {@link stateDict} / {@link loadStateDict}, recursive {@link train} / {@link eval},
 * {@link zeroGrad}, and `compile` / `fit` / `evaluate` / `predict` for single-input, single-output
 * modules. A module used twice in a forward (a shared layer) has its parameters listed once and
 * receives the sum of both gradients.
 *
 * Built-in layers become modules through `nn` (`new nn.Conv2d(1, 16, 3)`) or {@link LayerModule};
 * they build lazily on their first forward (or {@link build}), drawing initial weights from the root
 * module's Rng in call order.
 */
export abstract class Module {
  /** Train mode (dropout active, batch norm on batch statistics); set recursively by {@link train} / {@link eval}. Default true, as in PyTorch. */
  training: boolean;
  #config: Record<string, unknown>;
  #rng: Rng | null;
  #inputShapes: number[][] | null;
  #buffers: string[];
  #trainable: ModuleTrainable | null;

  /**
   * Subclasses whose forward handles pass entry itself (layer modules, Sequential) set this to true;
   * every other module's forward is wrapped so that its outermost call starts a pass.
   */
  protected static readonly managesPasses: boolean = false;

  /** `config` (optional, JSON-serialisable) is what {@link getConfig} returns: what a model file needs to rebuild the module through the module registry. */
  constructor(config: Record<string, unknown> = {}) {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error(`Module: config must be a plain object, got ${JSON.stringify(config)}`);
    }
    this.training = true;
    this.#config = { ...config };
    this.#rng = null;
    this.#inputShapes = null;
    this.#buffers = [];
    this.#trainable = null;
    if (!(new.target as unknown as { managesPasses: boolean }).managesPasses) {
      const own = this.forward;
      if (typeof own !== 'function') throw new Error(`${new.target.name}: a Module needs a forward method`);
      const self = this;
      // An own, non-enumerable property: the field walk never sees it.
      Object.defineProperty(this, 'forward', {
        configurable: true,
        writable: true,
        enumerable: false,
        value: function forward(...inputs: unknown[]): ModuleOutput {
          for (let i = 0; i < inputs.length; i++) if (inputs[i] instanceof Tensor) inputs[i] = new Variable(inputs[i] as Tensor);
          const top = depth === 0;
          if (top) {
            passCounter++;
            passRoot = self;
            self.noteInputs(inputs);
          }
          depth++;
          try {
            return own.apply(self, inputs as Variable[]);
          } finally {
            depth--;
            if (top) passRoot = null;
          }
        },
      });
    }
  }

  /** The computation: plain code over ops and sub-modules. Inputs are batches (`[batch, ...]`). */
  abstract forward(...inputs: Variable[]): ModuleOutput;

  /** Internal: remembers the per-sample input shapes of the first top-level forward (model files record them). */
  protected noteInputs(inputs: readonly unknown[]): void {
    if (this.#inputShapes !== null) return;
    if (inputs.every((x) => x instanceof Variable && x.value.rank >= 1)) {
      this.#inputShapes = inputs.map((x) => (x as Variable).shape.slice(1));
    }
  }

  /** Per-sample shapes of the inputs this module was built or first called with (null before). */
  get inputShapes(): readonly (readonly number[])[] | null {
    return this.#inputShapes;
  }

  /** The configuration given to the constructor (a copy); a model file stores it with the registered name. */
  getConfig(): Record<string, unknown> {
    return { ...this.#config };
  }

  /**
   * The Rng to draw randomness from (`ops.dropout` masks in a forward, say): during a forward, the Rng of
   * the root module (the one whose forward started the pass), so one stream serves the whole model and is
   * saved with it; outside a forward, this module's own (seed 0 unless `build(…, { seed })`). Lazily built
   * layers draw their initial weights from it too.
   */
  rng(): Rng {
    if (passRoot !== null && passRoot !== this) return passRoot.rng();
    if (this.#rng === null) this.#rng = new Rng(0);
    return this.#rng;
  }

  /** State of this module's own Rng (see {@link rng}), for exact checkpoints. */
  getRngState(): RngState {
    if (this.#rng === null) this.#rng = new Rng(0);
    return this.#rng.getState();
  }

  /** Restores a state from {@link getRngState}. */
  setRngState(state: RngState): void {
    if (this.#rng === null) this.#rng = new Rng(0);
    this.#rng.setState(state);
  }

  /**
   * Materialises every lazily built layer by running forward once, without gradients and in eval
   * mode, on zeros of one sample per input. `inputShapes` is one per-sample shape (`[1, 28, 28]`) or
   * an array of them (one per input). Returns this.
   */
  build(inputShapes: readonly number[] | readonly (readonly number[])[], options: BuildOptions = {}): this {
    const shapes = (Array.isArray(inputShapes) && inputShapes.length > 0 && inputShapes.every((s) => Array.isArray(s))
      ? inputShapes : [inputShapes]) as readonly (readonly number[])[];
    for (const s of shapes) {
      if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new Error(`build: inputShapes must be a per-sample shape or an array of them (non-negative integers, no batch axis), got ${JSON.stringify(inputShapes)}`);
      }
    }
    if (options.seed !== undefined) {
      if (!Number.isInteger(options.seed)) throw new Error(`build: seed must be an integer, got ${options.seed}`);
      this.#rng = new Rng(options.seed);
    }
    const modes = this.namedModules().map(([, m]) => [m, m.training] as const);
    this.eval();
    try {
      const inputs = shapes.map((s) => new Variable(new Tensor(heapFloat32(shapeSize(s)), [1, ...s])));
      this.#inputShapes = shapes.map((s) => s.slice());
      noGrad(() => (this.forward as (...x: Variable[]) => ModuleOutput)(...inputs));
    } finally {
      for (const [m, t] of modes) m.training = t;
    }
    return this;
  }

  // ---- Structure: children, parameters, buffers ----

  /** Direct sub-modules with their attribute names (`conv1`, `layers.0`, `heads.query`), in assignment order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const key of Object.keys(this)) {
      const v = (this as unknown as Record<string, unknown>)[key];
      if (v instanceof Module) out.push([key, v]);
      else {
        const list = collection(v, isModule);
        if (list !== null) for (const [k, m] of list) out.push([`${key}.${k}`, m]);
      }
    }
    return out;
  }

  /** This module (name `''`) and every sub-module below it, depth first, each once (the first path it is reached by). */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (prefix: string, m: Module): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.namedChildren()) visit(prefix === '' ? name : `${prefix}.${name}`, child);
    };
    visit('', this);
    return out;
  }

  /**
   * This module's own parameters (not its children's), with local names. The default reads the
   * fields holding a {@link Parameter}, or an array or record of them (`scales.0`); layer modules and
   * Sequential return their layers' parameters.
   */
  protected localParameters(): [string, Param][] {
    const out: [string, Param][] = [];
    for (const key of Object.keys(this)) {
      const v = (this as unknown as Record<string, unknown>)[key];
      if (v instanceof Parameter) out.push([key, asParam(key, v)]);
      else {
        const list = collection(v, isParameter);
        if (list !== null) for (const [k, p] of list) out.push([`${key}.${k}`, asParam(`${key}.${k}`, p)]);
      }
    }
    return out;
  }

  /** This module's own buffers (see {@link registerBuffer}), with local names. */
  protected localBuffers(): [string, Tensor][] {
    return this.#buffers.map((name) => [name, (this as unknown as Record<string, Tensor>)[name]]);
  }

  /**
   * Declares the Tensor field `name` a buffer: non-trainable state saved in the state dict (running
   * statistics, say), as PyTorch's `register_buffer`. Sets `this[name] = value` and returns `value`.
   */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`registerBuffer: name must be an identifier, got ${JSON.stringify(name)}`);
    if (!(value instanceof Tensor)) throw new Error(`registerBuffer: "${name}" must be a Tensor`);
    (this as unknown as Record<string, Tensor>)[name] = value;
    if (!this.#buffers.includes(name)) this.#buffers.push(name);
    return value;
  }

  /**
   * Every parameter with its attribute path (`block1.conv2.weight`), each once (a shared module's or
   * parameter's first path), in field order. Values are the optimizer-facing `Param`s (local names).
   */
  namedParameters(): [string, Param][] {
    const out: [string, Param][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.localParameters()) {
        if (seen.has(p.value)) continue;
        seen.add(p.value);
        out.push([prefix === '' ? name : `${prefix}.${name}`, p]);
      }
    }
    return out;
  }

  /** Every buffer with its attribute path (`bn1.running_mean`). */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of m.localBuffers()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix === '' ? name : `${prefix}.${name}`, t]);
      }
    }
    return out;
  }

  /** The trainable parameters for an optimizer: `Param`s named by attribute path, sharing the storage (no copies). */
  params(): readonly Param[] {
    return this.namedParameters().map(([name, p]) => ({ name, value: p.value, grad: p.grad, decayMul: p.decayMul }));
  }

  /** Buffers as `{ name, value }` with attribute-path names. */
  buffers(): readonly Buffer[] {
    return this.namedBuffers().map(([name, value]) => ({ name, value }));
  }

  /** Total number of trainable scalars. */
  countParams(): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) n += p.value.size;
    return n;
  }

  /** Zeroes every parameter gradient. */
  zeroGrad(): void {
    for (const [, p] of this.namedParameters()) fillFloat32(p.grad.data, 0);
  }

  /** Sets train mode (`mode` true) or eval mode on this module and every sub-module. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Eval mode on this module and every sub-module (`train(false)`). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Copies of every parameter and buffer, keyed by attribute path (PyTorch `state_dict` keys, in its
   * order: each module's parameters then its buffers, modules depth first).
   */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of [...m.localParameters().map(([n, p]) => [n, p.value] as const), ...m.localBuffers()]) {
        if (seen.has(t)) continue;
        seen.add(t);
        sd[prefix === '' ? name : `${prefix}.${name}`] = t.clone();
      }
    }
    return sd;
  }

  /**
   * Copies values from a state dict. `strict` (default) requires exactly the module's keys; any
   * missing or unexpected key, or a shape mismatch, throws naming them all, before anything is copied.
   */
  loadStateDict(sd: Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    if (sd === null || typeof sd !== 'object') throw new Error('loadStateDict: expected an object of tensors');
    const strict = options.strict ?? true;
    const targets = new Map<string, Tensor>();
    for (const [name, p] of this.namedParameters()) targets.set(name, p.value);
    for (const [name, t] of this.namedBuffers()) targets.set(name, t);
    const missing = [...targets.keys()].filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !targets.has(k));
    const problems: string[] = [];
    if (strict && missing.length > 0) problems.push(`missing keys [${missing.join(', ')}]`);
    if (strict && unexpected.length > 0) problems.push(`unexpected keys [${unexpected.join(', ')}]`);
    for (const [key, dst] of targets) {
      const src = sd[key];
      if (src === undefined) continue;
      if (!(src instanceof Tensor) || src.shape.length !== dst.shape.length || src.shape.some((d, j) => d !== dst.shape[j])) {
        const got = src instanceof Tensor ? formatShape(src.shape) : 'not a Tensor';
        problems.push(`"${key}" has shape ${got}, the module needs ${formatShape(dst.shape)}`);
      }
    }
    if (problems.length > 0) {
      const lazy = this.namedModules().filter(([, m]) => m.isUnbuilt()).map(([n]) => n || '(root)');
      const hint = lazy.length > 0 ? ` (layer modules not built yet: ${lazy.join(', ')}; call build(inputShape) or run a forward first)` : '';
      throw new Error(`loadStateDict: ${problems.join('; ')}${hint}`);
    }
    for (const [key, dst] of targets) {
      const src = sd[key];
      if (src !== undefined) dst.data.set(src.data);
    }
  }

  /**
   * A table of the module's ops (from a trace: name, op, output shape, parameters, MACs and FLOPs per
   * sample) when src/analysis is loaded (it is whenever the package entry point is) and the module can
   * be traced; otherwise (or before the module knows its input shape) a table of its parameters.
   */
  summary(): string {
    if (moduleSummaryFormatter !== null && this.inputShapes !== null) {
      try {
        return moduleSummaryFormatter(this);
      } catch (err) {
        return `${this.parameterSummary()}\n(no FLOP counts: ${(err as Error).message})`;
      }
    }
    return this.parameterSummary();
  }

  /** The plain summary: every parameter with its shape and size, and the total. */
  parameterSummary(): string {
    const rows = this.namedParameters().map(([name, p]) => [name, `[${p.value.shape.join(', ')}]`, p.value.size.toLocaleString('en-US')]);
    const header = ['Parameter', 'Shape', 'Size'];
    const all = [header, ...rows];
    const w = header.map((_, c) => all.reduce((m, r) => Math.max(m, r[c].length), 0));
    const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
    const total = this.countParams();
    return [line(header), '-'.repeat(line(header).length), ...rows.map(line),
      `Total params: ${total.toLocaleString('en-US')} (${(total * 4 / 1024).toFixed(1)} KiB as float32)`].join('\n');
  }

  /** Internal: whether this module still has to create its parameters (an unbuilt layer module). */
  isUnbuilt(): boolean {
    return false;
  }

  // ---- Training (compile / fit / evaluate / predict) through the Trainable adapter ----

  /** The {@link Trainable} view of this module (single input, single output) that fit / evaluate / predict run. */
  asTrainable(): ModuleTrainable {
    if (this.#trainable === null) this.#trainable = new ModuleTrainable(this);
    return this.#trainable;
  }

  /** Sets the optimizer, loss and metrics used by fit / evaluate / trainStep. Returns this. */
  compile(options: CompileOptions): this {
    this.asTrainable().compile(options);
    return this;
  }

  /** One optimizer step on a batch (see `Trainer.trainStep`); the result object is reused by the next call. */
  trainStep(x: Tensor, y: Tensor): Readonly<{ loss: number; correct: number }> {
    return this.asTrainable().requireCompiled('trainStep').trainStep(x, y);
  }

  /**
   * Trains on `x` `[N, ...]` and targets `y`, with the compiled optimizer and loss (see `Trainer.fit`).
   * Steps run in train mode, validation in eval mode; the module is left in the mode used last.
   */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    return this.asTrainable().requireCompiled('fit').fit(x, y, options);
  }

  /** Mean loss and accuracy over `x`, `y` in eval mode, in batches (needs `compile`). */
  evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): EvaluateResult {
    const trainer = this.asTrainable().requireCompiled('evaluate');
    return evaluate(this.asTrainable(), x, y, { batchSize: options.batchSize, loss: trainer.loss });
  }

  /** Outputs for `x` `[N, ...]` in eval mode, computed in batches without gradients, as a new tensor. */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    return predict(this.asTrainable(), x, options);
  }

  /** Predicted class ids `[N]` (argmax of the outputs); NaN outputs throw a NonFiniteError naming the rows. */
  predictClasses(x: Tensor, options: { batchSize?: number } = {}): Int32Array {
    return classesOf(this.predict(x, options));
  }
}

let moduleSummaryFormatter: ((module: Module) => string) | null = null;

/**
 * Installs the table `module.summary()` prints (src/analysis installs one with FLOP columns; injected
 * because analysis sits above the model in the module graph).
 */
export function setModuleSummaryFormatter(formatter: ((module: Module) => string) | null): void {
  moduleSummaryFormatter = formatter;
}

/** Argmax class ids of `[N, C]` outputs; throws a {@link NonFiniteError} for rows holding NaN. */
export function classesOf(probs: Tensor): Int32Array {
  const n = probs.shape[0];
  const ids = argmaxRows(new Int32Array(n), probs.data, n, probs.size / Math.max(n, 1)) as Int32Array;
  const first = ids.indexOf(-1);
  if (first >= 0) {
    let count = 0;
    for (let i = first; i < n; i++) if (ids[i] === -1) count++;
    throw new NonFiniteError(`predictClasses: the outputs of ${count} of ${n} inputs are NaN (first: input ${first}), so they have no class; check those inputs (NaN or infinite values) and the weights`);
  }
  return ids;
}

function asParam(name: string, p: Parameter): Param {
  return { name, value: p.value, grad: p.grad, decayMul: p.decayMul };
}
