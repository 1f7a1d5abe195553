// Row-wise reductions and the max-subtracted softmax / log-softmax kernels.

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

/** Index of the largest value of each row of `x[rows×cols]` into `out[rows]` (first on ties). Returns `out`. */
export function argmaxRows(out: Int32Array | Float32Array, x: Float32Array, rows: number, cols: number): Int32Array | Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    let max = x[o];
    for (let j = 1; j < cols; j++) {
      if (x[o + j] > max) {
        max = x[o + j];
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}
