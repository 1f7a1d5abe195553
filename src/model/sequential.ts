// Sequential: a stack of layers with PyTorch nn.Sequential state-dict keys, and its training loop.
import { augmentBatch, resolveAugment, type AugmentOptions, type ResolvedAugment } from '../data/augment.js';
import { RowBuffer } from '../data/batches.js';
import { gatherRows } from '../data/split.js';
import { createLayer, type Layer } from '../layers/index.js';
import { ReLU } from '../layers/activations.js';
import { Conv2D } from '../layers/conv2d.js';
import { createLoss, type Loss } from '../losses/index.js';
import { createOptimizer, type Optimizer } from '../optimizers/index.js';
import { fillFloat32 } from '../tensor/gemm-wasm.js';
import type { Param } from '../tensor/param.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { checkTensor, formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import type { Callback, EpochLogs, TrainingControl, FitPosition } from '../train/callbacks.js';
import { progressCallback } from '../train/callbacks.js';
import { countCorrect, METRIC_NAMES } from '../train/metrics.js';

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** Per-sample input shape: `[channels, height, width]` or `[features]`. */
  readonly inputShape: readonly number[];
  /** Seed of the Rng that initialises the weights (and draws dropout masks). Default 0. */
  readonly seed?: number;
}

/** A registry name, `{ name, ...config }`, or a ready instance. */
export type Spec<T> = string | ({ name: string } & Record<string, unknown>) | T;

export interface CompileOptions {
  readonly optimizer: Spec<Optimizer>;
  readonly loss: Spec<Loss>;
  /** Only `'accuracy'` so far. */
  readonly metrics?: readonly string[];
}

/** Anything with a per-epoch `step`, e.g. the learning-rate schedules. */
export interface EpochSchedule {
  step(metric?: number): void;
}

export interface FitOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Reshuffle the training set every epoch (default true). */
  readonly shuffle?: boolean;
  /** Fraction held out for validation, taken after one seeded shuffle (default 0). */
  readonly validationSplit?: number;
  readonly validationData?: readonly [Tensor, Tensor];
  /** Seed of the shuffling and splitting Rng (default 0). */
  readonly seed?: number;
  readonly callbacks?: readonly Callback[];
  /** Print progress (a bar on a terminal, plain lines otherwise). Default false. */
  readonly verbose?: boolean;
  /** Stepped once per epoch with the validation loss (or the training loss without validation). */
  readonly schedule?: EpochSchedule;
  /**
   * Continue an interrupted run from a position reported by `control.position()` (saved with the
   * weights and optimizer state, which the caller restores first). With the same data and options the
   * result is bit-identical to an uninterrupted run.
   */
  readonly resumeFrom?: FitPosition;
  /**
   * Also scan every gradient for NaN/Infinity after each backward pass (default false: the loss is
   * always checked, and a non-finite loss names the first layer whose weights went bad).
   */
  readonly checkGradients?: boolean;
  /**
   * Random shifts / rotations / flips of each training batch (images `[N, C, H, W]` only). The draws
   * come from an Rng re-seeded per batch from (seed, epoch, batch), so runs and resumes are reproducible.
   */
  readonly augment?: AugmentOptions;
}



/** Loss and accuracy per batch and per epoch (validation entries are NaN without validation data). */
export interface History {
  readonly batch: { loss: number[]; accuracy: number[] };
  readonly epoch: { loss: number[]; accuracy: number[]; valLoss: number[]; valAccuracy: number[]; seconds: number[]; lr: number[] };
}

export interface EvaluateResult {
  readonly loss: number;
  readonly accuracy: number;
}

/** The serialisable architecture: registry names and configs, no code. */
export interface SequentialConfig {
  readonly inputShape: number[];
  readonly layers: { kind: string; config: Record<string, unknown> }[];
}

function resolve<T>(what: string, spec: Spec<T>, create: (name: string, config: Record<string, unknown>) => T, isInstance: (v: unknown) => boolean): T {
  if (typeof spec === 'string') return create(spec, {});
  if (isInstance(spec)) return spec as T;
  if (spec && typeof spec === 'object' && typeof (spec as { name?: unknown }).name === 'string') {
    const { name, ...config } = spec as { name: string } & Record<string, unknown>;
    return create(name, config);
  }
  throw new Error(`compile: ${what} must be a registered name, { name, ...config } or an instance, got ${JSON.stringify(spec)}`);
}

/** Throws unless `y` is a Tensor with `n` rows, naming the call (`what`) and the shapes. */
function checkTargets(what: string, y: Tensor, n: number): void {
  checkTensor(what, 'targets', y);
  if (y.rank === 0 || y.shape[0] !== n) throw new Error(`${what}: targets ${formatShape(y.shape)} do not match ${n} inputs`);
}

/** `options.batchSize` (default `fallback`), checked to be a positive integer (0 would never advance a batch loop). */
function readBatchSize(what: string, options: { batchSize?: number }, fallback: number): number {
  const batchSize = options.batchSize ?? fallback;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/** A linear stack of layers. Activations are layers and count in the state-dict index, as in PyTorch. */
export class Sequential {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Per-sample output shape of every layer. */
  readonly layerShapes: readonly (readonly number[])[];
  optimizer: Optimizer | null;
  loss: Loss | null;
  private readonly allParams: Param[];
  private readonly paramOwners: number[];
  private metrics: string[];
  private stepCount: number;
  private checkGradients: boolean;
  private readonly stepContext: { loss: number };
  private readonly stepResult: { loss: number; correct: number };
  /** The Rng that initialised the weights; layers keep drawing from it (dropout masks). */
  private readonly rng: Rng;

  constructor(layers: readonly Layer[], options: SequentialOptions) {
    if (!Array.isArray(layers) || layers.length === 0) throw new Error('Sequential: needs a non-empty array of layers');
    const inputShape = options?.inputShape;
    if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`Sequential: inputShape must be a non-empty array of positive integers (per sample, without the batch axis), got ${JSON.stringify(inputShape)}`);
    }
    const rng = new Rng(options.seed ?? 0);
    this.rng = rng;
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
    this.paramOwners = [];
    this.layers.forEach((layer, i) => {
      for (const p of layer.params()) {
        this.allParams.push({ name: `${i}.${p.name}`, value: p.value, grad: p.grad, decayMul: p.decayMul });
        this.paramOwners.push(i);
      }
    });
    this.metrics = [];
    this.stepCount = 0;
    this.checkGradients = false;
    this.stepContext = { loss: 0 };
    this.stepResult = { loss: 0, correct: 0 };
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

  /** State of the model's Rng (weight init, then dropout masks), for exact checkpoints. */
  getRngState(): RngState {
    return this.rng.getState();
  }

  setRngState(state: RngState): void {
    this.rng.setState(state);
  }

  getConfig(): SequentialConfig {
    return { inputShape: this.inputShape.slice(), layers: this.layers.map((l) => ({ kind: l.kind, config: l.getConfig() })) };
  }

  /** Trainable parameters with `nn.Sequential` names (`"0.weight"`, `"0.bias"`, `"3.weight"`, …). */
  params(): readonly Param[] {
    return this.allParams;
  }

  /** Zeroes every parameter gradient. */
  zeroGrad(): void {
    for (const p of this.allParams) fillFloat32(p.grad.data, 0);
  }

  private checkInput(x: Tensor, what: string): void {
    if (!(x instanceof Tensor)) throw new Error(`${what}: input must be a Tensor`);
    let ok = x.rank === this.inputShape.length + 1;
    for (let i = 0; ok && i < this.inputShape.length; i++) ok = x.shape[i + 1] === this.inputShape[i];
    if (!ok) throw new Error(`${what}: input ${formatShape(x.shape)} does not match the model's input [batch, ${this.inputShape.join(', ')}]`);
  }

  /**
   * Checks fit's `validationData` up front, so a mistake fails before an epoch of training rather
   * than at its end: `[inputs, targets]` of Tensors with matching rows, at least one row.
   */
  private checkValidationData(data: readonly [Tensor, Tensor]): void {
    if (!Array.isArray(data) || data.length !== 2) throw new Error('fit: validationData must be [inputs, targets] (two Tensors)');
    const [vx, vy] = data;
    this.checkInput(vx, 'fit: validationData');
    checkTargets('fit: validationData', vy, vx.shape[0]);
    if (vx.shape[0] === 0) throw new Error('fit: validationData is empty (leave it out to train without validation)');
  }

  /** Runs every layer. The result is owned by the last layer and valid until the next forward. */
  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    this.checkInput(x, 'Sequential.forward');
    return this.forwardRange(x, this.layers.length, options.training ?? false);
  }

  /**
   * Forward through layers 0 … end−1. A Conv2D followed by a ReLU inside the range runs as one fused
   * pass (Conv2D.forwardRelu, the ReLU passing its input through): the same bits, one pass over the
   * activations fewer each way, and the ReLU's work on the conv's threads.
   */
  private forwardRange(x: Tensor, end: number, training: boolean): Tensor {
    let h = x;
    for (let i = 0; i < end; i++) {
      const layer = this.layers[i];
      const next = i + 1 < end ? this.layers[i + 1] : null;
      if (next instanceof ReLU && layer instanceof Conv2D && layer.fusesRelu) {
        h = next.passThrough(layer.forwardRelu(h, training));
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
  compile(options: CompileOptions): this {
    if (!options || typeof options !== 'object') throw new Error('compile: options { optimizer, loss } are required');
    this.optimizer = resolve('optimizer', options.optimizer, createOptimizer, (v) => typeof (v as Optimizer)?.step === 'function');
    this.loss = resolve('loss', options.loss, createLoss, (v) => typeof (v as Loss)?.forward === 'function');
    const metrics = options.metrics ?? ['accuracy'];
    for (const m of metrics) {
      if (!(METRIC_NAMES as readonly string[]).includes(m)) throw new Error(`compile: unknown metric ${JSON.stringify(m)}; known: ${METRIC_NAMES.join(', ')}`);
    }
    this.metrics = metrics.slice();
    this.stepCount = 0;
    return this;
  }

  /**
   * Number of layers the loss sees: a trailing Softmax is skipped under cross-entropy on logits,
   * whose fused log-softmax is the stable path (softmax then log would underflow). A cross-entropy
   * created with `fromLogits: false` takes the Softmax's probabilities instead.
   */
  private lossEnd(): number {
    const n = this.layers.length;
    const onLogits = this.loss?.kind === 'cross-entropy' && (this.loss as { fromLogits?: boolean }).fromLogits !== false;
    return onLogits && this.layers[n - 1].kind === 'softmax' ? n - 1 : n;
  }

  private requireCompiled(what: string): { optimizer: Optimizer; loss: Loss } {
    if (!this.optimizer || !this.loss) throw new Error(`${what}: call model.compile({ optimizer, loss }) first`);
    return { optimizer: this.optimizer, loss: this.loss };
  }

  /**
   * One optimizer step on a batch. Returns the batch loss and the number of correct predictions in
   * an object reused by the next call. A NaN/Infinity loss (or, with `checkGradients`, gradient)
   * throws a {@link NonFiniteError} naming the parameter and layer involved, before the update, so the
   * weights stay those of the last good step.
   */
  trainStep(x: Tensor, y: Tensor): Readonly<{ loss: number; correct: number }> {
    const { optimizer, loss } = this.requireCompiled('trainStep');
    this.checkInput(x, 'trainStep');
    checkTargets('trainStep', y, x.shape[0]);
    const end = this.lossEnd();
    this.zeroGrad();
    const out = this.forwardRange(x, end, true);
    const value = loss.forward(out, y);
    if (!Number.isFinite(value)) {
      throw new NonFiniteError(`the loss became ${value} at step ${this.stepCount + 1}${this.describeNonFinite('value')}; lower the learning rate or check the inputs`);
    }
    const correct = this.metrics.length > 0 ? countCorrect(out, y) : 0;
    this.backwardFrom(loss.backward(), end, false);
    if (this.checkGradients) {
      const where = this.describeNonFinite('grad');
      if (where) throw new NonFiniteError(`a gradient became NaN or Infinity at step ${this.stepCount + 1}${where}`);
    }
    this.stepCount++;
    this.stepContext.loss = value;
    optimizer.step(this.allParams, this.stepContext);
    this.stepResult.loss = value;
    this.stepResult.correct = correct;
    return this.stepResult;
  }

  /** `" (first in "3.weight", layer 3, dense)"` for the first parameter whose value/grad is not finite, else `""`. */
  private describeNonFinite(which: 'value' | 'grad'): string {
    for (let i = 0; i < this.allParams.length; i++) {
      const d = this.allParams[i][which].data;
      let s = 0;
      // s stays 0 unless some element is NaN or ±Infinity (Infinity·0 = NaN).
      for (let j = 0; j < d.length; j++) s += d[j] * 0;
      if (s !== 0) {
        const layer = this.paramOwners[i];
        return ` (non-finite ${which === 'grad' ? 'gradient' : 'weights'} first in "${this.allParams[i].name}", layer ${layer}, ${this.layers[layer].kind})`;
      }
    }
    return '';
  }

  /** Trains on `x` `[N, ...inputShape]` and targets `y` (`[N]` class ids or `[N, classes]`). */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    const { optimizer } = this.requireCompiled('fit');
    this.checkInput(x, 'fit');
    const epochs = options.epochs ?? 1;
    const batchSize = readBatchSize('fit', options, 32);
    const split = options.validationSplit ?? 0;
    if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!(split >= 0 && split < 1)) throw new Error(`fit: validationSplit must be in [0, 1), got ${split}`);
    checkTargets('fit', y, x.shape[0]);
    if (options.validationData !== undefined) this.checkValidationData(options.validationData);
    this.checkGradients = options.checkGradients ?? false;
    const rng = new Rng(options.seed ?? 0);
    let trainX = x;
    let trainY = y;
    let valData = options.validationData;
    if (split > 0) {
      if (valData) throw new Error('fit: give validationSplit or validationData, not both');
      const perm = rng.permutation(x.shape[0]);
      const nVal = Math.round(x.shape[0] * split);
      if (nVal < 1 || nVal >= x.shape[0]) throw new Error(`fit: validationSplit ${split} of ${x.shape[0]} samples leaves an empty split`);
      valData = [gatherRows(x, perm.subarray(0, nVal)), gatherRows(y, perm.subarray(0, nVal))];
      trainX = gatherRows(x, perm.subarray(nVal));
      trainY = gatherRows(y, perm.subarray(nVal));
    }
    const n = trainX.shape[0];
    if (n === 0) throw new Error('fit: no training samples');
    const batches = Math.ceil(n / batchSize);
    let firstEpoch = 0;
    let firstBatch = 0;
    const resume = options.resumeFrom;
    if (resume) {
      if (!Number.isInteger(resume.epoch) || resume.epoch < 0 || resume.epoch > epochs
        || !Number.isInteger(resume.batch) || resume.batch < 0 || resume.batch > batches) {
        throw new Error(`fit: resumeFrom position epoch ${resume.epoch}, batch ${resume.batch} is outside ${epochs} epochs of ${batches} batches`);
      }
      for (const key of ['lossSum', 'correctSum', 'seen'] as const) {
        const v = resume[key];
        if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && (key === 'lossSum' || (Number.isInteger(v) && v >= 0)))) {
          throw new Error(`fit: resumeFrom.${key} must be ${key === 'lossSum' ? 'a finite number' : 'a non-negative integer'}, got ${v}`);
        }
      }
      rng.setState(resume.epochRng);
      this.rng.setState(resume.modelRng);
      firstEpoch = resume.epoch;
      firstBatch = resume.batch;
      this.stepCount = resume.step;
    } else {
      this.stepCount = 0;
    }
    const callbacks = [...(options.callbacks ?? []), ...(options.verbose ? [progressCallback()] : [])];
    let stopRequested = false;
    let epoch = firstEpoch;
    let nextBatch = firstBatch;
    let epochRng: RngState = rng.getState();
    // After the last batch the epoch still owes its validation and schedule step; once those ran, the
    // position moves to the start of the next epoch (whose Rng state is then the current one).
    let epochFinished = false;
    // The current epoch's running sums (part of the position, so a resumed epoch's mean is exact).
    let lossSum = 0;
    let correctSum = 0;
    let seen = 0;
    const control: TrainingControl = {
      stop: () => { stopRequested = true; },
      position: (): FitPosition => (epochFinished
        ? { epoch: epoch + 1, batch: 0, step: this.stepCount, epochRng: rng.getState(), modelRng: this.rng.getState(), lossSum: 0, correctSum: 0, seen: 0 }
        : { epoch, batch: nextBatch, step: this.stepCount, epochRng, modelRng: this.rng.getState(), lossSum, correctSum, seen }),
    };
    const history: History = {
      batch: { loss: [], accuracy: [] },
      epoch: { loss: [], accuracy: [], valLoss: [], valAccuracy: [], seconds: [], lr: [] },
    };
    const xb = new RowBuffer(trainX, batchSize);
    const yb = new RowBuffer(trainY, batchSize);
    let augment: ResolvedAugment | null = null;
    if (options.augment) {
      if (trainX.rank !== 4) throw new Error(`fit: augment needs images [N, C, H, W], got inputs ${formatShape(trainX.shape)}`);
      augment = resolveAugment(options.augment);
    }
    const augBuffer = augment ? new RowBuffer(trainX, batchSize) : null;
    const augRng = new Rng(0);
    const seed = options.seed ?? 0;
    const order = new Int32Array(n);
    for (const cb of callbacks) cb.onTrainBegin?.({ epochs, batches, samples: n }, control);
    for (; epoch < epochs && !stopRequested; epoch++) {
      for (const cb of callbacks) cb.onEpochBegin?.(epoch, control);
      const t0 = performance.now();
      // The order depends only on the Rng state at the epoch start, so a resumed run reproduces it.
      epochRng = rng.getState();
      epochFinished = false;
      nextBatch = epoch === firstEpoch ? firstBatch : 0;
      for (let i = 0; i < n; i++) order[i] = i;
      if (options.shuffle ?? true) rng.shuffle(order);
      const resumed = epoch === firstEpoch && resume !== undefined;
      lossSum = resumed ? resume.lossSum ?? 0 : 0;
      correctSum = resumed ? resume.correctSum ?? 0 : 0;
      seen = resumed ? resume.seen ?? 0 : 0;
      const startBatch = epoch === firstEpoch ? firstBatch : 0;
      for (let b = startBatch; b < batches && !stopRequested; b++) {
        const start = b * batchSize;
        const rows = Math.min(batchSize, n - start);
        const idx = order.subarray(start, start + rows);
        let result: { loss: number; correct: number };
        try {
          let xBatch = xb.gather(trainX.data, idx);
          if (augment && augBuffer) {
            augRng.reseed(((seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca77)) >>> 0);
            xBatch = augmentBatch(augBuffer.view(idx.length), xBatch, augment, augRng);
          }
          result = this.trainStep(xBatch, yb.gather(trainY.data, idx));
        } catch (err) {
          if (err instanceof NonFiniteError) throw new NonFiniteError(`fit: at epoch ${epoch + 1}, batch ${b + 1}: ${err.message}`);
          throw err;
        }
        const { loss, correct } = result;
        nextBatch = b + 1;
        lossSum += loss * rows;
        correctSum += correct;
        seen += rows;
        history.batch.loss.push(loss);
        history.batch.accuracy.push(correct / rows);
        for (const cb of callbacks) cb.onBatchEnd?.({ epoch, batch: b, batches, step: this.stepCount, loss, accuracy: correct / rows }, control);
      }
      // Stopped mid-epoch: the epoch is not finished, so no validation, schedule step or epoch-end
      // callbacks (a checkpoint taken there would claim the rest of the epoch was trained).
      if (nextBatch < batches) break;
      const val = valData ? this.evaluate(valData[0], valData[1]) : { loss: NaN, accuracy: NaN };
      const logs: EpochLogs = {
        epoch, epochs, loss: seen ? lossSum / seen : NaN, accuracy: seen ? correctSum / seen : NaN,
        valLoss: val.loss, valAccuracy: val.accuracy, seconds: (performance.now() - t0) / 1000, lr: optimizer.lr,
      };
      history.epoch.loss.push(logs.loss);
      history.epoch.accuracy.push(logs.accuracy);
      history.epoch.valLoss.push(logs.valLoss);
      history.epoch.valAccuracy.push(logs.valAccuracy);
      history.epoch.seconds.push(logs.seconds);
      history.epoch.lr.push(logs.lr);
      // The schedule steps before the callbacks so that a checkpoint taken at epoch end holds its new state.
      options.schedule?.step(valData ? val.loss : logs.loss);
      epochFinished = true;
      for (const cb of callbacks) await cb.onEpochEnd?.(logs, control);
      // Let timers, signals and output flush between epochs.
      await new Promise<void>((r) => setImmediate(r));
    }
    for (const cb of callbacks) cb.onTrainEnd?.(history);
    return history;
  }

  /** Mean loss (needs `compile`) and accuracy over `x`, `y`, in batches, in eval mode. */
  evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): EvaluateResult {
    const { loss } = this.requireCompiled('evaluate');
    this.checkInput(x, 'evaluate');
    const n = x.shape[0];
    checkTargets('evaluate', y, n);
    const batchSize = readBatchSize('evaluate', options, 256);
    const end = this.lossEnd();
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const out = this.forwardRange(x.slice0(s, e), end, false);
      const yb = y.slice0(s, e);
      lossSum += loss.forward(out, yb) * (e - s);
      correct += countCorrect(out, yb);
    }
    return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN };
  }

  /** Outputs for `x` `[N, ...inputShape]` in eval mode, computed in batches, as a new tensor. */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    this.checkInput(x, 'predict');
    const n = x.shape[0];
    const per = shapeSize(this.outputShape);
    const batchSize = readBatchSize('predict', options, 256);
    const out = new Tensor(new Float32Array(n * per), [n, ...this.outputShape]);
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      out.data.set(this.forwardRange(x.slice0(s, e), this.layers.length, false).data, s * per);
    }
    return out;
  }

  /** Predicted class ids `[N]` (argmax of the outputs). */
  predictClasses(x: Tensor, options: { batchSize?: number } = {}): Int32Array {
    const probs = this.predict(x, options);
    const n = probs.shape[0];
    const c = probs.size / Math.max(n, 1);
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (probs.data[r * c + j] > probs.data[r * c + best]) best = j;
      out[r] = best;
    }
    return out;
  }

  /** Copies of every parameter and buffer under PyTorch `nn.Sequential` keys. */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    this.layers.forEach((layer, i) => {
      for (const p of layer.params()) sd[`${i}.${p.name}`] = p.value.clone();
      for (const b of layer.buffers?.() ?? []) sd[`${i}.${b.name}`] = b.value.clone();
    });
    return sd;
  }

  /** Copies values from a state dict; `strict` (default) requires exactly the model's keys. Shapes must match. */
  loadStateDict(sd: Record<string, Tensor>, options: { strict?: boolean } = {}): void {
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
  countParams(): number {
    let n = 0;
    for (const p of this.allParams) n += p.value.size;
    return n;
  }

  /**
   * A table of layer, output shape and parameter count, with totals. When src/analysis is loaded (it
   * is whenever the package entry point is), the table also has MAC, FLOP and activation-memory
   * columns; a layer kind without registered costs falls back to the plain table.
   */
  summary(): string {
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
  parameterSummary(): string {
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

/** Training stopped because a loss or a gradient became NaN or Infinity; the message names where. */
export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}
