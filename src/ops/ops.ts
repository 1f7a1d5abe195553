// ops.ts: the differentiable ops on Variables, forward and backward each: elementwise arithmetic with
// NumPy broadcasting, unary maps and activations (compiled SIMD elementwise kernels), reductions,
// reshape/transpose, matmul through gemm, softmax/logSoftmax, and the losses crossEntropy and mse.
import { opArray } from './buffers.js';
import {
  defineElementwise, gemm, softmaxRows, logSoftmaxRows,
  RELU, RELU_BACKWARD, TANH, SIGMOID, type Kernel, type Value,
} from '../plugin/index.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { Node, isGradEnabled, type BackwardFn } from './tape.js';
import { installVariableOps, Variable, type OpInput, type ReduceOptions } from './variable.js';

export type { OpInput, ReduceOptions } from './variable.js';

// ---- Kernels: compiled on first use (not at import, so loading the library compiles nothing). ----

type Body = (a: Record<string, Value>, s: Record<string, Value>) => Record<string, Value>;
const kernels = new Map<string, Kernel>();
function kernel(name: string, arrays: readonly string[], body: Body, scalars: readonly string[] = []): Kernel {
  let k = kernels.get(name);
  if (k === undefined) {
    k = defineElementwise({ name: `ops-${name}`, arrays, scalars, body });
    kernels.set(name, k);
  }
  return k;
}
const SQRT1_2 = Math.SQRT1_2;
// 1/√(2π): the standard normal density's constant (PyTorch's M_2_SQRTPI · M_SQRT1_2 · 0.5).
const INV_SQRT_2PI = 2 / Math.sqrt(Math.PI) * Math.SQRT1_2 * 0.5;

const K = {
  add: () => kernel('add', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.add(b) })),
  sub: () => kernel('sub', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.sub(b) })),
  mul: () => kernel('mul', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.mul(b) })),
  div: () => kernel('div', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.div(b) })),
  // d(a/b)/db = −g·a/b², in PyTorch's order −g·((a/b)/b).
  divGradB: () => kernel('div-grad-b', ['y', 'g', 'a', 'b'], ({ g, a, b }) => ({ y: g.mul(a.div(b).div(b)).neg() })),
  neg: () => kernel('neg', ['y', 'x'], ({ x }) => ({ y: x.neg() })),
  scale: () => kernel('scale', ['y', 'x'], ({ x }, { s }) => ({ y: x.mul(s) }), ['s']),
  exp: () => kernel('exp', ['y', 'x'], ({ x }) => ({ y: x.exp() })),
  log: () => kernel('log', ['y', 'x'], ({ x }) => ({ y: x.log() })),
  sqrt: () => kernel('sqrt', ['y', 'x'], ({ x }) => ({ y: x.sqrt() })),
  sqrtGrad: () => kernel('sqrt-grad', ['y', 'g', 'r'], ({ g, r }) => ({ y: g.div(r.mul(2)) })),
  tanhGrad: () => kernel('tanh-grad', ['y', 'g', 't'], ({ g, t }) => ({ y: g.mul(t.mul(t).neg().add(1)) })),
  sigmoidGrad: () => kernel('sigmoid-grad', ['y', 'g', 's'], ({ g, s }) => ({ y: g.mul(s.neg().add(1).mul(s)) })),
  // GELU (erf form), in PyTorch's order: x·0.5·(1 + erf(x/√2)).
  gelu: () => kernel('gelu', ['y', 'x'], ({ x }) => ({ y: x.mul(0.5).mul(x.mul(SQRT1_2).erf().add(1)) })),
  // d gelu/dx = Φ(x) + x·φ(x), Φ(x) = 0.5·(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
  geluGrad: () => kernel('gelu-grad', ['y', 'g', 'x'], ({ g, x }) => {
    const cdf = x.mul(SQRT1_2).erf().add(1).mul(0.5);
    const pdf = x.mul(x).mul(-0.5).exp().mul(INV_SQRT_2PI);
    return { y: g.mul(cdf.add(x.mul(pdf))) };
  }),
};

// ---- Helpers ----

function asVariable(x: OpInput, op: string, what: string): Variable {
  if (x instanceof Variable) return x;
  if (x instanceof Tensor) return new Variable(x);
  if (typeof x === 'number') return new Variable(new Tensor(new Float32Array([x]), []));
  throw new Error(`${op}: ${what} must be a Variable, a Tensor or a number, got ${Array.isArray(x) ? 'an array' : String(x)}`);
}

function alloc(n: number): Float32Array {
  return opArray(n);
}

/**
 * The op's result: when grad mode is on and an input requires grad, a Variable with a Node holding
 * `backward` and the versions of `saved`; otherwise a plain Variable and no node (nothing recorded).
 */
function result(op: string, value: Tensor, inputs: readonly Variable[], saved: readonly Variable[], backward: () => BackwardFn): Variable {
  if (!isGradEnabled() || !inputs.some((v) => v.requiresGrad)) return new Variable(value);
  return new Variable(value, {}, new Node(op, inputs, saved, backward(), value.size));
}

/** NumPy broadcast of two shapes; throws naming both. */
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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Strides of `shape` (right-aligned in `rank` axes) with 0 on broadcast (size-1 or missing) axes of `out`. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): Int32Array {
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

/** `x` (of `shape`) repeated along the broadcast axes to `outShape`, as a new array. */
function expandTo(x: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  const n = shapeSize(outShape);
  const out = alloc(n);
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
  const index = new Int32Array(rank);
  let src = 0;
  for (let i = 0; i < n; i++) {
    out[i] = x[src];
    // Odometer over the output index; src follows with the (possibly zero) strides.
    for (let d = rank - 1; d >= 0; d--) {
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
function sumToShape(g: Float32Array, outShape: readonly number[], shape: readonly number[]): Float32Array {
  if (sameShape(shape, outShape)) return g;
  const size = shapeSize(shape);
  const acc = new Float64Array(size);
  const rank = outShape.length;
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
  const out = alloc(size);
  for (let i = 0; i < size; i++) out[i] = acc[i];
  return out;
}

function run2(k: Kernel, a: Float32Array, b: Float32Array): Float32Array {
  const y = alloc(a.length);
  k.run(a.length, y, a, b);
  return y;
}

function run1(k: Kernel, x: Float32Array): Float32Array {
  const y = alloc(x.length);
  k.run(x.length, y, x);
  return y;
}

function scaled(x: Float32Array, s: number): Float32Array {
  const y = alloc(x.length);
  K.scale().run(x.length, y, x, s);
  return y;
}

// ---- Binary arithmetic with broadcasting ----

type BinaryGrads = (g: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array) => [Float32Array | null, Float32Array | null];

function binary(
  op: string, aIn: OpInput, bIn: OpInput, forward: () => Kernel,
  saveA: boolean, saveB: boolean, grads: (needA: boolean, needB: boolean) => BinaryGrads,
): Variable {
  const a = asVariable(aIn, op, 'a');
  const b = asVariable(bIn, op, 'b');
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const ad = sameShape(a.shape, outShape) ? a.data : expandTo(a.data, a.shape, outShape);
  const bd = sameShape(b.shape, outShape) ? b.data : expandTo(b.data, b.shape, outShape);
  const y = run2(forward(), ad, bd);
  const saved: Variable[] = [];
  if (saveA) saved.push(a);
  if (saveB) saved.push(b);
  return result(op, new Tensor(y, outShape), [a, b], saved, () => {
    const needA = a.requiresGrad;
    const needB = b.requiresGrad;
    const fn = grads(needA, needB);
    return (g) => {
      // The expanded operands are rebuilt from the saved variables here (not kept alive by the graph).
      const ae = saveA && !sameShape(a.shape, outShape) ? expandTo(a.data, a.shape, outShape) : a.data;
      const be = saveB && !sameShape(b.shape, outShape) ? expandTo(b.data, b.shape, outShape) : b.data;
      const [ga, gb] = fn(g, ae, be, y);
      return [
        needA && ga !== null ? sumToShape(ga, outShape, a.shape) : null,
        needB && gb !== null ? sumToShape(gb, outShape, b.shape) : null,
      ];
    };
  });
}

/** a + b with NumPy broadcasting. */
export function add(a: OpInput, b: OpInput): Variable {
  return binary('add', a, b, K.add, false, false, () => (g) => [g, g]);
}

/** a − b with NumPy broadcasting. */
export function sub(a: OpInput, b: OpInput): Variable {
  return binary('sub', a, b, K.sub, false, false, (_, needB) => (g) => [g, needB ? run1(K.neg(), g) : null]);
}

/** a · b (elementwise) with NumPy broadcasting. */
export function mul(a: OpInput, b: OpInput): Variable {
  const av = asVariable(a, 'mul', 'a');
  const bv = asVariable(b, 'mul', 'b');
  return binary('mul', av, bv, K.mul, bv.requiresGrad, av.requiresGrad, (needA, needB) => (g, ae, be) => [
    needA ? run2(K.mul(), g, be) : null,
    needB ? run2(K.mul(), g, ae) : null,
  ]);
}

/** a / b (elementwise) with NumPy broadcasting. */
export function div(a: OpInput, b: OpInput): Variable {
  const av = asVariable(a, 'div', 'a');
  const bv = asVariable(b, 'div', 'b');
  return binary('div', av, bv, K.div, bv.requiresGrad, true, (needA, needB) => (g, ae, be) => {
    let gb: Float32Array | null = null;
    if (needB) {
      gb = alloc(g.length);
      K.divGradB().run(g.length, gb, g, ae, be);
    }
    return [needA ? run2(K.div(), g, be) : null, gb];
  });
}

// ---- Unary maps ----

function unary(op: string, xIn: OpInput, forward: (x: Float32Array) => Float32Array, saveInput: boolean,
  grad: (g: Float32Array, x: Float32Array, y: Float32Array) => Float32Array): Variable {
  const x = asVariable(xIn, op, 'x');
  const y = forward(x.data);
  return result(op, new Tensor(y, x.shape), [x], saveInput ? [x] : [], () => (g) => [grad(g, x.data, y)]);
}

/** −x. */
export function neg(x: OpInput): Variable {
  return unary('neg', x, (d) => run1(K.neg(), d), false, (g) => run1(K.neg(), g));
}

/** eˣ (float32 exp: ≤ 1 ulp). */
export function exp(x: OpInput): Variable {
  return unary('exp', x, (d) => run1(K.exp(), d), false, (g, _, y) => run2(K.mul(), g, y));
}

/** Natural log (NaN below zero, −Inf at zero). */
export function log(x: OpInput): Variable {
  return unary('log', x, (d) => run1(K.log(), d), true, (g, xd) => run2(K.div(), g, xd));
}

/** √x. */
export function sqrt(x: OpInput): Variable {
  return unary('sqrt', x, (d) => run1(K.sqrt(), d), false, (g, _, y) => run2(K.sqrtGrad(), g, y));
}

/**
 * x^p for a number exponent p (Math.pow per element, rounded to float32; negative bases work for
 * integer p). Gradient p·x^(p−1) (0 when p = 0).
 */
export function pow(xIn: OpInput, p: number): Variable {
  if (typeof p !== 'number' || Number.isNaN(p)) throw new Error(`pow: the exponent must be a number, got ${String(p)}`);
  return unary('pow', xIn, (d) => {
    const y = alloc(d.length);
    for (let i = 0; i < d.length; i++) y[i] = Math.pow(d[i], p);
    return y;
  }, true, (g, xd) => {
    const gx = alloc(g.length);
    if (p === 0) return gx;
    for (let i = 0; i < g.length; i++) gx[i] = g[i] * p * Math.pow(xd[i], p - 1);
    return gx;
  });
}

/** max(x, 0); gradient 0 at x ≤ 0 (as PyTorch). */
export function relu(x: OpInput): Variable {
  return unary('relu', x, (d) => {
    const y = alloc(d.length);
    RELU.run(d.length, y, d);
    return y;
  }, true, (g, xd) => {
    const gx = alloc(g.length);
    RELU_BACKWARD.run(g.length, gx, g, xd);
    return gx;
  });
}

/** tanh(x); gradient 1 − tanh². */
export function tanh(x: OpInput): Variable {
  return unary('tanh', x, (d) => {
    const y = alloc(d.length);
    TANH.run(d.length, y, d);
    return y;
  }, false, (g, _, y) => run2(K.tanhGrad(), g, y));
}

/** 1 / (1 + e^(−x)); gradient σ·(1 − σ). */
export function sigmoid(x: OpInput): Variable {
  return unary('sigmoid', x, (d) => {
    const y = alloc(d.length);
    SIGMOID.run(d.length, y, d);
    return y;
  }, false, (g, _, y) => run2(K.sigmoidGrad(), g, y));
}

/** GELU, exact (erf) form: x·Φ(x) = x·0.5·(1 + erf(x/√2)), as torch.nn.functional.gelu (approximate='none'). */
export function gelu(x: OpInput): Variable {
  return unary('gelu', x, (d) => run1(K.gelu(), d), true, (g, xd) => run2(K.geluGrad(), g, xd));
}

// ---- Reductions ----

function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
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

/** Options of {@link sum} and {@link mean}. */

function reduce(op: 'sum' | 'mean', xIn: OpInput, axes: number | readonly number[] | undefined, options: ReduceOptions): Variable {
  const x = asVariable(xIn, op, 'x');
  const shape = x.shape;
  const list = x.value.rank === 0 ? [] : normalizeAxes(axes, shape.length, op);
  const keptShape = shape.map((d, i) => (list.includes(i) ? 1 : d));
  const outShape = options.keepDims === true ? keptShape : shape.filter((_, i) => !list.includes(i));
  const count = list.reduce((p, i) => p * shape[i], 1);
  const summed = sumToShape(x.data, shape, keptShape);
  const size = shapeSize(keptShape);
  let y: Float32Array;
  if (summed === x.data) {
    y = alloc(size);
    y.set(summed);
  } else {
    y = summed;
  }
  if (op === 'mean') {
    if (count === 0) y.fill(NaN);
    else y = scaled(y, 1 / count);
  }
  return result(op, new Tensor(y, outShape), [x], [], () => (g) => {
    const gx = expandTo(g, keptShape, shape);
    return [op === 'mean' ? scaled(gx, 1 / count) : gx];
  });
}

/** Sum over `axes` (all when omitted; negative axes count from the end), summed in doubles. */
export function sum(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduce('sum', x, axes, options);
}

/** Mean over `axes` (all when omitted); NaN over an empty axis. */
export function mean(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduce('mean', x, axes, options);
}

// ---- Shape ops ----

/** A view with a new shape (one dimension may be −1), sharing the data and the version counter. */
export function reshape(xIn: OpInput, shape: readonly number[]): Variable {
  const x = asVariable(xIn, 'reshape', 'x');
  const value = x.value.reshape(shape);
  if (!isGradEnabled() || !x.requiresGrad) return x.viewOf(value, null);
  return x.viewOf(value, new Node('reshape', [x], [], (g) => [g], value.size));
}

function transposeData(x: Float32Array, rows: number, cols: number): Float32Array {
  const y = alloc(x.length);
  // x[r, c] at r·cols + c → y[c, r] at c·rows + r
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) y[c * rows + r] = x[o + c];
  }
  return y;
}

/** Transpose of a 2-D variable (a copy). */
export function transpose(xIn: OpInput): Variable {
  const x = asVariable(xIn, 'transpose', 'x');
  if (x.value.rank !== 2) throw new Error(`transpose: needs a 2-D variable, got shape ${formatShape(x.shape)}`);
  const [rows, cols] = x.shape;
  const y = transposeData(x.data, rows, cols);
  return result('transpose', new Tensor(y, [cols, rows]), [x], [], () => (g) => [transposeData(g, cols, rows)]);
}

// ---- Matmul ----

/**
 * Matrix product through gemm: [m, k]·[k, n] → [m, n]; batched [B, m, k]·[B, k, n] → [B, m, n];
 * and [B, m, k]·[k, n] → [B, m, n] (one weight for every batch entry). Backward uses gemm's
 * transposes: dA = dY·Bᵀ, dB = Aᵀ·dY (summed over the batch when B was shared).
 */
export function matmul(aIn: OpInput, bIn: OpInput): Variable {
  const a = asVariable(aIn, 'matmul', 'a');
  const b = asVariable(bIn, 'matmul', 'b');
  const ra = a.value.rank;
  const rb = b.value.rank;
  const shapes = `${formatShape(a.shape)} · ${formatShape(b.shape)}`;
  if (!((ra === 2 || ra === 3) && (rb === 2 || (rb === 3 && ra === 3)))) {
    throw new Error(`matmul: supports 2-D · 2-D, 3-D · 3-D and 3-D · 2-D, got ${shapes}`);
  }
  const k = a.shape[ra - 1];
  if (b.shape[rb - 2] !== k) throw new Error(`matmul: inner dimensions differ in ${shapes}`);
  const n = b.shape[rb - 1];
  // Batched (3-D · 3-D): one product per batch entry. Shared weight (3-D · 2-D): one 2-D product over
  // the stacked rows of a, so its dB is summed over the batch by gemm itself.
  const batch = rb === 3 ? a.shape[0] : 1;
  if (rb === 3 && b.shape[0] !== batch) throw new Error(`matmul: batch sizes differ in ${shapes}`);
  const mm = ra === 2 ? a.shape[0] : rb === 3 ? a.shape[1] : a.shape[0] * a.shape[1];
  const outShape = ra === 3 ? [a.shape[0], a.shape[1], n] : [a.shape[0], n];
  const y = alloc(batch * mm * n);
  for (let p = 0; p < batch; p++) {
    gemm(y.subarray(p * mm * n, (p + 1) * mm * n), a.data.subarray(p * mm * k, (p + 1) * mm * k),
      b.data.subarray(p * k * n, (p + 1) * k * n), mm, n, k);
  }
  return result('matmul', new Tensor(y, outShape), [a, b], [a, b], () => (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      ga = alloc(a.size);
      for (let p = 0; p < batch; p++) {
        gemm(ga.subarray(p * mm * k, (p + 1) * mm * k), g.subarray(p * mm * n, (p + 1) * mm * n),
          b.data.subarray(p * k * n, (p + 1) * k * n), mm, k, n, { transB: true });
      }
    }
    if (b.requiresGrad) {
      gb = alloc(b.size);
      for (let p = 0; p < batch; p++) {
        gemm(gb.subarray(p * k * n, (p + 1) * k * n), a.data.subarray(p * mm * k, (p + 1) * mm * k),
          g.subarray(p * mm * n, (p + 1) * mm * n), k, n, mm, { transA: true });
      }
    }
    return [ga, gb];
  });
}

// ---- Softmax family and losses ----

function lastAxis(x: Variable, op: string): { rows: number; cols: number } {
  if (x.value.rank === 0) throw new Error(`${op}: needs at least one axis, got a scalar`);
  const cols = x.shape[x.shape.length - 1];
  return { rows: cols === 0 ? 0 : x.size / cols, cols };
}

/** Softmax over the last axis (max-subtracted). Gradient y·(g − Σ g·y) per row. */
export function softmax(xIn: OpInput): Variable {
  const x = asVariable(xIn, 'softmax', 'x');
  const { rows, cols } = lastAxis(x, 'softmax');
  const y = softmaxRows(alloc(x.size), x.data, rows, cols);
  return result('softmax', new Tensor(y, x.shape), [x], [], () => (g) => {
    const gx = alloc(g.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += g[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) gx[o + j] = y[o + j] * (g[o + j] - dot);
    }
    return [gx];
  });
}

/** log softmax over the last axis. Gradient g − softmax·Σ g per row. */
export function logSoftmax(xIn: OpInput): Variable {
  const x = asVariable(xIn, 'logSoftmax', 'x');
  const { rows, cols } = lastAxis(x, 'logSoftmax');
  const y = logSoftmaxRows(alloc(x.size), x.data, rows, cols);
  return result('logSoftmax', new Tensor(y, x.shape), [x], [], () => (g) => {
    const gx = alloc(g.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let total = 0;
      for (let j = 0; j < cols; j++) total += g[o + j];
      for (let j = 0; j < cols; j++) gx[o + j] = g[o + j] - Math.exp(y[o + j]) * total;
    }
    return [gx];
  });
}

function readLabels(labels: ArrayLike<number> | Tensor, rows: number, cols: number): Int32Array {
  const values = labels instanceof Tensor ? labels.data : labels;
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new Error(`crossEntropy: labels must be an array of class indices, got ${String(labels)}`);
  }
  if (values.length !== rows) throw new Error(`crossEntropy: ${values.length} labels for ${rows} rows of logits`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = values[i];
    if (!Number.isInteger(c) || c < 0 || c >= cols) {
      throw new Error(`crossEntropy: label ${i} is ${c}, must be an integer class index in [0, ${cols - 1}]`);
    }
    out[i] = c;
  }
  return out;
}

/**
 * Softmax cross-entropy of `logits` [N, C] against integer class `labels` (N of them, each in
 * [0, C)), mean over the N rows: −(1/N)·Σ log softmax(logits)[i, labelᵢ]. A scalar; gradient
 * (softmax − onehot)/N. Same as torch.nn.functional.cross_entropy with reduction 'mean'.
 */
export function crossEntropy(logitsIn: OpInput, labels: ArrayLike<number> | Tensor): Variable {
  const x = asVariable(logitsIn, 'crossEntropy', 'logits');
  if (x.value.rank !== 2) throw new Error(`crossEntropy: logits must be 2-D [N, C], got shape ${formatShape(x.shape)}`);
  const [rows, cols] = x.shape;
  if (rows === 0) throw new Error('crossEntropy: logits have no rows (mean over an empty batch)');
  const target = readLabels(labels, rows, cols);
  const ls = logSoftmaxRows(alloc(x.size), x.data, rows, cols);
  let total = 0;
  for (let i = 0; i < rows; i++) total -= ls[i * cols + target[i]];
  const y = alloc(1);
  y[0] = total / rows;
  return result('crossEntropy', new Tensor(y, []), [x], [], () => (g) => {
    const gx = alloc(x.size);
    const s = g[0] / rows;
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let j = 0; j < cols; j++) gx[o + j] = Math.exp(ls[o + j]) * s;
      gx[o + target[i]] -= s;
    }
    return [gx];
  });
}

/** Mean squared error mean((pred − target)²) over every element (same shapes). A scalar. */
export function mse(predIn: OpInput, targetIn: OpInput): Variable {
  const p = asVariable(predIn, 'mse', 'pred');
  const t = asVariable(targetIn, 'mse', 'target');
  if (!sameShape(p.shape, t.shape)) throw new Error(`mse: pred has shape ${formatShape(p.shape)} but target has ${formatShape(t.shape)}`);
  const n = p.size;
  if (n === 0) throw new Error('mse: empty tensors (mean over no elements)');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = p.data[i] - t.data[i];
    total += d * d;
  }
  const y = alloc(1);
  y[0] = total / n;
  return result('mse', new Tensor(y, []), [p, t], [p, t], () => (g) => {
    const gp = alloc(n);
    const s = 2 * g[0] / n;
    for (let i = 0; i < n; i++) gp[i] = (p.data[i] - t.data[i]) * s;
    return [p.requiresGrad ? gp : null, t.requiresGrad ? run1(K.neg(), gp) : null];
  });
}

// Variable's methods (x.add(y), x.relu(), …) call these through the table variable.ts keeps.
installVariableOps({
  add, sub, mul, div, neg, exp, log, sqrt, pow, matmul, sum, mean, reshape, transpose, relu, tanh, sigmoid, gelu, softmax, logSoftmax,
});
export * from './nn.js';
