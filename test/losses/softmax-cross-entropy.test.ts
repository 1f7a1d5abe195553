// SoftmaxCrossEntropy: hand-derived values, finite differences, PyTorch references, large logits, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SoftmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';
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
  labelSmoothing?: number;
}
const ref = JSON.parse(readFileSync(new URL('../reference/losses.json', import.meta.url), 'utf8')) as { cases: LossCase[] };

describe('SoftmaxCrossEntropy', () => {
  it('hand-derived: logits [0, ln 3] give softmax [1/4, 3/4]', () => {
    // Row 0 targets class 1: −ln(3/4) = ln(4/3). Row 1 targets class 0: −ln(1/4) = ln 4.
    // Mean: (ln(4/3) + ln 4)/2. Gradient (softmax − onehot)/2: row 0 [1/4, −1/4]/2, row 1 [−3/4, 3/4]/2.
    const ln3 = Math.log(3);
    const pred = tensor([0, ln3, 0, ln3], [2, 2]);
    const loss = new SoftmaxCrossEntropy();
    expect(loss.kind).toBe('cross-entropy');
    expect(loss.forward(pred, tensor([1, 0]))).toBeCloseTo((Math.log(4 / 3) + Math.log(4)) / 2, 6);
    assertClose(loss.backward().data, [0.125, -0.125, -0.375, 0.375], { atol: 1e-7, what: 'grad' });
    // The same targets as one-hot probabilities give the same loss and gradient.
    expect(loss.forward(pred, tensor([0, 1, 1, 0], [2, 2]))).toBeCloseTo((Math.log(4 / 3) + Math.log(4)) / 2, 6);
    assertClose(loss.backward().data, [0.125, -0.125, -0.375, 0.375], { atol: 1e-7, what: 'grad (one-hot)' });
  });

  it('hand-derived: label smoothing ε = 0.5 over 2 classes targets [0.25, 0.75]', () => {
    // t' = 0.5·[0, 1] + 0.25 = [0.25, 0.75]; loss = 0.25·ln 4 + 0.75·ln(4/3); grad = softmax − t' = [0, 0].
    const loss = new SoftmaxCrossEntropy({ labelSmoothing: 0.5 });
    expect(loss.forward(tensor([0, Math.log(3)], [1, 2]), tensor([1]))).toBeCloseTo(0.25 * Math.log(4) + 0.75 * Math.log(4 / 3), 6);
    assertClose(loss.backward().data, [0, 0], { atol: 1e-7, what: 'smoothed grad' });
    expect(loss.getConfig()).toEqual({ labelSmoothing: 0.5 });
  });

  it('writes into out when given, else into a reused loss-owned buffer', () => {
    const rng = testRng(1);
    const loss = new SoftmaxCrossEntropy();
    const pred = randomTensor([3, 4], rng);
    loss.forward(pred, tensor([0, 1, 3]));
    const own = loss.backward();
    expect(loss.backward()).toBe(own);
    const out = zeros([3, 4]);
    expect(loss.backward(out)).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(own.data));
    // Rows of (softmax − onehot)/batch sum to zero.
    for (let r = 0; r < 3; r++) expect(Math.abs(out.data[r * 4] + out.data[r * 4 + 1] + out.data[r * 4 + 2] + out.data[r * 4 + 3])).toBeLessThan(1e-7);
  });

  for (const form of ['indices', 'probabilities'] as const) {
    for (const labelSmoothing of [0, 0.1]) {
      it(`gradient matches finite differences (${form}, labelSmoothing ${labelSmoothing})`, () => {
        const rng = testRng(9);
        const pred = randomTensor([4, 5], rng, -3, 3);
        const target = form === 'indices' ? tensor([4, 0, 2, 2]) : randomTensor([4, 5], rng, 0, 0.4);
        const loss = new SoftmaxCrossEntropy({ labelSmoothing });
        loss.forward(pred, target);
        const analytic = loss.backward().data.slice();
        gradCheck(() => loss.forward(pred, target), pred.data, analytic, { h: 1e-2, tol: 1e-3, what: `${form} grad` });
      });
    }
  }

  it('large logits (±1e4) give a finite loss and gradient', () => {
    // Row 0: class 0 leads by 1e4 → loss ≈ 0, grad ≈ 0. Row 1 targets class 1, behind by 2e4 → loss 2e4.
    const loss = new SoftmaxCrossEntropy();
    const value = loss.forward(tensor([1e4, -1e4, -1e4, 1e4], [2, 2]), tensor([0, 0]));
    expect(value).toBeCloseTo(1e4, 3);
    const grad = loss.backward().data;
    for (const g of grad) expect(Number.isFinite(g)).toBe(true);
    assertClose(grad, [0, 0, -0.5, 0.5], { atol: 1e-7, what: 'large-logit grad' });
  });

  it('validates class indices, naming the bad value and its index', () => {
    const loss = new SoftmaxCrossEntropy();
    const pred = zeros([3, 4]);
    expect(() => loss.forward(pred, tensor([0, 1.5, 2]))).toThrow(/cross-entropy: target\[1\] = 1.5 is not a class index \(an integer in \[0, 4\)\)/);
    expect(() => loss.forward(pred, tensor([0, 1, 4]))).toThrow(/target\[2\] = 4 is not a class index/);
    expect(() => loss.forward(pred, tensor([-1, 1, 2]))).toThrow(/target\[0\] = -1/);
  });

  it('rejects shape mismatches naming both shapes, and bad configs', () => {
    const loss = new SoftmaxCrossEntropy();
    expect(() => loss.forward(zeros([3, 4]), zeros([2]))).toThrow(/cross-entropy: target \[2\] does not match pred \[3, 4\]/);
    expect(() => loss.forward(zeros([3, 4]), zeros([3, 5]))).toThrow(/target \[3, 5\] does not match pred \[3, 4\]/);
    expect(() => loss.forward(zeros([12]), zeros([12]))).toThrow(/cross-entropy: pred must be \[batch, classes\], got \[12\]/);
    expect(() => loss.backward()).toThrow(/backward called before forward/);
    loss.forward(zeros([3, 4]), tensor([0, 1, 2]));
    expect(() => loss.backward(zeros([4, 3]))).toThrow(/backward out must have the pred shape \[3, 4\], got \[4, 3\]/);
    expect(() => new SoftmaxCrossEntropy({ labelSmoothing: 1.5 })).toThrow(/cross-entropy: labelSmoothing must be a number in \[0, 1\], got 1.5/);
    expect(() => new SoftmaxCrossEntropy({ smoothing: 0.1 } as never)).toThrow(/unknown option "smoothing"/);
  });
});

describe('SoftmaxCrossEntropy against PyTorch (F.cross_entropy, float64 reference)', () => {
  for (const c of ref.cases.filter((k) => k.name.startsWith('ce-'))) {
    it(c.name, () => {
      const loss = new SoftmaxCrossEntropy({ labelSmoothing: c.labelSmoothing });
      const pred = new Tensor(Float32Array.from(c.pred), c.pred_shape);
      const value = loss.forward(pred, new Tensor(Float32Array.from(c.target), c.target_shape));
      // float32 inputs, double accumulation: atol 1e-5, rtol 1e-5.
      assertClose([value], [c.loss], { atol: 1e-5, rtol: 1e-5, what: `${c.name} loss` });
      assertClose(loss.backward().data, c.grad, { atol: 1e-6, rtol: 1e-5, what: `${c.name} grad` });
    });
  }
});
