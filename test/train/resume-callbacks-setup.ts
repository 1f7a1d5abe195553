// Shared by resume-callbacks.test.ts and its SIGKILL child: the resume problem of test/model (dropout,
// validation split) trained with every callback the library ships — CsvLogger, EarlyStopping, the
// progress reporter, Checkpoint (every epoch and every 3 steps) — and a ReduceOnPlateau schedule.
import { join } from 'node:path';
import {
  Checkpoint, createSchedule, CsvLogger, EarlyStopping, progressCallback, type Callback, type FitOptions, type Schedule, type Sequential,
} from '../../src/index.js';

export { makeData, makeModel } from '../model/resume-setup.js';

/** Every 3 steps and every epoch into `<dir>/ckpt`; the resumable file is `<dir>/ckpt/last.safetensors`. */
export const lastCheckpoint = (dir: string): string => join(dir, 'ckpt', 'last.safetensors');

export interface Run {
  readonly callbacks: Callback[];
  readonly early: EarlyStopping;
  readonly schedule: Schedule;
  /** The progress reporter's lines, as written (eta and seconds vary from run to run). */
  readonly progress: string[];
}

/** The callbacks and schedule of one run writing into `dir` (a compiled model). */
export function callbacksFor(model: Sequential, dir: string): Run {
  const progress: string[] = [];
  const stream = { isTTY: false, write: (text: string) => { progress.push(text); return true; } } as unknown as NodeJS.WriteStream;
  const early = new EarlyStopping(model, { monitor: 'valLoss', patience: 3 });
  const schedule = createSchedule('reduce-on-plateau', model.optimizer!, { patience: 1, factor: 0.5 });
  const callbacks: Callback[] = [
    new CsvLogger({ epochFile: join(dir, 'epoch.csv'), batchFile: join(dir, 'batch.csv') }),
    early,
    progressCallback({ stream, logEvery: 1 }),
    new Checkpoint(model, { dir: join(dir, 'ckpt'), every: 1, everySteps: 3, keepLast: 2, monitor: 'valLoss' }),
  ];
  return { callbacks, early, schedule, progress };
}

export function fitOptions(run: Run): FitOptions {
  return { epochs: 60, batchSize: 8, seed: 11, validationSplit: 0.25, schedule: run.schedule, callbacks: run.callbacks };
}

export function compileFresh(model: Sequential): void {
  model.compile({ optimizer: { name: 'adam', lr: 0.05 }, loss: 'cross-entropy' });
}
