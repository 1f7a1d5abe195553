// Recovering the arguments a traced op does not record (the plain ops keep no attributes on the tape):
// candidates are checked against the op's traced input and output values. Shared by the ONNX export
// (src/io/onnx-module.ts) and the FLOP counts of user modules (src/analysis/module-costs.ts).
import type { TraceOp } from '../model/trace.js';
import type { Tensor } from '../tensor/tensor.js';

/** |got − want| ≤ 1e-4·max(1, |want|) elementwise: the same computation, float32 against doubles. */
export function closeValues(got: ArrayLike<number>, want: ArrayLike<number>): boolean {
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = want[i];
    if (!(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)))) return false;
  }
  return true;
}

/** Row-major strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Geometry of a 2-D convolution or pooling (a 1-D one has height 1, kernel 1 and no padding on H). */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right], ONNX's order. */
  readonly pads: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
}

interface AxisCandidate {
  readonly k: number;
  readonly s: number;
  readonly before: number;
  readonly after: number;
  readonly d: number;
}

/** Every (dilation, stride, padding before/after) giving `out` positions on an axis of `size` with kernel `k`, simplest first. */
function axisCandidates(size: number, k: number, out: number, symmetric: boolean, maxPad: (k: number, d: number) => number, dilations: boolean): AxisCandidate[] {
  const found: AxisCandidate[] = [];
  const maxD = dilations && k > 1 ? Math.max(1, Math.floor((size + 2 * k) / (k - 1))) : 1;
  for (let d = 1; d <= maxD; d++) {
    const ext = d * (k - 1) + 1;
    const pmax = maxPad(k, d);
    for (let before = 0; before <= pmax; before++) {
      for (const after of symmetric ? [before] : [before, before + 1]) {
        const span = size + before + after - ext;
        if (span < 0) continue;
        // ⌊span / s⌋ + 1 = out: one output takes any stride > span (the smallest is kept); else s ∈ (span/out, span/(out − 1)].
        if (out === 1) {
          found.push({ k, s: Math.max(1, span + 1), before, after, d });
          continue;
        }
        for (let st = Math.floor(span / out) + 1; st <= Math.floor(span / (out - 1)); st++) {
          if (st >= 1 && Math.floor(span / st) + 1 === out) found.push({ k, s: st, before, after, d });
        }
      }
    }
  }
  // Simplest first: no dilation, stride 1, no padding.
  return found.sort((p, q) => p.d - q.d || p.s - q.s || p.before - q.before || p.after - q.after);
}

/** Output positions to check: all of them, or an even sample of at most `limit`. */
function samplePositions(total: number, limit = 4096): number[] {
  if (total <= limit) return Array.from({ length: total }, (_, i) => i);
  const step = total / limit;
  return Array.from({ length: limit }, (_, i) => Math.floor(i * step));
}

/** x as [N, C, H, W] (conv1d / [N, C, L] → H = 1). */
function as4d(shape: readonly number[]): [number, number, number, number] {
  return shape.length === 4 ? [shape[0], shape[1], shape[2], shape[3]] : [shape[0], shape[1], 1, shape[2]];
}

/**
 * The stride, padding, dilation and groups of a traced `conv2d` / `conv1d` op (inputs x, weight and an
 * optional bias), or null if no candidate reproduces its output. Groups come from the channel counts.
 */
export function recoverConv(op: TraceOp): (Window2d & { groups: number }) | null {
  const x = op.inputs[0].value;
  const w = op.inputs[1].value;
  const b = op.inputs.length > 2 ? op.inputs[2].value : null;
  const y = op.output.value;
  const [n, c, h, wd] = as4d(x.shape);
  const [o, cg, kH, kW] = as4d(w.shape);
  const [, , oH, oW] = as4d(y.shape);
  if (cg === 0 || c % cg !== 0) return null;
  const groups = c / cg;
  const og = o / groups;
  // torch allows any padding; beyond the kernel's extent it only adds bias-only borders (a 1×1 conv with padding 1).
  const pad = (k: number, d: number): number => d * (k - 1) + 2;
  const rows = y.rank === 3 ? [{ k: 1, s: 1, before: 0, after: 0, d: 1 }] : axisCandidates(h, kH, oH, false, pad, true);
  const cols = axisCandidates(wd, kW, oW, false, pad, true);
  const positions = samplePositions(n * o * oH * oW);
  for (const r of rows) {
    for (const q of cols) {
      let ok = true;
      for (const p of positions) {
        const ow = p % oW;
        const oh = Math.floor(p / oW) % oH;
        const oc = Math.floor(p / (oW * oH)) % o;
        const ni = Math.floor(p / (oW * oH * o));
        const grp = Math.floor(oc / og);
        let s = b === null ? 0 : b.data[oc];
        for (let ci = 0; ci < cg; ci++) {
          for (let i = 0; i < kH; i++) {
            const ih = oh * r.s - r.before + i * r.d;
            if (ih < 0 || ih >= h) continue;
            for (let j = 0; j < kW; j++) {
              const iw = ow * q.s - q.before + j * q.d;
              if (iw < 0 || iw >= wd) continue;
              s += w.data[((oc * cg + ci) * kH + i) * kW + j] * x.data[((ni * c + grp * cg + ci) * h + ih) * wd + iw];
            }
          }
        }
        if (!(Math.abs(y.data[p] - s) <= 1e-4 * Math.max(1, Math.abs(s)))) {
          ok = false;
          break;
        }
      }
      if (ok) return { kernel: [kH, kW], stride: [r.s, q.s], pads: [r.before, q.before, r.after, q.after], dilation: [r.d, q.d], groups };
    }
  }
  return null;
}

/**
 * The window, stride and padding of a traced `maxPool2d` / `avgPool2d` op (and for avgPool2d whether
 * padding counts in the divisor), or null if no candidate reproduces its output.
 */
export function recoverPool(op: TraceOp): (Window2d & { countIncludePad: boolean }) | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  const [n, c, h, wd] = as4d(x.rank === 3 ? [1, ...x.shape] : x.shape);
  const [, , oH, oW] = as4d(y.rank === 3 ? [1, ...y.shape] : y.shape);
  const isMax = op.op === 'maxPool2d';
  const half = (k: number): number => Math.floor(k / 2);
  const rows: AxisCandidate[] = [];
  const cols: AxisCandidate[] = [];
  for (let k = 1; k <= h + 2 * half(h + 2); k++) rows.push(...axisCandidates(h, k, oH, true, half, false));
  for (let k = 1; k <= wd + 2 * half(wd + 2); k++) cols.push(...axisCandidates(wd, k, oW, true, half, false));
  const positions = samplePositions(n * c * oH * oW);
  for (const r of rows) {
    for (const q of cols) {
      for (const include of isMax ? [false] : [true, false]) {
        let ok = true;
        for (const p of positions) {
          const ow = p % oW;
          const oh = Math.floor(p / oW) % oH;
          const plane = Math.floor(p / (oW * oH));
          let best = -Infinity;
          let sum = 0;
          let count = 0;
          for (let i = 0; i < r.k; i++) {
            const ih = oh * r.s - r.before + i;
            for (let j = 0; j < q.k; j++) {
              const iw = ow * q.s - q.before + j;
              const inside = ih >= 0 && ih < h && iw >= 0 && iw < wd;
              if (inside) {
                const v = x.data[(plane * h + ih) * wd + iw];
                if (v > best) best = v;
                sum += v;
                count++;
              } else if (include && ih < h + r.after && iw < wd + q.after) {
                count++;
              }
            }
          }
          const want = isMax ? best : sum / count;
          if (!(Math.abs(y.data[p] - want) <= 1e-5 * Math.max(1, Math.abs(want)))) {
            ok = false;
            break;
          }
        }
        if (ok) return { kernel: [r.k, q.k], stride: [r.s, q.s], pads: [r.before, q.before, r.after, q.after], dilation: [1, 1], countIncludePad: include };
      }
    }
  }
  return null;
}

/** Every subset of `0 … n−1` with at least one element, as sorted arrays (smallest first). */
export function axisSubsets(n: number): number[][] {
  const out: number[][] = [];
  for (let mask = 1; mask < 1 << n; mask++) out.push(Array.from({ length: n }, (_, i) => i).filter((i) => (mask >> i) & 1));
  return out.sort((a, b) => a.length - b.length);
}

/** Groups of `x` over `axes` (kept as size 1), each as a list of flat indices. */
function groupsOver(x: Tensor, axes: readonly number[]): number[][] {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const os = stridesOf(outShape);
  const count = outShape.reduce((p, q) => p * q, 1);
  const groups: number[][] = Array.from({ length: count }, () => []);
  const idx = new Array<number>(x.rank).fill(0);
  for (let f = 0; f < x.size; f++) {
    let o = 0;
    for (let d = 0; d < x.rank; d++) if (!axes.includes(d)) o += idx[d] * os[d];
    groups[o].push(f);
    for (let d = x.rank - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return groups;
}

/** A reduction of `x` over `axes` per group, in doubles. */
export function reduceGroups(x: Tensor, axes: readonly number[], fn: (values: number[]) => number): Float64Array {
  return Float64Array.from(groupsOver(x, axes), (g) => fn(g.map((i) => x.data[i])));
}

/**
 * The axes and keepDims of a traced reduction (`sum`, `mean`, `max`, `min`, `var`): the first subset of
 * axes whose reduction by `fn` (per group of values) reproduces the output with the output's shape.
 */
export function recoverReduction(op: TraceOp, fn: (values: number[]) => number): { axes: number[]; keepDims: boolean } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  for (const axes of axisSubsets(x.rank)) {
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const dropped = x.shape.filter((_, i) => !axes.includes(i));
    const keep = sameDims(kept, y.shape) ? true : sameDims(dropped, y.shape) ? false : null;
    if (keep === null) continue;
    if (closeValues(y.data, reduceGroups(x, axes, fn))) return { axes, keepDims: keep };
  }
  return null;
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * For each output element whose value occurs exactly once in `x`, the coordinates it was copied from:
 * how the copying ops (slice, select, indexSelect, pad, stack) are read back. Returns a map from an
 * output flat index to the source coordinates.
 */
export function copiedFrom(x: Tensor, y: Tensor): Map<number, number[]> {
  const seen = new Map<number, number>();
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i];
    seen.set(v, seen.has(v) ? -1 : i);
  }
  const xs = stridesOf(x.shape);
  const out = new Map<number, number[]>();
  for (let i = 0; i < y.size; i++) {
    const at = seen.get(y.data[i]);
    if (at === undefined || at < 0) continue;
    out.set(i, xs.map((s, d) => Math.floor(at / s) % x.shape[d]));
  }
  return out;
}

/** Coordinates of flat index `i` in `shape`. */
export function coordsOf(i: number, shape: readonly number[]): number[] {
  const s = stridesOf(shape);
  return s.map((st, d) => Math.floor(i / st) % shape[d]);
}

/** `x` gathered at `base + Σ idx·strides` over `outShape` (flat offsets into x.data). */
export function gatherRef(x: Tensor, outShape: readonly number[], base: number, strides: readonly number[]): Float64Array {
  const count = outShape.reduce((p, q) => p * q, 1);
  const out = new Float64Array(count);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < count; o++) {
    let src = base;
    for (let d = 0; d < outShape.length; d++) src += idx[d] * strides[d];
    out[o] = x.data[src];
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Start and (positive) step per axis of a traced `slice`, or null. */
export function recoverSlice(op: TraceOp): { starts: number[]; steps: number[] } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  if (y.rank !== x.rank || y.size === 0) return null;
  const found = copiedFrom(x, y);
  const starts: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    // Source index along d of output indices 0 … m−1, from any element copied there.
    const known = new Map<number, number>();
    for (const [i, src] of found) known.set(coordsOf(i, y.shape)[d], src[d]);
    const m = y.shape[d];
    if (m === x.shape[d]) {
      starts.push(0);
      steps.push(1);
      continue;
    }
    const pts = [...known.entries()].sort((a, b) => a[0] - b[0]);
    if (pts.length === 0) return null;
    const step = pts.length >= 2 ? (pts[1][1] - pts[0][1]) / (pts[1][0] - pts[0][0]) : 1;
    if (!Number.isInteger(step) || step < 1) return null;
    starts.push(pts[0][1] - pts[0][0] * step);
    steps.push(step);
  }
  const xs = stridesOf(x.shape);
  const base = starts.reduce((s, v, d) => s + v * xs[d], 0);
  if (starts.some((s, d) => s < 0 || s + (y.shape[d] - 1) * steps[d] >= x.shape[d])) return null;
  return closeValues(y.data, gatherRef(x, y.shape, base, steps.map((s, d) => s * xs[d]))) ? { starts, steps } : null;
}

/** Axis and index of a traced `select`, or null. */
export function recoverSelect(op: TraceOp): { axis: number; index: number } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  const xs = stridesOf(x.shape);
  for (let axis = 0; axis < x.rank; axis++) {
    if (!sameDims(x.shape.filter((_, d) => d !== axis), y.shape)) continue;
    for (let index = 0; index < x.shape[axis]; index++) {
      if (closeValues(y.data, gatherRef(x, y.shape, index * xs[axis], xs.filter((_, d) => d !== axis)))) return { axis, index };
    }
  }
  return null;
}

/** Axis and indices of a traced `indexSelect`, or null. */
export function recoverIndexSelect(op: TraceOp): { axis: number; indices: number[] } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  if (y.rank !== x.rank) return null;
  const found = copiedFrom(x, y);
  const xs = stridesOf(x.shape);
  for (let axis = 0; axis < x.rank; axis++) {
    if (x.shape.some((d, i) => i !== axis && d !== y.shape[i])) continue;
    const indices = new Array<number>(y.shape[axis]).fill(-1);
    for (const [i, src] of found) indices[coordsOf(i, y.shape)[axis]] = src[axis];
    if (indices.some((v) => v < 0)) continue;
    // y = concat of x's slices at those indices along axis.
    const want = new Float64Array(y.size);
    const idx = new Array<number>(y.rank).fill(0);
    for (let o = 0; o < y.size; o++) {
      let src = 0;
      for (let d = 0; d < y.rank; d++) src += (d === axis ? indices[idx[d]] : idx[d]) * xs[d];
      want[o] = x.data[src];
      for (let d = y.rank - 1; d >= 0; d--) {
        if (++idx[d] < y.shape[d]) break;
        idx[d] = 0;
      }
    }
    if (closeValues(y.data, want)) return { axis, indices };
  }
  return null;
}

/** Amounts before/after each axis and the fill value of a traced (non-negative) `pad`, or null. */
export function recoverPad(op: TraceOp): { before: number[]; after: number[]; value: number } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  if (y.rank !== x.rank || x.size === 0) return null;
  // Where x's elements landed in y: reverse roles (each x value unique in y).
  const found = copiedFrom(y, x);
  if (found.size === 0) return null;
  const [i, at] = found.entries().next().value as [number, number[]];
  const src = coordsOf(i, x.shape);
  const before = at.map((v, d) => v - src[d]);
  const after = y.shape.map((d, k) => d - x.shape[k] - before[k]);
  if (before.some((v) => v < 0) || after.some((v) => v < 0)) return null;
  const ys = stridesOf(y.shape);
  const base = before.reduce((s, v, d) => s + v * ys[d], 0);
  if (!closeValues(gatherRef(y, x.shape, base, ys), x.data)) return null;
  // The fill: every cell outside the copied block holds the same value (0 when there is none).
  let value: number | null = null;
  const idx = new Array<number>(y.rank).fill(0);
  for (let o = 0; o < y.size; o++) {
    if (idx.some((v, d) => v < before[d] || v >= before[d] + x.shape[d])) {
      if (value === null) value = y.data[o];
      else if (!Object.is(value, y.data[o])) return null;
    }
    for (let d = y.rank - 1; d >= 0; d--) {
      if (++idx[d] < y.shape[d]) break;
      idx[d] = 0;
    }
  }
  return { before, after, value: value ?? 0 };
}

/** The new axis of a traced `stack`, or null. */
export function recoverStackAxis(op: TraceOp): number | null {
  const first = op.inputs[0].value;
  const y = op.output.value;
  const count = op.inputs.length;
  for (let axis = 0; axis <= first.rank; axis++) {
    const shape = [...first.shape];
    shape.splice(axis, 0, count);
    if (!sameDims(shape, y.shape)) continue;
    // y[..., k, ...] (k on axis) is input k.
    const outer = first.shape.slice(0, axis).reduce((p, q) => p * q, 1);
    const inner = first.size / outer;
    const want = new Float64Array(y.size);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < count; k++) {
        const src = op.inputs[k].value.data;
        for (let j = 0; j < inner; j++) want[(o * count + k) * inner + j] = src[o * inner + j];
      }
    }
    if (closeValues(y.data, want)) return axis;
  }
  return null;
}
