// MeanSquaredError: hand-derived values, one-hot class targets, finite differences, PyTorch references, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MeanSquaredError } from '../../src/losses/mean-squared-error.js';
import { Tensor, tensor, zeros } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface LossCase {
  name: string;
  pred_shape: number[];
  pred: number[];
  target_shape: number[];
  target: number[];
  loss: number;
  grad: number[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/losses.json', import.meta.url), 'utf8')) as { cases: LossCase[] };

describe('MeanSquaredError', () => {
  it('hand-derived: mean over all elements and 2·(pred − target)/N', () => {
    // Differences [1, 0, −2, 0] → (1 + 4)/4 = 1.25; gradient 2·d/4 = [0.5, 0, −1, 0].
    const loss = new MeanSquaredError();
    expect(loss.kind).toBe('mse');
    expect(loss.forward(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 2, 5, 4], [2, 2]))).toBeCloseTo(1.25, 7);
    assertClose(loss.backward().data, [0.5, 0, -1, 0], { atol: 1e-7, what: 'grad' });
    expect(loss.getConfig()).toEqual({});
  });

  it('hand-derived: class-index targets are one-hot encoded', () => {
    // pred [[0.5, 0.5], [1, 0]], labels [0, 0] → one-hot [[1, 0], [1, 0]]; d = [−0.5, 0.5, 0, 0];
    // loss = 0.5/4 = 0.125; grad = 2·d/4 = [−0.25, 0.25, 0, 0].
    const loss = new MeanSquaredError();
    expect(loss.forward(tensor([0.5, 0.5, 1, 0], [2, 2]), tensor([0, 0]))).toBeCloseTo(0.125, 7);
    assertClose(loss.backward().data, [-0.25, 0.25, 0, 0], { atol: 1e-7, what: 'one-hot grad' });
  });

  it('writes into out (which may alias pred) or a reused loss-owned buffer', () => {
    const loss = new MeanSquaredError();
    const pred = tensor([1, 2, 3], [3]);
    loss.forward(pred, tensor([0, 0, 0], [3]));
    const own = loss.backward();
    expect(loss.backward()).toBe(own);
    expect(loss.backward(pred)).toBe(pred);
    assertClose(pred.data, [2 / 3, 4 / 3, 2], { atol: 1e-7, what: 'aliased grad' });
  });

  for (const form of ['dense', 'indices'] as const) {
    it(`gradient matches finite differences (${form} target)`, () => {
      const rng = testRng(4);
      const pred = randomTensor([3, 4], rng);
      const target = form === 'dense' ? randomTensor([3, 4], rng) : tensor([3, 0, 1]);
      const loss = new MeanSquaredError();
      loss.forward(pred, target);
      const analytic = loss.backward().data.slice();
      gradCheck(() => loss.forward(pred, target), pred.data, analytic, { h: 1e-2, tol: 1e-3, what: `${form} grad` });
    });
  }

  it('rejects shape mismatches naming both shapes, bad indices and configs', () => {
    const loss = new MeanSquaredError();
    expect(() => loss.forward(zeros([2, 3]), zeros([3, 2]))).toThrow(/mse: target \[3, 2\] does not match pred \[2, 3\]; expected \[2, 3\] or class indices \[2\]/);
    expect(() => loss.forward(zeros([2, 3, 1]), zeros([2, 3]))).toThrow(/mse: target \[2, 3\] does not match pred \[2, 3, 1\]; expected \[2, 3, 1\]$/);
    expect(() => loss.forward(zeros([4, 1]), zeros([4]))).toThrow(/mse: target \[4\] does not match pred \[4, 1\].*classes > 1/);
    expect(() => loss.forward(zeros([2, 3]), tensor([1, 3]))).toThrow(/mse: target\[1\] = 3 is not a class index \(an integer in \[0, 3\)\)/);
    expect(() => new MeanSquaredError({ reduction: 'sum' } as never)).toThrow(/mse: unknown option "reduction"/);
    expect(() => loss.backward()).toThrow(/backward called before forward/);
  });
});

describe('MeanSquaredError against PyTorch (F.mse_loss, float64 reference)', () => {
  for (const c of ref.cases.filter((k) => k.name.startsWith('mse-'))) {
    it(c.name, () => {
      const loss = new MeanSquaredError();
      const value = loss.forward(new Tensor(Float32Array.from(c.pred), c.pred_shape), new Tensor(Float32Array.from(c.target), c.target_shape));
      // float32 inputs, double accumulation: atol 1e-6, rtol 1e-5.
      assertClose([value], [c.loss], { atol: 1e-6, rtol: 1e-5, what: `${c.name} loss` });
      assertClose(loss.backward().data, c.grad, { atol: 1e-6, rtol: 1e-5, what: `${c.name} grad` });
    });
  }
});
