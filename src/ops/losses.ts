// losses.ts: the differentiable losses, each a scalar with the mean reduction of PyTorch: softmax
// cross-entropy from logits (class indices or probabilities, label smoothing) and mean squared error.
import { logSoftmaxRows } from '../plugin/index.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { alloc, asVariable, negated, record, sameShape, tracking } from './op-helpers.js';
import { permute, reshape } from './shape.js';
import { Variable, type OpInput } from './variable.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * ε in [0, 1]: the target becomes (1 − ε)·target + ε/C (C classes), as torch's `label_smoothing`.
   * Default 0.
   */
  readonly labelSmoothing?: number;
}

function readLabels(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
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
 * Softmax cross-entropy of `logits` [N, C], mean over the N rows, as
 * torch.nn.functional.cross_entropy (reduction 'mean'). `target` is either class indices (N
 * integers in [0, C): an array, or a [N] Tensor/Variable) or probabilities of the logits' shape
 * [N, C] (a Tensor, or a Variable, which then gets a gradient too). Logits [C] take one index (or
 * [C] probabilities); logits [N, C, d1, …] take indices [N, d1, …] (or probabilities of their own
 * shape) and average over all N·d1·… positions, as torch. With label smoothing ε the
 * target t becomes t' = (1 − ε)·t + ε/C (t one-hot for indices). Loss −(1/N)·Σᵢ Σ_c t'ᵢc·log
 * softmax(logits)ᵢc, a scalar. Gradient (softmax·Σ_c t' − t')/N for the logits, −(1 − ε)·log
 * softmax/N for probability targets.
 */
export function crossEntropy(logitsIn: OpInput, target: ArrayLike<number> | Tensor | Variable, options: CrossEntropyOptions = {}): Variable {
  const x = asVariable(logitsIn, 'crossEntropy', 'logits');
  const rank = x.shape.length;
  if (rank === 1) {
    // [C] logits with one class index (or [C] probabilities), as torch: one row.
    const t = target instanceof Variable || target instanceof Tensor ? target : null;
    const probs = t !== null && t.shape.length === 1 && t.shape[0] === x.shape[0] && x.shape[0] !== 1;
    const row = reshape(x, [1, x.shape[0]]);
    if (probs) return crossEntropy(row, reshape(t, [1, x.shape[0]]), options);
    return crossEntropy(row, t !== null ? reshape(t, [1]) : target, options);
  }
  if (rank > 2) {
    // [N, C, d1, …]: move C last and flatten to rows; the mean runs over all N·d1·… positions, as torch.
    const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2), 1];
    const cols = x.shape[1];
    const rows = reshape(permute(x, axes), [-1, cols]);
    const t = target instanceof Variable || target instanceof Tensor ? target : null;
    if (t !== null && t.shape.length === rank) {
      if (t.shape.some((d, i) => d !== x.shape[i])) {
        throw new Error(`crossEntropy: probability target has shape ${formatShape(t.shape)} but logits have ${formatShape(x.shape)}`);
      }
      return crossEntropy(rows, reshape(permute(t, axes), [-1, cols]), options);
    }
    const labelShape = [x.shape[0], ...x.shape.slice(2)];
    if (t !== null && (t.shape.length !== rank - 1 || t.shape.some((d, i) => d !== labelShape[i]))) {
      throw new Error(`crossEntropy: class indices for logits ${formatShape(x.shape)} must have shape ${formatShape(labelShape)}, got ${formatShape(t.shape)}`);
    }
    return crossEntropy(rows, t !== null ? reshape(t, [-1]) : target, options);
  }
  if (rank !== 2) throw new Error(`crossEntropy: logits must have a class axis ([C], [N, C] or [N, C, d1, …]), got shape ${formatShape(x.shape)}`);
  const [rows, cols] = x.shape;
  if (rows === 0) throw new Error('crossEntropy: logits have no rows (mean over an empty batch)');
  if (cols === 0) throw new Error('crossEntropy: logits have no classes (shape [N, 0])');
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${String(eps)}`);
  let labels: Int32Array | null = null;
  let probs: Variable | null = null;
  if (target instanceof Variable || target instanceof Tensor) {
    const t = target instanceof Variable ? target : new Variable(target);
    if (sameShape(t.shape, x.shape)) probs = t;
    else if (t.shape.length === 1) labels = readLabels(t.data, rows, cols);
    else throw new Error(`crossEntropy: target of shape ${formatShape(t.shape)} is neither [${rows}] class indices nor probabilities of the logits' shape ${formatShape(x.shape)}`);
  } else if (target !== null && typeof target === 'object' && typeof target.length === 'number') {
    labels = readLabels(target, rows, cols);
  } else {
    throw new Error(`crossEntropy: target must be class indices (array or Tensor) or a probability Tensor, got ${String(target)}`);
  }
  const ls = logSoftmaxRows(alloc(x.size), x.data, rows, cols);
  const uniform = eps / cols;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let rowSum = 0;
    if (labels !== null) {
      if (eps > 0) for (let j = 0; j < cols; j++) rowSum += ls[o + j];
      total -= (1 - eps) * ls[o + labels[i]] + uniform * rowSum;
    } else {
      const t = probs!.data;
      for (let j = 0; j < cols; j++) rowSum += ((1 - eps) * t[o + j] + uniform) * ls[o + j];
      total -= rowSum;
    }
  }
  const y = alloc(1);
  y[0] = total / rows;
  const value = new Tensor(y, []);
  const tv = probs;
  if (!tracking(x, tv ?? undefined)) return new Variable(value);
  return record('crossEntropy', value, tv === null ? [x] : [x, tv], tv === null ? [] : [tv], (g) => {
    const s = g[0] / rows;
    let gx: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = alloc(x.size);
      for (let i = 0; i < rows; i++) {
        const o = i * cols;
        if (labels !== null) {
          // Σ_c t' = 1 for a smoothed one-hot target.
          for (let j = 0; j < cols; j++) gx[o + j] = (Math.exp(ls[o + j]) - uniform) * s;
          gx[o + labels[i]] -= (1 - eps) * s;
        } else {
          const t = tv!.data;
          let mass = 0;
          for (let j = 0; j < cols; j++) mass += (1 - eps) * t[o + j] + uniform;
          for (let j = 0; j < cols; j++) gx[o + j] = (Math.exp(ls[o + j]) * mass - ((1 - eps) * t[o + j] + uniform)) * s;
        }
      }
    }
    let gt: Float32Array | null = null;
    if (tv !== null && tv.requiresGrad) {
      gt = alloc(x.size);
      const c = -(1 - eps) * s;
      for (let i = 0; i < x.size; i++) gt[i] = c * ls[i];
    }
    return tv === null ? [gx] : [gx, gt];
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
  const value = new Tensor(y, []);
  if (!tracking(p, t)) return new Variable(value);
  return record('mse', value, [p, t], [p, t], (g) => {
    const gp = alloc(n);
    const s = 2 * g[0] / n;
    for (let i = 0; i < n; i++) gp[i] = (p.data[i] - t.data[i]) * s;
    return [p.requiresGrad ? gp : null, t.requiresGrad ? negated(gp) : null];
  });
}
