// Checkpoint callback: saves model files (weights, optimizer state, fit position, schedule state)
// during training, so a run resumes exactly; keeps the last K periodic files and the best one, also
// across a kill and resume (files already in the folder count, the best value is read back).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../model/module.js';
import { Sequential } from '../model/sequential.js';
import type { Schedule } from '../optimizers/schedules.js';
import type { BatchLogs, Callback, CallbackState, EpochLogs, TrainingControl } from '../train/callbacks.js';
import { checkMonitor, monitorMode, type Monitor } from '../train/early-stopping.js';
import { ensureDirectory, FileWriteError, removeStaleTempFiles } from './atomic.js';
import { readTrainingState, saveModel } from './files.js';

/** Periodic checkpoint file names: `epoch-NNNN.safetensors` (4 or more digits). */
const EPOCH_FILE = /^epoch-(\d{4,})\.safetensors$/;
const BEST_FILE = 'best.safetensors';
const LAST_FILE = 'last.safetensors';

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
 *
 * When training begins, the folder is created if needed, and temporary files that a killed save
 * left behind (`.<name>.<pid>.<n>.tmp` of a process no longer running) are removed. The
 * `epoch-NNNN` files already in the folder count towards `keepLast` (oldest epoch first, before the
 * ones this run writes). On a resumed `fit` (its start position is not 0), the best value and its
 * epoch are read back from `best.safetensors`'s training state, so a later epoch replaces that file
 * only if it is better; the file records which metric it was chosen by (`monitor`), and a value
 * chosen by another metric is not compared. Write failures throw a {@link FileWriteError} naming the file.
 *
 * The best record (value, epoch, metric) is also part of every saved position (`checkpoint`), and a
 * resumed `fit` restores it from there — the record as it was at the resumed position, whatever
 * `best.safetensors` holds by then. `best.safetensors` is written before `last.safetensors` at an
 * epoch end, so a kill between the two never leaves a `last` whose epoch's best file is missing.
 * It runs after the other callbacks (`savesPosition`), so the positions it saves hold their states
 * after the epoch (EarlyStopping's wait and best weights, CsvLogger's rows).
 */
export class Checkpoint implements Callback {
  readonly stateKey = 'checkpoint';
  readonly savesPosition = true;
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
  /** The metric `best` was chosen by (after the NaN fallback); null when unknown (an older file). */
  private bestMonitor: string | null;
  private readonly model: Sequential | Module;
  private readonly schedule: Schedule | undefined;

  constructor(model: Sequential | Module, options: CheckpointOptions) {
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
    this.bestMonitor = null;
    this.model = model;
    this.schedule = options.schedule;
  }

  get bestPath(): string {
    return join(this.dir, BEST_FILE);
  }

  get lastPath(): string {
    return join(this.dir, LAST_FILE);
  }

  onTrainBegin(_info?: unknown, control?: TrainingControl): void {
    ensureDirectory(this.dir);
    removeStaleTempFiles(this.dir, (name) => name === BEST_FILE || name === LAST_FILE || EPOCH_FILE.test(name));
    this.saved.length = 0;
    for (const path of existingEpochFiles(this.dir)) this.saved.push(path);
    this.best = NaN;
    this.bestEpoch = 0;
    this.bestMonitor = null;
    const start = control?.position();
    const resumed = start !== undefined && (start.epoch > 0 || start.batch > 0 || start.step > 0);
    if (resumed && this.saveBest) this.recoverBest();
  }

  /**
   * Reads the best value, its epoch and its metric from `best.safetensors`'s training state (only
   * the file's header is read). A missing or unreadable file leaves no best: the next epoch rewrites it.
   */
  private recoverBest(): void {
    let state: Record<string, unknown> | undefined;
    try {
      state = readTrainingState(this.bestPath);
    } catch {
      return;
    }
    const metrics = state?.metrics as Record<string, unknown> | undefined;
    const value = metrics?.best;
    const epoch = metrics?.epoch;
    if (typeof value !== 'number' || Number.isNaN(value) || !Number.isSafeInteger(epoch)) return;
    this.best = value;
    this.bestEpoch = epoch as number;
    this.bestMonitor = typeof state?.monitor === 'string' ? state.monitor : null;
  }

  /** The best record: `{ best, bestEpoch, bestMonitor }` (best is NaN before any epoch). */
  getState(): CallbackState {
    return { best: this.best, bestEpoch: this.bestEpoch, bestMonitor: this.bestMonitor };
  }

  /** Restores the best record of a resumed position (see {@link getState}). */
  setState(state: CallbackState): void {
    if (typeof state.best !== 'number') throw new Error(`Checkpoint: the saved state's best must be a number, got ${JSON.stringify(state.best)}`);
    if (!Number.isSafeInteger(state.bestEpoch) || (state.bestEpoch as number) < 0) {
      throw new Error(`Checkpoint: the saved state's bestEpoch must be an integer >= 0, got ${JSON.stringify(state.bestEpoch)}`);
    }
    if (state.bestMonitor !== null && typeof state.bestMonitor !== 'string') {
      throw new Error(`Checkpoint: the saved state's bestMonitor must be a metric name or null, got ${JSON.stringify(state.bestMonitor)}`);
    }
    this.best = state.best;
    this.bestEpoch = state.bestEpoch as number;
    this.bestMonitor = state.bestMonitor as string | null;
  }

  private save(path: string, control: TrainingControl, metrics: Record<string, number>, extra: Record<string, unknown> = {}): void {
    // A Sequential keeps its compiled optimizer in a field; another Module in its trainable adapter.
    const optimizer = (this.model instanceof Sequential ? this.model.optimizer : this.model.asTrainable().optimizer) ?? undefined;
    saveModel(this.model, path, {
      optimizer,
      trainingState: { ...control.position(), ...(this.schedule ? { schedule: this.schedule.stateDict() } : {}), metrics, ...extra },
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
    // The best file first: a kill before the periodic files leaves the previous `last`, whose position
    // records the previous best, so the resumed run redoes this epoch and rewrites the best file.
    if (this.saveBest) {
      const monitor: Monitor = Number.isNaN(logs[this.monitor]) && this.monitor.startsWith('val') ? (this.monitor === 'valLoss' ? 'loss' : 'accuracy') : this.monitor;
      const value = logs[monitor];
      // A best chosen by another metric (recovered from a run with other settings) is not comparable.
      const comparable = this.bestMonitor === null || this.bestMonitor === monitor;
      const better = monitorMode(monitor) === 'min' ? value < this.best : value > this.best;
      if (Number.isNaN(this.best) || !comparable || better) {
        this.best = value;
        this.bestEpoch = epoch;
        this.bestMonitor = monitor;
        this.save(this.bestPath, control, { ...metrics, best: value }, { monitor });
      }
    }
    if (epoch % this.every === 0) {
      const path = join(this.dir, `epoch-${String(epoch).padStart(4, '0')}.safetensors`);
      this.save(path, control, metrics);
      // A file of the same name from before a resume is now this run's newest.
      const again = this.saved.indexOf(path);
      if (again >= 0) this.saved.splice(again, 1);
      this.saved.push(path);
      while (this.saved.length > this.keepLast) {
        const old = this.saved.shift() as string;
        try {
          rmSync(old, { force: true });
        } catch (err) {
          throw new FileWriteError(old, err, 'remove');
        }
      }
      this.save(this.lastPath, control, metrics);
    }
  }
}

/** The `epoch-NNNN.safetensors` files in `dir`, oldest epoch first. */
function existingEpochFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, match: EPOCH_FILE.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null)
    .sort((a, b) => Number(a.match[1]) - Number(b.match[1]))
    .map((e) => join(dir, e.name));
}
