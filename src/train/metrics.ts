// Classification metrics over prediction and target tensors.
import { checkTensor, formatShape, type Tensor } from '../tensor/tensor.js';

/**
 * Number of rows of `pred[batch, classes]` whose argmax equals the target class. The target is
 * either class ids `[batch]` or one-hot / probabilities `[batch, classes]` (its argmax is the class).
 */
export function countCorrect(pred: Tensor, target: Tensor): number {
  checkTensor('accuracy', 'pred', pred);
  checkTensor('accuracy', 'target', target);
  const batch = pred.shape[0];
  const classes = pred.size / Math.max(batch, 1);
  const byIndex = target.rank === 1;
  if (target.shape[0] !== batch || (!byIndex && target.size !== pred.size)) {
    throw new Error(`accuracy: target ${formatShape(target.shape)} does not match predictions ${formatShape(pred.shape)}`);
  }
  const p = pred.data;
  const t = target.data;
  let correct = 0;
  for (let r = 0; r < batch; r++) {
    const o = r * classes;
    let best = 0;
    for (let j = 1; j < classes; j++) if (p[o + j] > p[o + best]) best = j;
    let label: number;
    if (byIndex) label = t[r];
    else {
      label = 0;
      for (let j = 1; j < classes; j++) if (t[o + j] > t[o + label]) label = j;
    }
    if (best === label) correct++;
  }
  return correct;
}

/** Fraction of correct rows (see {@link countCorrect}). */
export function accuracy(pred: Tensor, target: Tensor): number {
  checkTensor('accuracy', 'pred', pred);
  return pred.shape[0] === 0 ? 0 : countCorrect(pred, target) / pred.shape[0];
}

/** Names accepted in `compile({ metrics })`. */
export const METRIC_NAMES = ['accuracy'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
