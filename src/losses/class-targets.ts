// Shared helpers of the built-in losses: target shape matching, class-index validation, gradient buffers.
import { checkTensor, formatShape, zeros, type Tensor } from '../tensor/tensor.js';

/** How a loss reads its target: same-shape values, or one class index per row. */
export type TargetKind = 'dense' | 'indices';

/**
 * Decides how `target` pairs with `pred[batch, classes]`: `'dense'` when the shapes are equal,
 * `'indices'` when `target` is `[batch]` (validated by {@link checkClassIndices}); otherwise throws
 * naming both shapes.
 */
export function classTargetKind(kind: string, pred: Tensor, target: Tensor): TargetKind {
  checkTensor(kind, 'pred', pred);
  checkTensor(kind, 'target', target);
  if (pred.rank !== 2) {
    throw new Error(`${kind}: pred must be [batch, classes], got ${formatShape(pred.shape)}`);
  }
  if (sameShape(target.shape, pred.shape)) return 'dense';
  if (target.rank === 1 && target.shape[0] === pred.shape[0]) {
    checkClassIndices(kind, target.data, pred.shape[1]);
    return 'indices';
  }
  throw new Error(
    `${kind}: target ${formatShape(target.shape)} does not match pred ${formatShape(pred.shape)}; ` +
      `expected class indices [${pred.shape[0]}] or a same-shape target ${formatShape(pred.shape)}`,
  );
}

/** Throws unless every `labels[i]` is an integer class id in `[0, classes)`, naming the first bad value and its index. */
export function checkClassIndices(kind: string, labels: Float32Array, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) {
      throw new Error(`${kind}: target[${i}] = ${y} is not a class index (an integer in [0, ${classes}))`);
    }
  }
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Returns `buffer` if it has `shape`, else a new zero tensor of that shape (loss-owned gradient buffers). */
export function ensureBuffer(buffer: Tensor | null, shape: readonly number[]): Tensor {
  return buffer !== null && sameShape(buffer.shape, shape) ? buffer : zeros(shape);
}
