// Seeded shuffling and the shuffle-then-split train/validation split (optionally stratified by class).
import { argmaxRows } from '../tensor/reduce.js';
import { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';

/** Rows of `t` at `indices`, copied into a new tensor `[indices.length, ...t.shape.slice(1)]`. */
export function gatherRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const rows = t.shape[0];
  const per = rows === 0 ? 0 : t.size / rows;
  const out = new Float32Array(indices.length * per);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    if (!(Number.isInteger(i) && i >= 0 && i < rows)) throw new Error(`gatherRows: index ${i} is outside 0..${rows - 1} of ${formatShape(t.shape)}`);
    out.set(t.data.subarray(i * per, i * per + per), r * per);
  }
  return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
}

function checkPair(what: string, x: Tensor, y: Tensor): void {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error(`${what}: x and y must be Tensors`);
  if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
    throw new Error(`${what}: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} need the same number of rows`);
  }
}

function toRng(what: string, rng: Rng | undefined, seed: number | undefined): Rng {
  if (rng !== undefined && seed !== undefined) throw new Error(`${what}: give rng or seed, not both`);
  if (rng !== undefined) {
    if (!(rng instanceof Rng)) throw new Error(`${what}: rng must be an Rng`);
    return rng;
  }
  return new Rng(seed ?? 0);
}

/**
 * `x` and `y` shuffled in unison by one seeded permutation (new tensors; the inputs are unchanged).
 * Same seed ⇒ same order.
 */
export function shuffleRows(x: Tensor, y: Tensor, options: { seed?: number; rng?: Rng } = {}): { x: Tensor; y: Tensor; indices: Int32Array } {
  checkPair('shuffleRows', x, y);
  const indices = toRng('shuffleRows', options.rng, options.seed).permutation(x.shape[0]);
  return { x: gatherRows(x, indices), y: gatherRows(y, indices), indices };
}

/**
 * Class id of every row of `y`: `y` is class ids `[N]` (integers) or one-hot / scores `[N, classes]`
 * (the argmax). Returns an Int32Array `[N]`.
 */
export function classIds(y: Tensor): Int32Array {
  const n = y.shape[0];
  const out = new Int32Array(n);
  if (y.rank === 1) {
    for (let i = 0; i < n; i++) {
      const c = y.data[i];
      if (!Number.isInteger(c) || c < 0) throw new Error(`classIds: label ${c} at row ${i} is not a class id (a non-negative integer)`);
      out[i] = c;
    }
    return out;
  }
  argmaxRows(out, y.data, n, n === 0 ? 0 : y.size / n);
  return out;
}

/** Options of {@link trainValSplit}. */
export interface SplitOptions {
  /** Fraction of rows held out for validation, in (0, 1). The count is `round(N·fraction)`. */
  readonly fraction: number;
  /** Seed of the shuffle (default 0). Ignored when `rng` is given. */
  readonly seed?: number;
  readonly rng?: Rng;
  /**
   * Keep each class's share in both parts (default false): every class gives `≈ fraction` of its rows,
   * rounded by largest remainder so the total is still `round(N·fraction)`.
   */
  readonly stratified?: boolean;
}

/** One side of a split: rows of x and y and their indices in the original tensors. */
export interface SplitPart {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly indices: Int32Array;
}

/**
 * Shuffle-then-split: a seeded permutation of the rows, the first `round(N·fraction)` become the
 * validation set, the rest the training set (both keep the permuted order). With `stratified`, each
 * class is shuffled and split on its own, then each part is shuffled again so classes are mixed.
 * The parts never share a row and together hold every row once.
 *
 * Shapes: x `[N, ...]`, y `[N]` class ids or `[N, classes]`.
 */
export function trainValSplit(x: Tensor, y: Tensor, options: SplitOptions): { train: SplitPart; val: SplitPart } {
  checkPair('trainValSplit', x, y);
  const fraction = options?.fraction;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new Error(`trainValSplit: fraction must be a number in (0, 1), got ${JSON.stringify(fraction)}`);
  }
  const n = x.shape[0];
  const nVal = Math.round(n * fraction);
  if (nVal < 1 || nVal >= n) throw new Error(`trainValSplit: fraction ${fraction} of ${n} rows leaves an empty part (${nVal} validation rows)`);
  const rng = toRng('trainValSplit', options.rng, options.seed);
  let valIdx: Int32Array;
  let trainIdx: Int32Array;
  if (options.stratified) {
    [trainIdx, valIdx] = stratifiedIndices(classIds(y), nVal, fraction, rng);
  } else {
    const perm = rng.permutation(n);
    valIdx = perm.slice(0, nVal);
    trainIdx = perm.slice(nVal);
  }
  return {
    train: { x: gatherRows(x, trainIdx), y: gatherRows(y, trainIdx), indices: trainIdx },
    val: { x: gatherRows(x, valIdx), y: gatherRows(y, valIdx), indices: valIdx },
  };
}

/** Per-class shuffle and split; quotas by largest remainder so they sum to `nVal`. Returns [train, val]. */
function stratifiedIndices(labels: Int32Array, nVal: number, fraction: number, rng: Rng): [Int32Array, Int32Array] {
  const n = labels.length;
  let classes = 0;
  for (let i = 0; i < n; i++) classes = Math.max(classes, labels[i] + 1);
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) members[labels[i]].push(i);
  const quota = members.map((m) => Math.floor(m.length * fraction));
  let short = nVal - quota.reduce((a, b) => a + b, 0);
  // Hand the remaining rows to the classes with the largest fractional parts (ties: lower class id).
  const order = members.map((m, c) => c).sort((a, b) => {
    const ra = members[a].length * fraction - quota[a];
    const rb = members[b].length * fraction - quota[b];
    return rb - ra || a - b;
  });
  for (let k = 0; short > 0 && k < order.length; k++) {
    const c = order[k];
    if (quota[c] < members[c].length) {
      quota[c]++;
      short--;
    }
  }
  const val = new Int32Array(nVal);
  const train = new Int32Array(n - nVal);
  let v = 0;
  let t = 0;
  for (let c = 0; c < classes; c++) {
    const m = rng.shuffle(members[c]);
    for (let k = 0; k < m.length; k++) {
      if (k < quota[c]) val[v++] = m[k];
      else train[t++] = m[k];
    }
  }
  rng.shuffle(val);
  rng.shuffle(train);
  return [train, val];
}
