// op-helpers.ts: what every differentiable op file shares: operand coercion, output allocation in the
// shared heap, recording a Node only when tracking, compiled-kernel caching, NumPy broadcasting
// (shapes, expand, sum back), axis checks, and the strided gather/scatter behind the shape ops.
import {
  colSums, defineElementwise, heapFloat32, isHeapArray, rowSums, sharedHeap, type Kernel, type Value,
} from '../plugin/index.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { opArray, opArrayUninit } from './buffers.js';
import { Node, isGradEnabled, type BackwardFn } from './tape.js';
import { Variable, type OpInput } from './variable.js';

/** An elementwise kernel body: arrays and scalars in, named output arrays out. */
export type KernelBody = (a: Record<string, Value>, s: Record<string, Value>) => Record<string, Value>;

const kernels = new Map<string, Kernel>();
/** Kernels whose TypeScript twin is much slower than their SIMD code (exp, log, erf, tanh inside). */
const heavyKernels = new WeakSet<Kernel>();

/**
 * The compiled elementwise kernel `ops-<name>`, compiled on first use (so importing the library
 * compiles nothing) and cached. Call it through {@link runKernel}. `heavy` marks a kernel built on
 * exp/log/erf/tanh, worth staging ordinary arrays through the heap for.
 */
export function kernel(name: string, arrays: readonly string[], body: KernelBody, scalars: readonly string[] = [], heavy = false): Kernel {
  let k = kernels.get(name);
  if (k === undefined) {
    k = defineElementwise({ name: `ops-${name}`, arrays, scalars, body });
    kernels.set(name, k);
  }
  if (heavy) heavyKernels.add(k);
  return k;
}

/** Marks a kernel (e.g. a built-in such as TANH) as heavy: see {@link kernel}. Returns it. */
export function markHeavy(k: Kernel): Kernel {
  heavyKernels.add(k);
  return k;
}

/** `x` as a Variable: a Tensor becomes a constant, a number a rank-0 constant; anything else throws naming `op`. */
export function asVariable(x: OpInput, op: string, what: string): Variable {
  if (x instanceof Variable) return x;
  if (x instanceof Tensor) return new Variable(x);
  if (typeof x === 'number') return new Variable(new Tensor(new Float32Array([x]), []));
  throw new Error(`${op}: ${what} must be a Variable, a Tensor or a number, got ${Array.isArray(x) ? 'an array' : String(x)}`);
}

/**
 * A zero-filled float32 array of `n` for an op's output or gradient, from {@link opArray}: the
 * active StepBuffers round's recycled array when there is one (a steady training loop allocates
 * nothing), else a fresh shared-heap array.
 */
export function alloc(n: number): Float32Array {
  return opArray(n);
}

/**
 * As {@link alloc}, for an array the op overwrites in full before reading it (a gemm without
 * accumulate, a kernel map, a copy): a recycled array is not zero-filled again (see {@link opArrayUninit}).
 */
export function allocUninit(n: number): Float32Array {
  return opArrayUninit(n);
}

/** Below this many elements a kernel runs its TypeScript twin in place rather than staging through the heap. */
export const STAGE_MIN = 2048;
/** Heap staging buffers, one per operand slot: grown on demand and kept, so staging allocates nothing in steady state. */
const stageBuffers: Float32Array[] = [];
const stageOperands: (Float32Array | number)[] = [];

function stageBuffer(slot: number, n: number): Float32Array | null {
  const s = stageBuffers[slot];
  if (s !== undefined && s.length >= n) return s;
  const grown = heapFloat32(Math.max(n, s === undefined ? 0 : Math.min(2 * s.length, 1 << 26)));
  if (!isHeapArray(grown)) return null;
  stageBuffers[slot] = grown;
  return grown;
}

/**
 * Runs the elementwise kernel `k` over [0, n): `operands` are its arrays then its scalars, and the
 * first `outputs` arrays are the ones it writes. For a heavy kernel (see {@link kernel}), arrays
 * outside the shared heap (a user's own Float32Array data, or every array when the heap could not
 * grow) are copied into reused heap buffers so the SIMD code and the worker threads run on them, and the outputs copied back: the
 * copies cost far less than the twin's scalar exp/erf/tanh (7.5× slower); for light kernels (add,
 * mul) they cost more than they save, so those run the twin in place. Both give the same bits.
 */
export function runKernel(k: Kernel, n: number, outputs: number, ...operands: (Float32Array | number)[]): void {
  let plain = false;
  for (let a = 0; a < k.arrays; a++) if (!isHeapArray(operands[a] as Float32Array)) plain = true;
  if (!plain || n < STAGE_MIN || !heavyKernels.has(k) || sharedHeap() === null) {
    k.run(n, ...operands);
    return;
  }
  stageOperands.length = operands.length;
  for (let a = 0; a < operands.length; a++) {
    const x = operands[a];
    if (a >= k.arrays || isHeapArray(x as Float32Array)) {
      stageOperands[a] = x;
      continue;
    }
    const s = stageBuffer(a, n);
    if (s === null) {
      k.run(n, ...operands);
      return;
    }
    if (a >= outputs) s.set((x as Float32Array).length === n ? x as Float32Array : (x as Float32Array).subarray(0, n));
    stageOperands[a] = s;
  }
  k.run(n, ...stageOperands);
  for (let a = 0; a < outputs; a++) {
    const x = operands[a] as Float32Array;
    if (stageOperands[a] !== x) x.set((stageOperands[a] as Float32Array).subarray(0, n));
  }
}

/** `x·s` through a compiled kernel, into a new array. */
export function scaled(x: Float32Array, s: number): Float32Array {
  const y = allocUninit(x.length);
  runKernel(kernel('scale', ['y', 'x'], ({ x: v }, { s: c }) => ({ y: v.mul(c) }), ['s']), x.length, 1, y, x, s);
  return y;
}

/** `−x` through a compiled kernel, into a new array. */
export function negated(x: Float32Array): Float32Array {
  const y = allocUninit(x.length);
  runKernel(kernel('neg', ['y', 'x'], ({ x: v }) => ({ y: v.neg() })), x.length, 1, y, x);
  return y;
}

/** Whether an op on these inputs records a Node: grad mode is on and one of them requires grad. */
export function tracking(a: Variable, b?: Variable, c?: Variable): boolean {
  if (!isGradEnabled()) return false;
  return a.requiresGrad || (b !== undefined && b.requiresGrad) || (c !== undefined && c.requiresGrad);
}

/** Whether any of `inputs` requires grad while grad mode is on. */
export function trackingAny(inputs: readonly Variable[]): boolean {
  if (!isGradEnabled()) return false;
  for (const v of inputs) if (v.requiresGrad) return true;
  return false;
}

/**
 * The result of a tracked op: a Variable over `value` whose Node holds `backward`, the inputs and
 * the versions of `saved`. Call it only when {@link tracking} is true, so an untracked op builds no
 * closure and no node.
 */
export function record(op: string, value: Tensor, inputs: readonly Variable[], saved: readonly Variable[], backward: BackwardFn): Variable {
  return new Variable(value, {}, new Node(op, inputs, saved, backward, value.size));
}

/** NumPy broadcast of two shapes; throws naming both and the op. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (axis ${i} of the result: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides of `shape`, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides of `shape` (right-aligned in `rank` axes) with 0 on broadcast (size-1 or missing) axes of `out`. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): Int32Array {
  const rank = out.length;
  const strides = new Int32Array(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const j = i - (rank - shape.length);
    const d = j >= 0 ? shape[j] : 1;
    strides[i] = d === 1 && out[i] !== 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

/**
 * `x` (of `shape`) repeated along the broadcast axes to `outShape`, as a new array. Rows that are
 * contiguous in `x` are copied with `set`, so only the broadcast axes cost per-element work.
 */
export function expandTo(x: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  return expandInto(allocUninit(shapeSize(outShape)), x, shape, outShape);
}

/** {@link expandTo} into `out` (of `outShape`'s size; every element is written). Returns `out`. */
export function expandInto(out: Float32Array, x: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  const n = out.length;
  if (n === 0) return out;
  if (sameShape(shape, outShape)) {
    out.set(x);
    return out;
  }
  if (x.length === 1) {
    out.fill(x[0]);
    return out;
  }
  const rank = outShape.length;
  const strides = broadcastStrides(shape, outShape);
  // The trailing axes where x is not broadcast form one contiguous run copied at once.
  let run = 1;
  let axis = rank - 1;
  while (axis >= 0 && strides[axis] === run) {
    run *= outShape[axis];
    axis--;
  }
  const index = new Int32Array(rank);
  let src = 0;
  for (let o = 0; o < n; o += run) {
    if (run === 1) out[o] = x[src];
    else if (run === x.length) out.set(x, o); // x repeated whole (a bias row): no view per run
    else out.set(x.subarray(src, src + run), o);
    // Odometer over the output axes above the run; src follows with the (possibly zero) strides.
    for (let d = axis; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** `g` (of `outShape`) summed over the axes that broadcasting expanded, back to `shape` (sums in doubles). */
export function sumToShape(g: Float32Array, outShape: readonly number[], shape: readonly number[]): Float32Array {
  if (sameShape(shape, outShape)) return g;
  const size = shapeSize(shape);
  if (g.length === 0) return alloc(size); // sums over nothing: zeros
  const out = allocUninit(size); // every path below overwrites all of out
  if (size === 1) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i];
    out[0] = s;
    return out;
  }
  const rank = outShape.length;
  // Common layouts: broadcast over leading axes only (a bias [C] against [N, C]: column sums) or
  // over trailing axes only ([N, 1] against [N, C]: row sums).
  const pad = rank - shape.length;
  let split = 0;
  while (split < rank && (split < pad || shape[split - pad] === 1)) split++;
  let suffixKept = true;
  for (let i = split; i < rank; i++) if (shape[i - pad] !== outShape[i]) suffixKept = false;
  if (suffixKept) return colSums(out, g, g.length / size, size);
  let keep = 0;
  while (keep < rank && keep >= pad && shape[keep - pad] === outShape[keep]) keep++;
  let suffixOnes = keep >= pad;
  for (let i = keep; i < rank; i++) if (i < pad || shape[i - pad] !== 1) suffixOnes = false;
  if (pad === 0 && suffixOnes) return rowSums(out, g, size, g.length / size);
  const acc = new Float64Array(size);
  const strides = broadcastStrides(shape, outShape);
  const index = new Int32Array(rank);
  let dst = 0;
  for (let i = 0; i < g.length; i++) {
    acc[dst] += g[i];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      dst += strides[d];
      if (index[d] < outShape[d]) break;
      dst -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
  for (let i = 0; i < size; i++) out[i] = acc[i];
  return out;
}

/** `axis` (negative counts from the end) as an index in [0, rank); throws naming the op otherwise. */
export function normalizeAxis(axis: number, rank: number, op: string, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const allowed = rank === 0 ? 'none: it has no axes' : `${-rank} … ${rank - 1}`;
    throw new Error(`${op}: ${what} ${axis} is out of range for a variable of rank ${rank} (allowed ${allowed})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** `axes` (all when undefined) as sorted distinct indices; throws on a repeat or an out-of-range axis. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      throw new Error(`${op}: axis ${a} is out of range for a variable of rank ${rank} (allowed ${-rank} … ${rank - 1})`);
    }
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw new Error(`${op}: axis ${a} is listed twice`);
    out.push(n);
  }
  return out.sort((p, q) => p - q);
}

/**
 * Strided gather: `out[i]` (row-major over `shape`) = `x[base + Σ index_d·strides_d]`. The last axis
 * is the inner loop (a `set` of a contiguous run when its stride is 1). Returns `out`.
 */
export function gather(out: Float32Array, x: Float32Array, shape: readonly number[], base: number, strides: readonly number[]): Float32Array {
  const n = out.length;
  if (n === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[base];
    return out;
  }
  const len = shape[rank - 1];
  const s = strides[rank - 1];
  const index = new Int32Array(rank);
  let src = base;
  for (let o = 0; o < n; o += len) {
    if (s === 1) out.set(x.subarray(src, src + len), o);
    else for (let j = 0; j < len; j++) out[o + j] = x[src + j * s];
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/**
 * Strided scatter, the adjoint of {@link gather} when positions do not repeat:
 * `out[base + Σ index_d·strides_d] = x[i]` for `x` row-major over `shape`. Returns `out`.
 */
export function scatter(out: Float32Array, x: Float32Array, shape: readonly number[], base: number, strides: readonly number[]): Float32Array {
  const n = x.length;
  if (n === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[base] = x[0];
    return out;
  }
  const len = shape[rank - 1];
  const s = strides[rank - 1];
  const index = new Int32Array(rank);
  let dst = base;
  for (let o = 0; o < n; o += len) {
    if (s === 1) out.set(x.subarray(o, o + len), dst);
    else for (let j = 0; j < len; j++) out[dst + j * s] = x[o + j];
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      dst += strides[d];
      if (index[d] < shape[d]) break;
      dst -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** `x` (of `shape`) with its axes reordered by `axes` (output axis i is input axis axes[i]), as a new array. */
export function permuteData(x: Float32Array, shape: readonly number[], axes: readonly number[]): Float32Array {
  const strides = stridesOf(shape);
  return gather(allocUninit(x.length), x, axes.map((a) => shape[a]), 0, axes.map((a) => strides[a]));
}

/** The inverse permutation of `axes`. */
export function inversePermutation(axes: readonly number[]): number[] {
  const inv = new Array<number>(axes.length);
  for (let i = 0; i < axes.length; i++) inv[axes[i]] = i;
  return inv;
}
