// Reductions over axes (sum, mean, max, min, var, argmax/argmin): hand-derived values with the
// gradient routing of ties, finite differences over contiguous and non-contiguous axes, empty axes,
// scalars and errors. PyTorch references: reference-core.test.ts (sum_*, mean_*, max_*, var_* cases).
import { describe, expect, test } from 'vitest';
import { ops, variable } from '../../src/ops/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { close, fd, grads, input } from '../util/op-check.js';

describe('hand-derived values', () => {
  test('max over one axis sends the gradient to the first maximum (torch.max(x, dim))', () => {
    // rows [1, 3, 3] and [5, 2, 5]: max [3, 5] at the first tie, indices [1, 0]
    const x = tensor([1, 3, 3, 5, 2, 5], [2, 3]);
    const r = grads((v) => ops.max(v, 1), x);
    close(r.out.data, [3, 5]); close(r.grads[0], [0, 1, 0, 1, 0, 0]);
    close(ops.argmax(x, 1).data, [1, 0]);
    const k = grads((v) => ops.min(v, 0, { keepDims: true }), x);
    expect(k.out.shape).toEqual([1, 3]); close(k.out.data, [1, 2, 3]); close(k.grads[0], [1, 0, 1, 0, 1, 0]);
    close(ops.argmin(x, 0).data, [0, 1, 0]);
  });

  test('max over all or several axes splits the gradient evenly between ties (torch.max(x), torch.amax)', () => {
    const x = tensor([1, 3, 3, 0, 3, 2], [2, 3]);
    let r = grads((v) => ops.max(v), x);
    expect(r.out.shape).toEqual([]); close(r.out.data, [3]); close(r.grads[0], [0, 1 / 3, 1 / 3, 0, 1 / 3, 0]);
    r = grads((v) => ops.max(v, [0, 1], { keepDims: true }), x);
    expect(r.out.shape).toEqual([1, 1]); close(r.grads[0], [0, 1 / 3, 1 / 3, 0, 1 / 3, 0]);
    // [2, 2, 2] over axes [0, 2] (not contiguous): groups are the middle index
    const y = tensor([1, 4, 2, 0, 4, 3, 0, 0], [2, 2, 2]);
    r = grads((v) => ops.max(v, [0, 2]), y);
    // x[a, b, c] at 4a + 2b + c: group b = 0 holds 1, 4, 4, 3 (two tied 4s); b = 1 holds 2, 0, 0, 0
    close(r.out.data, [4, 2]); close(r.grads[0], [0, 0.5, 1, 0, 0.5, 0, 0, 0]);
  });

  test('NaN propagates through max and wins the gradient', () => {
    const r = grads((v) => ops.max(v, 0), tensor([1, NaN, 3], [3]));
    expect(Number.isNaN(r.out.data[0])).toBe(true); close(r.grads[0], [0, 1, 0]);
  });

  test('var: unbiased by default; correction / unbiased options; gradient 2(x − mean)/(n − c)', () => {
    // [1, 2, 3, 6]: mean 3, Σ(x − m)² = 4 + 1 + 0 + 9 = 14; unbiased 14/3, population 14/4
    const x = tensor([1, 2, 3, 6], [4]);
    let r = grads((v) => ops.variance(v), x);
    close(r.out.data, [14 / 3], 1e-6); close(r.grads[0], [-4 / 3, -2 / 3, 0, 2], 1e-6);
    r = grads((v) => ops.var(v, 0, { unbiased: false }), x);
    close(r.out.data, [3.5]); close(r.grads[0], [-1, -0.5, 0, 1.5]);
    r = grads((v) => v.var(undefined, { correction: 2 }), x);
    close(r.out.data, [7]); close(r.grads[0], [-2, -1, 0, 3]);
    // One element with the unbiased estimate: 0/0 = NaN, as PyTorch.
    expect(Number.isNaN(ops.var(tensor([5], [1])).item())).toBe(true);
  });

  test('sum/mean over several axes, negative axes, keepDims, [] reduces nothing', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    let r = grads((v) => ops.sum(v, [0, -1]), x);
    expect(r.out.shape).toEqual([2]); close(r.out.data, [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    r = grads((v) => ops.mean(v, [0, 2], { keepDims: true }), x);
    expect(r.out.shape).toEqual([1, 2, 1]); close(r.out.data, [3.5, 5.5]); close(r.grads[0], new Array(8).fill(0.25));
    r = grads((v) => ops.sum(v, []), x);
    expect(r.out.shape).toEqual([2, 2, 2]); close(r.out.data, [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

/** A seeded shuffle of 0.05·(i − n/2): every gap is 0.05 > 2h, so a finite-difference step never changes the argmax. */
function distinct(shape: number[], seed: number): Tensor {
  const t = input(shape, seed);
  const order = Array.from(t.data, (v, i) => [v, i]).sort((p, q) => p[0] - q[0]);
  order.forEach(([, i], rank) => { t.data[i] = 0.05 * (rank - order.length / 2); });
  return t;
}

describe('finite differences (float32, h = 1e-2; max/min on values 0.05 apart)', () => {
  const x = distinct([3, 4, 5], 1);
  test('sum, mean over contiguous and non-contiguous axes', () => {
    fd((v) => ops.sum(v, [0, 2]), x);
    fd((v) => ops.mean(v, [1, 2], { keepDims: true }), x);
    fd((v) => ops.mean(v, 0), x);
  });
  test('max, min over one axis, several axes, all', () => {
    fd((v) => ops.max(v, 1), x);
    fd((v) => ops.min(v, -1, { keepDims: true }), x);
    fd((v) => ops.max(v, [0, 2]), x);
    fd((v) => ops.min(v), x);
  });
  test('var over one axis, several axes, all, biased and unbiased', () => {
    fd((v) => ops.var(v, 1), x);
    fd((v) => ops.var(v, [0, 2], { keepDims: true, unbiased: false }), x);
    fd((v) => ops.var(v), x);
  });
});

describe('awkward shapes', () => {
  test('sum over an empty axis gives zeros; mean gives NaN; max throws', () => {
    const e = variable(new Tensor(new Float32Array(0), [2, 0, 3]), { requiresGrad: true });
    const s = ops.sum(e, 1);
    expect(s.shape).toEqual([2, 3]); close(s.data, [0, 0, 0, 0, 0, 0]);
    s.backward(tensor([1, 1, 1, 1, 1, 1], [2, 3]));
    expect(e.grad!.shape).toEqual([2, 0, 3]);
    expect(Array.from(ops.mean(e, 1).data).every(Number.isNaN)).toBe(true);
    expect(ops.sum(e).item()).toBe(0);
    expect(() => ops.max(e, 1)).toThrow(/max: cannot reduce over an empty axis \(shape \[2, 0, 3\]\)/);
  });
  test('size-1 axes and scalars', () => {
    const r = grads((v) => ops.max(v, 1), input([3, 1], 2));
    close(r.grads[0], [1, 1, 1]);
    const s = grads((v) => ops.sum(v, 0), new Tensor(Float32Array.from([4]), []));
    expect(s.out.shape).toEqual([]); close(s.out.data, [4]); close(s.grads[0], [1]);
    expect(ops.argmax(tensor([1, 5, 2, 7, 0, 3], [2, 3])).shape).toEqual([]);
    close(ops.argmax(tensor([1, 5, 2, 7, 0, 3], [2, 3])).data, [3]);
  });
});

describe('input errors', () => {
  test('axes and options', () => {
    const x = input([2, 3], 1);
    expect(() => ops.max(x, 2)).toThrow(/max: axis 2 is out of range for a variable of rank 2/);
    expect(() => ops.var(x, [0, 0])).toThrow(/var: axis 0 is listed twice/);
    expect(() => ops.var(x, 0, { correction: -1 })).toThrow(/var: correction must be a finite number ≥ 0, got -1/);
    expect(() => ops.var(x, 0, { correction: 1, unbiased: true })).toThrow(/either correction or unbiased/);
    expect(() => ops.argmax(x, 5)).toThrow(/argmax: axis 5 is out of range/);
    expect(() => ops.sum(new Tensor(Float32Array.from([1]), []), 1)).toThrow(/sum: axis 1 is out of range/);
  });
});
