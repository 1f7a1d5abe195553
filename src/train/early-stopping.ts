// Early stopping callback: stops training when a monitored metric stops improving, and can restore the
// weights of the best epoch.
import { Tensor } from '../tensor/tensor.js';
import type { Callback, CallbackState, EpochLogs, TrainingControl } from './callbacks.js';

/** A model whose weights can be copied out and back (Sequential satisfies it). */
export interface StatefulModel {
  /** Copies of every parameter and buffer. */
  stateDict(): Record<string, Tensor>;
  loadStateDict(sd: Record<string, Tensor>): void;
}

/** Epoch metrics a callback can monitor. */
export const MONITORS = ['valLoss', 'valAccuracy', 'loss', 'accuracy'] as const;
export type Monitor = (typeof MONITORS)[number];

/** `'min'` for losses, `'max'` for accuracies. */
export function monitorMode(monitor: Monitor): 'min' | 'max' {
  return monitor === 'valLoss' || monitor === 'loss' ? 'min' : 'max';
}

/** Checks a monitor name, listing the allowed ones. */
export function checkMonitor(owner: string, monitor: unknown): Monitor {
  if (!(MONITORS as readonly unknown[]).includes(monitor)) throw new Error(`${owner}: monitor must be one of ${MONITORS.join(', ')}, got ${JSON.stringify(monitor)}`);
  return monitor as Monitor;
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Metric to watch (default `'valLoss'`; minimised for losses, maximised for accuracies). */
  readonly monitor?: Monitor;
  /** Epochs without improvement before stopping (integer ≥ 0, default 3). */
  readonly patience?: number;
  /** An improvement must beat the best value by more than this (≥ 0, default 0). */
  readonly minDelta?: number;
  /** At train end, load the weights of the best epoch (default true). */
  readonly restoreBestWeights?: boolean;
}

/**
 * Keras-style early stopping. After each epoch: the monitored value improves when it beats the best
 * by more than `minDelta` (lower for losses, higher for accuracies); then the best is recorded (with
 * a copy of the weights when `restoreBestWeights`) and the wait resets; otherwise the wait grows and
 * training stops once `wait >= patience` (patience 0 stops on the first epoch without improvement).
 * At train end the best weights are loaded back unless the last epoch was the best. A NaN value
 * (validation metrics without validation data) throws.
 *
 * Its state (best value and epoch, wait, last and stopped epochs, and the best weights) is part of
 * fit's positions under `earlyStopping`, so a checkpointed run that is killed and resumed stops at
 * the same epoch with the same weights as the uninterrupted run.
 */
export class EarlyStopping implements Callback {
  readonly stateKey = 'earlyStopping';
  readonly monitor: Monitor;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  /** Best monitored value so far (±Infinity before the first epoch). */
  best: number;
  /** 0-based epoch of the best value (−1 before the first epoch). */
  bestEpoch: number;
  /** 0-based epoch at which training was stopped (−1 if it ran to the end). */
  stoppedEpoch: number;
  /** Whether the best weights were loaded back at train end. */
  restored: boolean;
  private readonly model: StatefulModel;
  private wait: number;
  private lastEpoch: number;
  private bestWeights: Record<string, Tensor> | null;

  constructor(model: StatefulModel, options: EarlyStoppingOptions = {}) {
    if (!model || typeof model.stateDict !== 'function' || typeof model.loadStateDict !== 'function') {
      throw new Error('EarlyStopping: the first argument must be the model (with stateDict and loadStateDict)');
    }
    this.monitor = checkMonitor('EarlyStopping', options.monitor ?? 'valLoss');
    const patience = options.patience ?? 3;
    const minDelta = options.minDelta ?? 0;
    if (!Number.isInteger(patience) || patience < 0) throw new Error(`EarlyStopping: patience must be an integer >= 0, got ${patience}`);
    if (!(typeof minDelta === 'number' && minDelta >= 0 && Number.isFinite(minDelta))) throw new Error(`EarlyStopping: minDelta must be a number >= 0, got ${minDelta}`);
    this.patience = patience;
    this.minDelta = minDelta;
    this.restoreBestWeights = options.restoreBestWeights ?? true;
    this.model = model;
    this.best = monitorMode(this.monitor) === 'min' ? Infinity : -Infinity;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.restored = false;
    this.wait = 0;
    this.lastEpoch = -1;
    this.bestWeights = null;
  }

  onTrainBegin(): void {
    this.best = monitorMode(this.monitor) === 'min' ? Infinity : -Infinity;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.restored = false;
    this.wait = 0;
    this.lastEpoch = -1;
    this.bestWeights = null;
  }

  /** A resumed run whose saved state had already stopped (a checkpoint after the stopping epoch) stops again at once. */
  onEpochBegin(_epoch: number, control: TrainingControl): void {
    if (this.stoppedEpoch >= 0) control.stop();
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    const value = logs[this.monitor];
    if (Number.isNaN(value)) throw new Error(`EarlyStopping: ${this.monitor} is NaN at epoch ${logs.epoch + 1}; give validation data or monitor 'loss'/'accuracy'`);
    this.lastEpoch = logs.epoch;
    const improved = monitorMode(this.monitor) === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
    if (improved) {
      this.best = value;
      this.bestEpoch = logs.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = this.model.stateDict();
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = logs.epoch;
      control.stop();
    }
  }

  /** best, bestEpoch, wait, lastEpoch, stoppedEpoch, and the best weights as `tensors` (when kept). */
  getState(): CallbackState {
    return {
      monitor: this.monitor, best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, lastEpoch: this.lastEpoch,
      stoppedEpoch: this.stoppedEpoch, ...(this.bestWeights === null ? {} : { tensors: this.bestWeights }),
    };
  }

  /** Restores a {@link getState} state (on resume); throws naming a field that is missing or of the wrong kind. */
  setState(state: CallbackState): void {
    const fail = (what: string): never => {
      throw new Error(`EarlyStopping: the saved state's ${what}`);
    };
    if (state.monitor !== this.monitor) fail(`monitor ${JSON.stringify(state.monitor)} differs from this callback's ${JSON.stringify(this.monitor)}`);
    if (typeof state.best !== 'number') fail(`best must be a number, got ${JSON.stringify(state.best)}`);
    for (const key of ['bestEpoch', 'wait', 'lastEpoch', 'stoppedEpoch'] as const) {
      const v = state[key];
      if (!Number.isSafeInteger(v) || (v as number) < (key === 'wait' ? 0 : -1)) fail(`${key} must be an integer, got ${JSON.stringify(v)}`);
    }
    let weights: Record<string, Tensor> | null = null;
    if (state.tensors !== undefined) {
      if (state.tensors === null || typeof state.tensors !== 'object') fail('tensors must be an object of tensors');
      for (const [k, t] of Object.entries(state.tensors as Record<string, unknown>)) if (!(t instanceof Tensor)) fail(`tensor ${JSON.stringify(k)} is not a Tensor`);
      weights = { ...(state.tensors as Record<string, Tensor>) };
    }
    if (this.restoreBestWeights && weights === null && (state.bestEpoch as number) >= 0) fail('best weights are missing (restoreBestWeights is on)');
    this.best = state.best as number;
    this.bestEpoch = state.bestEpoch as number;
    this.wait = state.wait as number;
    this.lastEpoch = state.lastEpoch as number;
    this.stoppedEpoch = state.stoppedEpoch as number;
    this.bestWeights = this.restoreBestWeights ? weights : null;
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.bestEpoch !== this.lastEpoch) {
      this.model.loadStateDict(this.bestWeights);
      this.restored = true;
    }
    this.bestWeights = null;
  }
}
