// LayerModule: any registered layer (built-in or user-registered) used inside a Module. Its forward is
// ONE tape op whose backward is the layer's own fused backward; a layer called several times in one
// forward (a shared layer) or with another input shape runs a per-call copy that shares the weights.
import { createLayer, layerRegistry, type Layer } from '../layers/layer.js';
import { AutogradError, Node, isGradEnabled } from '../ops/tape.js';
import { Variable } from '../ops/variable.js';
import type { Param } from '../tensor/param.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { Module, beginPass, currentPass, endPass, markStructureChanged, passRng } from './module.js';

/** Options of {@link LayerModule}. */
export interface LayerModuleOptions {
  /**
   * Apply the layer to the last axis only, every other axis counting as batch (how `nn.Linear`
   * takes `[batch, tokens, features]`): the input is viewed as `[rows, last]` and the output reshaped back.
   */
  readonly lastAxis?: boolean;
  /**
   * Checks a per-sample input shape before the first build; returns an error message or null
   * (`nn.Conv2d` checks the channel count it was declared with).
   */
  readonly checkSample?: (sampleShape: readonly number[]) => string | null;
}

/** One copy of the layer: the primary (owning the parameters) or a per-call / per-shape copy that borrows them. */
interface Slot {
  readonly layer: Layer;
  readonly sampleShape: readonly number[];
  readonly primary: boolean;
  readonly hasParams: boolean;
  /** [primary's, copy's] parameter pairs (copies only): values copied in before forward, gradients added back after backward. */
  readonly paramPairs: readonly (readonly [Param, Param])[];
  readonly bufferPairs: readonly (readonly [Tensor, Tensor])[];
  /** Bumped by every forward: a backward recorded under an older generation finds its cached activations gone. */
  generation: number;
  /** The output of the last forward: marked modified when the buffer it views is overwritten. */
  output: Variable | null;
  /** The last upstream gradient array and its Tensor view (usually the next layer's own buffer, so reused). */
  dyData: Float32Array | null;
  dyTensor: Tensor | null;
}

const NO_GRAD: readonly (Float32Array | null)[] = Object.freeze([null]);

function matchesSample(shape: readonly number[], sample: readonly number[]): boolean {
  if (shape.length !== sample.length + 1) return false;
  for (let i = 0; i < sample.length; i++) if (shape[i + 1] !== sample[i]) return false;
  return true;
}

/**
 * A registered layer as a {@link Module}: `new LayerModule('conv2d', { filters: 16, kernelSize: 3 })`
 * or `new LayerModule(layerInstance)` (the `nn` classes are these with PyTorch-style arguments).
 *
 * - The layer builds lazily on the first forward (or `Module.build`) for that call's per-sample
 *   input shape, drawing its initial weights from the root module's Rng.
 * - `forward(x)` records one op whose backward is the layer's hand-written backward; its parameters
 *   are the layer's own `Param`s (state-dict names `<path>.weight`, `<path>.bias`, and the layer's
 *   buffers such as `<path>.running_mean`).
 * - A layer keeps the activations of one call. The k-th call within one forward pass (a shared
 *   layer), or a call with a different input shape, runs a copy of the layer made through the layer
 *   registry: before its forward the copy receives the weights, after its backward its gradients are
 *   added into the layer's. Gradients of a shared layer are therefore the sum over its uses.
 * - The output views a buffer the layer owns: a later forward of the same copy overwrites it and marks
 *   the old output modified, so a backward that still needs it fails instead of using new values.
 *   Clone an output you want to keep across forwards.
 */
export class LayerModule extends Module {
  protected static override readonly managesPasses: boolean = true;
  /** Registry name of the layer (`"conv2d"`). */
  readonly kind: string;
  /** The layer owning the parameters (built on the first forward). */
  readonly layer: Layer;
  #lastAxis: boolean;
  #checkSample: ((sampleShape: readonly number[]) => string | null) | null;
  #slots: Slot[][];
  #built: boolean;
  #passSeen: number;
  #calls: number;

  /** `layer`: a registry name with its `config`, or an (unbuilt) layer instance. */
  constructor(layer: string | Layer, config: Record<string, unknown> = {}, options: LayerModuleOptions = {}) {
    const instance = typeof layer === 'string' ? createLayer(layer, config) : layer;
    if (!instance || typeof instance.forward !== 'function' || typeof instance.build !== 'function' || typeof instance.backward !== 'function') {
      throw new Error(`LayerModule: expected a registered layer name or a Layer, got ${String(layer)}`);
    }
    super({ kind: instance.kind, config: instance.getConfig() });
    this.kind = instance.kind;
    this.layer = instance;
    this.#lastAxis = options.lastAxis === true;
    this.#checkSample = options.checkSample ?? null;
    this.#slots = [];
    this.#built = false;
    this.#passSeen = -1;
    this.#calls = 0;
  }

  /** Per-sample input shape the layer was built for (null before the first forward). */
  get sampleShape(): readonly number[] | null {
    return this.#slots.length > 0 ? this.#slots[0][0].sampleShape : null;
  }

  override isUnbuilt(): boolean {
    return !this.#built;
  }

  protected override localParameters(): [string, Param][] {
    if (!this.#built) return [];
    return this.layer.params().map((p) => [p.name, p]);
  }

  protected override localBuffers(): [string, Tensor][] {
    if (!this.#built) return [];
    return (this.layer.buffers?.() ?? []).map((b) => [b.name, b.value]);
  }

  /** Runs the layer on `x` `[batch, ...]` (any leading axes with `lastAxis`), recording one op when gradients are tracked. */
  override forward(x: Variable): Variable {
    const input = x instanceof Tensor ? new Variable(x) : x;
    if (!(input instanceof Variable)) throw new Error(`${this.kind} layer module: forward takes one Variable (or Tensor), got ${String(x)}`);
    const top = beginPass(this);
    if (top) this.noteInputs([input]);
    try {
      return this.call(input);
    } finally {
      if (top) endPass();
    }
  }

  private call(x: Variable): Variable {
    const pass = currentPass();
    if (this.#passSeen !== pass) {
      this.#passSeen = pass;
      this.#calls = 0;
    }
    const k = this.#calls++;
    let lx = x.value;
    if (this.#lastAxis && lx.rank !== 2) {
      if (lx.rank === 0) throw new Error(`${this.kind} layer module: needs at least one axis, got a scalar`);
      const d = lx.shape[lx.rank - 1];
      lx = lx.reshape([d === 0 ? 0 : lx.size / d, d]);
    } else if (lx.rank === 0) {
      throw new Error(`${this.kind} layer module: input must be a batch [batch, ...], got a scalar`);
    }
    const slot = this.slotFor(k, lx, x.shape);
    if (!slot.primary) for (const [src, dst] of slot.paramPairs) dst.value.data.set(src.value.data);
    if (!slot.primary) for (const [src, dst] of slot.bufferPairs) dst.data.set(src.data);
    slot.generation++;
    if (slot.output !== null) slot.output.markModified();
    const y = slot.layer.forward(lx, this.training);
    // A copy's running statistics go back to the layer (batch norm used twice updates them twice, as in PyTorch).
    if (!slot.primary && this.training) for (const [dst, src] of slot.bufferPairs) dst.data.set(src.data);
    let out = y;
    if (lx !== x.value) {
      const shape = x.shape.slice();
      shape[shape.length - 1] = y.shape[1];
      if (x.value.rank === 1) shape.length = 1;
      out = y.reshape(shape);
    }
    if (!isGradEnabled() || (!x.requiresGrad && !slot.hasParams)) {
      const v = new Variable(out);
      slot.output = v;
      return v;
    }
    const generation = slot.generation;
    const needInput = x.requiresGrad;
    const node = new Node(this.kind, [x], [x], (g) => this.backwardSlot(slot, generation, g, y, needInput), out.size);
    node.attrs = { module: this, layer: slot.layer, inputShape: lx.shape, outputShape: y.shape };
    const v = new Variable(out, {}, node);
    slot.output = v;
    return v;
  }

  private backwardSlot(slot: Slot, generation: number, g: Float32Array, y: Tensor, needInput: boolean): readonly (Float32Array | null)[] {
    if (slot.generation !== generation) {
      throw new AutogradError(
        `backward: the ${this.kind} layer module ran again (a later forward) before the backward of an earlier call, so the activations `
        + 'that call cached are gone; run backward before the next forward of the module, or do both calls inside one forward');
    }
    let dy = slot.dyTensor;
    if (slot.dyData !== g || dy === null) {
      dy = new Tensor(g, y.shape);
      slot.dyData = g;
      slot.dyTensor = dy;
    }
    const dx = slot.layer.backward(dy, needInput);
    if (!slot.primary) {
      for (const [dst, src] of slot.paramPairs) {
        const a = dst.grad.data;
        const b = src.grad.data;
        for (let i = 0; i < a.length; i++) a[i] += b[i];
        b.fill(0);
      }
    }
    return needInput ? [dx.data] : NO_GRAD;
  }

  private slotFor(k: number, lx: Tensor, shape: readonly number[]): Slot {
    while (this.#slots.length <= k) this.#slots.push([]);
    const list = this.#slots[k];
    for (let i = 0; i < list.length; i++) if (matchesSample(lx.shape, list[i].sampleShape)) return list[i];
    const sample = lx.shape.slice(1);
    const slot = this.#built ? this.makeCopy(sample, shape) : this.buildPrimary(sample, shape);
    list.push(slot);
    return slot;
  }

  private buildPrimary(sample: number[], shape: readonly number[]): Slot {
    const problem = this.#checkSample?.(sample) ?? null;
    if (problem !== null) throw new Error(`${this.kind} layer module: input ${formatShape(shape)}: ${problem}`);
    try {
      this.layer.build(sample, passRng());
    } catch (e) {
      throw new Error(`${this.kind} layer module: cannot take input ${formatShape(shape)}: ${(e as Error).message}`);
    }
    this.#built = true;
    markStructureChanged();
    return {
      layer: this.layer, sampleShape: sample, primary: true, hasParams: this.layer.params().length > 0,
      paramPairs: [], bufferPairs: [], generation: 0, output: null, dyData: null, dyTensor: null,
    };
  }

  private makeCopy(sample: number[], shape: readonly number[]): Slot {
    const primary = this.#slots[0][0];
    if (!layerRegistry.has(this.kind)) {
      throw new Error(`${this.kind} layer module: used twice in one forward or with a new input shape ${formatShape(shape)}, which needs a copy of the layer `
        + `made through the layer registry, but "${this.kind}" is not registered; register it with registerLayer or use one module per call`);
    }
    const copy = createLayer(this.kind, this.layer.getConfig());
    const own = this.layer.params();
    // A copy with parameters gets the layer's values before each forward, so its own initial draw must not
    // consume the model's Rng; a parameter-free copy (dropout) draws its masks from the model's Rng.
    try {
      copy.build(sample, own.length > 0 ? new Rng(0) : passRng());
    } catch (e) {
      throw new Error(`${this.kind} layer module: cannot take input ${formatShape(shape)}: ${(e as Error).message}`);
    }
    const theirs = copy.params();
    const mismatch = theirs.length !== own.length || theirs.some((p, i) => p.value.size !== own[i].value.size || p.value.rank !== own[i].value.rank
      || p.value.shape.some((d, j) => d !== own[i].value.shape[j]));
    if (mismatch) {
      throw new Error(`${this.kind} layer module: built for input [batch, ${primary.sampleShape.join(', ')}], got ${formatShape(shape)}, `
        + 'which would need parameters of other shapes; use a separate module for that input');
    }
    const ownBuffers = this.layer.buffers?.() ?? [];
    const theirBuffers = copy.buffers?.() ?? [];
    return {
      layer: copy, sampleShape: sample, primary: false, hasParams: own.length > 0,
      paramPairs: own.map((p, i) => [p, theirs[i]] as const),
      bufferPairs: ownBuffers.map((b, i) => [b.value, theirBuffers[i].value] as const),
      generation: 0, output: null, dyData: null, dyTensor: null,
    };
  }
}

/** A registered layer as a module: `layerModule('conv2d', { filters: 16, kernelSize: 3, padding: 1 })`. */
export function layerModule(name: string, config: Record<string, unknown> = {}, options: LayerModuleOptions = {}): LayerModule {
  return new LayerModule(name, config, options);
}
