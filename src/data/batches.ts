// Mini-batch iteration over (x, y) (the one batching implementation; fit runs on it): seeded per-epoch
// shuffles, optional augmentation, and batch buffers allocated once and reused for every batch.
import { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import { augmentBatch, resolveAugment, type AugmentOptions, type ResolvedAugment } from './augment.js';

/** Options of {@link Batcher} and {@link batches}. */
export interface BatchOptions {
  /** Rows per batch (integer ≥ 1); the last batch may be shorter unless `dropLast`. */
  readonly batchSize: number;
  /** Shuffle the rows at the start of every epoch, afresh from the order 0 … N−1 (default false). */
  readonly shuffle?: boolean;
  /** Drop a short last batch (default false). */
  readonly dropLast?: boolean;
  /** Source of the shuffles (default `new Rng(0)`); each epoch draws N−1 numbers from it when `shuffle`. */
  readonly rng?: Rng;
  /** Augment each batch of images `[batch, C, H, W]` (see {@link augmentBatch}); off by default. */
  readonly augment?: AugmentOptions;
  /**
   * Seed of the augmentation draws (a finite number, used as a 32-bit integer; default 0). Batch `b` of epoch `e` draws from an Rng
   * re-seeded from (augmentSeed, e, b) (see {@link augmentBatchSeed}), not from `rng`, so the
   * augmentation neither shifts the shuffles nor depends on the batches before it.
   */
  readonly augmentSeed?: number;
}

/**
 * One mini-batch. `x` and `y` are views of buffers owned by the {@link Batcher}: they stay valid
 * until the next batch is produced, then are overwritten (copy them to keep them).
 */
export interface Batch {
  readonly x: Tensor;
  readonly y: Tensor;
  /** Original row indices of this batch (a view; overwritten with the next epoch's order). */
  readonly indices: Int32Array;
  /** Batch index within the epoch, and batches per epoch. */
  readonly index: number;
  readonly count: number;
}

/** Batch buffers for one source tensor: the full-size buffer and a view per batch length (made once). */
class RowBuffer {
  readonly buf: Float32Array;
  private readonly per: number;
  private readonly views: Map<number, Tensor>;
  private readonly rest: number[];

  constructor(src: Tensor, batchSize: number) {
    this.per = src.shape[0] === 0 ? 0 : src.size / src.shape[0];
    this.buf = new Float32Array(Math.min(batchSize, src.shape[0]) * this.per);
    this.views = new Map();
    this.rest = src.shape.slice(1);
  }

  view(rows: number): Tensor {
    let v = this.views.get(rows);
    if (!v) {
      v = new Tensor(this.buf.subarray(0, rows * this.per), [rows, ...this.rest]);
      this.views.set(rows, v);
    }
    return v;
  }

  gather(src: Float32Array, idx: Int32Array): Tensor {
    const per = this.per;
    for (let r = 0; r < idx.length; r++) this.buf.set(src.subarray(idx[r] * per, idx[r] * per + per), r * per);
    return this.view(idx.length);
  }
}

/**
 * Iterates `x` `[N, ...]` and `y` `[N, ...]` in mini-batches, epoch after epoch. Every buffer (row
 * order, batch x and y, augmentation output) is allocated in the constructor and reused, so a
 * training loop over it allocates nothing per batch but the small {@link Batch} record.
 *
 * Reproducible and resumable: each epoch starts from the identity order and shuffles it once from
 * `rng`, so an epoch's order depends only on the Rng's state when {@link beginEpoch} runs; a batch's
 * augmentation depends only on (`augmentSeed`, epoch index, batch index). Restoring the Rng state
 * saved before an epoch began, then `beginEpoch(epoch)` and `batch(b)` for the remaining `b`,
 * reproduces the rest of that epoch exactly (this is how `fit` resumes mid-epoch).
 */
export class Batcher {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Batches per epoch. */
  readonly count: number;
  /** Seed of the per-batch augmentation draws (see {@link BatchOptions.augmentSeed}). */
  readonly augmentSeed: number;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly rng: Rng;
  private readonly order: Int32Array;
  private readonly xb: RowBuffer;
  private readonly yb: RowBuffer;
  private readonly augment: ResolvedAugment | null;
  private readonly augmented: RowBuffer | null;
  private readonly augmentRng: Rng;
  private current: number;

  constructor(x: Tensor, y: Tensor, options: BatchOptions) {
    if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
      throw new Error(`batches: x ${x?.shape ? formatShape(x.shape) : String(x)} and y ${y?.shape ? formatShape(y.shape) : String(y)} need the same number of rows`);
    }
    const batchSize = options?.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be an integer >= 1, got ${JSON.stringify(batchSize)}`);
    const augmentSeed = options.augmentSeed ?? 0;
    if (typeof augmentSeed !== 'number' || !Number.isFinite(augmentSeed)) throw new Error(`batches: augmentSeed must be a finite number, got ${String(augmentSeed)}`);
    if (options.rng !== undefined && !(options.rng instanceof Rng)) throw new Error('batches: rng must be an Rng');
    const n = x.shape[0];
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.count = this.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    this.augmentSeed = augmentSeed;
    this.x = x;
    this.y = y;
    this.rng = options.rng ?? new Rng(0);
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.xb = new RowBuffer(x, batchSize);
    this.yb = new RowBuffer(y, batchSize);
    const aug = options.augment ? resolveAugment(options.augment) : null;
    const active = aug !== null && (aug.shift > 0 || aug.rotate > 0 || aug.flip);
    if (active && x.rank !== 4) throw new Error(`batches: augmentation needs images [N, C, H, W], got x ${formatShape(x.shape)}`);
    this.augment = active ? aug : null;
    this.augmented = active ? new RowBuffer(x, batchSize) : null;
    this.augmentRng = new Rng(0);
    this.current = -1;
  }

  /** Index of the current epoch (−1 before the first {@link beginEpoch}). */
  get epochIndex(): number {
    return this.current;
  }

  /**
   * Starts epoch `index` (default: the one after the current): resets the row order to 0 … N−1 and,
   * with `shuffle`, shuffles it with `rng` (N−1 draws). The index only seeds the augmentation.
   */
  beginEpoch(index: number = this.current + 1): void {
    if (!Number.isInteger(index) || index < 0) throw new Error(`batches: epoch index must be a non-negative integer, got ${index}`);
    this.current = index;
    const order = this.order;
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle) this.rng.shuffle(order);
  }

  /**
   * Batch `b` (0 ≤ b < count) of the current epoch: its rows gathered into the reused buffers and,
   * with augmentation, transformed by draws from an Rng seeded from (augmentSeed, epoch, b).
   */
  batch(b: number): Batch {
    if (this.current < 0) throw new Error('batches: call beginEpoch() before batch()');
    if (!Number.isInteger(b) || b < 0 || b >= this.count) throw new Error(`batches: batch index must be an integer in [0, ${this.count}), got ${b}`);
    const start = b * this.batchSize;
    const idx = this.order.subarray(start, Math.min(this.order.length, start + this.batchSize));
    let xb = this.xb.gather(this.x.data, idx);
    const yb = this.yb.gather(this.y.data, idx);
    if (this.augment && this.augmented) {
      this.augmentRng.reseed(augmentBatchSeed(this.augmentSeed, this.current, b));
      xb = augmentBatch(this.augmented.view(idx.length), xb, this.augment, this.augmentRng);
    }
    return { x: xb, y: yb, indices: idx, index: b, count: this.count };
  }

  /** Begins the next epoch ({@link beginEpoch}, at once) and returns its batches in order. */
  epoch(): Generator<Batch, void, undefined> {
    this.beginEpoch();
    return this.batchesFrom(0);
  }

  private *batchesFrom(first: number): Generator<Batch, void, undefined> {
    for (let b = first; b < this.count; b++) yield this.batch(b);
  }
}

/**
 * Seed of the augmentation Rng of batch `batch` of epoch `epoch`: a hash of the three, so any batch's
 * augmentation can be redrawn on its own.
 */
export function augmentBatchSeed(seed: number, epoch: number, batch: number): number {
  return ((seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(batch + 1, 0x85ebca77)) >>> 0;
}

/** One epoch of mini-batches over `x`, `y` (see {@link Batcher}; make a Batcher to reuse buffers across epochs). */
export function batches(x: Tensor, y: Tensor, options: BatchOptions): Generator<Batch, void, undefined> {
  return new Batcher(x, y, options).epoch();
}
