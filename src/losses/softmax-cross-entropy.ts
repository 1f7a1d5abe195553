// SoftmaxCrossEntropy: the fused softmax + cross-entropy loss on logits (PyTorch F.cross_entropy, mean reduction).
import { checkKeys, readNumber } from '../config.js';
import { softmaxRows } from '../tensor/reduce.js';
import { formatShape, type Tensor } from '../tensor/tensor.js';
import { classTargetKind, ensureBuffer, sameShape, type TargetKind } from './class-targets.js';
import type { Loss } from './loss.js';

/** Options of {@link SoftmaxCrossEntropy}. */
export interface CrossEntropyConfig {
  /** ε of PyTorch's `label_smoothing`: the target becomes (1 − ε)·target + ε/classes. In [0, 1], default 0. */
  readonly labelSmoothing?: number;
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
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly kind = 'cross-entropy';
  readonly labelSmoothing: number;
  /** References from the last forward (read by backward; the caller keeps them unchanged in between). */
  private pred: Tensor | null;
  private target: Tensor | null;
  private targetKind: TargetKind;
  /** Loss-owned gradient buffer for `backward()` without `out`. */
  private grad: Tensor | null;

  constructor(config: CrossEntropyConfig = {}) {
    const c = config as unknown as Record<string, unknown>;
    checkKeys('cross-entropy', c, ['labelSmoothing']);
    this.labelSmoothing = readNumber('cross-entropy', c, 'labelSmoothing', 0, { min: 0, max: 1 });
    this.pred = null;
    this.target = null;
    this.targetKind = 'dense';
    this.grad = null;
  }

  /** Mean cross-entropy of logits `pred[batch, classes]` against `target` (`[batch]` indices or `[batch, classes]`). */
  forward(pred: Tensor, target: Tensor): number {
    const targetKind = classTargetKind(this.kind, pred, target);
    const [batch, classes] = pred.shape;
    if (batch === 0 || classes === 0) throw new Error(`${this.kind}: pred ${formatShape(pred.shape)} is empty`);
    const x = pred.data;
    const t = target.data;
    const eps = this.labelSmoothing;
    const uniform = eps / classes;
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
    this.pred = pred;
    this.target = target;
    this.targetKind = targetKind;
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
    return { labelSmoothing: this.labelSmoothing };
  }
}
