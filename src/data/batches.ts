// Mini-batch iteration over (x, y) with seeded reshuffling, optional augmentation, and batch buffers
// allocated once and reused for every batch of every epoch.
import { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import { augmentBatch, resolveAugment, type AugmentOptions, type ResolvedAugment } from './augment.js';

/** Options of {@link Batcher} and {@link batches}. */
export interface BatchOptions {
  /** Rows per batch (integer ≥ 1); the last batch may be shorter unless `dropLast`. */
  readonly batchSize: number;
  /** Reshuffle the row order at the start of every epoch (default false). */
  readonly shuffle?: boolean;
  /** Drop a short last batch (default false). */
  readonly dropLast?: boolean;
  /** Source of the shuffles and augmentation draws (default `new Rng(0)`). */
  readonly rng?: Rng;
  /** Augment each batch of images `[batch, C, H, W]` (see {@link augmentBatch}); off by default. */
  readonly augment?: AugmentOptions;
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
export class RowBuffer {
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
 * training loop over it allocates nothing per batch.
 */
export class Batcher {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Batches per epoch. */
  readonly count: number;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly rng: Rng;
  private readonly order: Int32Array;
  private readonly xb: RowBuffer;
  private readonly yb: RowBuffer;
  private readonly augment: ResolvedAugment | null;
  private readonly augmented: RowBuffer | null;

  constructor(x: Tensor, y: Tensor, options: BatchOptions) {
    if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
      throw new Error(`batches: x ${x?.shape ? formatShape(x.shape) : String(x)} and y ${y?.shape ? formatShape(y.shape) : String(y)} need the same number of rows`);
    }
    const batchSize = options?.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be an integer >= 1, got ${JSON.stringify(batchSize)}`);
    const n = x.shape[0];
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.count = this.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
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
  }

  /** The batches of one epoch (reshuffled first when `shuffle`). */
  *epoch(): Generator<Batch, void, undefined> {
    if (this.shuffle) this.rng.shuffle(this.order);
    const n = this.order.length;
    for (let b = 0; b < this.count; b++) {
      const start = b * this.batchSize;
      const idx = this.order.subarray(start, Math.min(n, start + this.batchSize));
      let xb = this.xb.gather(this.x.data, idx);
      const yb = this.yb.gather(this.y.data, idx);
      if (this.augment && this.augmented) xb = augmentBatch(this.augmented.view(idx.length), xb, this.augment, this.rng);
      yield { x: xb, y: yb, indices: idx, index: b, count: this.count };
    }
  }
}

/** One epoch of mini-batches over `x`, `y` (see {@link Batcher}; make a Batcher to reuse buffers across epochs). */
export function batches(x: Tensor, y: Tensor, options: BatchOptions): Generator<Batch, void, undefined> {
  return new Batcher(x, y, options).epoch();
}
