// Classification metrics: hand-derived counts, both target forms, and argument errors.
import { describe, expect, it } from 'vitest';
import { accuracy, countCorrect } from '../../src/train/metrics.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';

describe('countCorrect / accuracy', () => {
  it('hand-derived: argmax of each row against class ids or one-hot rows', () => {
    // Row argmaxes: 1, 0, 2. Targets 1, 2, 2 → rows 0 and 2 correct.
    const pred = tensor([0.1, 0.8, 0.1, 0.5, 0.2, 0.3, 0, 0, 1], [3, 3]);
    expect(countCorrect(pred, tensor([1, 2, 2]))).toBe(2);
    expect(countCorrect(pred, tensor([0, 1, 0, 0, 0, 1, 0, 0, 1], [3, 3]))).toBe(2);
    expect(accuracy(pred, tensor([1, 2, 2]))).toBeCloseTo(2 / 3, 12);
  });

  it('first maximum wins on ties in predictions and in soft targets; a smaller batch after a larger one counts only its rows', () => {
    // 5 rows: ties resolve to the first column on both sides.
    const big = tensor([1, 1, 0, 0, 2, 2, 3, 1, 1, 0.5, 0.5, 0.5, 0, 0, 0], [5, 3]);
    const soft = tensor([0.4, 0.4, 0.2, 0.1, 0.45, 0.45, 0.2, 0.3, 0.5, 0.3, 0.3, 0.3, 0.1, 0.1, 0.8], [5, 3]);
    // pred argmax 0, 1, 0, 0, 0; target argmax 0, 1, 2, 0, 2 → rows 0, 1, 3.
    expect(countCorrect(big, soft)).toBe(3);
    expect(countCorrect(big, tensor([0, 1, 0, 0, 2]))).toBe(4);
    // Then 1 row: stale entries of the larger batch must not count.
    expect(countCorrect(tensor([0, 1, 0], [1, 3]), tensor([0, 0, 1], [1, 3]))).toBe(0);
    expect(countCorrect(tensor([0, 1, 0], [1, 3]), tensor([1]))).toBe(1);
  });

  it('name a non-Tensor argument and a row mismatch', () => {
    const pred = tensor([0.1, 0.9], [1, 2]);
    expect(() => countCorrect(pred, [1] as unknown as Tensor)).toThrow('accuracy: target must be a Tensor, got an array');
    expect(() => accuracy([[0.1, 0.9]] as unknown as Tensor, tensor([1]))).toThrow('accuracy: pred must be a Tensor, got an array');
    expect(() => countCorrect(pred, tensor([1, 0]))).toThrow('accuracy: target [2] does not match predictions [1, 2]');
  });
});
