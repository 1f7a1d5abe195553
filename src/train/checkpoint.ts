// Checkpoint callback: saves the weights every N epochs (keeping the last K) and at the best epoch.
// Interim file format (until the model-file issue's saveModel lands in src/io): one JSON file per
// checkpoint holding the state dict; see WEIGHTS_JSON_FORMAT.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import type { Callback, EpochLogs } from './callbacks.js';
import { checkMonitor, monitorMode, type Monitor, type StatefulModel } from './early-stopping.js';

/** Format tag of the interim weights JSON written by {@link writeWeightsJson}. */
export const WEIGHTS_JSON_FORMAT = 'tensorkit-weights-json/1';

/**
 * The interim weights file: `{ format, meta, tensors: { key: { shape, data } } }`, float32 values
 * written as JSON numbers (exact: every float32 prints as a double that reads back to itself).
 */
export interface WeightsJson {
  readonly format: typeof WEIGHTS_JSON_FORMAT;
  readonly meta: Record<string, unknown>;
  readonly tensors: Record<string, { shape: number[]; data: number[] }>;
}

/** Writes a state dict to `path` atomically (temp file + rename), with optional metadata. */
export function writeWeightsJson(path: string, stateDict: Record<string, Tensor>, meta: Record<string, unknown> = {}): void {
  const tensors: WeightsJson['tensors'] = {};
  for (const [key, t] of Object.entries(stateDict)) tensors[key] = { shape: t.shape.slice(), data: Array.from(t.data) };
  const doc: WeightsJson = { format: WEIGHTS_JSON_FORMAT, meta, tensors };
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(doc));
  renameSync(tmp, path);
}

/** Reads a file written by {@link writeWeightsJson}: the state dict and the metadata. Bad files throw naming the path. */
export function readWeightsJson(path: string): { stateDict: Record<string, Tensor>; meta: Record<string, unknown> } {
  let doc: WeightsJson;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as WeightsJson;
  } catch (err) {
    throw new Error(`${path}: not a weights JSON file (${(err as Error).message})`);
  }
  if (!doc || doc.format !== WEIGHTS_JSON_FORMAT || typeof doc.tensors !== 'object' || doc.tensors === null) {
    throw new Error(`${path}: expected format ${WEIGHTS_JSON_FORMAT}, got ${JSON.stringify(doc?.format)}`);
  }
  const stateDict: Record<string, Tensor> = {};
  for (const [key, entry] of Object.entries(doc.tensors)) {
    const shape = entry?.shape;
    const data = entry?.data;
    if (!Array.isArray(shape) || !Array.isArray(data) || shape.some((d) => !Number.isInteger(d) || d < 0) || shapeSize(shape) !== data.length) {
      throw new Error(`${path}: tensor "${key}" has shape ${Array.isArray(shape) ? formatShape(shape) : '?'} and ${Array.isArray(data) ? data.length : '?'} values`);
    }
    stateDict[key] = new Tensor(Float32Array.from(data), shape);
  }
  return { stateDict, meta: doc.meta ?? {} };
}

/** Options of {@link Checkpoint}. */
export interface CheckpointOptions {
  /** Folder of the checkpoint files (created if missing). */
  readonly dir: string;
  /** Save `epoch-NNNN.json` every this many epochs (integer ≥ 1; default 1). */
  readonly every?: number;
  /** Keep only the newest K periodic checkpoints (integer ≥ 1; default 3). */
  readonly keepLast?: number;
  /** Also keep `best.json`, rewritten whenever `monitor` improves (default true). */
  readonly saveBest?: boolean;
  /** Metric deciding "best" (default `'valLoss'`; falls back to `'loss'` when validation metrics are NaN). */
  readonly monitor?: Monitor;
}

/**
 * Saves the model's weights during training, in the interim weights-JSON format
 * ({@link writeWeightsJson}); each file's `meta` holds the 1-based epoch and the epoch's metrics.
 * Periodic files are `epoch-0001.json`, `epoch-0002.json`, …; older ones beyond `keepLast` are deleted.
 */
export class Checkpoint implements Callback {
  readonly dir: string;
  readonly every: number;
  readonly keepLast: number;
  readonly saveBest: boolean;
  readonly monitor: Monitor;
  /** Paths of the periodic checkpoints still on disk, oldest first. */
  readonly saved: string[];
  /** Best monitored value so far and its 1-based epoch (0 before any). */
  best: number;
  bestEpoch: number;
  private readonly model: StatefulModel;

  constructor(model: StatefulModel, options: CheckpointOptions) {
    if (!model || typeof model.stateDict !== 'function') throw new Error('Checkpoint: the first argument must be the model (with stateDict)');
    if (!options || typeof options.dir !== 'string' || options.dir === '') throw new Error('Checkpoint: dir (a folder path) is required');
    const every = options.every ?? 1;
    const keepLast = options.keepLast ?? 3;
    if (!Number.isInteger(every) || every < 1) throw new Error(`Checkpoint: every must be an integer >= 1, got ${every}`);
    if (!Number.isInteger(keepLast) || keepLast < 1) throw new Error(`Checkpoint: keepLast must be an integer >= 1, got ${keepLast}`);
    this.dir = options.dir;
    this.every = every;
    this.keepLast = keepLast;
    this.saveBest = options.saveBest ?? true;
    this.monitor = checkMonitor('Checkpoint', options.monitor ?? 'valLoss');
    this.saved = [];
    this.best = NaN;
    this.bestEpoch = 0;
    this.model = model;
  }

  /** Path of the best-epoch file. */
  get bestPath(): string {
    return join(this.dir, 'best.json');
  }

  onTrainBegin(): void {
    mkdirSync(this.dir, { recursive: true });
    this.saved.length = 0;
    this.best = NaN;
    this.bestEpoch = 0;
  }

  onEpochEnd(logs: EpochLogs): void {
    const epoch = logs.epoch + 1;
    const meta = { epoch, loss: logs.loss, accuracy: logs.accuracy, valLoss: logs.valLoss, valAccuracy: logs.valAccuracy };
    let sd: Record<string, Tensor> | null = null;
    const weights = () => (sd ??= this.model.stateDict());
    if (epoch % this.every === 0) {
      const path = join(this.dir, `epoch-${String(epoch).padStart(4, '0')}.json`);
      writeWeightsJson(path, weights(), meta);
      this.saved.push(path);
      while (this.saved.length > this.keepLast) {
        const old = this.saved.shift() as string;
        if (existsSync(old)) rmSync(old);
      }
    }
    if (this.saveBest) {
      const monitor: Monitor = Number.isNaN(logs[this.monitor]) && this.monitor.startsWith('val') ? (this.monitor === 'valLoss' ? 'loss' : 'accuracy') : this.monitor;
      const value = logs[monitor];
      const better = monitorMode(monitor) === 'min' ? value < this.best : value > this.best;
      if (Number.isNaN(this.best) || better) {
        this.best = value;
        this.bestEpoch = epoch;
        writeWeightsJson(this.bestPath, weights(), { ...meta, monitor, best: value });
      }
    }
  }
}
