// nn.ts: the differentiable neural-network ops beside the core arithmetic: dropout, layerNorm, batchNorm and
// embedding here, convolutions (conv.ts) and poolings (pool.ts) re-exported, all PyTorch-compatible.
import type { Rng } from '../tensor/rng.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import { alloc, asOptionalVar, asVar, checkOptions, record, tracking } from './nn-common.js';
import { Variable, type OpInput } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

export { conv2d, conv1d, type Conv2dOptions, type Conv1dOptions } from './conv.js';
export { maxPool2d, avgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './pool.js';
export type { Size2 } from './nn-common.js';

// ---- Dropout ----

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Drop units (default true, as `torch.nn.functional.dropout`); false makes dropout the identity. */
  readonly training?: boolean;
  /** The seeded generator the mask is drawn from (required when training with 0 < p < 1). */
  readonly rng?: Rng;
}

/**
 * Inverted dropout (as `torch.nn.functional.dropout`): in training each element is kept with
 * probability 1 − p and scaled by 1/(1 − p), else zeroed; the gradient is the same mask times the
 * upstream gradient. When not training, or for p = 0, it returns `x` itself; p = 1 gives zeros.
 *
 * The mask draws one `rng.next()` per element in row-major order (kept where it is ≥ p), exactly as
 * the Dropout layer does: the same generator state gives the same mask, with any thread count.
 */
export function dropout(xIn: OpInput, p: number, options?: DropoutOptions): Variable {
  const op = 'dropout';
  const x = asVar(xIn, op, 'x');
  const o = checkOptions(op, options, ['training', 'rng']);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${op}: p must be a probability in [0, 1], got ${String(p)}`);
  const training = o.training ?? true;
  if (typeof training !== 'boolean') throw new TypeError(`${op}: training must be true or false, got ${String(training)}`);
  if (!training || p === 0) return x;
  const n = x.size;
  const y = alloc(n);
  if (p === 1) return record(op, new Tensor(y, x.shape), [x], [], () => () => [alloc(n)]);
  const rng = o.rng as Rng | undefined;
  if (rng === undefined || rng === null || typeof (rng as { next?: unknown }).next !== 'function') {
    throw new TypeError(`${op}: training with p = ${p} needs options.rng, a seeded Rng (library code never uses Math.random)`);
  }
  const scale = 1 / (1 - p);
  const xd = x.data;
  if (!tracking([x])) {
    for (let i = 0; i < n; i++) y[i] = rng.next() >= p ? xd[i] * scale : 0;
    return new Variable(new Tensor(y, x.shape));
  }
  // One byte per element: 1 kept (×1/(1 − p)), 0 dropped.
  const kept = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (rng.next() >= p) {
      kept[i] = 1;
      y[i] = xd[i] * scale;
    }
  }
  return record(op, new Tensor(y, x.shape), [x], [], () => (g) => {
    const gx = alloc(n);
    for (let i = 0; i < n; i++) if (kept[i] === 1) gx[i] = g[i] * scale;
    return [gx];
  });
}

// ---- Layer normalisation ----

function readEps(op: string, eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new RangeError(`${op}: eps must be a finite number ≥ 0, got ${String(eps)}`);
  return eps;
}

/**
 * Layer normalisation over the trailing dims (as `torch.nn.functional.layer_norm`): for each of the
 * M = size / D rows of D = Π normalizedShape elements, y = (x − μ) / √(σ² + eps) · weight + bias with
 * μ and the biased variance σ² of that row (computed in doubles). `weight` and `bias` (optional) have
 * shape `normalizedShape`. Gradients: x, weight (Σ over rows of dy·x̂) and bias (Σ dy).
 */
export function layerNorm(
  xIn: OpInput, normalizedShape: number | readonly number[], weightIn?: OpInput | null, biasIn?: OpInput | null, eps = 1e-5,
): Variable {
  const op = 'layerNorm';
  const x = asVar(xIn, op, 'x');
  const weight = asOptionalVar(weightIn, op, 'weight');
  const bias = asOptionalVar(biasIn, op, 'bias');
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...normalizedShape] : null;
  if (norm === null || norm.length === 0 || !norm.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`${op}: normalizedShape must be a positive integer or a non-empty list of them, got ${Array.isArray(normalizedShape) ? formatShape(normalizedShape) : String(normalizedShape)}`);
  }
  const rank = x.shape.length;
  const lead = rank - norm.length;
  if (lead < 0 || norm.some((d, i) => x.shape[lead + i] !== d)) {
    throw new Error(`${op}: normalizedShape ${formatShape(norm)} must match the trailing dims of x ${formatShape(x.shape)}`);
  }
  for (const [name, v] of [['weight', weight], ['bias', bias]] as const) {
    if (v !== null && (v.shape.length !== norm.length || v.shape.some((d, i) => d !== norm[i]))) {
      throw new Error(`${op}: ${name} must have shape normalizedShape ${formatShape(norm)}, got ${formatShape(v.shape)}`);
    }
  }
  const e = readEps(op, eps);
  const d = shapeSize(norm);
  const rows = x.size / d;
  const xd = x.data;
  const wd = weight === null ? null : weight.data;
  const bd = bias === null ? null : bias.data;
  const y = alloc(x.size);
  const track = tracking([x, weight, bias]);
  const xhat = track ? alloc(x.size) : null;
  const invStd = new Float64Array(track ? rows : 0);
  // Row r is x[r·d … r·d + d).
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += xd[o + j];
    const mu = s / d;
    let v = 0;
    for (let j = 0; j < d; j++) {
      const c = xd[o + j] - mu;
      v += c * c;
    }
    const inv = 1 / Math.sqrt(v / d + e);
    if (xhat !== null) invStd[r] = inv;
    for (let j = 0; j < d; j++) {
      const h = (xd[o + j] - mu) * inv;
      if (xhat !== null) xhat[o + j] = h;
      y[o + j] = (wd === null ? h : h * wd[j]) + (bd === null ? 0 : bd[j]);
    }
  }
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return withAttrs(record(op, new Tensor(y, x.shape), inputs, weight === null ? [] : [weight], () => {
    const h = xhat as Float32Array;
    const needX = x.requiresGrad;
    const needW = weight !== null && weight.requiresGrad;
    const needB = bias !== null && bias.requiresGrad;
    return (g) => {
      const w = weight === null ? null : weight.data;
      let gx: Float32Array | null = null;
      if (needX) {
        gx = alloc(x.size);
        for (let r = 0; r < rows; r++) {
          const o = r * d;
          // dx = invStd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·weight.
          let a = 0;
          let b = 0;
          for (let j = 0; j < d; j++) {
            const dh = w === null ? g[o + j] : g[o + j] * w[j];
            a += dh;
            b += dh * h[o + j];
          }
          a /= d;
          b /= d;
          const inv = invStd[r];
          for (let j = 0; j < d; j++) {
            const dh = w === null ? g[o + j] : g[o + j] * w[j];
            gx[o + j] = inv * (dh - a - h[o + j] * b);
          }
        }
      }
      return [gx, ...affineGrads(g, h, rows, d, 1, needW, needB, weight !== null, bias !== null)];
    };
  }), attrsEnabled() ? { normalizedShape: norm, eps: e, weight: weight !== null, bias: bias !== null } : null);
}

/**
 * dweight = Σ dy·x̂ and dbias = Σ dy per feature, for dy and x̂ laid out `[outer, features, inner]`
 * (layerNorm: outer = rows, inner = 1; batchNorm: outer = N, inner = spatial). Summed in doubles.
 * Returns the entries for the present parameters only (null where no gradient is needed).
 */
function affineGrads(
  g: Float32Array, h: Float32Array, outer: number, features: number, inner: number,
  needW: boolean, needB: boolean, hasW: boolean, hasB: boolean,
): (Float32Array | null)[] {
  const out: (Float32Array | null)[] = [];
  const gw = needW ? alloc(features) : null;
  const gb = needB ? alloc(features) : null;
  if (gw !== null || gb !== null) {
    for (let f = 0; f < features; f++) {
      let sw = 0;
      let sb = 0;
      for (let b = 0; b < outer; b++) {
        const o = (b * features + f) * inner;
        for (let i = 0; i < inner; i++) {
          sw += g[o + i] * h[o + i];
          sb += g[o + i];
        }
      }
      if (gw !== null) gw[f] = sw;
      if (gb !== null) gb[f] = sb;
    }
  }
  if (hasW) out.push(gw);
  if (hasB) out.push(gb);
  return out;
}

// ---- Batch normalisation ----

/** Options of {@link batchNorm} (PyTorch's `F.batch_norm` defaults). */
export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (default false: use the running statistics). */
  readonly training?: boolean;
  /** Weight of the new statistic in the running averages, in [0, 1] (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance under the square root (default 1e-5). */
  readonly eps?: number;
}

type Stat = Tensor | Variable | null | undefined;

function statData(op: string, name: string, s: Stat, channels: number): Float32Array | null {
  if (s === undefined || s === null) return null;
  const t = s instanceof Variable ? s.value : s;
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor or a Variable, got ${Array.isArray(s) ? 'an array' : String(s)}`);
  if (t.shape.length !== 1 || t.shape[0] !== channels) throw new Error(`${op}: ${name} must have shape [${channels}] (one per channel), got ${formatShape(t.shape)}`);
  return t.data;
}

/** Writes a running statistic: through Variable.modify (bumping its version) or straight into a Tensor. */
function updateStat(s: Stat, fn: (data: Float32Array) => void): void {
  if (s instanceof Variable) s.modify(fn);
  else if (s instanceof Tensor) fn(s.data);
}

/**
 * Batch normalisation (as `torch.nn.functional.batch_norm`) over `x [N, C]`, `[N, C, L]` or
 * `[N, C, H, W]`, per channel c:
 *
 *   training: μ_c, σ²_c = mean and biased variance over N and the spatial dims (n values);
 *             y = weight_c·(x − μ_c)/√(σ²_c + eps) + bias_c; when given, the running statistics
 *             (Tensors or Variables of shape [C]) are updated in place:
 *             runningMean ← (1 − momentum)·runningMean + momentum·μ_c,
 *             runningVar  ← (1 − momentum)·runningVar + momentum·σ²_c·n/(n − 1)  (unbiased, as PyTorch).
 *   otherwise: the same y with runningMean / runningVar (both required) in place of μ_c / σ²_c.
 *
 * Gradients: in training the full one through μ and σ², dx = weight·invStd·(dy − mean(dy) − x̂·mean(dy·x̂));
 * otherwise dx = dy·weight·invStd. dweight = Σ dy·x̂, dbias = Σ dy.
 */
export function batchNorm(
  xIn: OpInput, runningMean: Stat, runningVar: Stat, weightIn?: OpInput | null, biasIn?: OpInput | null, options?: BatchNormOptions,
): Variable {
  const op = 'batchNorm';
  const x = asVar(xIn, op, 'x');
  const weight = asOptionalVar(weightIn, op, 'weight');
  const bias = asOptionalVar(biasIn, op, 'bias');
  const o = checkOptions(op, options, ['training', 'momentum', 'eps']);
  const training = o.training ?? false;
  if (typeof training !== 'boolean') throw new TypeError(`${op}: training must be true or false, got ${String(training)}`);
  const momentum = o.momentum ?? 0.1;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be a number in [0, 1], got ${String(momentum)}`);
  const eps = readEps(op, o.eps ?? 1e-5);
  if (x.shape.length < 2) throw new Error(`${op}: x must be [N, C] or [N, C, ...spatial], got ${formatShape(x.shape)}`);
  const [batch, channels] = x.shape;
  const spatial = shapeSize(x.shape.slice(2));
  const rm = statData(op, 'runningMean', runningMean, channels);
  const rv = statData(op, 'runningVar', runningVar, channels);
  if ((rm === null) !== (rv === null)) throw new Error(`${op}: give both runningMean and runningVar, or neither`);
  for (const [name, v] of [['weight', weight], ['bias', bias]] as const) {
    if (v !== null && (v.shape.length !== 1 || v.shape[0] !== channels)) {
      throw new Error(`${op}: ${name} must have shape [${channels}] (one per channel), got ${formatShape(v.shape)}`);
    }
  }
  const n = batch * spatial;
  const mean = new Float64Array(channels);
  const invStd = new Float64Array(channels);
  const xd = x.data;
  // x[b, c, s] lives at (b·C + c)·spatial + s.
  if (training) {
    if (n < 2) throw new RangeError(`${op}: training needs more than 1 value per channel, got x ${formatShape(x.shape)}`);
    const variance = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let b = 0; b < batch; b++) {
        const off = (b * channels + c) * spatial;
        for (let i = 0; i < spatial; i++) s += xd[off + i];
      }
      const mu = s / n;
      let v = 0;
      for (let b = 0; b < batch; b++) {
        const off = (b * channels + c) * spatial;
        for (let i = 0; i < spatial; i++) {
          const dv = xd[off + i] - mu;
          v += dv * dv;
        }
      }
      mean[c] = mu;
      variance[c] = v / n;
      invStd[c] = 1 / Math.sqrt(v / n + eps);
    }
    if (rm !== null) {
      updateStat(runningMean, (d) => {
        for (let c = 0; c < channels; c++) d[c] = (1 - momentum) * d[c] + momentum * mean[c];
      });
      updateStat(runningVar, (d) => {
        for (let c = 0; c < channels; c++) d[c] = (1 - momentum) * d[c] + momentum * variance[c] * n / (n - 1);
      });
    }
  } else {
    if (rm === null || rv === null) throw new Error(`${op}: without training it normalises with runningMean and runningVar; pass them (or training: true)`);
    for (let c = 0; c < channels; c++) {
      mean[c] = rm[c];
      invStd[c] = 1 / Math.sqrt(rv[c] + eps);
    }
  }
  const wd = weight === null ? null : weight.data;
  const bd = bias === null ? null : bias.data;
  const y = alloc(x.size);
  const track = tracking([x, weight, bias]);
  const xhat = track ? alloc(x.size) : null;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const off = (b * channels + c) * spatial;
      const mu = mean[c];
      const inv = invStd[c];
      const scale = wd === null ? 1 : wd[c];
      const shift = bd === null ? 0 : bd[c];
      for (let i = 0; i < spatial; i++) {
        const h = (xd[off + i] - mu) * inv;
        if (xhat !== null) xhat[off + i] = h;
        y[off + i] = h * scale + shift;
      }
    }
  }
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return withAttrs(record(op, new Tensor(y, x.shape), inputs, weight === null ? [] : [weight], () => {
    const h = xhat as Float32Array;
    const needX = x.requiresGrad;
    const needW = weight !== null && weight.requiresGrad;
    const needB = bias !== null && bias.requiresGrad;
    return (g) => {
      const w = weight === null ? null : weight.data;
      let gx: Float32Array | null = null;
      if (needX) {
        gx = alloc(x.size);
        for (let c = 0; c < channels; c++) {
          const k = (w === null ? 1 : w[c]) * invStd[c];
          let a = 0;
          let bsum = 0;
          if (training) {
            for (let b = 0; b < batch; b++) {
              const off = (b * channels + c) * spatial;
              for (let i = 0; i < spatial; i++) {
                a += g[off + i];
                bsum += g[off + i] * h[off + i];
              }
            }
            a /= n;
            bsum /= n;
          }
          for (let b = 0; b < batch; b++) {
            const off = (b * channels + c) * spatial;
            for (let i = 0; i < spatial; i++) gx[off + i] = k * (g[off + i] - a - h[off + i] * bsum);
          }
        }
      }
      return [gx, ...affineGrads(g, h, batch, channels, spatial, needW, needB, weight !== null, bias !== null)];
    };
  }), attrsEnabled() ? { training, eps, mean, invStd, weight: weight !== null, bias: bias !== null } : null);
}

// ---- Embedding ----

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** A row whose lookups get no gradient (as PyTorch's padding_idx; negative counts from the end). */
  readonly paddingIdx?: number;
}

/**
 * Row lookup (as `torch.nn.functional.embedding`): `weight [V, D]`, `indices` integer values of any
 * shape (a Tensor or Variable of floats holding integers, or a flat array) → `[...indices.shape, D]`,
 * result[..., :] = weight[index, :]. The weight's gradient scatter-adds each result row's gradient into
 * its index's row (rows looked up twice add up; `paddingIdx`'s row gets none). Indices must be integers
 * in [0, V): anything else throws naming the index, its position and V.
 */
export function embedding(indices: Tensor | Variable | ArrayLike<number>, weightIn: OpInput, options?: EmbeddingOptions): Variable {
  const op = 'embedding';
  const w = asVar(weightIn, op, 'weight');
  const o = checkOptions(op, options, ['paddingIdx']);
  if (w.shape.length !== 2) throw new Error(`${op}: weight must be 2-D [V, D], got ${formatShape(w.shape)}`);
  const [rowsV, dim] = w.shape;
  let values: ArrayLike<number>;
  let idxShape: number[];
  if (indices instanceof Variable || indices instanceof Tensor) {
    values = indices instanceof Variable ? indices.data : indices.data;
    idxShape = [...indices.shape];
  } else if (indices !== null && typeof indices === 'object' && typeof (indices as ArrayLike<number>).length === 'number') {
    values = indices;
    idxShape = [values.length];
  } else {
    throw new TypeError(`${op}: indices must be a Tensor, a Variable or an array of integers, got ${String(indices)}`);
  }
  let pad = -1;
  if (o.paddingIdx !== undefined) {
    const p = o.paddingIdx;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < -rowsV || p >= rowsV) {
      throw new RangeError(`${op}: paddingIdx must be an integer in [${-rowsV}, ${rowsV - 1}] for V = ${rowsV}, got ${String(p)}`);
    }
    pad = p < 0 ? p + rowsV : p;
  }
  const count = values.length;
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < rowsV)) {
      throw new RangeError(`${op}: index ${v} at flat position ${i} is out of range: indices must be integers in [0, ${rowsV - 1}] (V = ${rowsV} rows)`);
    }
    idx[i] = v;
  }
  const y = alloc(count * dim);
  const wd = w.data;
  for (let i = 0; i < count; i++) y.set(wd.subarray(idx[i] * dim, (idx[i] + 1) * dim), i * dim);
  return withAttrs(record(op, new Tensor(y, [...idxShape, dim]), [w], [], () => (g) => {
    const gw = alloc(w.size);
    // Rows in index order: a row looked up twice sums its gradients in that order.
    for (let i = 0; i < count; i++) {
      const r = idx[i];
      if (r === pad) continue;
      const src = i * dim;
      const dst = r * dim;
      for (let j = 0; j < dim; j++) gw[dst + j] += g[src + j];
    }
    return [gw];
  }), attrsEnabled() ? { indices: idx, shape: idxShape } : null);
}
