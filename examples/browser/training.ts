// The demo's training run, shared by the page's worker and by Node (the speed comparison and the
// bit-identity test run this very code against their own copy of the library): net000 built from a seed,
// trained batch by batch in time slices so a worker can answer messages between slices.
import type * as Core from '../../src/browser.js';

/** What a run trains with; the defaults are assignment 1's (batch 32, SGD momentum 0.9, lr 1e-3). */
export interface RunSettings {
  /** Passes over the training subset (integer ≥ 1). */
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  /** Seeds the weights and each epoch's shuffle. */
  readonly seed: number;
}

/** Assignment 1's hyperparameters with one epoch and seed 1. */
export const DEFAULT_SETTINGS: RunSettings = { epochs: 1, batchSize: 32, lr: 1e-3, momentum: 0.9, seed: 1 };

/**
 * net000: Conv 3×3 16 ReLU → Conv 3×3 16 ReLU → Dense 100 ReLU → Dense 10 (softmax output, trained
 * through the fused cross-entropy), Xavier-uniform weights and zero biases, on [1, 28, 28] images.
 */
export function buildNet000(tk: typeof Core, seed: number): Core.Sequential {
  const weightInit = 'xavier-uniform';
  const biasInit = 'zeros';
  return new tk.Sequential([
    new tk.Conv2D({ filters: 16, kernelSize: 3, weightInit, biasInit }),
    new tk.ReLU(),
    new tk.Conv2D({ filters: 16, kernelSize: 3, weightInit, biasInit }),
    new tk.ReLU(),
    new tk.Flatten(),
    new tk.Dense({ units: 100, weightInit, biasInit }),
    new tk.ReLU(),
    new tk.Dense({ units: 10, weightInit, biasInit }),
    new tk.Softmax(),
  ], { inputShape: [1, 28, 28], seed });
}

/** Compiles `model` for the run (SGD with momentum, cross-entropy, accuracy). */
export function compileNet(model: Core.Sequential, settings: RunSettings): void {
  model.compile({ optimizer: { name: 'momentum', lr: settings.lr, momentum: settings.momentum }, loss: 'cross-entropy', metrics: ['accuracy'] });
}

/** Per-step numbers collected during a slice, handed over and cleared by {@link TrainingRun.takeSteps}. */
export interface StepLog {
  readonly losses: number[];
  readonly accuracies: number[];
}

/**
 * A training run over one split, advanced by {@link runFor} in slices of wall time. Each epoch
 * shuffles afresh from an Rng seeded with `settings.seed`; every step's loss and batch accuracy are
 * logged. Images per second count only time spent inside `runFor`.
 */
export class TrainingRun {
  readonly model: Core.Sequential;
  readonly settings: RunSettings;
  readonly batchesPerEpoch: number;
  readonly totalSteps: number;
  /** Completed optimizer steps, images trained on, and seconds spent training. */
  steps = 0;
  images = 0;
  seconds = 0;
  private readonly batcher: Core.Batcher;
  private readonly log: { losses: number[]; accuracies: number[] };
  private epoch = -1;

  constructor(tk: typeof Core, model: Core.Sequential, train: Core.Split, settings: RunSettings) {
    if (!Number.isInteger(settings.epochs) || settings.epochs < 1) throw new RangeError(`epochs must be an integer ≥ 1, got ${settings.epochs}`);
    this.model = model;
    this.settings = settings;
    this.batcher = new tk.Batcher(train.images, train.labels, { batchSize: settings.batchSize, shuffle: true, rng: new tk.Rng(settings.seed) });
    this.batchesPerEpoch = Math.ceil(train.images.shape[0] / settings.batchSize);
    this.totalSteps = this.batchesPerEpoch * settings.epochs;
    this.log = { losses: [], accuracies: [] };
  }

  /** True once every epoch is done. */
  get done(): boolean {
    return this.steps >= this.totalSteps;
  }

  /** The 0-based epoch the next step belongs to (equal to `epochs` when done). */
  get currentEpoch(): number {
    return Math.floor(this.steps / this.batchesPerEpoch);
  }

  /** One optimizer step on the next batch; returns false when the run was already done. */
  step(): boolean {
    if (this.done) return false;
    const epoch = this.currentEpoch;
    if (epoch !== this.epoch) {
      this.batcher.beginEpoch(epoch);
      this.epoch = epoch;
    }
    const batch = this.batcher.batch(this.steps - epoch * this.batchesPerEpoch);
    const n = batch.x.shape[0];
    const { loss, correct } = this.model.trainStep(batch.x, batch.y);
    this.log.losses.push(loss);
    this.log.accuracies.push(correct / n);
    this.steps++;
    this.images += n;
    return true;
  }

  /**
   * Steps until `ms` milliseconds have passed, the epoch ends (so the caller can evaluate) or the
   * run is done; at least one step when not done. Returns the number of steps taken.
   */
  runFor(ms: number): number {
    const start = performance.now();
    const epoch = this.currentEpoch;
    let taken = 0;
    while (!this.done && (taken === 0 || (performance.now() - start < ms && this.currentEpoch === epoch))) {
      this.step();
      taken++;
    }
    this.seconds += (performance.now() - start) / 1000;
    return taken;
  }

  /** The steps logged since the last call (then forgotten, so a long run keeps no unbounded log). */
  takeSteps(): StepLog {
    const out = { losses: this.log.losses.slice(), accuracies: this.log.accuracies.slice() };
    this.log.losses.length = 0;
    this.log.accuracies.length = 0;
    return out;
  }
}

/** FNV-1a (32 bit) over the bytes of every parameter in state-dict order, as 8 hex digits. */
export function weightsChecksum(model: Core.Sequential): string {
  let hash = 0x811c9dc5;
  for (const t of Object.values(model.stateDict())) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
