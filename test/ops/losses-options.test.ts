// crossEntropy's torch options (weight, ignoreIndex, reduction, with label smoothing): hand-derived
// values, PyTorch 1.13 references (test/reference/losses_options.py → losses_options.json), finite
// differences (a gradient wrong by 0.5% fails them), and errors.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Variable, ops, variable, type CrossEntropyOptions } from '../../src/ops/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { close, fd, fdErrors, input } from '../util/op-check.js';

interface Case {
  name: string;
  options: CrossEntropyOptions;
  probs: boolean;
  x: [number[], number[]];
  t: [number[], number[]];
  gy: number[];
  y: [number[], number[]];
  gx: number[];
  gt: number[] | null;
}
const ref = JSON.parse(readFileSync(new URL('../reference/losses_options.json', import.meta.url), 'utf8')) as {
  torch: string; cases: Case[]; all_ignored_mean: string; errors: Record<string, string>;
};

const L2 = Math.LN2;

describe('hand-derived values', () => {
  // Rows: logits [0, ln 3] (p = [1/4, 3/4]) and [0, 0] (p = [1/2, 1/2]); labels [0, 1]; weight [2, 1].
  const logits = (): Variable => variable([0, Math.log(3), 0, 0], { shape: [2, 2], requiresGrad: true });

  test('weight: mean divides by Σ w[target]; sum and none', () => {
    // Row losses 2·ln 4 and 1·ln 2; mean (4 ln 2 + ln 2)/(2 + 1) = 5 ln 2 / 3.
    const z = logits();
    const l = ops.crossEntropy(z, [0, 1], { weight: [2, 1] });
    close([l.item()], [5 * L2 / 3], 1e-6);
    l.backward();
    // Row 0: w_0·(p − onehot)/3 = 2·[−3/4, 3/4]/3; row 1: 1·[1/2, −1/2]/3.
    close(z.grad!.data, [-0.5, 0.5, 1 / 6, -1 / 6], 1e-6);
    close([ops.crossEntropy(logits(), [0, 1], { weight: [2, 1], reduction: 'sum' }).item()], [5 * L2], 1e-6);
    const none = ops.crossEntropy(logits(), [0, 1], { weight: tensor([2, 1], [2]), reduction: 'none' });
    expect(none.shape).toEqual([2]);
    close(none.value.data, [4 * L2, L2], 1e-6);
  });

  test('ignoreIndex: the row adds nothing, is not counted, and gets no gradient', () => {
    const z = logits();
    const l = ops.crossEntropy(z, [0, -100], { ignoreIndex: -100 });
    close([l.item()], [2 * L2], 1e-6);
    l.backward();
    close(z.grad!.data, [-0.75, 0.75, 0, 0], 1e-6);
    // An ignored index inside [0, C): row 0's label 0 is ignored, row 1 counts alone.
    close([ops.crossEntropy(logits(), [0, 1], { ignoreIndex: 0 }).item()], [L2], 1e-6);
    close(ops.crossEntropy(logits(), [0, 1], { ignoreIndex: 0, reduction: 'none' }).value.data, [0, L2], 1e-6);
    // Every row ignored: the mean is 0/0 = NaN, as torch; the sum is 0.
    expect(ref.all_ignored_mean).toBe('nan');
    expect(ops.crossEntropy(logits(), [1, 1], { ignoreIndex: 1 }).item()).toBeNaN();
    expect(ops.crossEntropy(logits(), [1, 1], { ignoreIndex: 1, reduction: 'sum' }).item()).toBe(0);
  });

  test('weight with label smoothing: the smoothing term is weighted per class, the mean divides by w[target]', () => {
    // Logits [0, 0], label 0, weight [2, 1], ε = 0.2, C = 2: loss = −0.8·2·ln ½ − 0.1·(2 + 1)·ln ½ = 1.9 ln 2, / w_0 = 2.
    const z = variable([0, 0], { shape: [1, 2], requiresGrad: true });
    const l = ops.crossEntropy(z, [0], { weight: [2, 1], labelSmoothing: 0.2 });
    close([l.item()], [0.95 * L2], 1e-6);
    l.backward();
    // a = [0.1·2 + 0.8·2, 0.1·1] = [1.8, 0.1], Σa = 1.9; grad (p·Σa − a)/2 = [(0.95 − 1.8)/2, (0.95 − 0.1)/2].
    close(z.grad!.data, [-0.425, 0.425], 1e-6);
  });

  test('probability targets with a weight: the mean divides by the number of rows', () => {
    // Row [0, ln 3], t = [1/2, 1/2], weight [2, 1]: loss = −(2·½·ln ¼ + 1·½·ln ¾) over 1 row.
    const z = variable([0, Math.log(3)], { shape: [1, 2], requiresGrad: true });
    const t = variable([0.5, 0.5], { shape: [1, 2], requiresGrad: true });
    const l = ops.crossEntropy(z, t, { weight: [2, 1] });
    close([l.item()], [-(Math.log(0.25) + 0.5 * Math.log(0.75))], 1e-6);
    l.backward();
    // a = [1, 0.5], Σa = 1.5: grad p·1.5 − a = [0.375 − 1, 1.125 − 0.5]; target grad −w·ℓ = [2 ln 4, −ln ¾].
    close(z.grad!.data, [-0.625, 0.625], 1e-6);
    close(t.grad!.data, [4 * L2, -Math.log(0.75)], 1e-6);
  });

  test('reduction none keeps the positions\' shape: [N, d] for [N, C, d] logits, a scalar for [C]', () => {
    const x = input([2, 3, 4], 3);
    const none = ops.crossEntropy(x, tensor([0, 1, 2, 0, 1, 1, 2, 0], [2, 4]), { reduction: 'none' });
    expect(none.shape).toEqual([2, 4]);
    const sum = ops.crossEntropy(x, tensor([0, 1, 2, 0, 1, 1, 2, 0], [2, 4]), { reduction: 'sum' }).item();
    close([none.value.data.reduce((p, q) => p + q, 0)], [sum], 1e-5);
    expect(ops.crossEntropy(input([3], 1), [2], { reduction: 'none' }).shape).toEqual([]);
  });
});

describe('PyTorch 1.13 references', () => {
  test(`F.cross_entropy with weight / ignore_index / reduction / label_smoothing (torch ${ref.torch}): ${ref.cases.length} cases`, () => {
    expect(ref.cases.length).toBeGreaterThanOrEqual(20);
    for (const c of ref.cases) {
      const x = new Variable(new Tensor(Float32Array.from(c.x[0]), c.x[1]), { requiresGrad: true });
      const t = c.probs
        ? new Variable(new Tensor(Float32Array.from(c.t[0]), c.t[1]), { requiresGrad: true })
        : new Tensor(Float32Array.from(c.t[0]), c.t[1]);
      const y = ops.crossEntropy(x, t, c.options);
      expect(y.shape, c.name).toEqual(c.y[1]);
      const gy = new Tensor(Float32Array.from(c.gy), c.y[1]);
      ops.sum(ops.mul(y, gy)).backward();
      try {
        close(y.value.data, c.y[0], 1e-5);
        close(x.grad!.data, c.gx, 1e-5);
        if (c.probs) close((t as Variable).grad!.data, c.gt!, 1e-5);
      } catch (err) {
        throw new Error(`${c.name}: ${(err as Error).message}`);
      }
    }
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  const w4 = [0.5, 2, 1, 3];
  test('weight, ignoreIndex, smoothing and each reduction; probability targets with weights', () => {
    const labels = [0, 3, -1, 1, 2, -1];
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      fd((v) => ops.crossEntropy(v, labels, { weight: w4, ignoreIndex: -1, labelSmoothing: 0.2, reduction }), input([6, 4], 2, -2, 2));
      fd((v, u) => ops.crossEntropy(v, u, { weight: w4, labelSmoothing: 0.1, reduction }), input([3, 4], 5, -2, 2), input([3, 4], 6, 0, 1));
    }
    fd((v) => ops.crossEntropy(v, tensor([0, 2, 1, 1, 2, 0], [2, 3]), { weight: [1.5, 0.25, 2], ignoreIndex: 1, reduction: 'none' }), input([2, 3, 3], 7, -2, 2));
  });

  test('the check catches a gradient off by 0.5%', () => {
    const build = (v: Variable): Variable => ops.crossEntropy(v, [0, 3, 1], { weight: w4, labelSmoothing: 0.2 });
    expect(fdErrors(build, [input([3, 4], 2, -2, 2)], 1.005)[0]).toBeGreaterThan(1.5e-3);
  });
});

describe('input errors', () => {
  test('weight, ignoreIndex, reduction', () => {
    const x = input([2, 3], 1);
    expect(ref.errors.weight_length).toMatch(/weight tensor should be defined either for all 3 classes/);
    expect(() => ops.crossEntropy(x, [0, 1], { weight: [1, 1, 1, 1] })).toThrow(/crossEntropy: weight has 4 entries but the logits have 3 classes/);
    expect(() => ops.crossEntropy(x, [0, 1], { weight: tensor([1, 1, 1, 1, 1, 1], [2, 3]) })).toThrow(/weight must be 1-D with one entry per class \(3\), got shape \[2, 3\]/);
    expect(() => ops.crossEntropy(x, [0, 1], { weight: [1, NaN, 1] })).toThrow(/weight 1 is NaN, must be a finite number/);
    expect(() => ops.crossEntropy(x, [0, 1], { weight: 3 as never })).toThrow(/weight must be an array or a 1-D Tensor of 3 per-class weights/);
    expect(ref.errors.ignore_probs).toMatch(/ignore_index is not supported for floating point target/);
    expect(() => ops.crossEntropy(x, input([2, 3], 2, 0, 1), { ignoreIndex: 1 })).toThrow(/ignoreIndex \(1\) is not supported with probability targets/);
    // A negative ignore index has no effect on probability targets (torch accepts it).
    expect(ops.crossEntropy(x, input([2, 3], 2, 0, 1), { ignoreIndex: -100 }).item()).toBe(ops.crossEntropy(x, input([2, 3], 2, 0, 1)).item());
    expect(() => ops.crossEntropy(x, [0, 1], { ignoreIndex: 0.5 })).toThrow(/ignoreIndex must be an integer, got 0.5/);
    expect(() => ops.crossEntropy(x, [0, 7], { ignoreIndex: -100 })).toThrow(/label 1 is 7, must be an integer class index in \[0, 2\] \(or the ignoreIndex -100\)/);
    expect(() => ops.crossEntropy(x, [0, 1], { reduction: 'avg' as never })).toThrow(/reduction must be 'mean', 'sum' or 'none', got "avg"/);
  });
});
