// Checkpoint callback: saves model files (weights, optimizer state, fit position, schedule state)
// during training, so a run resumes exactly; keeps the last K periodic files and the best one.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sequential } from '../model/sequential.js';
import type { Schedule } from '../optimizers/schedules.js';
import type { BatchLogs, Callback, EpochLogs, TrainingControl } from '../train/callbacks.js';
import { checkMonitor, monitorMode, type Monitor } from '../train/early-stopping.js';
import { saveModel } from './model-file.js';

/** Options of {@link Checkpoint}. */
export interface CheckpointOptions {
  /** Folder of the checkpoint files (created if missing). */
  readonly dir: string;
  /** Save `epoch-NNNN.safetensors` every this many epochs (integer ≥ 1; default 1). */
  readonly every?: number;
  /** Also rewrite `last.safetensors` every this many optimizer steps (integer ≥ 0; default 0: only at epoch ends). */
  readonly everySteps?: number;
  /** Keep only the newest K periodic epoch files (integer ≥ 1; default 3). */
  readonly keepLast?: number;
  /** Also keep `best.safetensors`, rewritten whenever `monitor` improves (default true). */
  readonly saveBest?: boolean;
  /** Metric deciding "best" (default `'valLoss'`; falls back to `'loss'` when validation metrics are NaN). */
  readonly monitor?: Monitor;
  /** A learning-rate schedule whose state is saved with each checkpoint. */
  readonly schedule?: Schedule;
}

/**
 * Saves model files ({@link saveModel}: safetensors with PyTorch keys, plus the optimizer state and a
 * training state `{ ...fit position, schedule, metrics }`) during `fit`:
 * - `epoch-NNNN.safetensors` every `every` epochs (the newest `keepLast` are kept);
 * - `best.safetensors` whenever the monitored metric improves;
 * - `last.safetensors` after every saved epoch and, with `everySteps`, every N steps.
 * Every write is atomic, so a crash (or a NaN stop) leaves the last good files intact. Resume with
 * `loadModel(join(dir, 'last.safetensors'))` and `fit(…, { resumeFrom: trainingState })`.
 */
export class Checkpoint implements Callback {
  readonly dir: string;
  readonly every: number;
  readonly everySteps: number;
  readonly keepLast: number;
  readonly saveBest: boolean;
  readonly monitor: Monitor;
  /** Paths of the periodic epoch files still on disk, oldest first. */
  readonly saved: string[];
  /** Best monitored value so far and its 1-based epoch (0 before any). */
  best: number;
  bestEpoch: number;
  private readonly model: Sequential;
  private readonly schedule: Schedule | undefined;

  constructor(model: Sequential, options: CheckpointOptions) {
    if (!model || typeof model.stateDict !== 'function') throw new Error('Checkpoint: the first argument must be the model');
    if (!options || typeof options.dir !== 'string' || options.dir === '') throw new Error('Checkpoint: dir (a folder path) is required');
    const every = options.every ?? 1;
    const everySteps = options.everySteps ?? 0;
    const keepLast = options.keepLast ?? 3;
    if (!Number.isInteger(every) || every < 1) throw new Error(`Checkpoint: every must be an integer >= 1, got ${every}`);
    if (!Number.isInteger(everySteps) || everySteps < 0) throw new Error(`Checkpoint: everySteps must be an integer >= 0 (0: only at epoch ends), got ${everySteps}`);
    if (!Number.isInteger(keepLast) || keepLast < 1) throw new Error(`Checkpoint: keepLast must be an integer >= 1, got ${keepLast}`);
    this.dir = options.dir;
    this.every = every;
    this.everySteps = everySteps;
    this.keepLast = keepLast;
    this.saveBest = options.saveBest ?? true;
    this.monitor = checkMonitor('Checkpoint', options.monitor ?? 'valLoss');
    this.saved = [];
    this.best = NaN;
    this.bestEpoch = 0;
    this.model = model;
    this.schedule = options.schedule;
  }

  get bestPath(): string {
    return join(this.dir, 'best.safetensors');
  }

  get lastPath(): string {
    return join(this.dir, 'last.safetensors');
  }

  onTrainBegin(): void {
    mkdirSync(this.dir, { recursive: true });
    this.saved.length = 0;
    this.best = NaN;
    this.bestEpoch = 0;
  }

  private save(path: string, control: TrainingControl, metrics: Record<string, number>): void {
    const optimizer = this.model.optimizer ?? undefined;
    saveModel(this.model, path, {
      optimizer,
      trainingState: { ...control.position(), ...(this.schedule ? { schedule: this.schedule.stateDict() } : {}), metrics },
    });
  }

  onBatchEnd(logs: BatchLogs, control: TrainingControl): void {
    if (this.everySteps > 0 && logs.step % this.everySteps === 0) {
      this.save(this.lastPath, control, { loss: logs.loss, accuracy: logs.accuracy });
    }
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    const epoch = logs.epoch + 1;
    const metrics = { epoch, loss: logs.loss, accuracy: logs.accuracy, valLoss: logs.valLoss, valAccuracy: logs.valAccuracy };
    if (epoch % this.every === 0) {
      const path = join(this.dir, `epoch-${String(epoch).padStart(4, '0')}.safetensors`);
      this.save(path, control, metrics);
      this.saved.push(path);
      while (this.saved.length > this.keepLast) {
        const old = this.saved.shift() as string;
        if (existsSync(old)) rmSync(old);
      }
      this.save(this.lastPath, control, metrics);
    }
    if (this.saveBest) {
      const monitor: Monitor = Number.isNaN(logs[this.monitor]) && this.monitor.startsWith('val') ? (this.monitor === 'valLoss' ? 'loss' : 'accuracy') : this.monitor;
      const value = logs[monitor];
      const better = monitorMode(monitor) === 'min' ? value < this.best : value > this.best;
      if (Number.isNaN(this.best) || better) {
        this.best = value;
        this.bestEpoch = epoch;
        this.save(this.bestPath, control, { ...metrics, best: value });
      }
    }
  }
}
