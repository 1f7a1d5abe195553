// The training loop: fit / evaluate / predict and single optimizer steps for any model exposing
// forward / backward / params / zeroGrad (a {@link Trainable}), batching through the one Batcher.
import type { AugmentOptions } from '../data/augment.js';
import { Batcher } from '../data/batches.js';
import { gatherRows } from '../data/split.js';
import type { Loss } from '../losses/loss.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { createSchedule } from '../optimizers/schedules.js';
import type { Param } from '../tensor/param.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { checkTensor, formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import {
  progressCallback, type Callback, type CallbackState, type EpochLogs, type FitPosition, type TrainingControl,
} from './callbacks.js';
import { countCorrect, METRIC_NAMES } from './metrics.js';
import { StepGuard } from './step-guard.js';

/**
 * What the training loop needs from a model. `forward`, `backward`, `params` and `zeroGrad` are
 * enough; the optional members let a model keep exact checkpoints (its Rng), name bad inputs and
 * parameters in errors, and take faster paths (a Sequential uses them all).
 */
export interface Trainable {
  /** Output for a batch `x`; `training` selects train-mode behaviour (dropout masks, …). */
  forward(x: Tensor, options?: { training?: boolean }): Tensor;
  /** Backpropagates dL/d(output of the last forward), accumulating (+=) into every `params()` grad. */
  backward(dy: Tensor): Tensor;
  /** The trainable parameters; their names key the optimizer state. */
  params(): readonly Param[];
  /** Zeroes every parameter gradient. */
  zeroGrad(): void;
  /**
   * Non-trainable state a training forward updates (batch-norm running statistics); a step that fails
   * on a non-finite value puts them back. Should return the same array on every call.
   */
  buffers?(): readonly { readonly value: Tensor }[];
  /** Per-sample output shape, so `predict` can size an empty result. */
  readonly outputShape?: readonly number[];
  /** State of the model's own Rng (dropout masks), saved in fit positions as `modelRng`. */
  getRngState?(): RngState;
  setRngState?(state: RngState): void;
  /** Throws an error prefixed with `what` unless `x` is a batch of this model's inputs. */
  checkInput?(x: Tensor, what: string): void;
  /** Where `params()[index]` sits, for error messages, e.g. `"layer 3, dense"`. */
  describeParam?(index: number): string;
  /**
   * Optional fast path (give both or neither): the output `loss` should see, computed for training
   * or evaluation. A Sequential ending in Softmax returns its logits under cross-entropy, whose fused
   * log-softmax is the stable path.
   */
  forwardForLoss?(x: Tensor, loss: Loss, training: boolean): Tensor;
  /** Pair of {@link forwardForLoss}: accumulates the parameter gradients only (dL/dx is not needed). */
  backwardForLoss?(dy: Tensor, loss: Loss): void;
}

/**
 * Anything with a per-epoch `step`, e.g. the learning-rate schedules. With `stateDict` /
 * `loadStateDict` (every built-in schedule), its state is part of fit's positions and restored on resume.
 * With `stepBatch` (the per-step `warmup` schedule) fit also calls that after every optimizer step.
 */
export interface EpochSchedule {
  step(metric?: number): void;
  stepBatch?(): void;
  stateDict?(): Record<string, number>;
  loadStateDict?(state: Record<string, number>): void;
}

/** A registered learning-rate schedule by name, alone or with its config: `'cosine'`, `{ name: 'warmup', warmupSteps: 500 }`. */
export type ScheduleSpec = string | ({ readonly name: string } & Readonly<Record<string, unknown>>);

/** The schedule object of a {@link FitOptions.schedule}: itself, or created from its spec on `optimizer`. */
function resolveSchedule(spec: EpochSchedule | ScheduleSpec | undefined, optimizer: Optimizer): EpochSchedule | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec === 'string') return createSchedule(spec, optimizer);
  if (spec !== null && typeof spec === 'object' && typeof (spec as EpochSchedule).step === 'function') return spec as EpochSchedule;
  if (spec === null || typeof spec !== 'object' || typeof (spec as { name?: unknown }).name !== 'string') {
    throw new Error(`fit: schedule must be a schedule object, a registered schedule name or { name, ...config }, got ${JSON.stringify(spec)}`);
  }
  const { name, ...config } = spec as { name: string } & Record<string, unknown>;
  return createSchedule(name, optimizer, config);
}

/** Options of {@link fit} (and `Sequential.fit`). */
export interface FitOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Reshuffle the training set every epoch (default true). */
  readonly shuffle?: boolean;
  /** Fraction held out for validation, taken after one seeded shuffle (default 0). */
  readonly validationSplit?: number;
  readonly validationData?: readonly [Tensor, Tensor];
  /** Seed of the shuffling and splitting Rng, and of the augmentation draws (default 0). */
  readonly seed?: number;
  readonly callbacks?: readonly Callback[];
  /** Print progress (a bar on a terminal, plain lines otherwise). Default false. */
  readonly verbose?: boolean;
  /**
   * Stepped once per epoch with the validation loss (or the training loss without validation), and
   * after every optimizer step if it has `stepBatch`. Either a schedule object or a registered schedule
   * by name, `'cosine'`-style string or `{ name: 'warmup', warmupSteps: 100, decay: 'cosine', … }`:
   * fit then creates it on its optimizer at the start of this call (from the optimizer's lr then).
   */
  readonly schedule?: EpochSchedule | ScheduleSpec;
  /**
   * Continue an interrupted run from a position reported by `control.position()` (saved with the
   * weights and optimizer state, which the caller restores first). The position also restores the
   * schedule's state and every stateful callback's (EarlyStopping's best value, wait and best weights,
   * Checkpoint's best record, CsvLogger's files, the progress sums). With the same data, options and
   * callbacks the result is bit-identical to an uninterrupted run (a run that early stopping had ended
   * stays ended: the restored EarlyStopping stops it again at once). Positions saved under the old name of
   * `shuffleRng` (`epochRng`, or a training state's `rng`) are read too.
   */
  readonly resumeFrom?: FitPosition;
  /**
   * Also scan every gradient for NaN/Infinity after each backward pass (default false: the loss is
   * always checked, and a non-finite loss names the first parameter whose weights went bad).
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

/** The optimizer, loss and metrics a {@link Trainer} (or {@link fit}) trains with. */
export interface TrainerOptions {
  readonly optimizer: Optimizer;
  readonly loss: Loss;
  /** Only `'accuracy'` so far (default `['accuracy']`; `[]` skips counting correct predictions). */
  readonly metrics?: readonly string[];
}

/**
 * A NaN or an infinity where numbers must be finite: training stopped because a loss, a gradient or
 * an updated weight became non-finite (the message names the epoch, batch, step and parameter; the
 * weights and optimizer state are those of the last good step), or a prediction is NaN.
 */
export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

const TRAINING = Object.freeze({ training: true });
const INFERENCE = Object.freeze({ training: false });

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

function checkModel(what: string, model: Trainable): void {
  if (!model || typeof model.forward !== 'function' || typeof model.backward !== 'function'
    || typeof model.params !== 'function' || typeof model.zeroGrad !== 'function') {
    throw new Error(`${what}: the model must have forward, backward, params and zeroGrad methods`);
  }
  if ((typeof model.forwardForLoss === 'function') !== (typeof model.backwardForLoss === 'function')) {
    throw new Error(`${what}: the model must have both forwardForLoss and backwardForLoss, or neither`);
  }
}

function checkInput(model: Trainable, x: Tensor, what: string): void {
  if (model.checkInput) model.checkInput(x, what);
  else {
    checkTensor(what, 'input', x);
    if (x.rank === 0) throw new Error(`${what}: input must have a batch axis, got a scalar`);
  }
}

function lossForward(model: Trainable, x: Tensor, loss: Loss, training: boolean): Tensor {
  return model.forwardForLoss ? model.forwardForLoss(x, loss, training) : model.forward(x, training ? TRAINING : INFERENCE);
}

/** The rng state stored in a position, under its name or an older one. */
function positionShuffleRng(position: FitPosition): RngState | undefined {
  const legacy = position as FitPosition & { epochRng?: RngState; rng?: RngState };
  return position.shuffleRng ?? legacy.epochRng ?? legacy.rng;
}

/**
 * Trains one model with one optimizer and loss: single steps ({@link trainStep}), whole runs
 * ({@link fit}) and evaluation. Holds the step count (reported in positions and error messages) and
 * the objects each step reuses, so a step allocates nothing of its own.
 */
export class Trainer {
  readonly model: Trainable;
  optimizer: Optimizer;
  loss: Loss;
  /** Whether steps count correct predictions (the `'accuracy'` metric). */
  readonly accuracy: boolean;
  /** Optimizer steps taken in the current run (0 after construction; `fit` sets it from a resume position). */
  step: number;
  /** Scan every gradient for NaN/Infinity after backward (set by `fit` from its options). */
  checkGradients: boolean;
  private readonly stepContext: { loss: number };
  private readonly stepResult: { loss: number; correct: number };
  private readonly guard: StepGuard;

  constructor(model: Trainable, options: TrainerOptions) {
    checkModel('Trainer', model);
    if (!options || typeof options.optimizer?.step !== 'function') throw new Error('Trainer: options.optimizer must be an Optimizer');
    if (typeof options.loss?.forward !== 'function') throw new Error('Trainer: options.loss must be a Loss');
    const metrics = options.metrics ?? ['accuracy'];
    if (!Array.isArray(metrics)) throw new Error(`Trainer: metrics must be an array of names, got ${JSON.stringify(metrics)}`);
    for (const m of metrics) {
      if (!(METRIC_NAMES as readonly string[]).includes(m)) throw new Error(`Trainer: unknown metric ${JSON.stringify(m)}; known: ${METRIC_NAMES.join(', ')}`);
    }
    this.model = model;
    this.optimizer = options.optimizer;
    this.loss = options.loss;
    this.accuracy = metrics.length > 0;
    this.step = 0;
    this.checkGradients = false;
    this.stepContext = { loss: 0 };
    this.stepResult = { loss: 0, correct: 0 };
    this.guard = new StepGuard();
  }

  /**
   * One optimizer step on a batch: zero grads, forward in training mode, loss, backward, step. Returns
   * the batch loss and the number of correct predictions in an object reused by the next call.
   *
   * A NaN/Infinity loss (or, with `checkGradients`, gradient) throws a {@link NonFiniteError} naming the
   * parameter involved, before the update. The update itself is guarded too: the weights and the
   * optimizer state are copied before `optimizer.step` (one memcpy per buffer) and the updated weights
   * checked in one read-only pass; if any became NaN or infinite (a too-large learning rate overflows
   * them with a finite loss and finite gradients), both are restored and a {@link NonFiniteError} names
   * the parameter. Either way, after the error the model (weights and buffers such as batch-norm
   * running statistics) and the optimizer are those of the last good step.
   */
  trainStep(x: Tensor, y: Tensor): Readonly<{ loss: number; correct: number }> {
    const model = this.model;
    const loss = this.loss;
    checkInput(model, x, 'trainStep');
    checkTargets('trainStep', y, x.shape[0]);
    model.zeroGrad();
    // The training forward updates running statistics: keep them, so a rejected step leaves none behind.
    const buffers = model.buffers?.();
    if (buffers !== undefined) this.guard.captureBuffers(buffers);
    const out = lossForward(model, x, loss, true);
    const value = loss.forward(out, y);
    if (!Number.isFinite(value)) {
      if (buffers !== undefined) this.guard.restoreBuffers(buffers);
      throw new NonFiniteError(`the loss became ${value} at step ${this.step + 1}${this.describeNonFinite('value')}; lower the learning rate or check the inputs`);
    }
    const correct = this.accuracy ? countCorrect(out, y) : 0;
    if (model.backwardForLoss) model.backwardForLoss(loss.backward(), loss);
    else model.backward(loss.backward());
    if (this.checkGradients) {
      const where = this.describeNonFinite('grad');
      if (where && buffers !== undefined) this.guard.restoreBuffers(buffers);
      if (where) throw new NonFiniteError(`a gradient became NaN or Infinity at step ${this.step + 1}${where}`);
    }
    const params = model.params();
    this.guard.capture(params, this.optimizer);
    this.stepContext.loss = value;
    this.optimizer.step(params, this.stepContext);
    const bad = this.guard.firstNonFinite(params);
    if (bad >= 0) {
      this.guard.restore(params, this.optimizer);
      if (buffers !== undefined) this.guard.restoreBuffers(buffers);
      const owner = model.describeParam?.(bad);
      throw new NonFiniteError(`the update of step ${this.step + 1} made the weights of "${params[bad].name}"${owner ? ` (${owner})` : ''} `
        + `NaN or infinite (loss ${value}); weights and optimizer state are restored to the last good step; lower the learning rate`);
    }
    this.step++;
    this.stepResult.loss = value;
    this.stepResult.correct = correct;
    return this.stepResult;
  }

  /** `" (first in "3.weight", layer 3, dense)"` for the first parameter whose value/grad is not finite, else `""`. */
  private describeNonFinite(which: 'value' | 'grad'): string {
    const params = this.model.params();
    for (let i = 0; i < params.length; i++) {
      const d = params[i][which].data;
      let s = 0;
      // s stays 0 unless some element is NaN or ±Infinity (Infinity·0 = NaN).
      for (let j = 0; j < d.length; j++) s += d[j] * 0;
      if (s !== 0) {
        const owner = this.model.describeParam?.(i);
        return ` (non-finite ${which === 'grad' ? 'gradient' : 'weights'} first in "${params[i].name}"${owner ? `, ${owner}` : ''})`;
      }
    }
    return '';
  }

  /** Mean loss and accuracy over `x`, `y` in eval mode (see {@link evaluate}). */
  evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): EvaluateResult {
    return evaluate(this.model, x, y, { ...options, loss: this.loss });
  }

  /**
   * Trains on `x` `[N, ...]` and targets `y` (`[N]` class ids or `[N, classes]`), in mini-batches from
   * a {@link Batcher}. The shuffling Rng (seeded by `options.seed`) first draws the validation split,
   * if any, then each epoch's order; its state at an epoch's start is the position's `shuffleRng`.
   */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    const model = this.model;
    checkInput(model, x, 'fit');
    const epochs = options.epochs ?? 1;
    const batchSize = readBatchSize('fit', options, 32);
    const split = options.validationSplit ?? 0;
    if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!(split >= 0 && split < 1)) throw new Error(`fit: validationSplit must be in [0, 1), got ${split}`);
    checkTargets('fit', y, x.shape[0]);
    if (options.validationData !== undefined) checkValidationData(model, options.validationData);
    this.checkGradients = options.checkGradients ?? false;
    const seed = options.seed ?? 0;
    const shuffleRng = new Rng(seed);
    let trainX = x;
    let trainY = y;
    let valData = options.validationData;
    if (split > 0) {
      if (valData) throw new Error('fit: give validationSplit or validationData, not both');
      const perm = shuffleRng.permutation(x.shape[0]);
      const nVal = Math.round(x.shape[0] * split);
      if (nVal < 1 || nVal >= x.shape[0]) throw new Error(`fit: validationSplit ${split} of ${x.shape[0]} samples leaves an empty split`);
      valData = [gatherRows(x, perm.subarray(0, nVal)), gatherRows(y, perm.subarray(0, nVal))];
      trainX = gatherRows(x, perm.subarray(nVal));
      trainY = gatherRows(y, perm.subarray(nVal));
    }
    const n = trainX.shape[0];
    if (n === 0) throw new Error('fit: no training samples');
    if (options.augment && trainX.rank !== 4) throw new Error(`fit: augment needs images [N, C, H, W], got inputs ${formatShape(trainX.shape)}`);
    const batcher = new Batcher(trainX, trainY, {
      batchSize, shuffle: options.shuffle ?? true, rng: shuffleRng, augment: options.augment, augmentSeed: seed,
    });
    const batches = batcher.count;
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
      if (!Number.isSafeInteger(resume.step) || resume.step < 0) throw new Error(`fit: resumeFrom.step must be a non-negative integer, got ${resume.step}`);
      const savedShuffle = positionShuffleRng(resume);
      if (savedShuffle === undefined) throw new Error('fit: resumeFrom has no shuffleRng (the shuffling Rng state that control.position() reports)');
      if (model.setRngState && resume.modelRng === undefined) throw new Error('fit: resumeFrom has no modelRng (the model\'s Rng state that control.position() reports)');
      shuffleRng.setState(savedShuffle);
      if (model.setRngState && resume.modelRng !== undefined) model.setRngState(resume.modelRng);
      firstEpoch = resume.epoch;
      firstBatch = resume.batch;
      this.step = resume.step;
    } else {
      this.step = 0;
    }
    const callbacks = [...(options.callbacks ?? []), ...(options.verbose ? [progressCallback()] : [])];
    // At batch and epoch ends, callbacks that save positions run last, so the states they save are
    // the other callbacks' after that batch or epoch.
    const endOrder = [...callbacks.filter((cb) => cb.savesPosition !== true), ...callbacks.filter((cb) => cb.savesPosition === true)];
    const stateful = statefulCallbacks(callbacks);
    const schedule = resolveSchedule(options.schedule, this.optimizer);
    const callbackStates = (): Record<string, CallbackState> | undefined => {
      if (stateful.length === 0) return undefined;
      const states: Record<string, CallbackState> = {};
      for (const [key, cb] of stateful) states[key] = (cb.getState as () => CallbackState)();
      return states;
    };
    const scheduleState = (): Record<string, number> | undefined => schedule?.stateDict?.();
    const modelRng = (): RngState | undefined => model.getRngState?.();
    let stopRequested = false;
    let epoch = firstEpoch;
    let nextBatch = firstBatch;
    let epochShuffleRng: RngState = shuffleRng.getState();
    // After the last batch the epoch still owes its validation and schedule step; once those ran, the
    // position moves to the start of the next epoch (whose Rng state is then the current one).
    let epochFinished = false;
    // The current epoch's running sums (part of the position, so a resumed epoch's mean is exact).
    let lossSum = 0;
    let correctSum = 0;
    let seen = 0;
    const extras = (): Partial<FitPosition> => {
      const states = callbackStates();
      const sched = scheduleState();
      return {
        ...(states === undefined ? {} : { callbacks: states }),
        ...(sched === undefined ? {} : { schedule: sched }),
      };
    };
    const control: TrainingControl = {
      stop: () => { stopRequested = true; },
      position: (): FitPosition => (epochFinished
        ? { epoch: epoch + 1, batch: 0, step: this.step, shuffleRng: shuffleRng.getState(), modelRng: modelRng(), lossSum: 0, correctSum: 0, seen: 0, ...extras() }
        : { epoch, batch: nextBatch, step: this.step, shuffleRng: epochShuffleRng, modelRng: modelRng(), lossSum, correctSum, seen, ...extras() }),
    };
    const history: History = {
      batch: { loss: [], accuracy: [] },
      epoch: { loss: [], accuracy: [], valLoss: [], valAccuracy: [], seconds: [], lr: [] },
    };
    for (const cb of callbacks) cb.onTrainBegin?.({ epochs, batches, samples: n }, control);
    if (resume) {
      const saved = resume.callbacks ?? {};
      for (const [key, cb] of stateful) {
        const state = saved[key];
        if (state !== undefined) {
          if (state === null || typeof state !== 'object') throw new Error(`fit: resumeFrom.callbacks.${key} must be an object, got ${JSON.stringify(state)}`);
          (cb.setState as (s: CallbackState) => void)(state);
        }
      }
      if (resume.schedule !== undefined && schedule?.loadStateDict) schedule.loadStateDict({ ...resume.schedule });
    }
    for (; epoch < epochs && !stopRequested; epoch++) {
      for (const cb of callbacks) cb.onEpochBegin?.(epoch, control);
      const t0 = performance.now();
      // The order depends only on the Rng state at the epoch start, so a resumed run reproduces it.
      epochShuffleRng = shuffleRng.getState();
      epochFinished = false;
      batcher.beginEpoch(epoch);
      const startBatch = epoch === firstEpoch ? firstBatch : 0;
      nextBatch = startBatch;
      const resumed = epoch === firstEpoch && resume !== undefined;
      lossSum = resumed ? resume.lossSum ?? 0 : 0;
      correctSum = resumed ? resume.correctSum ?? 0 : 0;
      seen = resumed ? resume.seen ?? 0 : 0;
      for (let b = startBatch; b < batches && !stopRequested; b++) {
        const batch = batcher.batch(b);
        const rows = batch.indices.length;
        let result: { loss: number; correct: number };
        try {
          result = this.trainStep(batch.x, batch.y);
        } catch (err) {
          if (err instanceof NonFiniteError) throw new NonFiniteError(`fit: at epoch ${epoch + 1}, batch ${b + 1}: ${err.message}`);
          throw err;
        }
        const { loss, correct } = result;
        // A per-step schedule moves before the callbacks, so a checkpoint taken at this batch holds its new state.
        schedule?.stepBatch?.();
        nextBatch = b + 1;
        lossSum += loss * rows;
        correctSum += correct;
        seen += rows;
        history.batch.loss.push(loss);
        history.batch.accuracy.push(correct / rows);
        for (const cb of endOrder) cb.onBatchEnd?.({ epoch, batch: b, batches, step: this.step, loss, accuracy: correct / rows }, control);
      }
      // Stopped mid-epoch: the epoch is not finished, so no validation, schedule step or epoch-end
      // callbacks (a checkpoint taken there would claim the rest of the epoch was trained).
      if (nextBatch < batches) break;
      const val = valData ? this.evaluate(valData[0], valData[1]) : { loss: NaN, accuracy: NaN };
      const logs: EpochLogs = {
        epoch, epochs, loss: seen ? lossSum / seen : NaN, accuracy: seen ? correctSum / seen : NaN,
        valLoss: val.loss, valAccuracy: val.accuracy, seconds: (performance.now() - t0) / 1000, lr: this.optimizer.lr,
      };
      history.epoch.loss.push(logs.loss);
      history.epoch.accuracy.push(logs.accuracy);
      history.epoch.valLoss.push(logs.valLoss);
      history.epoch.valAccuracy.push(logs.valAccuracy);
      history.epoch.seconds.push(logs.seconds);
      history.epoch.lr.push(logs.lr);
      // The schedule steps before the callbacks so that a checkpoint taken at epoch end holds its new state.
      schedule?.step(valData ? val.loss : logs.loss);
      epochFinished = true;
      for (const cb of endOrder) await cb.onEpochEnd?.(logs, control);
      // Let timers, signals and output flush between epochs.
      await yieldToEventLoop();
    }
    for (const cb of callbacks) cb.onTrainEnd?.(history);
    return history;
  }
}

/**
 * The callbacks with state (a `stateKey` and both `getState` and `setState`), each with its key; a
 * key given twice gets `#2`, `#3`, … in callback order, so two EarlyStopping callbacks keep apart.
 */
function statefulCallbacks(callbacks: readonly Callback[]): [string, Callback][] {
  const out: [string, Callback][] = [];
  const seen = new Map<string, number>();
  for (const cb of callbacks) {
    if (typeof cb.stateKey !== 'string' || typeof cb.getState !== 'function' || typeof cb.setState !== 'function') continue;
    const count = (seen.get(cb.stateKey) ?? 0) + 1;
    seen.set(cb.stateKey, count);
    out.push([count === 1 ? cb.stateKey : `${cb.stateKey}#${count}`, cb]);
  }
  return out;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * Checks fit's `validationData` up front, so a mistake fails before an epoch of training rather
 * than at its end: `[inputs, targets]` of Tensors with matching rows, at least one row.
 */
function checkValidationData(model: Trainable, data: readonly [Tensor, Tensor]): void {
  if (!Array.isArray(data) || data.length !== 2) throw new Error('fit: validationData must be [inputs, targets] (two Tensors)');
  const [vx, vy] = data;
  checkInput(model, vx, 'fit: validationData');
  checkTargets('fit: validationData', vy, vx.shape[0]);
  if (vx.shape[0] === 0) throw new Error('fit: validationData is empty (leave it out to train without validation)');
}

/**
 * Trains `model` on `x`, `y` with `options.optimizer` and `options.loss` (see {@link Trainer.fit} for
 * the loop, {@link FitOptions} for the rest). Works for any {@link Trainable}; `Sequential.fit` is
 * this with the model's compiled optimizer and loss.
 */
export async function fit(model: Trainable, x: Tensor, y: Tensor, options: FitOptions & TrainerOptions): Promise<History> {
  return new Trainer(model, options).fit(x, y, options);
}

/**
 * Mean `options.loss` and accuracy of `model` over `x`, `y`, in eval mode, in batches of
 * `options.batchSize` (default 256) taken in order as views of `x` and `y` (nothing is copied or
 * shuffled, so no Batcher is needed). NaN for empty inputs.
 */
export function evaluate(model: Trainable, x: Tensor, y: Tensor, options: { loss: Loss; batchSize?: number }): EvaluateResult {
  checkModel('evaluate', model);
  const loss = options?.loss;
  if (typeof loss?.forward !== 'function') throw new Error('evaluate: options.loss must be a Loss');
  checkInput(model, x, 'evaluate');
  const n = x.shape[0];
  checkTargets('evaluate', y, n);
  const batchSize = readBatchSize('evaluate', options, 256);
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const out = lossForward(model, x.slice0(s, e), loss, false);
    const yb = y.slice0(s, e);
    lossSum += loss.forward(out, yb) * (e - s);
    correct += countCorrect(out, yb);
  }
  return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN };
}

/**
 * Outputs of `model` for `x` `[N, ...]` in eval mode, computed in batches of `options.batchSize`
 * (default 256, in order, views of `x`), as a new tensor `[N, ...output]`.
 */
export function predict(model: Trainable, x: Tensor, options: { batchSize?: number } = {}): Tensor {
  checkModel('predict', model);
  checkInput(model, x, 'predict');
  const n = x.shape[0];
  const batchSize = readBatchSize('predict', options, 256);
  let out: Tensor | null = model.outputShape ? new Tensor(new Float32Array(n * shapeSize(model.outputShape)), [n, ...model.outputShape]) : null;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const batch = model.forward(x.slice0(s, e), INFERENCE);
    if (out === null) out = new Tensor(new Float32Array(n * shapeSize(batch.shape.slice(1))), [n, ...batch.shape.slice(1)]);
    const per = n === 0 ? 0 : out.size / n;
    if (batch.shape[0] !== e - s || batch.size !== (e - s) * per) {
      throw new Error(`predict: the model returned ${formatShape(batch.shape)} for ${e - s} inputs; expected [${e - s}, ${out.shape.slice(1).join(', ')}]`);
    }
    out.data.set(batch.data, s * per);
  }
  return out ?? new Tensor(new Float32Array(0), [0]);
}
