// measureInference: result shape and sanity only (timings on a shared machine are not asserted).
import { afterEach, describe, expect, it } from 'vitest';
import { Dense, ReLU, Sequential, availableCores, getThreads, setThreads } from '../../src/index.js';
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

  describe('threads', () => {
    const initial = getThreads();
    afterEach(() => setThreads(initial));

    it('sets the gemm thread count for the measurement and restores the previous one', () => {
      setThreads(availableCores());
      const t = measureInference(model, x, { batchSize: 32, warmup: 0, repeats: 1, threads: 1 });
      expect(t.threads).toBe(1);
      expect(getThreads()).toBe(availableCores());
      // Without the option the current count is used and reported.
      setThreads(1);
      expect(measureInference(model, x, { warmup: 0, repeats: 1 }).threads).toBe(1);
      expect(getThreads()).toBe(1);
    });

    it('clamps to the available cores, as setThreads does', () => {
      setThreads(1);
      const t = measureInference(model, x, { warmup: 0, repeats: 1, threads: availableCores() + 3 });
      expect(t.threads).toBe(availableCores());
      expect(getThreads()).toBe(1);
    });

    it('restores the previous count when a pass throws', () => {
      setThreads(availableCores());
      expect(() => measureInference(model, randomTensor([3, 5], testRng(2)), { threads: 1 })).toThrow('does not match the model');
      expect(getThreads()).toBe(availableCores());
    });

    it('rejects a thread count that is not a positive integer, naming the option', () => {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expect(() => measureInference(model, x, { threads: bad })).toThrow(`measureInference: threads must be an integer ≥ 1, got ${JSON.stringify(bad)}`);
      }
      expect(() => measureInference(model, x, { threads: '2' as unknown as number })).toThrow('threads must be an integer ≥ 1, got "2"');
      expect(getThreads()).toBe(initial);
    });
  });
});
