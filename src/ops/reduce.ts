// reduce.ts: reductions over axes with keepDims, forward and backward: sum, mean, max and min (the
// gradient routed as PyTorch routes it), var (with Bessel's correction), and argmax/argmin (no
// gradient). Every reduction walks the input as [outer, reduced, inner] and sums in doubles.
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { alloc, asVariable, inversePermutation, normalizeAxes, normalizeAxis, permuteData, record, scaled, tracking } from './op-helpers.js';
import { Variable, type OpInput, type ReduceOptions } from './variable.js';
import { attrsEnabled } from './tape.js';

/** Options of {@link variance}. */
export interface VarOptions extends ReduceOptions {
  /**
   * Subtracted from the element count in the divisor: Σ(x − mean)² / (n − correction). Default 1
   * (the unbiased estimate, torch.var's default); 0 gives the population variance.
   */
  readonly correction?: number;
  /** Shorthand for the correction: true is 1, false is 0 (torch's `unbiased`). Give one or the other. */
  readonly unbiased?: boolean;
}

/**
 * How a reduction walks its input: as [outer, r, inner] (r = product of the reduced axes), after
 * moving the reduced axes last (`perm`) when they are not one contiguous run.
 */
interface Layout {
  readonly shape: readonly number[];
  readonly keptShape: number[];
  readonly outShape: number[];
  readonly outer: number;
  readonly r: number;
  readonly inner: number;
  readonly perm: number[] | null;
}

function layoutOf(x: Variable, axes: number | readonly number[] | undefined, keepDims: boolean, op: string): Layout {
  const shape = x.shape;
  const rank = shape.length;
  let list: number[];
  if (rank === 0) {
    // A scalar reduces over nothing; axis 0 / −1 are accepted as by PyTorch.
    if (axes !== undefined) for (const a of typeof axes === 'number' ? [axes] : axes) normalizeAxis(a, 1, op);
    list = [];
  } else {
    list = normalizeAxes(axes, rank, op);
  }
  const keptShape = shape.map((d, i) => (list.includes(i) ? 1 : d));
  const outShape = keepDims ? keptShape : shape.filter((_, i) => !list.includes(i));
  const r = list.reduce((p, i) => p * shape[i], 1);
  const contiguous = list.length === 0 || list[list.length - 1] - list[0] + 1 === list.length;
  if (contiguous) {
    const first = list.length === 0 ? rank : list[0];
    const last = list.length === 0 ? rank - 1 : list[list.length - 1];
    let outer = 1;
    for (let i = 0; i < first; i++) outer *= shape[i];
    let inner = 1;
    for (let i = last + 1; i < rank; i++) inner *= shape[i];
    return { shape, keptShape, outShape, outer, r, inner, perm: null };
  }
  const kept = shape.map((_, i) => i).filter((i) => !list.includes(i));
  return { shape, keptShape, outShape, outer: shapeSize(kept.map((i) => shape[i])), r, inner: 1, perm: [...kept, ...list] };
}

/** The input's data in the layout's order (itself when no permutation is needed). */
function toLayout(data: Float32Array, l: Layout): Float32Array {
  return l.perm === null ? data : permuteData(data, l.shape, l.perm);
}

/** A gradient in the layout's order back in the input's order. */
function fromLayout(data: Float32Array, l: Layout): Float32Array {
  if (l.perm === null) return data;
  return permuteData(data, l.perm.map((a) => l.shape[a]), inversePermutation(l.perm));
}

/** Σ over r of x[outer, r, inner] in doubles, rounded once into out[outer, inner]. */
function sumLayout(out: Float32Array, x: Float32Array, outer: number, r: number, inner: number): Float32Array {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * r;
      let s = 0;
      for (let k = 0; k < r; k++) s += x[base + k];
      out[o] = s;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * r * inner;
    for (let k = 0; k < r; k++) {
      const row = base + k * inner;
      for (let j = 0; j < inner; j++) acc[j] += x[row + j];
    }
    const dst = o * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = acc[j];
  }
  return out;
}

/** g[outer, inner] repeated over r into [outer, r, inner] (the backward of a sum). */
function expandLayout(g: Float32Array, outer: number, r: number, inner: number): Float32Array {
  const out = alloc(outer * r * inner);
  if (out.length === 0) return out;
  for (let o = 0; o < outer; o++) {
    const src = o * inner;
    if (inner === 1) {
      out.fill(g[o], o * r, (o + 1) * r);
      continue;
    }
    const row = g.subarray(src, src + inner);
    for (let k = 0; k < r; k++) out.set(row, (o * r + k) * inner);
  }
  return out;
}

function sumLike(op: 'sum' | 'mean', xIn: OpInput, axes: number | readonly number[] | undefined, options: ReduceOptions): Variable {
  const x = asVariable(xIn, op, 'x');
  const l = layoutOf(x, axes, options.keepDims === true, op);
  let y = sumLayout(alloc(l.outer * l.inner), toLayout(x.data, l), l.outer, l.r, l.inner);
  if (op === 'mean') {
    if (l.r === 0) y.fill(NaN);
    else if (l.r !== 1) y = scaled(y, 1 / l.r);
  }
  const value = new Tensor(y, l.outShape);
  if (!tracking(x)) return new Variable(value);
  return record(op, value, [x], [], (g) => {
    const gs = op === 'mean' && l.r > 1 ? scaled(g, 1 / l.r) : g;
    return [fromLayout(expandLayout(gs, l.outer, l.r, l.inner), l)];
  });
}

/**
 * Σ over `axes` (all when omitted; negative axes count from the end; `[]` reduces nothing), summed
 * in doubles. [..., d_axis, ...] → the shape without the axes, or with size 1 there when
 * `keepDims`. An empty axis sums to 0.
 */
export function sum(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduced(sumLike('sum', x, axes, options), axes, options);
}

/** Mean over `axes` (all when omitted), shapes as {@link sum}; NaN over an empty axis (as PyTorch). */
export function mean(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduced(sumLike('mean', x, axes, options), axes, options);
}

/**
 * The position of the extreme along r for each (outer, inner): the first maximum (or minimum), and
 * the first NaN when there is one (so NaN propagates, as PyTorch).
 */
function extremeLayout(values: Float32Array, index: Int32Array, x: Float32Array, l: Layout, sign: 1 | -1): void {
  const { outer, r, inner } = l;
  for (let o = 0; o < outer; o++) {
    const base = o * r * inner;
    for (let j = 0; j < inner; j++) {
      let best = x[base + j];
      let at = 0;
      for (let k = 1; k < r; k++) {
        const v = x[base + k * inner + j];
        if ((sign > 0 ? v > best : v < best) || (v !== v && best === best)) {
          best = v;
          at = k;
        }
      }
      values[o * inner + j] = best;
      index[o * inner + j] = at;
    }
  }
}

function extreme(op: 'max' | 'min', xIn: OpInput, axes: number | readonly number[] | undefined, options: ReduceOptions): Variable {
  const x = asVariable(xIn, op, 'x');
  const l = layoutOf(x, axes, options.keepDims === true, op);
  if (l.r === 0) throw new Error(`${op}: cannot reduce over an empty axis (shape ${formatShape(x.shape)}); the result has no identity`);
  const xl = toLayout(x.data, l);
  const count = l.outer * l.inner;
  const y = alloc(count);
  const index = new Int32Array(count);
  extremeLayout(y, index, xl, l, op === 'max' ? 1 : -1);
  const value = new Tensor(y, l.outShape);
  if (!tracking(x)) return new Variable(value);
  // torch.max(x, dim) sends the gradient to the returned index; torch.max(x) and torch.amax over
  // several axes split it evenly between tied elements.
  const oneAxis = typeof axes === 'number' || (axes !== undefined && axes.length === 1);
  const { outer, r, inner } = l;
  return record(op, value, [x], [x], (g) => {
    const gx = alloc(outer * r * inner);
    if (oneAxis) {
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) gx[(o * r + index[o * inner + j]) * inner + j] = g[o * inner + j];
      }
      return [fromLayout(gx, l)];
    }
    const xd = toLayout(x.data, l);
    for (let o = 0; o < outer; o++) {
      const base = o * r * inner;
      for (let j = 0; j < inner; j++) {
        const best = y[o * inner + j];
        const isNaN = best !== best;
        let ties = 0;
        for (let k = 0; k < r; k++) {
          const v = xd[base + k * inner + j];
          if (v === best || (isNaN && v !== v)) ties++;
        }
        const share = g[o * inner + j] / ties;
        for (let k = 0; k < r; k++) {
          const v = xd[base + k * inner + j];
          if (v === best || (isNaN && v !== v)) gx[base + k * inner + j] = share;
        }
      }
    }
    return [fromLayout(gx, l)];
  });
}

/**
 * Largest value over `axes` (all when omitted), shapes as {@link sum}; NaN if the group has a NaN.
 * Gradient as PyTorch: with one axis (torch.max(x, dim)) all of it goes to the first maximal element;
 * over several or all axes (torch.amax, torch.max(x)) it is split evenly between tied maxima.
 * Throws on an empty axis.
 */
export function max(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduced(extreme('max', x, axes, options), axes, options);
}

/** Smallest value over `axes`; everything else as {@link max}. */
export function min(x: OpInput, axes?: number | readonly number[], options: ReduceOptions = {}): Variable {
  return reduced(extreme('min', x, axes, options), axes, options);
}

function argExtreme(op: 'argmax' | 'argmin', xIn: OpInput, axis: number | undefined, options: ReduceOptions): Tensor {
  const x = asVariable(xIn, op, 'x');
  const whole = axis === undefined;
  const l = whole ? layoutOf(x, undefined, false, op) : layoutOf(x, axis, options.keepDims === true, op);
  if (l.r === 0) throw new Error(`${op}: cannot reduce over an empty axis (shape ${formatShape(x.shape)})`);
  const count = l.outer * l.inner;
  const index = new Int32Array(count);
  extremeLayout(alloc(count), index, toLayout(x.data, l), l, op === 'argmax' ? 1 : -1);
  const out = alloc(count);
  for (let i = 0; i < count; i++) out[i] = index[i];
  return new Tensor(out, whole ? [] : l.outShape);
}

/**
 * Index of the first largest element along `axis` (over the flattened input when omitted), as a
 * float Tensor of indices (no gradient; the same index torch.max(x, dim) returns).
 */
export function argmax(x: OpInput, axis?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('argmax', x, axis, options);
}

/** Index of the first smallest element along `axis`; as {@link argmax}. */
export function argmin(x: OpInput, axis?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('argmin', x, axis, options);
}

/**
 * Variance over `axes` (all when omitted): Σ(x − mean)² / (n − correction), correction 1 by default
 * (torch.var's unbiased estimate), shapes as {@link sum}. Two passes in doubles. With n − correction
 * ≤ 0 the result is Inf or NaN, as in PyTorch. Gradient 2·(x − mean)·g / (n − correction).
 */
export function variance(xIn: OpInput, axes?: number | readonly number[], options: VarOptions = {}): Variable {
  const x = asVariable(xIn, 'var', 'x');
  if (options.unbiased !== undefined && options.correction !== undefined) {
    throw new Error('var: give either correction or unbiased, not both');
  }
  const correction = options.correction ?? (options.unbiased === false ? 0 : 1);
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new Error(`var: correction must be a finite number ≥ 0, got ${String(correction)}`);
  }
  const l = layoutOf(x, axes, options.keepDims === true, 'var');
  const { outer, r, inner } = l;
  const xl = toLayout(x.data, l);
  const count = outer * inner;
  const means = new Float64Array(count);
  const y = alloc(count);
  const divisor = Math.max(0, r - correction);
  for (let o = 0; o < outer; o++) {
    const base = o * r * inner;
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += xl[base + k * inner + j];
      const m = s / r;
      let ss = 0;
      for (let k = 0; k < r; k++) {
        const d = xl[base + k * inner + j] - m;
        ss += d * d;
      }
      means[o * inner + j] = m;
      y[o * inner + j] = ss / divisor;
    }
  }
  const value = new Tensor(y, l.outShape);
  if (!tracking(x)) return new Variable(value);
  return reduced(record('var', value, [x], [x], (g) => {
    const xd = toLayout(x.data, l);
    const gx = alloc(outer * r * inner);
    for (let o = 0; o < outer; o++) {
      const base = o * r * inner;
      for (let j = 0; j < inner; j++) {
        const c = 2 * g[o * inner + j] / divisor;
        const m = means[o * inner + j];
        for (let k = 0; k < r; k++) gx[base + k * inner + j] = c * (xd[base + k * inner + j] - m);
      }
    }
    return [fromLayout(gx, l)];
  }), axes, options, correction);
}

/**
 * `out` with its reduction's arguments on its node while a trace runs: the reduced axes (sorted,
 * non-negative), keepDims, and var's correction.
 */
function reduced(out: Variable, axes: number | readonly number[] | undefined, options: ReduceOptions, correction?: number): Variable {
  if (!attrsEnabled() || out.node === null) return out;
  const rank = out.node.inputs[0].shape.length;
  const list = rank === 0 ? [] : normalizeAxes(axes, rank, out.node.op);
  out.node.attrs = correction === undefined ? { axes: list, keepDims: options.keepDims === true } : { axes: list, keepDims: options.keepDims === true, correction };
  return out;
}

/** {@link variance} under PyTorch's name: `ops.var(x, axes, options)`. */
export { variance as var };
