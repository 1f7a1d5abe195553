// Whole-array reductions (sum, mean, max, min, dot, sumSquares), row-wise reductions, and the
// max-subtracted softmax / log-softmax kernels.

/** Σ x[i], summed in a double. 0 for an empty array. */
export function sum(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** Mean of `x` (summed in a double). Throws on an empty array. */
export function mean(x: Float32Array): number {
  if (x.length === 0) throw new Error('mean: empty array');
  return sum(x) / x.length;
}

/** Largest element of `x`; NaN if any element is NaN (as in PyTorch). Throws on an empty array. */
export function max(x: Float32Array): number {
  if (x.length === 0) throw new Error('max: empty array');
  let m = x[0];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) return NaN;
    if (v > m) m = v;
  }
  return m;
}

/** Smallest element of `x`; NaN if any element is NaN (as in PyTorch). Throws on an empty array. */
export function min(x: Float32Array): number {
  if (x.length === 0) throw new Error('min: empty array');
  let m = x[0];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) return NaN;
    if (v < m) m = v;
  }
  return m;
}

/** Σ x[i]·y[i] over two arrays of the same length, summed in a double. */
export function dot(x: Float32Array, y: Float32Array): number {
  if (x.length !== y.length) throw new Error(`dot: lengths differ (${x.length} vs ${y.length})`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** Σ x[i]², summed in a double (the squared L2 norm, e.g. for weight-norm pruning). */
export function sumSquares(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/**
 * Softmax over each row of `x[rows×cols]` into `out` (max-subtracted, so large logits never overflow).
 * `out` may alias `x`. Returns `out`.
 */
export function softmaxRows(out: Float32Array, x: Float32Array, rows: number, cols: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j] - max);
      out[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[o + j] *= inv;
  }
  return out;
}

/**
 * Log-softmax over each row of `x[rows×cols]` into `out`: x − max − log Σ exp(x − max).
 * `out` may alias `x`. Returns `out`.
 */
export function logSoftmaxRows(out: Float32Array, x: Float32Array, rows: number, cols: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    const shift = max + Math.log(sum);
    for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - shift;
  }
  return out;
}

/**
 * Index of the largest value of each row of `x[rows×cols]` into `out[0 … rows−1]` (`out` may be
 * longer; the rest is untouched). The first maximum wins on ties. A row holding a NaN has no
 * largest value: its index is −1 ("no class"), never a valid-looking class id — accuracy counts it
 * wrong, `predictClasses` throws on it. (torch.argmax returns the NaN's index instead, which would
 * turn a corrupted output into a confident class.) The one argmax of the library: metrics,
 * predictions, CSV outputs and class ids all use it. Returns `out`.
 */
export function argmaxRows(out: Int32Array | Float32Array, x: Float32Array, rows: number, cols: number): Int32Array | Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    let max = x[o];
    // nan becomes 1 at the row's first NaN (v !== v holds for NaN only; ±Infinity compare normally).
    let nan = max !== max ? 1 : 0;
    for (let j = 1; j < cols; j++) {
      const v = x[o + j];
      if (v > max) {
        max = v;
        best = j;
      } else if (v !== v) nan = 1;
    }
    out[r] = nan === 0 ? best : -1;
  }
  return out;
}
