// softmax.ts: softmax and log-softmax over any axis, forward and backward. The last axis runs the
// runtime's row kernels; another axis is walked as [outer, n, inner] with the inner axis innermost.
import { softmaxRows, logSoftmaxRows } from '../plugin/index.js';
import { Tensor } from '../tensor/tensor.js';
import { alloc, asVariable, normalizeAxis, record, tracking } from './op-helpers.js';
import { Variable, type OpInput } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

interface AxisLayout {
  outer: number;
  n: number;
  inner: number;
}

function axisLayout(x: Variable, axis: number, op: string): AxisLayout {
  const rank = x.shape.length;
  if (rank === 0) throw new Error(`${op}: needs at least one axis, got a scalar`);
  const ax = normalizeAxis(axis, rank, op);
  let outer = 1;
  for (let i = 0; i < ax; i++) outer *= x.shape[i];
  let inner = 1;
  for (let i = ax + 1; i < rank; i++) inner *= x.shape[i];
  return { outer, n: x.shape[ax], inner };
}

/** Softmax (or log-softmax) of x[outer, n, inner] over n, max-subtracted, sums in doubles. */
function softmaxStrided(out: Float32Array, x: Float32Array, l: AxisLayout, log: boolean): Float32Array {
  const { outer, n, inner } = l;
  const mx = new Float64Array(inner);
  const total = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    mx.fill(-Infinity);
    total.fill(0);
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      for (let j = 0; j < inner; j++) if (x[row + j] > mx[j]) mx[j] = x[row + j];
    }
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      for (let j = 0; j < inner; j++) {
        const e = Math.exp(x[row + j] - mx[j]);
        if (!log) out[row + j] = e;
        total[j] += e;
      }
    }
    if (log) {
      for (let j = 0; j < inner; j++) total[j] = mx[j] + Math.log(total[j]);
      for (let k = 0; k < n; k++) {
        const row = base + k * inner;
        for (let j = 0; j < inner; j++) out[row + j] = x[row + j] - total[j];
      }
    } else {
      for (let j = 0; j < inner; j++) total[j] = 1 / total[j];
      for (let k = 0; k < n; k++) {
        const row = base + k * inner;
        for (let j = 0; j < inner; j++) out[row + j] *= total[j];
      }
    }
  }
  return out;
}

/**
 * Backward of softmax (`log` false): gx = y·(g − Σₙ g·y); of log-softmax: gx = g − e^y·Σₙ g.
 * Sums in doubles over the softmax axis.
 */
function softmaxBackward(g: Float32Array, y: Float32Array, l: AxisLayout, log: boolean): Float32Array {
  const { outer, n, inner } = l;
  const gx = alloc(g.length);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    acc.fill(0);
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      if (log) for (let j = 0; j < inner; j++) acc[j] += g[row + j];
      else for (let j = 0; j < inner; j++) acc[j] += g[row + j] * y[row + j];
    }
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      if (log) for (let j = 0; j < inner; j++) gx[row + j] = g[row + j] - Math.exp(y[row + j]) * acc[j];
      else for (let j = 0; j < inner; j++) gx[row + j] = y[row + j] * (g[row + j] - acc[j]);
    }
  }
  return gx;
}

function softmaxOp(op: string, xIn: OpInput, axis: number, log: boolean): Variable {
  const x = asVariable(xIn, op, 'x');
  const l = axisLayout(x, axis, op);
  const out = alloc(x.size);
  let y: Float32Array;
  if (l.inner === 1) y = log ? logSoftmaxRows(out, x.data, l.outer, l.n) : softmaxRows(out, x.data, l.outer, l.n);
  else y = softmaxStrided(out, x.data, l, log);
  const value = new Tensor(y, x.shape);
  if (!tracking(x)) return new Variable(value);
  return withAttrs(record(op, value, [x], [], (g) => [softmaxBackward(g, y, l, log)]), attrsEnabled() ? { axis: axis < 0 ? axis + x.shape.length : axis } : null);
}

/**
 * Softmax over `axis` (default −1, the last): e^x / Σ e^x, max-subtracted so large values never
 * overflow. Same shape as x. Gradient y·(g − Σ g·y) along the axis.
 */
export function softmax(x: OpInput, axis = -1): Variable {
  return softmaxOp('softmax', x, axis, false);
}

/** log softmax over `axis` (default −1): x − max − log Σ e^(x − max). Gradient g − softmax·Σ g along the axis. */
export function logSoftmax(x: OpInput, axis = -1): Variable {
  return softmaxOp('logSoftmax', x, axis, true);
}
