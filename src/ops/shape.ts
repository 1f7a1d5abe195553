// shape.ts: the differentiable shape ops: views that share the data (reshape, squeeze, unsqueeze,
// flatten) and copies that move it (permute, transpose, concat, stack, slice, select, indexSelect,
// pad), each with its backward.
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { Node, attrsEnabled, isGradEnabled, withAttrs } from './tape.js';
import {
  alloc, asVariable, gather, inversePermutation, normalizeAxis, permuteData, record, scatter, stridesOf, tracking, trackingAny,
} from './op-helpers.js';
import { Variable, type OpInput } from './variable.js';

/** A view of `x` with `shape` (same data and version counter), recorded as one node when tracking. */
function view(x: Variable, shape: readonly number[], op: string): Variable {
  const value = x.value.reshape(shape);
  if (!isGradEnabled() || !x.requiresGrad) return x.viewOf(value, null);
  return x.viewOf(value, new Node(op, [x], [], (g) => [g], value.size));
}

/** A view with a new shape (one dimension may be −1, inferred), sharing the data and the version counter. */
export function reshape(xIn: OpInput, shape: readonly number[]): Variable {
  return view(asVariable(xIn, 'reshape', 'x'), shape, 'reshape');
}

/**
 * `x` with size-1 axes removed: all of them when `axes` is omitted, else those listed (an axis whose
 * size is not 1 is left alone, as torch.squeeze(dim)). A view.
 */
export function squeeze(xIn: OpInput, axes?: number | readonly number[]): Variable {
  const x = asVariable(xIn, 'squeeze', 'x');
  const rank = x.shape.length;
  let drop: Set<number>;
  if (axes === undefined) {
    drop = new Set(x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0));
  } else {
    drop = new Set();
    for (const a of typeof axes === 'number' ? [axes] : axes) {
      if (rank === 0) {
        normalizeAxis(a, 1, 'squeeze');
        continue;
      }
      const n = normalizeAxis(a, rank, 'squeeze');
      if (x.shape[n] === 1) drop.add(n);
    }
  }
  return view(x, x.shape.filter((_, i) => !drop.has(i)), 'squeeze');
}

/** `x` with a size-1 axis inserted at `axis` (in [−rank−1, rank], negative counts from the end of the result). A view. */
export function unsqueeze(xIn: OpInput, axis: number): Variable {
  const x = asVariable(xIn, 'unsqueeze', 'x');
  const n = normalizeAxis(axis, x.shape.length + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(n, 0, 1);
  return view(x, shape, 'unsqueeze');
}

/**
 * Axes `startDim` … `endDim` (inclusive; default 0 and −1) merged into one, as torch.flatten:
 * [2, 3, 4, 5] with startDim 1 → [2, 60]. A view. A scalar becomes [1].
 */
export function flatten(xIn: OpInput, startDim = 0, endDim = -1): Variable {
  const x = asVariable(xIn, 'flatten', 'x');
  const rank = x.shape.length;
  if (rank === 0) return view(x, [1], 'flatten');
  const s = normalizeAxis(startDim, rank, 'flatten', 'startDim');
  const e = normalizeAxis(endDim, rank, 'flatten', 'endDim');
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`);
  const merged = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return view(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)], 'flatten');
}

/**
 * `x` with its axes reordered: output axis i is input axis `axes[i]` (a permutation of 0 … rank−1,
 * negatives allowed), as torch.permute. A copy (tensors stay contiguous); backward permutes back.
 */
export function permute(xIn: OpInput, axes: readonly number[]): Variable {
  const x = asVariable(xIn, 'permute', 'x');
  const rank = x.shape.length;
  if (!Array.isArray(axes) || axes.length !== rank) {
    throw new Error(`permute: needs one axis per dimension of shape ${formatShape(x.shape)}, got ${Array.isArray(axes) ? `[${axes.join(', ')}]` : String(axes)}`);
  }
  const list = axes.map((a) => normalizeAxis(a, rank, 'permute'));
  if (new Set(list).size !== rank) throw new Error(`permute: [${axes.join(', ')}] is not a permutation of the ${rank} axes`);
  return permuteBy(x, list, 'permute');
}

function permuteBy(x: Variable, axes: readonly number[], op: string): Variable {
  const outShape = axes.map((a) => x.shape[a]);
  const value = new Tensor(permuteData(x.data, x.shape, axes), outShape);
  if (!tracking(x)) return new Variable(value);
  const inverse = inversePermutation(axes);
  return withAttrs(record(op, value, [x], [], (g) => [permuteData(g, outShape, inverse)]), attrsEnabled() ? { perm: axes } : null);
}

/**
 * `x` with axes `dim0` and `dim1` swapped (any rank; a copy). Without the dims, `x` must be 2-D
 * (or less) and the matrix is transposed, as `x.t()`.
 */
export function transpose(xIn: OpInput, dim0?: number, dim1?: number): Variable {
  const x = asVariable(xIn, 'transpose', 'x');
  const rank = x.shape.length;
  if (dim0 === undefined && dim1 === undefined) {
    if (rank > 2) throw new Error(`transpose: without dim0 and dim1 it needs a 2-D variable, got shape ${formatShape(x.shape)}`);
    if (rank < 2) return permuteBy(x, rank === 1 ? [0] : [], 'transpose');
    return permuteBy(x, [1, 0], 'transpose');
  }
  if (dim0 === undefined || dim1 === undefined) throw new Error('transpose: give both dim0 and dim1 (or neither, for a 2-D variable)');
  const a = normalizeAxis(dim0, rank, 'transpose', 'dim0');
  const b = normalizeAxis(dim1, rank, 'transpose', 'dim1');
  const axes = x.shape.map((_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permuteBy(x, axes, 'transpose');
}

/**
 * Joins `list` along `axis`: every shape must agree except on that axis (as torch.cat). A copy;
 * each input's gradient is its slice of the output's gradient.
 */
export function concat(list: readonly OpInput[], axis = 0): Variable {
  if (!Array.isArray(list) || list.length === 0) throw new Error('concat: needs a non-empty array of variables');
  const vars = list.map((v, i) => asVariable(v, 'concat', `input ${i}`));
  const first = vars[0].shape;
  const rank = first.length;
  if (rank === 0) throw new Error('concat: cannot join scalars (shape []); use stack');
  const ax = normalizeAxis(axis, rank, 'concat');
  for (let i = 0; i < vars.length; i++) {
    const s = vars[i].shape;
    if (s.length !== rank || s.some((d, j) => j !== ax && d !== first[j])) {
      throw new Error(`concat: input ${i} has shape ${formatShape(s)}, which does not match input 0's ${formatShape(first)} outside axis ${ax}`);
    }
  }
  return join('concat', vars, vars.map((v) => v.shape), ax);
}

/** Stacks same-shape `list` along a new axis `axis` (in [−rank−1, rank]), as torch.stack. One node. */
export function stack(list: readonly OpInput[], axis = 0): Variable {
  if (!Array.isArray(list) || list.length === 0) throw new Error('stack: needs a non-empty array of variables');
  const vars = list.map((v, i) => asVariable(v, 'stack', `input ${i}`));
  const first = vars[0].shape;
  for (let i = 1; i < vars.length; i++) {
    const s = vars[i].shape;
    if (s.length !== first.length || s.some((d, j) => d !== first[j])) {
      throw new Error(`stack: input ${i} has shape ${formatShape(s)} but input 0 has ${formatShape(first)}`);
    }
  }
  const ax = normalizeAxis(axis, first.length + 1, 'stack');
  const shape = [...first];
  shape.splice(ax, 0, 1);
  return join('stack', vars, vars.map(() => shape), ax);
}

/** The inputs (viewed with `shapes`, equal off `ax`) laid end to end along `ax`, recorded as one node. */
function join(op: string, vars: readonly Variable[], shapes: readonly (readonly number[])[], ax: number): Variable {
  const first = shapes[0];
  let outer = 1;
  for (let j = 0; j < ax; j++) outer *= first[j];
  let inner = 1;
  for (let j = ax + 1; j < first.length; j++) inner *= first[j];
  let total = 0;
  const offsets = shapes.map((s) => {
    const at = total;
    total += s[ax];
    return at;
  });
  const outShape = [...first];
  outShape[ax] = total;
  const y = alloc(outer * total * inner);
  // y[o, t, i] at (o·total + t)·inner + i: each input fills a block of rows per outer index.
  for (let v = 0; v < vars.length; v++) {
    const rows = shapes[v][ax] * inner;
    const data = vars[v].data;
    for (let o = 0; o < outer; o++) y.set(data.subarray(o * rows, (o + 1) * rows), o * total * inner + offsets[v] * inner);
  }
  const value = new Tensor(y, outShape);
  if (!trackingAny(vars)) return new Variable(value);
  return withAttrs(record(op, value, vars, [], (g) => vars.map((v, i) => {
    if (!v.requiresGrad) return null;
    const rows = shapes[i][ax] * inner;
    const gv = alloc(outer * rows);
    for (let o = 0; o < outer; o++) {
      const src = o * total * inner + offsets[i] * inner;
      gv.set(g.subarray(src, src + rows), o * rows);
    }
    return gv;
  })), attrsEnabled() ? { axis: ax } : null);
}

/** One axis of a {@link slice}: [start, end) with a step, as Python's `start:end:step`. */
export interface SliceRange {
  /** First index (negative counts from the end; clamped to the axis). Default 0. */
  readonly start?: number;
  /** One past the last index (negative counts from the end; clamped). Default the axis size. */
  readonly end?: number;
  /** Positive step. Default 1. */
  readonly step?: number;
}

/**
 * `x[start:end:step, ...]`: one range per leading axis (`null`/missing entries and trailing axes
 * keep everything), Python's clamping rules, positive steps only (as PyTorch). A copy; backward
 * scatters the gradient into zeros. `slice(x, [null, { start: 1, end: 3 }])` is `x[:, 1:3]`.
 */
export function slice(xIn: OpInput, ranges: readonly (SliceRange | null | undefined)[]): Variable {
  const x = asVariable(xIn, 'slice', 'x');
  const shape = x.shape;
  const rank = shape.length;
  if (!Array.isArray(ranges) || ranges.length > rank) {
    throw new Error(`slice: needs at most one range per axis of shape ${formatShape(shape)}, got ${Array.isArray(ranges) ? ranges.length : String(ranges)}`);
  }
  const inStrides = stridesOf(shape);
  const outShape: number[] = [];
  const strides: number[] = [];
  const starts: number[] = [];
  let base = 0;
  for (let d = 0; d < rank; d++) {
    const size = shape[d];
    const r = ranges[d] ?? {};
    const step = r.step ?? 1;
    if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: step on axis ${d} must be a positive integer, got ${String(step)}`);
    for (const [name, v] of [['start', r.start], ['end', r.end]] as const) {
      if (v !== undefined && !Number.isInteger(v)) throw new Error(`slice: ${name} on axis ${d} must be an integer, got ${String(v)}`);
    }
    const clampIndex = (v: number): number => Math.min(size, Math.max(0, v < 0 ? v + size : v));
    const start = clampIndex(r.start ?? 0);
    const end = clampIndex(r.end ?? size);
    const n = end > start ? Math.ceil((end - start) / step) : 0;
    outShape.push(n);
    starts.push(start);
    strides.push(inStrides[d] * step);
    base += start * inStrides[d];
  }
  const n = shapeSize(outShape);
  const y = n === 0 ? alloc(0) : gather(alloc(n), x.data, outShape, base, strides);
  const value = new Tensor(y, outShape);
  if (!tracking(x)) return new Variable(value);
  return withAttrs(record('slice', value, [x], [], (g) => [scatter(alloc(x.size), g, outShape, base, strides)]), attrsEnabled() ? { starts, steps: strides.map((s, d) => s / inStrides[d] || 1) } : null);
}

/**
 * The sub-tensor at `index` along `axis`, with that axis removed (as torch.select; `x[:, 2]` is
 * `select(x, 1, 2)`); a negative index counts from the end. A copy.
 */
export function select(xIn: OpInput, axis: number, index: number): Variable {
  const x = asVariable(xIn, 'select', 'x');
  const rank = x.shape.length;
  const ax = normalizeAxis(axis, rank, 'select');
  const size = x.shape[ax];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new Error(`select: index ${index} is out of range for axis ${ax} of size ${size} (shape ${formatShape(x.shape)})`);
  }
  const i = index < 0 ? index + size : index;
  // The remaining axes keep their strides; the selected one becomes a base offset.
  const strides = stridesOf(x.shape);
  const outShape = x.shape.filter((_, d) => d !== ax);
  const outStrides = strides.filter((_, d) => d !== ax);
  const base = i * strides[ax];
  const y = gather(alloc(shapeSize(outShape)), x.data, outShape, base, outStrides);
  const value = new Tensor(y, outShape);
  if (!tracking(x)) return new Variable(value);
  return withAttrs(record('select', value, [x], [], (g) => [scatter(alloc(x.size), g, outShape, base, outStrides)]), attrsEnabled() ? { axis: ax, index: i } : null);
}

/**
 * The entries at `indices` along `axis`, in that order (repeats allowed), as torch.index_select:
 * the axis keeps its place with size indices.length. Backward adds each gradient row back to
 * its source (repeated indices accumulate).
 */
export function indexSelect(xIn: OpInput, axis: number, indices: ArrayLike<number> | Tensor): Variable {
  const x = asVariable(xIn, 'indexSelect', 'x');
  const rank = x.shape.length;
  const ax = normalizeAxis(axis, rank, 'indexSelect');
  const values = indices instanceof Tensor ? indices.data : indices;
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new Error(`indexSelect: indices must be an array or Tensor of integers, got ${String(indices)}`);
  }
  const size = x.shape[ax];
  const count = values.length;
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new Error(`indexSelect: index ${i} is ${v}, must be an integer in [0, ${size - 1}] for axis ${ax} of shape ${formatShape(x.shape)}`);
    }
    idx[i] = v;
  }
  let outer = 1;
  for (let j = 0; j < ax; j++) outer *= x.shape[j];
  let inner = 1;
  for (let j = ax + 1; j < rank; j++) inner *= x.shape[j];
  const outShape = [...x.shape];
  outShape[ax] = count;
  const y = alloc(outer * count * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < count; i++) {
      const src = (o * size + idx[i]) * inner;
      y.set(x.data.subarray(src, src + inner), (o * count + i) * inner);
    }
  }
  const value = new Tensor(y, outShape);
  if (!tracking(x)) return new Variable(value);
  return withAttrs(record('indexSelect', value, [x], [], (g) => {
    const gx = alloc(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < count; i++) {
        const dst = (o * size + idx[i]) * inner;
        const src = (o * count + i) * inner;
        for (let j = 0; j < inner; j++) gx[dst + j] += g[src + j];
      }
    }
    return [gx];
  }), attrsEnabled() ? { axis: ax, indices: Array.from(idx) } : null);
}

/**
 * Constant padding in torch.nn.functional.pad's order: `pads` holds (before, after) pairs starting
 * from the LAST axis: [left, right] pads the last axis, [left, right, top, bottom] the last two, and
 * so on (at most 2·rank integers; a negative amount crops, as PyTorch). New cells hold `value`
 * (default 0). [N, C, H, W] with [1, 1, 2, 2] → [N, C, H + 4, W + 2]. Backward crops the gradient.
 */
export function pad(xIn: OpInput, pads: readonly number[], value = 0): Variable {
  const x = asVariable(xIn, 'pad', 'x');
  const shape = x.shape;
  const rank = shape.length;
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length > 2 * rank) {
    throw new Error(`pad: pads must be (before, after) pairs for at most ${rank} axes of shape ${formatShape(shape)}, got ${Array.isArray(pads) ? `[${pads.join(', ')}]` : String(pads)}`);
  }
  for (const p of pads) {
    if (!Number.isInteger(p)) throw new Error(`pad: amounts must be integers, got [${pads.join(', ')}]`);
  }
  if (typeof value !== 'number') throw new Error(`pad: value must be a number, got ${String(value)}`);
  if (pads.some((p) => p < 0)) {
    // Negative amounts crop, as in PyTorch: slice the kept part, then pad with the positive amounts.
    const ranges: SliceRange[] = shape.map(() => ({}));
    for (let p = 0; p < pads.length / 2; p++) {
      const d = rank - 1 - p;
      const start = Math.max(0, -pads[2 * p]);
      const end = shape[d] - Math.max(0, -pads[2 * p + 1]);
      if (end < start) {
        throw new Error(`pad: [${pads.join(', ')}] crops axis ${d} of shape ${formatShape(shape)} below size 0`);
      }
      ranges[d] = { start, end };
    }
    return pad(slice(x, ranges), pads.map((p) => Math.max(0, p)), value);
  }
  const before = new Array<number>(rank).fill(0);
  const outShape = [...shape];
  for (let p = 0; p < pads.length / 2; p++) {
    const d = rank - 1 - p;
    before[d] = pads[2 * p];
    outShape[d] = shape[d] + pads[2 * p] + pads[2 * p + 1];
  }
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (let d = 0; d < rank; d++) base += before[d] * outStrides[d];
  const y = alloc(shapeSize(outShape));
  if (value !== 0) y.fill(value);
  scatter(y, x.data, shape, base, outStrides);
  const padded = new Tensor(y, outShape);
  if (!tracking(x)) return new Variable(padded);
  return withAttrs(record('pad', padded, [x], [], (g) => [gather(alloc(x.size), g, shape, base, outStrides)]),
    attrsEnabled() ? { before, after: outShape.map((d, k) => d - shape[k] - before[k]), value } : null);
}
