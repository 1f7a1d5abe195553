// Sequential: a stack of layers with PyTorch nn.Sequential state-dict keys, and a Module: inside another
// module its forward of a Variable records one op. fit / evaluate / predict delegate to src/train/fit.ts.
import { createLayer, type Buffer, type Layer } from '../layers/index.js';
import type { Loss } from '../losses/index.js';
import type { Optimizer } from '../optimizers/index.js';
import { AutogradError, Node, isGradEnabled } from '../ops/tape.js';
import { Variable } from '../ops/variable.js';
import { fillFloat32 } from '../plugin/index.js';
import type { Param } from '../tensor/param.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import {
  evaluate, predict, Trainer, type EvaluateResult, type FitOptions, type History, type Trainable,
} from '../train/fit.js';
import { resolveCompileOptions, type CompileOptions } from './compile.js';
import { Module, classesOf } from './module.js';

export { NonFiniteError, type EpochSchedule, type EvaluateResult, type FitOptions, type History } from '../train/fit.js';
export type { CompileOptions, Spec } from './compile.js';

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** Per-sample input shape: `[channels, height, width]` or `[features]`. */
  readonly inputShape: readonly number[];
  /** Seed of the Rng that initialises the weights (and draws dropout masks). Default 0. */
  readonly seed?: number;
}

/** The serialisable architecture: registry names and configs, no code. */
export type SequentialConfig = {
  readonly inputShape: number[];
  readonly layers: { kind: string; config: Record<string, unknown> }[];
};

const NO_INPUT_GRAD: readonly (Float32Array | null)[] = Object.freeze([null]);

/**
 * A linear stack of layers. Activations are layers and count in the state-dict index, as in PyTorch.
 * It is a {@link Trainable}: `fit`, `evaluate`, `predict` and `trainStep` run the training loop of
 * src/train/fit.ts with the optimizer and loss set by `compile`.
 */
export class Sequential extends Module implements Trainable {
  protected static override readonly managesPasses: boolean = true;
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Per-sample output shape of every layer. */
  readonly layerShapes: readonly (readonly number[])[];
  optimizer: Optimizer | null;
  loss: Loss | null;
  private readonly allParams: Param[];
  private readonly allBuffers: Buffer[];
  private readonly paramOwners: number[];
  private metrics: string[];
  /** Runs steps and fits with `optimizer` and `loss`; made by `compile`. */
  private trainer: Trainer | null;
  /** The model's Rng: it initialised the weights, and layers keep drawing from it (dropout masks). */
  private readonly modelRng: Rng;
  /** Bumped by every forward of a Variable; a backward recorded under an older one finds the layers' caches gone. */
  private generation: number;
  private lastOutput: Variable | null;

  constructor(layers: readonly Layer[], options: SequentialOptions) {
    super();
    if (!Array.isArray(layers) || layers.length === 0) throw new Error('Sequential: needs a non-empty array of layers');
    const inputShape = options?.inputShape;
    if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`Sequential: inputShape must be a non-empty array of positive integers (per sample, without the batch axis), got ${JSON.stringify(inputShape)}`);
    }
    const rng = new Rng(options.seed ?? 0);
    this.modelRng = rng;
    let shape: readonly number[] = inputShape.slice();
    const shapes: (readonly number[])[] = [];
    layers.forEach((layer, i) => {
      if (!layer || typeof layer.forward !== 'function' || typeof layer.build !== 'function') {
        throw new Error(`Sequential: element ${i} is not a layer`);
      }
      try {
        shape = layer.build(shape, rng).slice();
      } catch (err) {
        throw new Error(`Sequential: layer ${i} (${layer.kind}) cannot take input ${formatShape(shape)}: ${(err as Error).message}`);
      }
      shapes.push(shape);
    });
    this.layers = layers.slice();
    this.inputShape = inputShape.slice();
    this.outputShape = shape;
    this.layerShapes = shapes;
    this.optimizer = null;
    this.loss = null;
    this.allParams = [];
    this.allBuffers = [];
    this.paramOwners = [];
    this.layers.forEach((layer, i) => {
      for (const p of layer.params()) {
        this.allParams.push({ name: `${i}.${p.name}`, value: p.value, grad: p.grad, decayMul: p.decayMul });
        this.paramOwners.push(i);
      }
      for (const b of layer.buffers?.() ?? []) this.allBuffers.push({ name: `${i}.${b.name}`, value: b.value });
    });
    this.metrics = [];
    this.trainer = null;
    this.generation = 0;
    this.lastOutput = null;
  }

  /** Rebuilds a model from {@link getConfig} output through the layer registry. */
  static fromConfig(config: SequentialConfig, options: { seed?: number } = {}): Sequential {
    if (!config || !Array.isArray(config.layers)) throw new Error('Sequential.fromConfig: config.layers must be an array');
    const layers = config.layers.map((l, i) => {
      if (!l || typeof l.kind !== 'string') throw new Error(`Sequential.fromConfig: layer ${i} has no kind`);
      return createLayer(l.kind, l.config ?? {});
    });
    return new Sequential(layers, { inputShape: config.inputShape, seed: options.seed });
  }

  /**
   * State of the model's Rng (weight init, then dropout masks), for exact checkpoints: fit positions
   * and training states store it as `modelRng` (fit's own shuffling Rng is `shuffleRng`).
   */
  override getRngState(): RngState {
    return this.modelRng.getState();
  }

  /** Restores a state from {@link getRngState}. */
  override setRngState(state: RngState): void {
    this.modelRng.setState(state);
  }

  /** The model's Rng (weights were drawn from it; dropout masks are). */
  override rng(): Rng {
    return this.modelRng;
  }

  /** The per-sample input shape, as a one-input module. */
  override get inputShapes(): readonly (readonly number[])[] {
    return [this.inputShape];
  }

  /** Registry names and configs of the layers, and the input shape. */
  override getConfig(): SequentialConfig {
    return { inputShape: this.inputShape.slice(), layers: this.layers.map((l) => ({ kind: l.kind, config: l.getConfig() })) };
  }

  /** Trainable parameters with `nn.Sequential` names (`"0.weight"`, `"0.bias"`, `"3.weight"`, …). */
  override params(): readonly Param[] {
    return this.allParams;
  }

  protected override localParameters(): [string, Param][] {
    return this.allParams.map((p) => [p.name, p]);
  }

  protected override localBuffers(): [string, Tensor][] {
    return this.allBuffers.map((b) => [b.name, b.value]);
  }

  /** Non-trainable state (batch-norm running statistics) with `nn.Sequential` names (`"1.running_mean"`, …). */
  override buffers(): readonly Buffer[] {
    return this.allBuffers;
  }

  /** Zeroes every parameter gradient. */
  override zeroGrad(): void {
    for (const p of this.allParams) fillFloat32(p.grad.data, 0);
  }

  /** Throws (the message starting with `what`) unless `x` is a Tensor `[batch, ...inputShape]`. */
  checkInput(x: Tensor, what: string): void {
    if (!(x instanceof Tensor)) throw new Error(`${what}: input must be a Tensor`);
    let ok = x.rank === this.inputShape.length + 1;
    for (let i = 0; ok && i < this.inputShape.length; i++) ok = x.shape[i + 1] === this.inputShape[i];
    if (!ok) throw new Error(`${what}: input ${formatShape(x.shape)} does not match the model's input [batch, ${this.inputShape.join(', ')}]`);
  }

  /**
   * Runs every layer on a Tensor (`training` default false). The result is owned by the last layer
   * and valid until the next forward.
   */
  override forward(x: Tensor, options?: { training?: boolean }): Tensor;
  /**
   * Inside a Module: runs every layer on a Variable in the module's mode (`this.training`) and
   * records ONE op whose backward is the layers' own backward. The output views the last layer's
   * buffer (see LayerModule on reuse); call the model once per forward pass (give each use its own
   * Sequential), since the layers cache one call's activations.
   */
  override forward(x: Variable): Variable;
  override forward(x: Tensor | Variable, options: { training?: boolean } = {}): Tensor | Variable {
    if (x instanceof Variable) return this.forwardVariable(x);
    this.checkInput(x, 'Sequential.forward');
    return this.forwardRange(x, this.layers.length, options.training ?? false);
  }

  private forwardVariable(x: Variable): Variable {
    this.checkInput(x.value, 'Sequential.forward');
    const n = this.layers.length;
    this.generation++;
    if (this.lastOutput !== null) this.lastOutput.markModified();
    const y = this.forwardRange(x.value, n, this.training);
    if (!isGradEnabled() || (!x.requiresGrad && this.allParams.length === 0)) {
      this.lastOutput = new Variable(y);
      return this.lastOutput;
    }
    const generation = this.generation;
    const needInput = x.requiresGrad;
    const node = new Node('sequential', [x], [x], (g) => {
      if (this.generation !== generation) {
        throw new AutogradError('backward: the Sequential ran again (a later forward) before the backward of an earlier call, so the activations its '
          + 'layers cached are gone; run backward before the next forward, or give each use its own Sequential');
      }
      const dx = this.backwardFrom(new Tensor(g, y.shape), n, needInput);
      return needInput ? [dx.data] : NO_INPUT_GRAD;
    }, y.size);
    node.attrs = { module: this };
    this.lastOutput = new Variable(y, {}, node);
    return this.lastOutput;
  }

  /**
   * Forward through layers 0 … end−1. A layer whose fusion hook accepts the next one (Layer.fuses:
   * Conv2D followed by a ReLU) runs both in one pass, the next layer passing the result through: the
   * same bits, one pass over the activations fewer each way, and the ReLU's work on the conv's threads.
   */
  private forwardRange(x: Tensor, end: number, training: boolean): Tensor {
    let h = x;
    for (let i = 0; i < end; i++) {
      const layer = this.layers[i];
      const next = i + 1 < end ? this.layers[i + 1] : null;
      if (next !== null && next.passThrough !== undefined && layer.forwardFused !== undefined && layer.fuses?.(next) === true) {
        h = next.passThrough(layer.forwardFused(h, training, next));
        i++;
      } else {
        h = layer.forward(h, training);
      }
    }
    return h;
  }

  /** Backpropagates dL/d(output) through every layer, accumulating parameter gradients; returns dL/dx. */
  backward(dy: Tensor): Tensor {
    return this.backwardFrom(dy, this.layers.length, true);
  }

  /**
   * Backward through layers `end-1 … 0`. Without `needInputGrad` (a training step, which only wants
   * the parameter gradients) it stops at the first layer that has parameters, which skips its dL/dx:
   * the layers below it (a Flatten in front of an MLP, say) have no gradient to accumulate, and the
   * returned tensor's contents are then unspecified.
   */
  private backwardFrom(dy: Tensor, end: number, needInputGrad: boolean): Tensor {
    const stop = needInputGrad ? 0 : (this.paramOwners.length > 0 ? this.paramOwners[0] : end);
    let g = dy;
    for (let i = end - 1; i >= stop; i--) g = this.layers[i].backward(g, i > stop || needInputGrad);
    return g;
  }

  /** Sets the optimizer, loss and metrics used by fit / evaluate / trainStep. */
  override compile(options: CompileOptions): this {
    const resolved = resolveCompileOptions(options);
    this.optimizer = resolved.optimizer;
    this.loss = resolved.loss;
    this.metrics = resolved.metrics;
    this.trainer = new Trainer(this, { optimizer: this.optimizer, loss: this.loss, metrics: this.metrics });
    return this;
  }

  /**
   * Number of layers the loss sees: a trailing Softmax is skipped under cross-entropy on logits,
   * whose fused log-softmax is the stable path (softmax then log would underflow). A cross-entropy
   * created with `fromLogits: false` takes the Softmax's probabilities instead.
   */
  private lossEnd(loss: Loss): number {
    const n = this.layers.length;
    const onLogits = loss.kind === 'cross-entropy' && (loss as { fromLogits?: boolean }).fromLogits !== false;
    return onLogits && this.layers[n - 1].kind === 'softmax' ? n - 1 : n;
  }

  /** The Trainer of `compile`, carrying the current `optimizer` and `loss` (they are public fields). */
  private requireCompiled(what: string): Trainer {
    if (!this.optimizer || !this.loss || !this.trainer) throw new Error(`${what}: call model.compile({ optimizer, loss }) first`);
    this.trainer.optimizer = this.optimizer;
    this.trainer.loss = this.loss;
    return this.trainer;
  }

  /**
   * Forward for the loss (the {@link Trainable} fast path): every layer but a trailing Softmax under
   * cross-entropy (see `lossEnd`), with Conv2D+ReLU fused. No input check (the callers check).
   */
  forwardForLoss(x: Tensor, loss: Loss, training: boolean): Tensor {
    return this.forwardRange(x, this.lossEnd(loss), training);
  }

  /** Pair of {@link forwardForLoss}: parameter gradients only, stopping at the first layer with parameters. */
  backwardForLoss(dy: Tensor, loss: Loss): void {
    this.backwardFrom(dy, this.lossEnd(loss), false);
  }

  /** `"layer 3, dense"`: the layer owning `params()[index]`. */
  describeParam(index: number): string {
    const layer = this.paramOwners[index];
    return `layer ${layer}, ${this.layers[layer].kind}`;
  }

  /**
   * One optimizer step on a batch (see {@link Trainer.trainStep}). Returns the batch loss and the
   * number of correct predictions in an object reused by the next call. A NaN/Infinity loss (or, with
   * fit's `checkGradients`, gradient) throws a {@link NonFiniteError} naming the parameter and layer
   * involved, before the update; an update that makes a weight NaN or infinite is undone (weights and
   * optimizer state) and throws too. Either way the model stays as it was after the last good step.
   */
  override trainStep(x: Tensor, y: Tensor): Readonly<{ loss: number; correct: number }> {
    return this.requireCompiled('trainStep').trainStep(x, y);
  }

  /** Trains on `x` `[N, ...inputShape]` and targets `y` (`[N]` class ids or `[N, classes]`); see {@link Trainer.fit}. */
  override async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    return this.requireCompiled('fit').fit(x, y, options);
  }

  /** Mean loss (needs `compile`) and accuracy over `x`, `y`, in batches, in eval mode. */
  override evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): EvaluateResult {
    const trainer = this.requireCompiled('evaluate');
    return evaluate(this, x, y, { batchSize: options.batchSize, loss: trainer.loss });
  }

  /** Outputs for `x` `[N, ...inputShape]` in eval mode, computed in batches, as a new tensor. */
  override predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    return predict(this, x, options);
  }

  /**
   * Predicted class ids `[N]` (argmax of the outputs, first maximum on ties). An input whose outputs
   * hold a NaN (a NaN or infinite input, or non-finite weights) has no class: this throws a
   * {@link NonFiniteError} naming how many rows and the first one, rather than invent a class.
   * (`predict` returns those NaN outputs as they are; `argmaxRows` marks such rows −1.)
   */
  override predictClasses(x: Tensor, options: { batchSize?: number } = {}): Int32Array {
    return classesOf(this.predict(x, options));
  }

  /** Copies of every parameter and buffer under PyTorch `nn.Sequential` keys. */
  override stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    this.layers.forEach((layer, i) => {
      for (const p of layer.params()) sd[`${i}.${p.name}`] = p.value.clone();
      for (const b of layer.buffers?.() ?? []) sd[`${i}.${b.name}`] = b.value.clone();
    });
    return sd;
  }

  /** Copies values from a state dict; `strict` (default) requires exactly the model's keys. Shapes must match. */
  override loadStateDict(sd: Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const targets = new Map<string, Tensor>();
    this.layers.forEach((layer, i) => {
      for (const p of layer.params()) targets.set(`${i}.${p.name}`, p.value);
      for (const b of layer.buffers?.() ?? []) targets.set(`${i}.${b.name}`, b.value);
    });
    const missing = [...targets.keys()].filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !targets.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`);
    }
    for (const [key, dst] of targets) {
      const src = sd[key];
      if (src === undefined) continue;
      if (!src || !src.shape || !src.data || src.shape.length !== dst.shape.length || src.shape.some((d, j) => d !== dst.shape[j])) {
        throw new Error(`loadStateDict: "${key}" has shape ${src?.shape ? formatShape(src.shape) : '?'}, the model needs ${formatShape(dst.shape)}`);
      }
      // Tensors hold their shape by construction; a tensor-like object might not.
      if (src.data.length !== dst.size) throw new Error(`loadStateDict: "${key}" has ${src.data.length} values for shape ${formatShape(src.shape)}`);
    }
    for (const [key, dst] of targets) if (sd[key]) dst.data.set(sd[key].data);
  }

  /** Total number of trainable scalars. */
  override countParams(): number {
    let n = 0;
    for (const p of this.allParams) n += p.value.size;
    return n;
  }

  /**
   * A table of layer, output shape and parameter count, with totals. When src/analysis is loaded (it
   * is whenever the package entry point is), the table also has MAC, FLOP and activation-memory
   * columns; a layer kind without registered costs falls back to the plain table.
   */
  override summary(): string {
    if (summaryFormatter) {
      try {
        const total = this.countParams();
        return `${summaryFormatter(this)}\nTotal params: ${total.toLocaleString('en-US')} (${(total * 4 / 1024).toFixed(1)} KiB as float32)\nTrainable params: ${total.toLocaleString('en-US')}`;
      } catch {
        // fall through to the plain table
      }
    }
    return this.parameterSummary();
  }

  /** The plain summary: layer, output shape and parameter count, with totals. */
  override parameterSummary(): string {
    const rows: [string, string, string][] = [['#', 'Layer (kind)', 'Output shape']];
    const counts: number[] = [];
    this.layers.forEach((layer, i) => {
      let c = 0;
      for (const p of layer.params()) c += p.value.size;
      counts.push(c);
      rows.push([String(i), layer.kind, `[batch, ${this.layerShapes[i].join(', ')}]`]);
    });
    const w0 = rows.reduce((m, r) => Math.max(m, r[0].length), 0);
    const w1 = rows.reduce((m, r) => Math.max(m, r[1].length), 0);
    const w2 = rows.reduce((m, r) => Math.max(m, r[2].length), 0);
    const w3 = counts.reduce((m, c) => Math.max(m, c.toLocaleString('en-US').length), 'Params'.length);
    const line = (a: string, b: string, c: string, d: string) => `${a.padStart(w0)}  ${b.padEnd(w1)}  ${c.padEnd(w2)}  ${d.padStart(w3)}`;
    const out = [line(rows[0][0], rows[0][1], rows[0][2], 'Params')];
    const rule = '-'.repeat(out[0].length);
    out.push(rule);
    for (let i = 1; i < rows.length; i++) out.push(line(rows[i][0], rows[i][1], rows[i][2], counts[i - 1].toLocaleString('en-US')));
    out.push(rule);
    const total = this.countParams();
    out.push(`Input: [batch, ${this.inputShape.join(', ')}]`);
    out.push(`Total params: ${total.toLocaleString('en-US')} (${(total * 4 / 1024).toFixed(1)} KiB as float32)`);
    out.push(`Trainable params: ${total.toLocaleString('en-US')}`);
    return out.join('\n');
  }
}

let summaryFormatter: ((model: Sequential) => string) | null = null;

/**
 * Installs the table `model.summary()` prints (src/analysis installs one with FLOP columns; it is
 * injected rather than imported because analysis sits above the model in the module graph).
 */
export function setSummaryFormatter(formatter: ((model: Sequential) => string) | null): void {
  summaryFormatter = formatter;
}
