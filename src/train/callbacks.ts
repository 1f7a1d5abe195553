// Training callbacks: the hook interface used by fit, and a progress reporter.
import type { RngState } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Numbers reported after a batch. Epoch numbering: in these objects `epoch` is a 0-based index (it
 * indexes the history arrays); everything written for people — progress lines, CSV files, run
 * metrics.jsonl / summary.json, checkpoint names, the CLI's metrics.json — counts epochs from 1
 * (`epoch + 1`).
 */
export interface BatchLogs {
  /** 0-based epoch index (shown as `epoch + 1`). */
  readonly epoch: number;
  /** Batch index within the epoch (0-based). */
  readonly batch: number;
  /** Batches per epoch. */
  readonly batches: number;
  /** Global optimizer step count (1-based after the first step). */
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number;
}

/** Numbers reported after an epoch (validation values are NaN without validation data). */
export interface EpochLogs {
  /** 0-based epoch index (shown as `epoch + 1`; see {@link BatchLogs}). */
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  readonly seconds: number;
  readonly lr: number;
}

/** Control handed to callbacks. */
export interface TrainingControl {
  /** Ends training after the current batch. */
  stop(): void;
  /** The current position (after the last finished batch), to save with a checkpoint and resume from. */
  position(): FitPosition;
}

/**
 * A position in a `fit` run, enough to resume it exactly. Its two Rng states keep one naming across
 * fit, callbacks and checkpoint files: `shuffleRng` is fit's own Rng (validation split, then each
 * epoch's order), `modelRng` the model's Rng (dropout masks; `Sequential.getRngState`).
 */
export interface FitPosition {
  /** Epoch to continue in (0-based). */
  readonly epoch: number;
  /** Next batch index within that epoch. */
  readonly batch: number;
  /** Optimizer steps taken so far in this fit. */
  readonly step: number;
  /**
   * State of fit's shuffling Rng at the start of `epoch`, before that epoch's shuffle. (Positions
   * written before this name existed call it `epochRng`; fit's `resumeFrom` reads either.)
   */
  readonly shuffleRng: RngState;
  /** State of the model's Rng (dropout masks) at this position; absent for a model without one. */
  readonly modelRng?: RngState;
  /**
   * Running sums of `epoch` so far (Σ batch loss · rows, correct predictions, rows seen), so a resumed
   * epoch reports, and steps schedules and callbacks with, the same mean loss and accuracy as an
   * uninterrupted one. Absent (positions saved before they existed): the sums restart at 0.
   */
  readonly lossSum?: number;
  readonly correctSum?: number;
  readonly seen?: number;
  /**
   * The states of the stateful callbacks (those with a `stateKey`: EarlyStopping, Checkpoint,
   * CsvLogger, the progress reporter), by key, so a resumed run continues them where they were.
   */
  readonly callbacks?: Readonly<Record<string, CallbackState>>;
  /** The state of fit's `schedule` (its `stateDict()`, e.g. ReduceOnPlateau's best and wait), when it has one. */
  readonly schedule?: Readonly<Record<string, number>>;
}

/**
 * A callback's state inside a {@link FitPosition}: JSON-serialisable values (numbers may be ±Infinity
 * or NaN), plus optional `tensors` (EarlyStopping's best weights), which model files store as tensors
 * of their own (`state/<key>/<name>`) and give back on load.
 */
export interface CallbackState {
  readonly tensors?: Readonly<Record<string, Tensor>>;
  readonly [key: string]: unknown;
}


/**
 * Optional hooks called by `fit`, in the order the callbacks are given — except that callbacks with
 * `savesPosition` (Checkpoint) run after all the others at each batch and epoch end, so the position
 * they save holds the other callbacks' states after that batch or epoch.
 *
 * A stateful callback gives a `stateKey` with `getState` / `setState`: fit puts `getState()` into
 * every position (`position.callbacks[stateKey]`), and on resume calls `setState` with the saved
 * state right after `onTrainBegin`. That is what makes a killed and resumed run end as the
 * uninterrupted one would.
 */
export interface Callback {
  /** Key of this callback's state in `position.callbacks` (unique among a run's callbacks). */
  readonly stateKey?: string;
  /** The callback's state now (see {@link CallbackState}); called whenever a position is taken. */
  getState?(): CallbackState;
  /** Restores a state from {@link getState}, on resume (after `onTrainBegin`). */
  setState?(state: CallbackState): void;
  /** Saves `control.position()` (a checkpoint): runs after the other callbacks at batch and epoch ends. */
  readonly savesPosition?: boolean;
  onTrainBegin?(info: { epochs: number; batches: number; samples: number }, control: TrainingControl): void;
  onEpochBegin?(epoch: number, control: TrainingControl): void;
  onBatchEnd?(logs: BatchLogs, control: TrainingControl): void;
  onEpochEnd?(logs: EpochLogs, control: TrainingControl): void | Promise<void>;
  onTrainEnd?(history: unknown): void;
}

function fmtTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Progress reporter: on a terminal, one bar line per epoch rewritten in place (batches, ETA,
 * running loss/accuracy); elsewhere plain lines (every `logEvery` batches and at epoch end).
 */
export function progressCallback(opts: { stream?: NodeJS.WriteStream; logEvery?: number } = {}): Callback {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const logEvery = opts.logEvery ?? 200;
  let epochs = 0;
  let epochStart = 0;
  let lossSum = 0;
  let accSum = 0;
  let seen = 0;
  let lastDraw = 0;
  let restored = false;
  return {
    // The running means shown during an epoch, so a resumed epoch shows what the uninterrupted one did.
    stateKey: 'progress',
    getState: () => ({ lossSum, accSum, seen }),
    setState(state) {
      for (const key of ['lossSum', 'accSum', 'seen'] as const) {
        if (typeof state[key] !== 'number') throw new Error(`progress: saved state ${key} must be a number, got ${JSON.stringify(state[key])}`);
      }
      lossSum = state.lossSum as number;
      accSum = state.accSum as number;
      seen = state.seen as number;
      restored = true;
    },
    onTrainBegin(info) {
      epochs = info.epochs;
    },
    onEpochBegin() {
      epochStart = performance.now();
      // A resumed epoch keeps the running sums setState restored (zeros at an epoch boundary, as
      // onEpochEnd leaves them).
      if (!restored) {
        lossSum = 0;
        accSum = 0;
        seen = 0;
      }
      restored = false;
      lastDraw = 0;
    },
    onBatchEnd(logs) {
      lossSum += logs.loss;
      accSum += logs.accuracy;
      seen++;
      const done = logs.batch + 1;
      const elapsed = (performance.now() - epochStart) / 1000;
      const eta = (elapsed / done) * (logs.batches - done);
      const text = `epoch ${logs.epoch + 1}/${epochs} ${done}/${logs.batches} eta ${fmtTime(eta)} loss ${(lossSum / seen).toFixed(4)} acc ${(accSum / seen).toFixed(4)}`;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw > 100 || done === logs.batches) {
          lastDraw = now;
          const width = 24;
          const filled = Math.round((done / logs.batches) * width);
          stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        }
      } else if (done % logEvery === 0) {
        stream.write(`${text}\n`);
      }
    },
    onEpochEnd(logs) {
      const val = Number.isNaN(logs.valLoss) ? '' : ` val_loss ${logs.valLoss.toFixed(4)} val_acc ${logs.valAccuracy.toFixed(4)}`;
      stream.write(`${tty ? '\r\x1b[K' : ''}epoch ${logs.epoch + 1}/${logs.epochs} ${logs.seconds.toFixed(1)}s loss ${logs.loss.toFixed(4)} acc ${logs.accuracy.toFixed(4)}${val}\n`);
      lossSum = 0;
      accSum = 0;
      seen = 0;
    },
  };
}
