// Classification metrics over prediction and target tensors.
import { argmaxRows } from '../tensor/reduce.js';
import { checkTensor, formatShape, type Tensor } from '../tensor/tensor.js';

// Row argmaxes of the predictions and the one-hot targets, grown on demand and reused: countCorrect
// runs on every training step, which allocates nothing in steady state.
let predIds = new Int32Array(0);
let targetIds = new Int32Array(0);

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
  if (predIds.length < batch) predIds = new Int32Array(batch);
  argmaxRows(predIds, pred.data, batch, classes);
  if (!byIndex) {
    if (targetIds.length < batch) targetIds = new Int32Array(batch);
    argmaxRows(targetIds, target.data, batch, classes);
  }
  const t = target.data;
  let correct = 0;
  for (let r = 0; r < batch; r++) if (predIds[r] === (byIndex ? t[r] : targetIds[r])) correct++;
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
