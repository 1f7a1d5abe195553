// SoftmaxCrossEntropy: the fused softmax + cross-entropy loss on logits (PyTorch F.cross_entropy, mean
// reduction), or with `fromLogits: false` the cross-entropy of probabilities (Keras from_logits=False).
import { checkKeys, readBoolean, readNumber } from '../config.js';
import { softmaxRows } from '../tensor/reduce.js';
import { formatShape, type Tensor } from '../tensor/tensor.js';
import { classTargetKind, ensureBuffer, sameShape, type TargetKind } from './class-targets.js';
import { lossWarning, type Loss } from './loss.js';

/** Probabilities are clamped to [PROBABILITY_EPSILON, 1] before the log when `fromLogits` is false (Keras' epsilon). */
export const PROBABILITY_EPSILON = 1e-7;

/** Options of {@link SoftmaxCrossEntropy}. */
export interface CrossEntropyConfig {
  /** ε of PyTorch's `label_smoothing`: the target becomes (1 − ε)·target + ε/classes. In [0, 1], default 0. */
  readonly labelSmoothing?: number;
  /**
   * Whether `pred` holds logits (default true: softmax is fused in, as in PyTorch and Keras'
   * `from_logits=True`). False: `pred` holds probabilities (a model ending in Softmax, run by hand),
   * and the loss is −Σ t'·log(clamp(p, {@link PROBABILITY_EPSILON}, 1)). Sequential feeds the
   * logits before a trailing Softmax only when this is true.
   */
  readonly fromLogits?: boolean;
}

/**
 * Whether every row of `x[rows, classes]` looks like a probability distribution: 2+ classes, entries
 * ≥ 0 and a sum within 1e-4 of 1. Logits almost never do; a Softmax output always does.
 */
export function rowsLookLikeProbabilities(x: Float32Array, rows: number, classes: number): boolean {
  if (classes < 2 || rows === 0) return false;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const v = x[o + k];
      if (!(v >= 0)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-4) return false;
  }
  return true;
}

/**
 * Cross-entropy of logits `pred[batch, classes]` (kind `'cross-entropy'`), softmax fused and
 * max-subtracted so logits of any size stay finite:
 *
 *   L = (1/batch) Σ_r Σ_k t'_rk · (lse_r − pred_rk),   lse_r = max_r + log Σ_k exp(pred_rk − max_r),
 *   t' = (1 − ε)·t + ε/classes,
 *
 * where `target` is either class indices `[batch]` (integers stored as numbers; t is their one-hot)
 * or probabilities / one-hot rows `[batch, classes]`. Matches `torch.nn.functional.cross_entropy`
 * (reduction 'mean', `label_smoothing` ε) for both target forms.
 *
 * Gradient: dL/dpred_rk = (softmax_rk · Σ_j t'_rj − t'_rk) / batch, i.e. (softmax − t')/batch for
 * targets whose rows sum to 1.
 *
 * With `fromLogits: false`, `pred` holds probabilities p and
 *   L = (1/batch) Σ_r Σ_k t'_rk · (−log p̂_rk),  p̂ = clamp(p, ε, 1), ε = {@link PROBABILITY_EPSILON},
 *   dL/dp_rk = −t'_rk / (batch · p_rk) where ε ≤ p_rk ≤ 1, else 0 (the clamp is flat there).
 *
 * Logits that look like probabilities (every row ≥ 0 and summing to 1: a Softmax output, so softmax
 * would be applied twice) trigger a one-time warning per loss through {@link lossWarning}.
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly kind = 'cross-entropy';
  readonly labelSmoothing: number;
  /** Whether `pred` holds logits (true) or probabilities (false); see {@link CrossEntropyConfig.fromLogits}. */
  readonly fromLogits: boolean;
  /** Set once the probabilities warning was given (it is given once per loss). */
  private warned: boolean;
  /** References from the last forward (read by backward; the caller keeps them unchanged in between). */
  private pred: Tensor | null;
  private target: Tensor | null;
  private targetKind: TargetKind;
  /** Loss-owned gradient buffer for `backward()` without `out`. */
  private grad: Tensor | null;

  constructor(config: CrossEntropyConfig = {}) {
    const c = config as unknown as Record<string, unknown>;
    checkKeys('cross-entropy', c, ['labelSmoothing', 'fromLogits']);
    this.labelSmoothing = readNumber('cross-entropy', c, 'labelSmoothing', 0, { min: 0, max: 1 });
    this.fromLogits = readBoolean('cross-entropy', c, 'fromLogits', true);
    this.warned = false;
    this.pred = null;
    this.target = null;
    this.targetKind = 'dense';
    this.grad = null;
  }

  /** Mean cross-entropy of `pred[batch, classes]` (logits, or probabilities with `fromLogits: false`) against `target` (`[batch]` indices or `[batch, classes]`). */
  forward(pred: Tensor, target: Tensor): number {
    const targetKind = classTargetKind(this.kind, pred, target);
    const [batch, classes] = pred.shape;
    if (batch === 0 || classes === 0) throw new Error(`${this.kind}: pred ${formatShape(pred.shape)} is empty`);
    const x = pred.data;
    const t = target.data;
    const eps = this.labelSmoothing;
    const uniform = eps / classes;
    this.pred = pred;
    this.target = target;
    this.targetKind = targetKind;
    if (!this.fromLogits) return this.forwardProbabilities(x, t, batch, classes, targetKind);
    if (!this.warned && rowsLookLikeProbabilities(x, batch, classes)) {
      this.warned = true;
      lossWarning(
        `${this.kind}: the predictions look like probabilities (every row is >= 0 and sums to 1), but this loss ` +
          'expects logits and applies softmax itself, so softmax would be applied twice. Remove the final Softmax, ' +
          "feed the logits, or create the loss with { fromLogits: false }. (Sequential's fit/evaluate feed the logits " +
          'before a trailing Softmax themselves.)',
      );
    }
    let total = 0;
    for (let r = 0; r < batch; r++) {
      const o = r * classes;
      let max = -Infinity;
      for (let k = 0; k < classes; k++) if (x[o + k] > max) max = x[o + k];
      let sumExp = 0;
      for (let k = 0; k < classes; k++) sumExp += Math.exp(x[o + k] - max);
      const logSum = Math.log(sumExp);
      // −log softmax_k = (max − x_k) + log Σ exp(x − max): both terms are small even for huge logits.
      if (targetKind === 'indices') {
        const y = t[r];
        let row = (1 - eps) * (max - x[o + y] + logSum);
        if (eps > 0) {
          for (let k = 0; k < classes; k++) row += uniform * (max - x[o + k] + logSum);
        }
        total += row;
      } else {
        for (let k = 0; k < classes; k++) total += ((1 - eps) * t[o + k] + uniform) * (max - x[o + k] + logSum);
      }
    }
    return total / batch;
  }

  /** The smoothed target weight t'_rk. */
  private weight(t: Float32Array, kind: TargetKind, r: number, k: number, classes: number): number {
    const eps = this.labelSmoothing;
    const hit = kind === 'indices' ? (t[r] === k ? 1 : 0) : t[r * classes + k];
    return (1 - eps) * hit + eps / classes;
  }

  /** forward for probabilities: mean over rows of Σ_k t'_rk · (−log clamp(p_rk, ε, 1)). */
  private forwardProbabilities(p: Float32Array, t: Float32Array, batch: number, classes: number, kind: TargetKind): number {
    let total = 0;
    for (let r = 0; r < batch; r++) {
      const o = r * classes;
      for (let k = 0; k < classes; k++) {
        const w = this.weight(t, kind, r, k, classes);
        if (w === 0) continue;
        const v = p[o + k];
        const clamped = v < PROBABILITY_EPSILON ? PROBABILITY_EPSILON : v > 1 ? 1 : v;
        total -= w * Math.log(clamped);
      }
    }
    return total / batch;
  }

  /**
   * dL/dpred of the last forward, `[batch, classes]`, written into `out` (which must not alias the
   * target) or into a loss-owned buffer. Returns the tensor written.
   */
  backward(out?: Tensor): Tensor {
    const pred = this.pred;
    const target = this.target;
    if (pred === null || target === null) throw new Error(`${this.kind}: backward called before forward`);
    if (out !== undefined && !sameShape(out.shape, pred.shape)) {
      throw new Error(`${this.kind}: backward out must have the pred shape ${formatShape(pred.shape)}, got ${formatShape(out.shape)}`);
    }
    const g = out ?? (this.grad = ensureBuffer(this.grad, pred.shape));
    const [batch, classes] = pred.shape;
    if (!this.fromLogits) {
      // dL/dp = −t'/(batch·p) inside the clamp range, 0 where the clamp is flat.
      const p = pred.data;
      const d = g.data;
      for (let r = 0; r < batch; r++) {
        const o = r * classes;
        for (let k = 0; k < classes; k++) {
          const v = p[o + k];
          const w = this.weight(target.data, this.targetKind, r, k, classes);
          d[o + k] = v >= PROBABILITY_EPSILON && v <= 1 && w !== 0 ? -w / (batch * v) : 0;
        }
      }
      return g;
    }
    const d = softmaxRows(g.data, pred.data, batch, classes);
    const t = target.data;
    const eps = this.labelSmoothing;
    const uniform = eps / classes;
    const invBatch = 1 / batch;
    for (let r = 0; r < batch; r++) {
      const o = r * classes;
      if (this.targetKind === 'indices') {
        // Smoothed one-hot rows sum to 1.
        for (let k = 0; k < classes; k++) d[o + k] = (d[o + k] - uniform) * invBatch;
        d[o + t[r]] -= (1 - eps) * invBatch;
      } else {
        let mass = 0;
        for (let k = 0; k < classes; k++) mass += (1 - eps) * t[o + k] + uniform;
        for (let k = 0; k < classes; k++) d[o + k] = (d[o + k] * mass - ((1 - eps) * t[o + k] + uniform)) * invBatch;
      }
    }
    return g;
  }

  getConfig(): Record<string, unknown> {
    return { labelSmoothing: this.labelSmoothing, fromLogits: this.fromLogits };
  }
}
