// The messages between the demo page and its training worker. Requests carry an `id` and get one
// `reply` with that id; the worker also sends events (ready, status, progress, epoch, done) on its own.
import type { RunSettings } from './training.js';

/** A run as the page asks for it: the hyperparameters plus how many images of each split to use. */
export interface TrainRequest extends RunSettings {
  /** Training images used (the first N of the 60 000). */
  readonly trainLimit: number;
  /** Test images evaluated after each epoch and for the confusion matrix (the first N of the 10 000). */
  readonly testLimit: number;
}

/** Requests the page sends; each gets a {@link Reply} with the same `id`. */
export type Request =
  | { readonly id: number; readonly type: 'train'; readonly run: TrainRequest }
  | { readonly id: number; readonly type: 'pause' | 'resume' | 'stop' }
  | { readonly id: number; readonly type: 'predict'; readonly pixels: Float32Array }
  | { readonly id: number; readonly type: 'sample'; readonly index: number }
  | { readonly id: number; readonly type: 'export' }
  | { readonly id: number; readonly type: 'import'; readonly bytes: Uint8Array; readonly name: string }
  | { readonly id: number; readonly type: 'idb-save' | 'idb-load' | 'idb-delete'; readonly name: string }
  | { readonly id: number; readonly type: 'idb-list' };

/** The answer to one request: its value, or the error's name and message. */
export type Reply =
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

/** What a training phase is called in the status line. */
export type Phase = 'idle' | 'loading' | 'training' | 'paused' | 'evaluating' | 'done' | 'stopped' | 'failed';

/** Everything the page shows about the model in the worker. */
export interface ModelInfo {
  readonly params: number;
  /** Where the current weights came from ("fresh", "trained", "file x", "IndexedDB x"). */
  readonly origin: string;
  readonly trainedSteps: number;
}

/** Events the worker sends by itself. */
export type WorkerEvent =
  | { readonly type: 'ready'; readonly threads: number; readonly cores: number; readonly variant: string | null; readonly isolated: boolean; readonly model: ModelInfo }
  | { readonly type: 'status'; readonly phase: Phase; readonly detail: string }
  | {
    readonly type: 'progress'; readonly steps: number; readonly totalSteps: number; readonly epoch: number; readonly epochs: number;
    readonly images: number; readonly imagesPerSecond: number; readonly losses: number[]; readonly accuracies: number[];
  }
  | { readonly type: 'epoch'; readonly epoch: number; readonly steps: number; readonly testLoss: number; readonly testAccuracy: number }
  | {
    readonly type: 'done'; readonly stopped: boolean; readonly steps: number; readonly images: number; readonly seconds: number;
    readonly imagesPerSecond: number; readonly trainImagesPerSecond: number; readonly threads: number;
    readonly testAccuracy: number; readonly testLoss: number; readonly confusion: number[][]; readonly checksum: string; readonly model: ModelInfo;
  }
  | { readonly type: 'model'; readonly model: ModelInfo };

/** A message from the worker. */
export type FromWorker = Reply | WorkerEvent;
