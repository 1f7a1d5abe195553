// Elementwise and broadcast kernels over flat Float32Arrays (destination first, allocation-free),
// used by layers (bias add, bias gradient) and optimizers (scaled updates). The maps run as kernels of
// the kernel table: SIMD and threaded on arrays in the shared heap.
import { defineElementwise } from '../runtime/define-elementwise.js';
import { RELU, RELU_BACKWARD } from '../runtime/kernel-table.js';

// The maps as compiled kernels of the kernel table: SIMD on heap arrays (split over the threads when
// large), the bit-identical twin elsewhere. Scalars are rounded to float32 first, like every kernel's.
const ADD = defineElementwise({ name: 'add', arrays: ['out', 'a', 'b'], body: ({ a, b }) => ({ out: a.add(b) }) });
const SUB = defineElementwise({ name: 'sub', arrays: ['out', 'a', 'b'], body: ({ a, b }) => ({ out: a.sub(b) }) });
const MUL = defineElementwise({ name: 'mul', arrays: ['out', 'a', 'b'], body: ({ a, b }) => ({ out: a.mul(b) }) });
const SCALE = defineElementwise({ name: 'scale', arrays: ['out', 'x'], scalars: ['alpha'], body: ({ x }, { alpha }) => ({ out: x.mul(alpha) }) });
const ADD_SCALAR = defineElementwise({ name: 'add-scalar', arrays: ['out', 'x'], scalars: ['value'], body: ({ x }, { value }) => ({ out: x.add(value) }) });
const AXPY = defineElementwise({ name: 'axpy', arrays: ['out', 'x'], scalars: ['alpha'], body: ({ out, x }, { alpha }) => ({ out: out.add(x.mul(alpha)) }) });

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
  ADD.run(out.length, out, a, b);
  return out;
}

/** `out[i] = a[i] − b[i]`. All three have the same length; `out` may alias `a` and/or `b`. Returns `out`. */
export function sub(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  checkSameLength('sub', out, a, b);
  SUB.run(out.length, out, a, b);
  return out;
}

/** `out[i] = a[i] · b[i]` (Hadamard product). Same lengths; `out` may alias `a` and/or `b`. Returns `out`. */
export function mul(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  checkSameLength('mul', out, a, b);
  MUL.run(out.length, out, a, b);
  return out;
}

/** `out[i] = alpha · x[i]` (alpha rounded to float32). Same length; `out` may alias `x` (in-place scaling). Returns `out`. */
export function scale(out: Float32Array, alpha: number, x: Float32Array): Float32Array {
  checkSameLength('scale', out, x);
  SCALE.run(out.length, out, x, alpha);
  return out;
}

/** `out[i] = x[i] + value` (value rounded to float32). Same length; `out` may alias `x`. Returns `out`. */
export function addScalar(out: Float32Array, x: Float32Array, value: number): Float32Array {
  checkSameLength('addScalar', out, x);
  ADD_SCALAR.run(out.length, out, x, value);
  return out;
}

/**
 * `out[i] += alpha · x[i]` (BLAS axpy with the destination first; the product rounded to float32, then
 * the sum, no fused multiply-add; alpha rounded to float32). Same length. `out` may alias `x` exactly
 * (giving `out *= 1 + alpha`), but not a shifted overlapping view. Returns `out`.
 */
export function axpy(out: Float32Array, alpha: number, x: Float32Array): Float32Array {
  checkSameLength('axpy', out, x);
  AXPY.run(out.length, out, x, alpha);
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

/**
 * ReLU: `out[i] = x[i] <= 0 ? 0 : x[i]` (never −0; a NaN passes through, as torch.relu, so a bad
 * value is never silently turned into a valid activation). Same length;
 * `out` may alias `x`. Returns `out`.
 *
 * Branch-free: the comparison becomes an all-ones / all-zeros mask applied to the float's bits. On
 * activations whose signs are coin flips the ternary mispredicts half the time and ran 4–5× slower.
 */
export function relu(out: Float32Array, x: Float32Array): Float32Array {
  checkSameLength('relu', out, x);
  RELU.run(out.length, out, x);
  return out;
}

/**
 * ReLU backward: `dx[i] = x[i] <= 0 ? 0 : dy[i]` with `x` the forward input — torch's
 * threshold_backward exactly, so a NaN `x` passes `dy` through (bit-exact, NaN and infinities in `dy`
 * included). Same lengths; `dx` may alias `dy`. Branch-free like
 * {@link relu}. Returns `dx`.
 */
export function reluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array): Float32Array {
  checkSameLength('reluBackward', dx, dy, x);
  RELU_BACKWARD.run(dx.length, dx, dy, x);
  return dx;
}
