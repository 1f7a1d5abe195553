// measureInference: result shape and sanity only (timings on a shared machine are not asserted).
import { describe, expect, it } from 'vitest';
import { Dense, ReLU, Sequential } from '../../src/index.js';
import { measureInference } from '../../src/analysis/index.js';
import { randomTensor, testRng } from '../util/rng.js';

describe('measureInference', () => {
  const model = new Sequential([new Dense({ units: 16 }), new ReLU(), new Dense({ units: 4 })], { inputShape: [8] });
  const x = randomTensor([70, 8], testRng(1));

  it('times full batches after a warm-up and reports the median', () => {
    const t = measureInference(model, x, { batchSize: 32, warmup: 1, repeats: 5 });
    expect(t).toMatchObject({ batchSize: 32, batches: 2, warmup: 1, repeats: 5 });
    expect(t.samples).toHaveLength(5);
    expect(t.samples.every((s) => s >= 0 && Number.isFinite(s))).toBe(true);
    const sorted = t.samples.slice().sort((a, b) => a - b);
    expect(t.msPerBatch).toBe(sorted[2]);
    expect(t.minMsPerBatch).toBe(sorted[0]);
    expect(t.imagesPerSecond).toBeCloseTo(t.msPerBatch > 0 ? 32_000 / t.msPerBatch : Infinity, 6);
  });

  it('caps the batch at the number of inputs and uses defaults', () => {
    const t = measureInference(model, x.slice0(0, 10));
    expect(t).toMatchObject({ batchSize: 10, batches: 1, warmup: 2, repeats: 10 });
  });

  it('rejects bad options and inputs', () => {
    expect(() => measureInference(model, x, { repeats: 0 })).toThrow('measureInference: repeats must be an integer ≥ 1, got 0');
    expect(() => measureInference(model, x, { batchSize: 2.5 })).toThrow('batchSize must be an integer ≥ 1, got 2.5');
    expect(() => measureInference(model, x.slice0(0, 0))).toThrow('x must be a non-empty batch of inputs, got [0, 8]');
    expect(() => measureInference(model, randomTensor([3, 5], testRng(2)))).toThrow('does not match the model');
  });
});
