// Learning-rate schedules with torch.optim.lr_scheduler's semantics: per-epoch ones (step, exponential,
// cosine, reduce-on-plateau) and the per-step warmup schedule (linear warmup, then constant, linear,
// cosine or step decay), which fit advances after every optimizer step.
import { checkKeys, readChoice, readNumber } from '../config.js';
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Optimizer } from './optimizer.js';

/** Serializable schedule state (numbers only; `best` may be ±Infinity). */
export type ScheduleState = Record<string, number>;

/**
 * A learning-rate schedule bound to one optimizer. Construction sets `optimizer.lr` to the epoch-0
 * value; call {@link step} once at the end of every epoch (ReduceOnPlateau needs the epoch's metric).
 */
export interface Schedule {
  /** Registry name, e.g. `"cosine"`. */
  readonly kind: string;
  /** The learning rate for the current epoch (what the optimizer uses now). */
  readonly lr: number;
  /** Completed epochs (calls to {@link step}). */
  readonly epoch: number;
  /** Ends an epoch: advances the schedule, writes `optimizer.lr` and returns it. */
  step(metric?: number): number;
  /**
   * Per-step schedules only: called after every optimizer step (fit does so after each training
   * batch); advances the schedule, writes `optimizer.lr` and returns it.
   */
  stepBatch?(): number;
  getConfig(): Record<string, number | string>;
  stateDict(): ScheduleState;
  /** Restores a state from {@link stateDict} and writes the restored lr into the optimizer. */
  loadStateDict(state: ScheduleState): void;
}

function readStateNumber(owner: string, state: ScheduleState, key: string, rule: { integer?: boolean; min?: number } = {}): number {
  const v = state === null || typeof state !== 'object' ? undefined : state[key];
  const ok = typeof v === 'number' && !Number.isNaN(v) && (!rule.integer || Number.isInteger(v)) && (rule.min === undefined || v >= rule.min);
  if (!ok) throw new Error(`${owner}.loadStateDict: "${key}" must be ${rule.integer ? 'an integer' : 'a number'}${rule.min !== undefined ? ` ≥ ${rule.min}` : ''}, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Shared part of schedules with a closed form lr(epoch) = f(baseLr, epoch); baseLr is the optimizer's lr at construction. */
abstract class ClosedFormSchedule implements Schedule {
  abstract readonly kind: string;
  protected readonly optimizer: Optimizer;
  protected baseLr: number;
  private epochCount = 0;

  protected constructor(optimizer: Optimizer) {
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /** The learning rate after `epoch` completed epochs. */
  protected abstract lrAt(epoch: number): number;
  abstract getConfig(): Record<string, number | string>;

  get lr(): number {
    return this.lrAt(this.epochCount);
  }

  get epoch(): number {
    return this.epochCount;
  }

  step(): number {
    this.epochCount++;
    this.optimizer.lr = this.lrAt(this.epochCount);
    return this.optimizer.lr;
  }

  stateDict(): ScheduleState {
    return { epoch: this.epochCount, baseLr: this.baseLr };
  }

  loadStateDict(state: ScheduleState): void {
    const epoch = readStateNumber(this.kind, state, 'epoch', { integer: true, min: 0 });
    const baseLr = readStateNumber(this.kind, state, 'baseLr', { min: 0 });
    this.epochCount = epoch;
    this.baseLr = baseLr;
    this.optimizer.lr = this.lrAt(epoch);
  }
}

/** {@link StepSchedule} options. */
export interface StepScheduleConfig {
  /** Epochs between decays (integer ≥ 1), default 10. */
  stepSize: number;
  /** Multiplier per decay, in (0, 1], default 0.1. */
  gamma: number;
}

/** `lr(e) = baseLr · gamma^⌊e / stepSize⌋`, as torch's `StepLR`. Registered as `"step"`. */
export class StepSchedule extends ClosedFormSchedule {
  readonly kind = 'step';
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, config: Partial<StepScheduleConfig> = {}) {
    checkKeys('step', config, ['stepSize', 'gamma']);
    super(optimizer);
    this.stepSize = readNumber('step', config, 'stepSize', 10, { min: 1, integer: true });
    this.gamma = readNumber('step', config, 'gamma', 0.1, { min: 0, minExclusive: true, max: 1 });
    this.optimizer.lr = this.lrAt(0);
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }

  getConfig(): Record<string, number> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }
}

/** {@link ExponentialSchedule} options. */
export interface ExponentialScheduleConfig {
  /** Multiplier per epoch, in (0, 1], default 0.95. */
  gamma: number;
}

/** `lr(e) = baseLr · gamma^e`, as torch's `ExponentialLR`. Registered as `"exponential"`. */
export class ExponentialSchedule extends ClosedFormSchedule {
  readonly kind = 'exponential';
  readonly gamma: number;

  constructor(optimizer: Optimizer, config: Partial<ExponentialScheduleConfig> = {}) {
    checkKeys('exponential', config, ['gamma']);
    super(optimizer);
    this.gamma = readNumber('exponential', config, 'gamma', 0.95, { min: 0, minExclusive: true, max: 1 });
    this.optimizer.lr = this.lrAt(0);
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }

  getConfig(): Record<string, number> {
    return { gamma: this.gamma };
  }
}

/** {@link CosineSchedule} options. */
export interface CosineScheduleConfig {
  /** Half-period in epochs (integer ≥ 1); required. */
  tMax: number;
  /** Lowest lr (≥ 0), default 0. */
  etaMin: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter 2017, SGDR without restarts), registered as `"cosine"`:
 * `lr(e) = etaMin + (baseLr − etaMin)·(1 + cos(π·e / tMax)) / 2`. This is the closed form of torch's
 * `CosineAnnealingLR` (whose recursive form gives the same values); past tMax it rises again, as there.
 */
export class CosineSchedule extends ClosedFormSchedule {
  readonly kind = 'cosine';
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, config: Partial<CosineScheduleConfig> = {}) {
    checkKeys('cosine', config, ['tMax', 'etaMin']);
    super(optimizer);
    if (config.tMax === undefined) throw new Error('cosine: tMax (the number of epochs to anneal over) is required');
    this.tMax = readNumber('cosine', config, 'tMax', 1, { min: 1, integer: true });
    this.etaMin = readNumber('cosine', config, 'etaMin', 0, { min: 0 });
    this.optimizer.lr = this.lrAt(0);
  }

  protected lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }

  getConfig(): Record<string, number> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }
}

/** {@link ReduceOnPlateau} options (torch's `ReduceLROnPlateau` defaults). */
export interface ReduceOnPlateauConfig {
  /** `'min'` (default) for a loss, `'max'` for an accuracy. */
  mode: 'min' | 'max';
  /** Multiplier on a reduction, in (0, 1), default 0.1. */
  factor: number;
  /** Epochs without improvement tolerated before reducing (integer ≥ 0), default 10. */
  patience: number;
  /** Minimum improvement to count, default 1e-4. */
  threshold: number;
  /** `'rel'` (default): better than best·(1 ∓ threshold); `'abs'`: better than best ∓ threshold. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (integer ≥ 0), default 0. */
  cooldown: number;
  /** Lower bound on the lr (≥ 0), default 0. */
  minLr: number;
  /** Reductions smaller than this are skipped, default 1e-8. */
  eps: number;
}

const PLATEAU_DEFAULTS: Readonly<ReduceOnPlateauConfig> = {
  mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8,
};

/**
 * Reduces the lr by `factor` when a metric stops improving, as torch's `ReduceLROnPlateau`.
 * Registered as `"reduce-on-plateau"`. Each `step(metric)`: if the metric beats `best` by the threshold
 * it becomes `best` and the bad-epoch count resets, else the count grows; during cooldown the count is
 * held at 0; once it exceeds `patience`, `lr ← max(lr·factor, minLr)` (skipped if the change is below
 * `eps`) and the cooldown starts. It scales the optimizer's current lr, so it composes with manual changes.
 */
export class ReduceOnPlateau implements Schedule {
  readonly kind = 'reduce-on-plateau';
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  private readonly optimizer: Optimizer;
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;
  private epochCount = 0;

  constructor(optimizer: Optimizer, config: Partial<ReduceOnPlateauConfig> = {}) {
    const o = 'reduce-on-plateau';
    checkKeys(o, config, Object.keys(PLATEAU_DEFAULTS));
    this.mode = readChoice(o, config, 'mode', PLATEAU_DEFAULTS.mode, ['min', 'max']);
    this.factor = readNumber(o, config, 'factor', PLATEAU_DEFAULTS.factor, { min: 0, minExclusive: true, max: 1, maxExclusive: true });
    this.patience = readNumber(o, config, 'patience', PLATEAU_DEFAULTS.patience, { min: 0, integer: true });
    this.threshold = readNumber(o, config, 'threshold', PLATEAU_DEFAULTS.threshold, { min: 0 });
    this.thresholdMode = readChoice(o, config, 'thresholdMode', PLATEAU_DEFAULTS.thresholdMode, ['rel', 'abs']);
    this.cooldown = readNumber(o, config, 'cooldown', PLATEAU_DEFAULTS.cooldown, { min: 0, integer: true });
    this.minLr = readNumber(o, config, 'minLr', PLATEAU_DEFAULTS.minLr, { min: 0 });
    this.eps = readNumber(o, config, 'eps', PLATEAU_DEFAULTS.eps, { min: 0 });
    this.optimizer = optimizer;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  get lr(): number {
    return this.optimizer.lr;
  }

  get epoch(): number {
    return this.epochCount;
  }

  /** Ends an epoch with its metric (validation loss for `'min'`, accuracy for `'max'`). */
  step(metric?: number): number {
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new Error(`reduce-on-plateau: step(metric) needs the epoch's metric as a number, got ${JSON.stringify(metric) ?? String(metric)}`);
    }
    this.epochCount++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else {
      this.badEpochs++;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.patience) {
      const old = this.optimizer.lr;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownLeft = this.cooldown;
      this.badEpochs = 0;
    }
    return this.optimizer.lr;
  }

  private isBetter(metric: number): boolean {
    const th = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? metric < this.best * (1 - th) : metric < this.best - th;
    return this.thresholdMode === 'rel' ? metric > this.best * (1 + th) : metric > this.best + th;
  }

  getConfig(): Record<string, number | string> {
    return {
      mode: this.mode, factor: this.factor, patience: this.patience, threshold: this.threshold,
      thresholdMode: this.thresholdMode, cooldown: this.cooldown, minLr: this.minLr, eps: this.eps,
    };
  }

  stateDict(): ScheduleState {
    return { epoch: this.epochCount, lr: this.optimizer.lr, best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }

  loadStateDict(state: ScheduleState): void {
    const o = this.kind;
    const epoch = readStateNumber(o, state, 'epoch', { integer: true, min: 0 });
    const lr = readStateNumber(o, state, 'lr', { min: 0 });
    const best = readStateNumber(o, state, 'best');
    const badEpochs = readStateNumber(o, state, 'badEpochs', { integer: true, min: 0 });
    const cooldownLeft = readStateNumber(o, state, 'cooldownLeft', { integer: true, min: 0 });
    this.epochCount = epoch;
    this.best = best;
    this.badEpochs = badEpochs;
    this.cooldownLeft = cooldownLeft;
    this.optimizer.lr = lr;
  }
}

/** How {@link WarmupSchedule} continues once the warmup is over. */
export type WarmupDecay = 'constant' | 'linear' | 'cosine' | 'step';

/** {@link WarmupSchedule} options. */
export interface WarmupScheduleConfig {
  /** Optimizer steps of linear warmup (integer ≥ 0), default 0. */
  warmupSteps: number;
  /** Fraction of the base lr at step 0, in [0, 1], default 1/3 (torch's LinearLR `start_factor`). */
  startFactor: number;
  /** What follows the warmup, default `'constant'`. */
  decay: WarmupDecay;
  /** Steps of decay after the warmup (integer ≥ 1), required for `'linear'` and `'cosine'`. */
  decaySteps: number;
  /** `'linear'`: the fraction of the base lr reached after `decaySteps`, in [0, 1], default 0. */
  endFactor: number;
  /** `'cosine'`: the lowest lr (≥ 0), default 0. */
  etaMin: number;
  /** `'step'`: steps between decays (integer ≥ 1), required for `'step'`. */
  stepSize: number;
  /** `'step'`: multiplier per decay, in (0, 1], default 0.1. */
  gamma: number;
}

const WARMUP_KEYS = ['warmupSteps', 'startFactor', 'decay', 'decaySteps', 'endFactor', 'etaMin', 'stepSize', 'gamma'];

/**
 * A per-step schedule, registered as `"warmup"`: linear warmup over the first `warmupSteps` optimizer
 * steps, then a decay, all in closed form of s = optimizer steps taken (lr(s) is used by step s + 1).
 * With W = warmupSteps, D = decaySteps, base = the optimizer's lr at construction and d = s − W:
 *
 *     s < W:      lr = base·(startFactor + (1 − startFactor)·s/W)
 *     constant:   lr = base
 *     linear:     lr = base·(1 + (endFactor − 1)·min(d, D)/D)
 *     cosine:     lr = etaMin + (base − etaMin)·(1 + cos(π·min(d, D)/D))/2
 *     step:       lr = base·gamma^⌊d/stepSize⌋
 *
 * That is torch's `SequentialLR([LinearLR(start_factor, 1, W), X], milestones=[W])` stepped once per
 * batch, X being `ConstantLR(factor=1)`, `LinearLR(1, endFactor, D)`, `CosineAnnealingLR(D, etaMin)` or
 * `StepLR(stepSize, gamma)`; one difference: past D the cosine holds at etaMin, where torch's
 * CosineAnnealingLR would rise again. `step()` at an epoch end only counts the epoch; fit calls
 * {@link stepBatch} after every optimizer step, and its state (step, epoch, base lr) resumes exactly.
 */
export class WarmupSchedule implements Schedule {
  readonly kind = 'warmup';
  readonly warmupSteps: number;
  readonly startFactor: number;
  readonly decay: WarmupDecay;
  readonly decaySteps: number;
  readonly endFactor: number;
  readonly etaMin: number;
  readonly stepSize: number;
  readonly gamma: number;
  private readonly optimizer: Optimizer;
  private baseLr: number;
  private stepCount = 0;
  private epochCount = 0;

  constructor(optimizer: Optimizer, config: Partial<WarmupScheduleConfig> = {}) {
    const o = 'warmup';
    const c = config as Record<string, unknown>;
    checkKeys(o, c, WARMUP_KEYS);
    this.warmupSteps = readNumber(o, c, 'warmupSteps', 0, { min: 0, integer: true });
    this.startFactor = readNumber(o, c, 'startFactor', 1 / 3, { min: 0, max: 1 });
    this.decay = readChoice(o, c, 'decay', 'constant', ['constant', 'linear', 'cosine', 'step']);
    const needs = (key: string, what: string): void => {
      if (c[key] === undefined) throw new Error(`warmup: decay '${this.decay}' needs ${key} (${what})`);
    };
    const unused = (keys: readonly string[]): void => {
      for (const key of keys) if (c[key] !== undefined) throw new Error(`warmup: ${key} does not apply to decay '${this.decay}'`);
    };
    if (this.decay === 'linear' || this.decay === 'cosine') needs('decaySteps', 'the number of steps to decay over');
    if (this.decay === 'step') needs('stepSize', 'the number of steps between decays');
    unused(this.decay === 'linear' ? ['etaMin', 'stepSize', 'gamma'] : this.decay === 'cosine' ? ['endFactor', 'stepSize', 'gamma']
      : this.decay === 'step' ? ['decaySteps', 'endFactor', 'etaMin'] : ['decaySteps', 'endFactor', 'etaMin', 'stepSize', 'gamma']);
    this.decaySteps = readNumber(o, c, 'decaySteps', 1, { min: 1, integer: true });
    this.endFactor = readNumber(o, c, 'endFactor', 0, { min: 0, max: 1 });
    this.etaMin = readNumber(o, c, 'etaMin', 0, { min: 0 });
    this.stepSize = readNumber(o, c, 'stepSize', 1, { min: 1, integer: true });
    this.gamma = readNumber(o, c, 'gamma', 0.1, { min: 0, minExclusive: true, max: 1 });
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
    this.optimizer.lr = this.lrAt(0);
  }

  /** The learning rate after `s` optimizer steps. */
  lrAt(s: number): number {
    const base = this.baseLr;
    const W = this.warmupSteps;
    if (s < W) return base * (this.startFactor + ((1 - this.startFactor) * s) / W);
    const d = s - W;
    switch (this.decay) {
      case 'linear':
        return base * (1 + ((this.endFactor - 1) * Math.min(d, this.decaySteps)) / this.decaySteps);
      case 'cosine':
        return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * Math.min(d, this.decaySteps)) / this.decaySteps))) / 2;
      case 'step':
        return base * this.gamma ** Math.floor(d / this.stepSize);
      default:
        return base;
    }
  }

  get lr(): number {
    return this.lrAt(this.stepCount);
  }

  get epoch(): number {
    return this.epochCount;
  }

  /** Optimizer steps counted so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** After an optimizer step: advances to the next step's lr. */
  stepBatch(): number {
    this.stepCount++;
    this.optimizer.lr = this.lrAt(this.stepCount);
    return this.optimizer.lr;
  }

  /** At an epoch end: counts the epoch; the lr moves per step only. */
  step(): number {
    this.epochCount++;
    return this.optimizer.lr;
  }

  getConfig(): Record<string, number | string> {
    const out: Record<string, number | string> = { warmupSteps: this.warmupSteps, startFactor: this.startFactor, decay: this.decay };
    if (this.decay === 'linear') Object.assign(out, { decaySteps: this.decaySteps, endFactor: this.endFactor });
    if (this.decay === 'cosine') Object.assign(out, { decaySteps: this.decaySteps, etaMin: this.etaMin });
    if (this.decay === 'step') Object.assign(out, { stepSize: this.stepSize, gamma: this.gamma });
    return out;
  }

  stateDict(): ScheduleState {
    return { step: this.stepCount, epoch: this.epochCount, baseLr: this.baseLr };
  }

  loadStateDict(state: ScheduleState): void {
    const step = readStateNumber(this.kind, state, 'step', { integer: true, min: 0 });
    const epoch = readStateNumber(this.kind, state, 'epoch', { integer: true, min: 0 });
    const baseLr = readStateNumber(this.kind, state, 'baseLr', { min: 0 });
    this.stepCount = step;
    this.epochCount = epoch;
    this.baseLr = baseLr;
    this.optimizer.lr = this.lrAt(step);
  }
}

/** Builds a schedule for `optimizer` from a partial config. */
export type ScheduleFactory = (optimizer: Optimizer, config?: Record<string, unknown>) => Schedule;

export const scheduleRegistry = createRegistry<ScheduleFactory>('schedule');

/** Registers a learning-rate schedule by name; `createSchedule(name, …)` then finds it. */
export function registerSchedule(name: string, factory: ScheduleFactory, options?: RegisterOptions): void {
  scheduleRegistry.register(name, factory, options);
}

/** Creates a registered schedule (`step`, `exponential`, `cosine`, `reduce-on-plateau`, `warmup`, …) bound to `optimizer`. */
export function createSchedule(name: string, optimizer: Optimizer, config: Record<string, unknown> = {}): Schedule {
  return scheduleRegistry.get(name)(optimizer, config);
}

/** Registered schedule names, sorted. */
export function scheduleNames(): string[] {
  return scheduleRegistry.names();
}
