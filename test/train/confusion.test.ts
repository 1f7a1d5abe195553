import { describe, expect, it } from 'vitest';
import { classMetrics, confusionMatrix, formatConfusion } from '../../src/train/confusion.js';
import { Tensor } from '../../src/tensor/tensor.js';

// 8 samples, 3 classes. Pairs (true → predicted):
// 0→0, 0→0, 0→1, 1→1, 1→2, 2→2, 2→2, 2→0
const LABELS = [0, 0, 0, 1, 1, 2, 2, 2];
const PRED = [0, 0, 1, 1, 2, 2, 2, 0];
// rows = true, cols = predicted
const M = [
  [2, 1, 0],
  [0, 1, 1],
  [1, 0, 2],
];

describe('confusionMatrix', () => {
  it('counts true rows × predicted columns (hand-derived)', () => {
    expect(confusionMatrix(PRED, LABELS, 3)).toEqual(M);
  });

  it('accepts typed arrays and [N] tensors', () => {
    expect(confusionMatrix(Int32Array.from(PRED), new Tensor(Float32Array.from(LABELS), [8]), 3)).toEqual(M);
  });

  it('rejects out-of-range ids and length mismatches, naming the position', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/prediction 3 at index 1 is outside 0..2/);
    expect(() => confusionMatrix([0, 1], [0, -1], 3)).toThrow(/label -1 at index 1/);
    expect(() => confusionMatrix([0], [0, 1], 3)).toThrow(/1 predictions for 2 labels/);
    expect(() => confusionMatrix([0], [0], 0)).toThrow(/classes must be an integer >= 1/);
    // Scores [N, classes] (model.predict's output) instead of class ids: named as such, not as a length mismatch.
    const scores = new Tensor(new Float32Array(6), [2, 3]);
    expect(() => confusionMatrix(scores, [0, 1], 3)).toThrow('confusionMatrix: predicted must be class ids [N], got a tensor [2, 3] (use predictClasses or an argmax)');
  });
});

describe('classMetrics', () => {
  it('gives accuracy, per-class accuracy (recall), precision, F1 and support (hand-derived)', () => {
    const m = classMetrics(M);
    expect(m.accuracy).toBeCloseTo(5 / 8, 12);
    expect(m.support).toEqual([3, 2, 3]);
    // recall = diag / row sum: 2/3, 1/2, 2/3
    expect(m.recall).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(m.perClassAccuracy).toEqual(m.recall);
    // precision = diag / column sum: columns sum to 3, 2, 3 → 2/3, 1/2, 2/3
    expect(m.precision).toEqual([2 / 3, 1 / 2, 2 / 3]);
    // F1 = 2pr/(p+r) = p when p = r
    m.f1.forEach((f, c) => expect(f).toBeCloseTo(m.precision[c], 12));
  });

  it('uses NaN where a class never occurs or is never predicted', () => {
    const m = classMetrics([[1, 0], [0, 0]]);
    expect(m.recall[1]).toBeNaN();
    expect(m.precision[1]).toBeNaN();
    expect(m.accuracy).toBe(1);
    expect(() => classMetrics([[1, 2]])).toThrow(/must be square/);
  });
});

describe('formatConfusion', () => {
  it('prints a header of predicted names, one row per true class with its accuracy, and the total', () => {
    const text = formatConfusion(M, ['cat', 'dog', 'emu']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^true \\ predicted\s+cat\s+dog\s+emu\s+accuracy$/);
    expect(lines[2].split(/\s+/)).toEqual(['cat', '2', '1', '0', '66.7%']);
    expect(lines[3].split(/\s+/)).toEqual(['dog', '0', '1', '1', '50.0%']);
    expect(lines[4].split(/\s+/)).toEqual(['emu', '1', '0', '2', '66.7%']);
    expect(lines.at(-1)).toBe('overall accuracy 62.5% (5 / 8)');
    // Columns line up: every row has the same length.
    expect(new Set([lines[0], lines[2], lines[3], lines[4]].map((l) => l.length)).size).toBe(1);
  });

  it('defaults to numeric class names and checks the name count', () => {
    expect(formatConfusion(M).split('\n')[2].startsWith('0 ')).toBe(true);
    expect(() => formatConfusion(M, ['a'])).toThrow(/1 class names for 3 classes/);
  });
});
