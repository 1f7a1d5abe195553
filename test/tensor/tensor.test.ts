import { describe, expect, it } from 'vitest';
import { Tensor, formatShape, full, ones, rand, randn, shapeSize, tensor, zeros } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';

describe('shape helpers', () => {
  it('shapeSize and formatShape', () => {
    expect(shapeSize([2, 3, 4])).toBe(24);
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([5, 0])).toBe(0);
    expect(formatShape([2, 3, 4])).toBe('[2, 3, 4]');
    expect(formatShape([])).toBe('[]');
  });
});

describe('constructors', () => {
  it('tensor copies numbers into a new Float32Array with the given or inferred shape', () => {
    const src = [1, 2, 3, 4, 5, 6];
    const t = tensor(src, [2, 3]);
    expect(t).toBeInstanceOf(Tensor);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.rank).toBe(2);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual(src);
    src[0] = 99; // copied, not referenced
    expect(t.data[0]).toBe(1);
    const srcF = Float32Array.of(1, 2);
    const u = tensor(srcF);
    expect(u.shape).toEqual([2]);
    expect(u.data).not.toBe(srcF);
    expect(t.toString()).toBe('tensor([[1, 2, 3],\n        [4, 5, 6]], shape=[2, 3])');
  });

  it('toString shows values like PyTorch: one format, rows per line, first/last 3 per axis above 1000 elements', () => {
    expect(String(tensor([1, 2.5, 3, 4], [2, 2]))).toBe('tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]], shape=[2, 2])');
    expect(String(tensor([1e-6, 2]))).toBe('tensor([1.0000e-6, 2.0000e+0], shape=[2])');
    expect(String(tensor([NaN, -Infinity, 0.5]))).toBe('tensor([   nan,   -inf, 0.5000], shape=[3])');
    expect(String(tensor([5], []))).toBe('tensor(5, shape=[])');
    expect(String(zeros([0, 3]))).toBe('tensor([], shape=[0, 3])');
    const c = zeros([2, 1, 2]);
    c.data.set([0, 1, 2, 3]);
    expect(String(c)).toBe('tensor([[[0, 1]],\n\n        [[2, 3]]], shape=[2, 1, 2])');
    const big = zeros([40, 50]);
    for (let i = 0; i < big.size; i++) big.data[i] = i;
    const lines = String(big).split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('tensor([[   0,    1,    2, ...,   47,   48,   49],');
    expect(lines[3]).toBe('        ...,');
    expect(lines[6]).toBe('        [1950, 1951, 1952, ..., 1997, 1998, 1999]], shape=[40, 50])');
    // 10⁶ elements: bounded output.
    expect(String(zeros([1000, 1000])).split('\n')).toHaveLength(7);
  });

  it('zeros / ones / full fill with the right value and shape; scalar shape [] has one element', () => {
    expect(Array.from(zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    const f = full([2, 1, 2], -2.5);
    expect(f.shape).toEqual([2, 1, 2]);
    expect(Array.from(f.data)).toEqual([-2.5, -2.5, -2.5, -2.5]);
    const s = zeros([]);
    expect(s.size).toBe(1);
    expect(s.rank).toBe(0);
    expect(zeros([0, 3]).size).toBe(0);
  });

  it('randn and rand are seeded, in range, and roughly distributed as asked', () => {
    const a = randn([1000], new Rng(1), 2, 0.5);
    const b = randn([1000], new Rng(1), 2, 0.5);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    let s = 0;
    let s2 = 0;
    for (const v of a.data) {
      s += v;
      s2 += v * v;
    }
    const m = s / 1000;
    const sd = Math.sqrt(s2 / 1000 - m * m);
    // sd of the mean = 0.5/√1000 ≈ 0.016; of the sample sd ≈ 0.5/√2000 ≈ 0.011: bounds ≈ 5 sd
    expect(Math.abs(m - 2)).toBeLessThan(0.08);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.06);
    const r = rand([2, 500], new Rng(2), -3, 1);
    expect(r.shape).toEqual([2, 500]);
    expect(r.data.every((v) => v >= -3 && v < 1)).toBe(true);
    expect(Math.min(...r.data)).toBeLessThan(-2.9);
    expect(Math.max(...r.data)).toBeGreaterThan(0.9);
    expect(Array.from(rand([4], new Rng(3)).data)).not.toEqual(Array.from(rand([4], new Rng(4)).data));
  });

  it('bad shapes and lengths throw with messages naming the shape', () => {
    expect(() => tensor([1, 2, 3, 4, 5], [2, 3])).toThrow('tensor: got 5 values for shape [2, 3] (needs 6)');
    expect(() => zeros([2, -1])).toThrow('zeros: shape [2, -1] has an invalid dimension -1');
    expect(() => zeros([2, 1.5])).toThrow('zeros: shape [2, 1.5] has an invalid dimension 1.5');
    expect(() => full([NaN], 0)).toThrow(/shape \[NaN\] has an invalid dimension NaN/);
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow('Tensor: data has 5 elements but shape [2, 3] needs 6');
    expect(() => zeros('3' as unknown as number[])).toThrow('zeros: shape must be an array of integers, got 3');
  });

  it('the constructor takes a Float32Array only (a plain array used to pass and break views and kernels later)', () => {
    expect(() => new Tensor([1, 2, 3] as unknown as Float32Array, [3])).toThrow('Tensor: data must be a Float32Array, got an array (use tensor(values, shape) to copy numbers)');
    expect(() => new Tensor(new Float64Array(3) as unknown as Float32Array, [3])).toThrow('Tensor: data must be a Float32Array, got [object Float64Array]');
  });
});

describe('views and copies', () => {
  it('reshape shares the data and infers one -1 dimension', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const r = t.reshape([3, -1]);
    expect(r.shape).toEqual([3, 2]);
    expect(r.data).toBe(t.data);
    r.data[5] = 60;
    expect(t.data[5]).toBe(60);
    expect(t.reshape([-1]).shape).toEqual([6]);
    expect(t.reshape([1, 2, 1, 3]).shape).toEqual([1, 2, 1, 3]);
    expect(t.shape).toEqual([2, 3]); // the original keeps its shape
  });

  it('reshape to an incompatible shape throws naming both shapes', () => {
    const t = zeros([2, 3]);
    expect(() => t.reshape([4, 2])).toThrow('reshape: cannot reshape [2, 3] (6 elements) to [4, 2]');
    expect(() => t.reshape([4, -1])).toThrow('reshape: cannot reshape [2, 3] to [4, -1]');
    expect(() => t.reshape([0, -1])).toThrow('reshape: cannot reshape [2, 3] to [0, -1]');
    // Two -1s: rejected (today via a negative inferred dimension; see the report).
    expect(() => t.reshape([-1, -1])).toThrow();
  });

  it('slice0 returns a view of rows along the first axis', () => {
    const t = tensor([0, 1, 2, 3, 4, 5, 6, 7], [4, 2]);
    const v = t.slice0(1, 3);
    expect(v.shape).toEqual([2, 2]);
    expect(Array.from(v.data)).toEqual([2, 3, 4, 5]);
    v.data[0] = -2;
    expect(t.data[2]).toBe(-2); // shared
    expect(v.data.buffer).toBe(t.data.buffer);
    expect(t.slice0(2, 2).shape).toEqual([0, 2]);
    expect(t.slice0(0, 4).size).toBe(8);
    expect(() => t.slice0(3, 5)).toThrow('slice0: range [3, 5) is outside the first axis of [4, 2]');
    expect(() => t.slice0(2, 1)).toThrow('slice0: range [2, 1) is outside the first axis of [4, 2]');
    expect(() => t.slice0(-1, 2)).toThrow(/outside the first axis/);
  });

  it('clone is a deep copy', () => {
    const t = tensor([1, 2, 3], [3]);
    const c = t.clone();
    expect(c.shape).toEqual([3]);
    expect(c.data).not.toBe(t.data);
    c.data[0] = 100;
    expect(t.data[0]).toBe(1);
  });

  it('toArray nests by shape', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], [2, 3]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor([1, 2, 3, 4], [2, 1, 2]).toArray()).toEqual([[[1, 2]], [[3, 4]]]);
    expect(tensor([7], []).toArray()).toBe(7);
    expect(zeros([0, 2]).toArray()).toEqual([]);
  });
});
