// CSV logger callback: appends one row per epoch (and optionally per batch) to CSV files as training runs.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BatchLogs, Callback, EpochLogs } from './callbacks.js';
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
 */
export class CsvLogger implements Callback {
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

  onTrainBegin(): void {
    mkdirSync(dirname(this.epochFile), { recursive: true });
    writeFileSync(this.epochFile, csvRow(EPOCH_CSV_HEADER));
    if (this.batchFile) {
      mkdirSync(dirname(this.batchFile), { recursive: true });
      writeFileSync(this.batchFile, csvRow(BATCH_CSV_HEADER));
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
