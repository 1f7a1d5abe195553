// CSV logger callback: appends one row per epoch (and optionally per batch) to CSV files as training runs.
import { appendFileSync, existsSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BatchLogs, Callback, CallbackState, EpochLogs, TrainingControl } from './callbacks.js';
import { BATCH_CSV_HEADER, csvRow, EPOCH_CSV_HEADER } from './csv.js';

/** Options of {@link CsvLogger}. */
export interface CsvLoggerOptions {
  /** Per-epoch file (`EPOCH_CSV_HEADER` columns). */
  readonly epochFile: string;
  /** Per-batch file (`BATCH_CSV_HEADER` columns); omit to skip per-batch logging. */
  readonly batchFile?: string;
}

/**
 * Writes training history to CSV while training runs: the header at train begin (files are
 * truncated), per-batch rows buffered in memory and flushed at each epoch end (one write per epoch,
 * not per batch), and one per-epoch row. NaN values (no validation) are left empty. Epochs, batches
 * and steps are 1-based in the files.
 *
 * On a resumed `fit` the files are not truncated: the state saved in the position (`csvLogger`: the
 * files' lengths at that position, pending batch rows flushed first) cuts off the rows written after
 * it — by the killed run past its last checkpoint — so the resumed run's rows follow on exactly.
 */
export class CsvLogger implements Callback {
  readonly stateKey = 'csvLogger';
  readonly epochFile: string;
  readonly batchFile: string | null;
  private pending: string[];

  constructor(options: CsvLoggerOptions) {
    if (!options || typeof options.epochFile !== 'string' || options.epochFile === '') throw new Error('CsvLogger: epochFile (a path) is required');
    if (options.batchFile !== undefined && (typeof options.batchFile !== 'string' || options.batchFile === '')) throw new Error('CsvLogger: batchFile must be a path');
    this.epochFile = options.epochFile;
    this.batchFile = options.batchFile ?? null;
    this.pending = [];
  }

  onTrainBegin(_info?: unknown, control?: TrainingControl): void {
    const start = control?.position();
    const resumed = start !== undefined && (start.epoch > 0 || start.batch > 0 || start.step > 0);
    startFile(this.epochFile, EPOCH_CSV_HEADER, resumed);
    if (this.batchFile) startFile(this.batchFile, BATCH_CSV_HEADER, resumed);
    this.pending = [];
  }

  /** The files' lengths in bytes, after writing out the pending batch rows. */
  getState(): CallbackState {
    this.flush();
    return { epochBytes: fileBytes(this.epochFile), batchBytes: this.batchFile ? fileBytes(this.batchFile) : 0 };
  }

  /** Cuts each file back to its length in the state (rows past the resumed position go). */
  setState(state: CallbackState): void {
    for (const [key, path] of [['epochBytes', this.epochFile], ['batchBytes', this.batchFile]] as const) {
      const bytes = state[key];
      if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) throw new Error(`CsvLogger: the saved state's ${key} must be a byte count, got ${JSON.stringify(bytes)}`);
      if (path !== null && fileBytes(path) > (bytes as number)) truncateSync(path, bytes as number);
    }
    this.pending = [];
  }

  onBatchEnd(logs: BatchLogs): void {
    if (this.batchFile) this.pending.push(csvRow([logs.step, logs.epoch + 1, logs.batch + 1, logs.loss, logs.accuracy]));
  }

  onEpochEnd(logs: EpochLogs): void {
    this.flush();
    appendFileSync(this.epochFile, csvRow([logs.epoch + 1, logs.loss, logs.accuracy, logs.valLoss, logs.valAccuracy, logs.seconds, logs.lr]));
  }

  onTrainEnd(): void {
    this.flush();
  }

  private flush(): void {
    if (this.batchFile && this.pending.length > 0) appendFileSync(this.batchFile, this.pending.join(''));
    this.pending = [];
  }
}

/** Creates `path` with its header (truncating it), or on a resumed run keeps it (header only if missing). */
function startFile(path: string, header: readonly string[], resumed: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  if (!resumed || !existsSync(path) || fileBytes(path) === 0) writeFileSync(path, csvRow(header));
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
