// Elementwise and broadcast kernels over flat Float32Arrays (destination first, allocation-free),
// used by layers (bias add, bias gradient) and optimizers (scaled updates).
import { parallelRange } from './gemm-wasm.js';
import { RANGE_RELU, RANGE_RELU_BACKWARD, reluBackwardKernel, reluKernel } from './heap-tasks.js';

function checkSameLength(what: string, out: Float32Array, a: Float32Array, b?: Float32Array): void {
  if (a.length !== out.length || (b !== undefined && b.length !== out.length)) {
    const lens = b === undefined ? `${a.length}` : `${a.length} and ${b.length}`;
    throw new Error(`${what}: out has ${out.length} elements but the input${b === undefined ? ' has' : 's have'} ${lens}`);
  }
}

function checkMatrix(what: string, x: Float32Array, rows: number, cols: number, name = 'x'): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 0 && cols >= 0)) {
    throw new Error(`${what}: rows and cols must be non-negative integers, got rows=${rows}, cols=${cols}`);
  }
  if (x.length < rows * cols) {
    throw new Error(`${what}: ${name} has ${x.length} elements, needs rows·cols = ${rows}·${cols} = ${rows * cols}`);
  }
}

function checkVector(what: string, v: Float32Array, len: number, name: string): void {
  if (v.length < len) throw new Error(`${what}: ${name} has ${v.length} elements, needs ${len}`);
}

/** `out[i] = a[i] + b[i]`. All three have the same length; `out` may alias `a` and/or `b`. Returns `out`. */
export function add(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  checkSameLength('add', out, a, b);
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** `out[i] = a[i] − b[i]`. All three have the same length; `out` may alias `a` and/or `b`. Returns `out`. */
export function sub(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  checkSameLength('sub', out, a, b);
  for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** `out[i] = a[i] · b[i]` (Hadamard product). Same lengths; `out` may alias `a` and/or `b`. Returns `out`. */
export function mul(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  checkSameLength('mul', out, a, b);
  for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** `out[i] = alpha · x[i]`. Same length; `out` may alias `x` (in-place scaling). Returns `out`. */
export function scale(out: Float32Array, alpha: number, x: Float32Array): Float32Array {
  checkSameLength('scale', out, x);
  for (let i = 0; i < out.length; i++) out[i] = alpha * x[i];
  return out;
}

/** `out[i] = x[i] + value`. Same length; `out` may alias `x`. Returns `out`. */
export function addScalar(out: Float32Array, x: Float32Array, value: number): Float32Array {
  checkSameLength('addScalar', out, x);
  for (let i = 0; i < out.length; i++) out[i] = x[i] + value;
  return out;
}

/**
 * `out[i] += alpha · x[i]` (BLAS axpy with the destination first). Same length. `out` may alias `x`
 * exactly (giving `out *= 1 + alpha`), but not a shifted overlapping view. Returns `out`.
 */
export function axpy(out: Float32Array, alpha: number, x: Float32Array): Float32Array {
  checkSameLength('axpy', out, x);
  for (let i = 0; i < out.length; i++) out[i] += alpha * x[i];
  return out;
}

/**
 * Row-vector broadcast (Dense bias add): `out[r, c] = x[r, c] + v[c]` for `x[rows×cols]`, `v[cols]`.
 * `out` may alias `x` (in-place bias add); it must not overlap `v`. Returns `out`.
 */
export function addRowVector(out: Float32Array, x: Float32Array, v: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix('addRowVector', x, rows, cols);
  checkMatrix('addRowVector', out, rows, cols, 'out');
  checkVector('addRowVector', v, cols, 'v (one value per column)');
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = x[o + c] + v[c];
  }
  return out;
}

/**
 * Column-vector broadcast (Conv2D bias add on one image `[outC, outH·outW]`):
 * `out[r, c] = x[r, c] + v[r]` for `x[rows×cols]`, `v[rows]`. `out` may alias `x`; it must not overlap
 * `v`. Returns `out`.
 */
export function addColVector(out: Float32Array, x: Float32Array, v: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix('addColVector', x, rows, cols);
  checkMatrix('addColVector', out, rows, cols, 'out');
  checkVector('addColVector', v, rows, 'v (one value per row)');
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const vr = v[r];
    for (let c = 0; c < cols; c++) out[o + c] = x[o + c] + vr;
  }
  return out;
}

// Double-precision column accumulators for colSums, grown on demand and reused.
let colAcc = new Float64Array(0);

/**
 * Column sums (the Dense bias gradient): `out[c] (+)= Σ_r x[r, c]` for `x[rows×cols]`, `out[cols]`.
 * Sums each column in a double while walking `x` row by row, then rounds once: overwriting `out`, or
 * with `accumulate` adding the double sum to `out[c]` (one rounding, as `out[c] += s` with `s` a
 * double). `out` must not overlap `x`. Returns `out`.
 */
export function colSums(out: Float32Array, x: Float32Array, rows: number, cols: number, accumulate = false): Float32Array {
  checkMatrix('colSums', x, rows, cols);
  checkVector('colSums', out, cols, 'out (one value per column)');
  if (colAcc.length < cols) colAcc = new Float64Array(cols);
  const acc = colAcc;
  acc.fill(0, 0, cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += x[o + c];
  }
  if (accumulate) for (let c = 0; c < cols; c++) out[c] += acc[c];
  else for (let c = 0; c < cols; c++) out[c] = acc[c];
  return out;
}

/**
 * Row sums: `out[r] (+)= Σ_c x[r, c]` for `x[rows×cols]`, `out[rows]`, each summed in a double and
 * rounded once (added to `out[r]` with `accumulate`, as {@link colSums}). `out` must not overlap `x`.
 * Returns `out`. (Conv2D does not use it: its bias gradient sums each channel over the whole batch
 * in one double, inside its backward kernels, which per-image row sums would round differently.)
 */
export function rowSums(out: Float32Array, x: Float32Array, rows: number, cols: number, accumulate = false): Float32Array {
  checkMatrix('rowSums', x, rows, cols);
  checkVector('rowSums', out, rows, 'out (one value per row)');
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[o + c];
    out[r] = accumulate ? out[r] + s : s;
  }
  return out;
}

// Integer views of float arrays, keyed by the array, so the bit-mask kernels below allocate a view only
// the first time they meet an array (layer-owned buffers are reused, so steady state allocates nothing).
const intViews = new WeakMap<Float32Array, Int32Array>();

/** An `Int32Array` over the same memory as `x` (its IEEE-754 bit patterns), cached per array. */
export function int32View(x: Float32Array): Int32Array {
  let v = intViews.get(x);
  if (v === undefined) {
    v = new Int32Array(x.buffer, x.byteOffset, x.length);
    intViews.set(x, v);
  }
  return v;
}

/**
 * ReLU: `out[i] = x[i] > 0 ? x[i] : 0` (NaN gives 0, like the comparison; never −0). Same length;
 * `out` may alias `x`. Returns `out`.
 *
 * Branch-free: the comparison becomes an all-ones / all-zeros mask applied to the float's bits. On
 * activations whose signs are coin flips the ternary mispredicts half the time and ran 4–5× slower.
 */
export function relu(out: Float32Array, x: Float32Array): Float32Array {
  checkSameLength('relu', out, x);
  if (parallelRange(RANGE_RELU, out.length, out, x, null, null)) return out;
  reluKernel(int32View(out), 0, x, int32View(x), 0, out.length);
  return out;
}

/**
 * ReLU backward: `dx[i] = x[i] > 0 ? dy[i] : 0` with `x` the forward input (bit-exact, NaN and
 * infinities in `dy` included where `x > 0`). Same lengths; `dx` may alias `dy`. Branch-free like
 * {@link relu}. Returns `dx`.
 */
export function reluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array): Float32Array {
  checkSameLength('reluBackward', dx, dy, x);
  if (parallelRange(RANGE_RELU_BACKWARD, dx.length, dx, dy, x, null)) return dx;
  reluBackwardKernel(int32View(dx), 0, int32View(dy), 0, x, 0, dx.length);
  return dx;
}
