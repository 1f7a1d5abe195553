// losses.ts: the differentiable losses with PyTorch's semantics: softmax cross-entropy from logits
// (class indices or probabilities, label smoothing, class weights, an ignored index, a reduction) and
// mean squared error.
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
  /**
   * Per-class weights w (C finite numbers; torch's `weight`): class c's terms are scaled by w_c. With
   * class indices and the mean reduction the sum is divided by Σ w[target] over the positions not
   * ignored (instead of their count); with probability targets the mean still divides by the number
   * of positions, as torch 1.13. No gradient flows to the weights.
   */
  readonly weight?: ArrayLike<number> | Tensor;
  /**
   * A class index whose positions contribute nothing (no loss, no gradient, not counted by the mean),
   * as torch's `ignore_index`; it may lie outside [0, C). Class-index targets only: torch refuses an
   * ignore_index ≥ 0 with probability targets and so does this op (a negative one has no effect there).
   */
  readonly ignoreIndex?: number;
  /**
   * 'mean' (default): a scalar, the sum over positions divided as described for `weight`; 'sum': a
   * scalar; 'none': one loss per position, shaped like the class indices ([N] or [N, d1, …]; a scalar for [C] logits).
   */
  readonly reduction?: 'mean' | 'sum' | 'none';
}

const REDUCTIONS = ['mean', 'sum', 'none'];

function readLabels(values: ArrayLike<number>, rows: number, cols: number, ignore: number | null): Int32Array {
  if (values.length !== rows) throw new Error(`crossEntropy: ${values.length} labels for ${rows} rows of logits`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = values[i];
    if (ignore !== null && c === ignore) {
      out[i] = -1;
      continue;
    }
    if (!Number.isInteger(c) || c < 0 || c >= cols) {
      const also = ignore !== null ? ` (or the ignoreIndex ${ignore})` : '';
      throw new Error(`crossEntropy: label ${i} is ${c}, must be an integer class index in [0, ${cols - 1}]${also}`);
    }
    out[i] = c;
  }
  return out;
}

function readWeight(weight: ArrayLike<number> | Tensor, cols: number): Float64Array {
  const isTensor = weight instanceof Tensor;
  if (isTensor && weight.rank !== 1) throw new Error(`crossEntropy: weight must be 1-D with one entry per class (${cols}), got shape ${formatShape(weight.shape)}`);
  const data = isTensor ? weight.data : weight;
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
    throw new Error(`crossEntropy: weight must be an array or a 1-D Tensor of ${cols} per-class weights, got ${String(weight)}`);
  }
  if (data.length !== cols) throw new Error(`crossEntropy: weight has ${data.length} entries but the logits have ${cols} classes`);
  const out = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const v = data[c];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`crossEntropy: weight ${c} is ${String(v)}, must be a finite number`);
    out[c] = v;
  }
  return out;
}

/**
 * Softmax cross-entropy of `logits` [N, C], as torch.nn.functional.cross_entropy (torch 1.13).
 * `target` is either class indices (N integers in [0, C): an array, or a [N] Tensor/Variable) or
 * probabilities of the logits' shape [N, C] (a Tensor, or a Variable, which then gets a gradient
 * too). Logits [C] take one index (or [C] probabilities); logits [N, C, d1, …] take indices
 * [N, d1, …] (or probabilities of their own shape), each of the N·d1·… positions a row, as torch.
 *
 * Per row i with log-probabilities ℓ: class indices give ℓossᵢ = −(1 − ε)·w_t·ℓ_t − (ε/C)·Σ_c w_c·ℓ_c
 * (t the row's class; 0 for an ignored row); probabilities give ℓossᵢ = −Σ_c w_c·((1 − ε)·t_c + ε/C)·ℓ_c
 * (w = 1 without `weight`, ε the label smoothing). The 'mean' reduction divides Σᵢ ℓossᵢ by Σ w_t over
 * the rows not ignored for class indices (NaN when every row is ignored, as torch) and by N for
 * probabilities; 'sum' returns the sum, 'none' the rows. Gradient for the logits
 * (p·Σ_c aᵢc − aᵢ)·gᵢ/D with aᵢ the coefficients of ℓ above and D the mean's divisor (1 otherwise);
 * −(1 − ε)·w·ℓ·gᵢ/D for probability targets.
 */
export function crossEntropy(logitsIn: OpInput, target: ArrayLike<number> | Tensor | Variable, options: CrossEntropyOptions = {}): Variable {
  const x = asVariable(logitsIn, 'crossEntropy', 'logits');
  const reduction = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction)) throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  const rank = x.shape.length;
  if (rank === 1) {
    // [C] logits with one class index (or [C] probabilities), as torch: one row; 'none' gives a scalar.
    const t = target instanceof Variable || target instanceof Tensor ? target : null;
    const probs = t !== null && t.shape.length === 1 && t.shape[0] === x.shape[0] && x.shape[0] !== 1;
    const row = reshape(x, [1, x.shape[0]]);
    const loss = probs ? crossEntropy(row, reshape(t, [1, x.shape[0]]), options) : crossEntropy(row, t !== null ? reshape(t, [1]) : target, options);
    return reduction === 'none' ? reshape(loss, []) : loss;
  }
  if (rank > 2) {
    // [N, C, d1, …]: move C last and flatten to rows; the reduction runs over all N·d1·… positions, as torch.
    const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2), 1];
    const cols = x.shape[1];
    const rows = reshape(permute(x, axes), [-1, cols]);
    const labelShape = [x.shape[0], ...x.shape.slice(2)];
    const unflat = (loss: Variable): Variable => (reduction === 'none' ? reshape(loss, labelShape) : loss);
    const t = target instanceof Variable || target instanceof Tensor ? target : null;
    if (t !== null && t.shape.length === rank) {
      if (t.shape.some((d, i) => d !== x.shape[i])) {
        throw new Error(`crossEntropy: probability target has shape ${formatShape(t.shape)} but logits have ${formatShape(x.shape)}`);
      }
      return unflat(crossEntropy(rows, reshape(permute(t, axes), [-1, cols]), options));
    }
    if (t !== null && (t.shape.length !== rank - 1 || t.shape.some((d, i) => d !== labelShape[i]))) {
      throw new Error(`crossEntropy: class indices for logits ${formatShape(x.shape)} must have shape ${formatShape(labelShape)}, got ${formatShape(t.shape)}`);
    }
    return unflat(crossEntropy(rows, t !== null ? reshape(t, [-1]) : target, options));
  }
  if (rank !== 2) throw new Error(`crossEntropy: logits must have a class axis ([C], [N, C] or [N, C, d1, …]), got shape ${formatShape(x.shape)}`);
  const [rows, cols] = x.shape;
  if (rows === 0) throw new Error('crossEntropy: logits have no rows (mean over an empty batch)');
  if (cols === 0) throw new Error('crossEntropy: logits have no classes (shape [N, 0])');
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${String(eps)}`);
  const ignore = options.ignoreIndex ?? null;
  if (ignore !== null && !Number.isInteger(ignore)) throw new Error(`crossEntropy: ignoreIndex must be an integer, got ${String(ignore)}`);
  const w = options.weight === undefined ? null : readWeight(options.weight, cols);
  let labels: Int32Array | null = null;
  let probs: Variable | null = null;
  if (target instanceof Variable || target instanceof Tensor) {
    const t = target instanceof Variable ? target : new Variable(target);
    if (sameShape(t.shape, x.shape)) probs = t;
    else if (t.shape.length === 1) labels = readLabels(t.data, rows, cols, ignore);
    else throw new Error(`crossEntropy: target of shape ${formatShape(t.shape)} is neither [${rows}] class indices nor probabilities of the logits' shape ${formatShape(x.shape)}`);
  } else if (target !== null && typeof target === 'object' && typeof target.length === 'number') {
    labels = readLabels(target, rows, cols, ignore);
  } else {
    throw new Error(`crossEntropy: target must be class indices (array or Tensor) or a probability Tensor, got ${String(target)}`);
  }
  if (probs !== null && ignore !== null && ignore >= 0) {
    throw new Error(`crossEntropy: ignoreIndex (${ignore}) is not supported with probability targets (as torch); give class indices, or leave it out`);
  }
  const ls = logSoftmaxRows(alloc(x.size), x.data, rows, cols);
  const uniform = eps / cols;
  const wc = (c: number): number => (w === null ? 1 : w[c]);
  // Row i's loss is −Σ_j a_ij·ℓ_ij with a_ij = ε/C·w_j + (1 − ε)·w_t at j = t for class t (0 for an
  // ignored row), or w_j·((1 − ε)·t_ij + ε/C) for probabilities. A: each row's Σ_j a_ij.
  let wSum = 0;
  for (let j = 0; j < cols; j++) wSum += wc(j);
  const A = new Float64Array(rows);
  const perRow = new Float64Array(rows);
  let divisor = reduction === 'mean' ? 0 : 1;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    if (labels !== null) {
      const t = labels[i];
      if (t < 0) continue;
      if (reduction === 'mean') divisor += wc(t);
      let smooth = 0;
      if (eps > 0) {
        if (w === null) for (let j = 0; j < cols; j++) smooth += ls[o + j];
        else for (let j = 0; j < cols; j++) smooth += w[j] * ls[o + j];
      }
      perRow[i] = -((1 - eps) * wc(t) * ls[o + t] + uniform * smooth);
      A[i] = (1 - eps) * wc(t) + uniform * wSum;
    } else {
      const t = probs!.data;
      let loss = 0;
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const c = wc(j) * ((1 - eps) * t[o + j] + uniform);
        loss -= c * ls[o + j];
        sum += c;
      }
      perRow[i] = loss;
      A[i] = sum;
    }
  }
  if (labels === null && reduction === 'mean') divisor = rows;
  let value: Tensor;
  if (reduction === 'none') {
    value = new Tensor(alloc(rows), [rows]);
    for (let i = 0; i < rows; i++) value.data[i] = perRow[i];
  } else {
    let total = 0;
    for (let i = 0; i < rows; i++) total += perRow[i];
    value = new Tensor(alloc(1), []);
    value.data[0] = total / divisor;
  }
  const tv = probs;
  if (!tracking(x, tv ?? undefined)) return new Variable(value);
  return record('crossEntropy', value, tv === null ? [x] : [x, tv], tv === null ? [] : [tv], (g) => {
    const scale = (i: number): number => (reduction === 'none' ? g[i] : g[0] / divisor);
    let gx: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = alloc(x.size);
      for (let i = 0; i < rows; i++) {
        const o = i * cols;
        const s = scale(i);
        if (labels !== null) {
          const t = labels[i];
          if (t < 0) continue;
          const k = A[i];
          if (w === null) for (let j = 0; j < cols; j++) gx[o + j] = (Math.exp(ls[o + j]) * k - uniform) * s;
          else for (let j = 0; j < cols; j++) gx[o + j] = (Math.exp(ls[o + j]) * k - uniform * w[j]) * s;
          gx[o + t] -= (1 - eps) * wc(t) * s;
        } else {
          const t = tv!.data;
          for (let j = 0; j < cols; j++) gx[o + j] = (Math.exp(ls[o + j]) * A[i] - wc(j) * ((1 - eps) * t[o + j] + uniform)) * s;
        }
      }
    }
    let gt: Float32Array | null = null;
    if (tv !== null && tv.requiresGrad) {
      gt = alloc(x.size);
      for (let i = 0; i < rows; i++) {
        const s = -(1 - eps) * scale(i);
        for (let j = 0; j < cols; j++) gt[i * cols + j] = s * wc(j) * ls[i * cols + j];
      }
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
