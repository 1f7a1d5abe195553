// SoftmaxCrossEntropy: hand-derived values, finite differences, PyTorch references, large logits, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { setLossWarningHandler } from '../../src/losses/loss.js';
import { PROBABILITY_EPSILON, rowsLookLikeProbabilities, SoftmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';
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
    expect(loss.getConfig()).toEqual({ labelSmoothing: 0.5, fromLogits: true });
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

describe('SoftmaxCrossEntropy fromLogits: false (probabilities) and the double-softmax warning', () => {
  const softmax = (z: number[], classes: number): number[] => {
    const out: number[] = [];
    for (let o = 0; o < z.length; o += classes) {
      const row = z.slice(o, o + classes);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      out.push(...e.map((v) => v / s));
    }
    return out;
  };

  it('hand-derived: p = [[1/4, 3/4], [1/2, 1/2]], targets [1, 0]', () => {
    // loss = (−ln(3/4) − ln(1/2)) / 2; dL/dp = −t/(batch·p): row 0 [0, −1/(2·3/4)], row 1 [−1/(2·1/2), 0].
    const loss = new SoftmaxCrossEntropy({ fromLogits: false });
    expect(loss.fromLogits).toBe(false);
    expect(loss.getConfig()).toEqual({ labelSmoothing: 0, fromLogits: false });
    const p = tensor([0.25, 0.75, 0.5, 0.5], [2, 2]);
    expect(loss.forward(p, tensor([1, 0]))).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 6);
    assertClose(loss.backward().data, [0, -2 / 3, -1, 0], { atol: 1e-6, what: 'grad' });
  });

  for (const form of ['indices', 'dense'] as const) {
    for (const labelSmoothing of [0, 0.2]) {
      it(`finite differences over probabilities (${form} targets, smoothing ${labelSmoothing})`, () => {
        const rng = testRng(11);
        const [batch, classes] = [3, 4];
        // Positive values away from the clamp at 1e-7 (they need not sum to 1 for the check).
        const pred = tensor(Array.from({ length: batch * classes }, () => 0.1 + 0.8 * rng.uniform()), [batch, classes]);
        const target = form === 'indices' ? tensor([2, 0, 3]) : tensor(softmax(Array.from({ length: batch * classes }, () => rng.normal()), classes), [batch, classes]);
        const loss = new SoftmaxCrossEntropy({ fromLogits: false, labelSmoothing });
        loss.forward(pred, target);
        const analytic = loss.backward().data.slice();
        // float32 inputs, h = 1e-3: relative error below 1e-3.
        gradCheck(() => loss.forward(pred, target), pred.data, analytic, { h: 1e-3, tol: 1e-3, what: `${form} grad` });
      });
    }
  }

  it('on softmax(z) it equals the fused loss on z, and its gradient chains to the fused gradient', () => {
    const rng = testRng(5);
    const [batch, classes] = [4, 5];
    const z = Array.from({ length: batch * classes }, () => 2 * rng.normal());
    const p = softmax(z, classes);
    const target = tensor([1, 4, 0, 2]);
    const fused = new SoftmaxCrossEntropy();
    const probs = new SoftmaxCrossEntropy({ fromLogits: false });
    const a = fused.forward(tensor(z, [batch, classes]), target);
    const b = probs.forward(tensor(p, [batch, classes]), target);
    expect(b).toBeCloseTo(a, 5);
    // dL/dz = J_softmaxᵀ · dL/dp, row by row: dz_k = p_k·(dp_k − Σ_j p_j·dp_j).
    const dp = probs.backward().data;
    const dz: number[] = [];
    for (let r = 0; r < batch; r++) {
      let dot = 0;
      for (let k = 0; k < classes; k++) dot += p[r * classes + k] * dp[r * classes + k];
      for (let k = 0; k < classes; k++) dz.push(p[r * classes + k] * (dp[r * classes + k] - dot));
    }
    assertClose(dz, fused.backward().data, { atol: 1e-6, what: 'chained grad' });
  });

  it('clamps probabilities to [1e-7, 1]: p = 0 gives a finite loss and a zero gradient there', () => {
    const loss = new SoftmaxCrossEntropy({ fromLogits: false });
    expect(loss.forward(tensor([0, 1], [1, 2]), tensor([0]))).toBeCloseTo(-Math.log(PROBABILITY_EPSILON), 4);
    assertClose(loss.backward().data, [0, 0], { atol: 0, what: 'clamped grad' });
  });

  it('warns once when a logits loss receives probabilities, through setLossWarningHandler', () => {
    const seen: string[] = [];
    const previous = setLossWarningHandler((m) => seen.push(m));
    try {
      const loss = new SoftmaxCrossEntropy();
      loss.forward(tensor([0.1, 2, -1, 0.5, 0.5, 3], [2, 3]), tensor([1, 2]));
      expect(seen).toEqual([]); // logits: no warning
      loss.forward(tensor([0.2, 0.7, 0.1, 0.3, 0.3, 0.4], [2, 3]), tensor([1, 2]));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/cross-entropy: the predictions look like probabilities .* softmax would be applied twice.*fromLogits: false/);
      loss.forward(tensor([0.2, 0.7, 0.1, 0.3, 0.3, 0.4], [2, 3]), tensor([1, 2]));
      expect(seen).toHaveLength(1); // once per loss
      new SoftmaxCrossEntropy({ fromLogits: false }).forward(tensor([0.2, 0.7, 0.1], [1, 3]), tensor([1]));
      expect(seen).toHaveLength(1); // probabilities are expected there
      expect(rowsLookLikeProbabilities(Float32Array.from([1]), 1, 1)).toBe(false); // one class: always sums to 1
      expect(rowsLookLikeProbabilities(Float32Array.from([0.5, 0.5, -0.1, 1.1]), 2, 2)).toBe(false);
    } finally {
      setLossWarningHandler(previous);
    }
  });

  it('the README loop: a model ending in Softmax run by hand warns; Sequential fit (fused) does not; fromLogits: false trains through the Softmax', async () => {
    const { Dense, Softmax } = await import('../../src/layers/index.js');
    const { Sequential } = await import('../../src/model/sequential.js');
    const { createLoss } = await import('../../src/losses/index.js');
    const seen: string[] = [];
    const previous = setLossWarningHandler((m) => seen.push(m));
    try {
      const rng = testRng(2);
      const x = randomTensor([16, 4], rng);
      const y = tensor(Array.from({ length: 16 }, (_, i) => i % 3));
      const make = () => new Sequential([new Dense({ units: 3 }), new Softmax()], { inputShape: [4], seed: 1 });
      // By hand: forward gives probabilities, which the logits loss would softmax again.
      const byHand = make();
      createLoss('cross-entropy').forward(byHand.forward(x), y);
      expect(seen).toHaveLength(1);
      // Sequential's fused path feeds the logits before the trailing Softmax: no warning, and the same loss.
      const fused = make();
      fused.compile({ optimizer: { name: 'sgd', lr: 0.5 }, loss: 'cross-entropy' });
      const hist = await fused.fit(x, y, { epochs: 3, batchSize: 16, seed: 1 });
      expect(seen).toHaveLength(1);
      // fromLogits: false: the loss sees the Softmax output; training follows the fused run exactly (same maths).
      const probs = make();
      probs.compile({ optimizer: { name: 'sgd', lr: 0.5 }, loss: new SoftmaxCrossEntropy({ fromLogits: false }) });
      const hist2 = await probs.fit(x, y, { epochs: 3, batchSize: 16, seed: 1 });
      expect(seen).toHaveLength(1);
      // float32 softmax then log vs fused log-softmax: agree to 1e-5.
      assertClose(hist2.epoch.loss, hist.epoch.loss, { atol: 1e-5, what: 'loss per epoch' });
      expect(hist.epoch.loss[2]).toBeLessThan(hist.epoch.loss[0]);
    } finally {
      setLossWarningHandler(previous);
    }
  });
});
