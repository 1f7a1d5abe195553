import { describe, expect, it } from 'vitest';
import { batchHistoryCsv, csvField, epochHistoryCsv, parseCsv, predictionsCsv, toCsv } from '../../src/train/csv.js';
import { Tensor } from '../../src/tensor/tensor.js';

describe('CSV text', () => {
  it('quotes fields with commas, quotes and newlines, and parses them back', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(NaN)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
    const rows = [['T-shirt/top', 'a,b', 'line\nbreak', 'q"uote'], ['1', '', '2.5', 'x']];
    const text = toCsv(['name', 'x', 'y', 'z'], rows);
    expect(parseCsv(text)).toEqual([['name', 'x', 'y', 'z'], ...rows]);
    expect(parseCsv('a,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(() => parseCsv('"open')).toThrow(/unterminated/);
  });
});

describe('predictionsCsv', () => {
  it('writes index,true,predicted,p0..p{C-1}, predicted = argmax, and parses back to the same numbers', () => {
    const probs = new Tensor(Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25, 0.2, 0.3, 0.5]), [3, 3]);
    const text = predictionsCsv(probs, Float32Array.from([1, 2, 2]));
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['index', 'true', 'predicted', 'p0', 'p1', 'p2']);
    expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([['0', '1', '1'], ['1', '2', '0'], ['2', '2', '2']]);
    rows.slice(1).forEach((r, i) => r.slice(3).forEach((v, j) => expect(Number(v)).toBeCloseTo(probs.data[i * 3 + j], 6)));
  });

  it('has ten probability columns for ten classes and checks shapes', () => {
    const probs = new Tensor(new Float32Array(20).fill(0.1), [2, 10]);
    expect(parseCsv(predictionsCsv(probs, [3, 4]))[0]).toEqual(['index', 'true', 'predicted', ...Array.from({ length: 10 }, (_, j) => `p${j}`)]);
    expect(() => predictionsCsv(probs, [1])).toThrow(/must be \[N, classes\] with N = 1 labels/);
  });
});

describe('history CSV', () => {
  const history = {
    batch: { loss: [2, 1.5, 1.2, 1], accuracy: [0.1, 0.2, 0.3, 0.4] },
    epoch: { loss: [1.75, 1.1], accuracy: [0.15, 0.35], valLoss: [NaN, 0.9], valAccuracy: [NaN, 0.5], seconds: [1, 2], lr: [0.01, 0.01] },
  };

  it('per epoch: 1-based epochs, empty cells for NaN validation', () => {
    expect(parseCsv(epochHistoryCsv(history))).toEqual([
      ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds', 'lr'],
      ['1', '1.75', '0.15', '', '', '1', '0.01'],
      ['2', '1.1', '0.35', '0.9', '0.5', '2', '0.01'],
    ]);
  });

  it('per batch: step, epoch and batch derived from batches per epoch', () => {
    expect(parseCsv(batchHistoryCsv(history, 2))).toEqual([
      ['step', 'epoch', 'batch', 'loss', 'accuracy'],
      ['1', '1', '1', '2', '0.1'],
      ['2', '1', '2', '1.5', '0.2'],
      ['3', '2', '1', '1.2', '0.3'],
      ['4', '2', '2', '1', '0.4'],
    ]);
    expect(parseCsv(batchHistoryCsv(history))[1]).toEqual(['1', '', '', '2', '0.1']);
  });
});
