// MeanSquaredError: squared error averaged over every element (PyTorch nn.MSELoss, mean reduction).
import { checkKeys } from '../config.js';
import { checkTensor, formatShape, type Tensor } from '../tensor/tensor.js';
import { checkClassIndices, ensureBuffer, sameShape, type TargetKind } from './class-targets.js';
import type { Loss } from './loss.js';

/**
 * Mean squared error (kind `'mse'`): L = (1/N) Σ_i (pred_i − target_i)², N = pred.size, the mean over
 * all elements as `torch.nn.MSELoss()`. Gradient: dL/dpred = 2·(pred − target)/N.
 *
 * `target` has the shape of `pred`, or, for a classifier `pred[batch, classes]` (classes > 1), it may
 * be class indices `[batch]`, which are one-hot encoded (squared error on one-hot labels, as in
 * assignment 2's MLPs); N is then still batch·classes.
 */
export class MeanSquaredError implements Loss {
  readonly kind = 'mse';
  /** References from the last forward (read by backward; the caller keeps them unchanged in between). */
  private pred: Tensor | null;
  private target: Tensor | null;
  private targetKind: TargetKind;
  /** Loss-owned gradient buffer for `backward()` without `out`. */
  private grad: Tensor | null;

  constructor(config: Record<string, never> = {}) {
    checkKeys('mse', config, []);
    this.pred = null;
    this.target = null;
    this.targetKind = 'dense';
    this.grad = null;
  }

  /** Mean of (pred − target)² over all elements; `target` is pred-shaped or class indices `[batch]`. */
  forward(pred: Tensor, target: Tensor): number {
    const targetKind = this.resolveTarget(pred, target);
    if (pred.size === 0) throw new Error(`${this.kind}: pred ${formatShape(pred.shape)} is empty`);
    const p = pred.data;
    const t = target.data;
    let total = 0;
    if (targetKind === 'dense') {
      for (let i = 0; i < p.length; i++) {
        const d = p[i] - t[i];
        total += d * d;
      }
    } else {
      const [batch, classes] = pred.shape;
      for (let r = 0; r < batch; r++) {
        const o = r * classes;
        const y = t[r];
        for (let k = 0; k < classes; k++) {
          const d = p[o + k] - (k === y ? 1 : 0);
          total += d * d;
        }
      }
    }
    this.pred = pred;
    this.target = target;
    this.targetKind = targetKind;
    return total / pred.size;
  }

  /** dL/dpred = 2·(pred − target)/N of the last forward, into `out` (may alias pred, not target) or a loss-owned buffer. */
  backward(out?: Tensor): Tensor {
    const pred = this.pred;
    const target = this.target;
    if (pred === null || target === null) throw new Error(`${this.kind}: backward called before forward`);
    if (out !== undefined && !sameShape(out.shape, pred.shape)) {
      throw new Error(`${this.kind}: backward out must have the pred shape ${formatShape(pred.shape)}, got ${formatShape(out.shape)}`);
    }
    const g = out ?? (this.grad = ensureBuffer(this.grad, pred.shape));
    const d = g.data;
    const p = pred.data;
    const t = target.data;
    const scale = 2 / pred.size;
    if (this.targetKind === 'dense') {
      for (let i = 0; i < p.length; i++) d[i] = scale * (p[i] - t[i]);
    } else {
      const [batch, classes] = pred.shape;
      for (let r = 0; r < batch; r++) {
        const o = r * classes;
        const y = t[r];
        for (let k = 0; k < classes; k++) d[o + k] = scale * (p[o + k] - (k === y ? 1 : 0));
      }
    }
    return g;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }

  private resolveTarget(pred: Tensor, target: Tensor): TargetKind {
    checkTensor(this.kind, 'pred', pred);
    checkTensor(this.kind, 'target', target);
    if (sameShape(pred.shape, target.shape)) return 'dense';
    if (pred.rank === 2 && target.rank === 1 && target.shape[0] === pred.shape[0]) {
      if (pred.shape[1] < 2) {
        throw new Error(
          `${this.kind}: target ${formatShape(target.shape)} does not match pred ${formatShape(pred.shape)}; ` +
            `a [batch] target means class indices, which needs pred [batch, classes] with classes > 1 ` +
            `(reshape a regression target to ${formatShape(pred.shape)})`,
        );
      }
      checkClassIndices(this.kind, target.data, pred.shape[1]);
      return 'indices';
    }
    throw new Error(
      `${this.kind}: target ${formatShape(target.shape)} does not match pred ${formatShape(pred.shape)}; ` +
        `expected ${formatShape(pred.shape)}` + (pred.rank === 2 ? ` or class indices [${pred.shape[0]}]` : ''),
    );
  }
}
