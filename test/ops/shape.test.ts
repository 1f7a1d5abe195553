// Shape ops: views (reshape, squeeze, unsqueeze, flatten) share data and version; copies (permute,
// transpose, concat, stack, slice, select, indexSelect, pad) move it. Hand-derived values, finite
// differences, empty and size-1 axes, errors. PyTorch references: reference-core.test.ts.
import { describe, expect, test } from 'vitest';
import { AutogradError, noGrad, ops, variable } from '../../src/ops/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { close, fd, grads, input } from '../util/op-check.js';

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('hand-derived values', () => {
  test('permute and transpose move x[i, j, k] to the permuted position; backward permutes back', () => {
    // x[i, j, k] = 6i + 3j + k, shape [2, 2, 3]; permute(2, 0, 1)[k, i, j] = x[i, j, k]
    const x = tensor(iota(12), [2, 2, 3]);
    const p = ops.permute(x, [2, 0, 1]);
    expect(p.shape).toEqual([3, 2, 2]);
    close(p.data, [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
    const t = ops.transpose(x, 0, -1);
    expect(t.shape).toEqual([3, 2, 2]);
    close(t.data, [0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11]);
    // L = Σ w·permute(x) with w = 0 … 11: dx[i, j, k] = w[k, i, j] = 4k + 2i + j
    const xv = variable(iota(12), { shape: [2, 2, 3], requiresGrad: true });
    ops.sum(ops.mul(xv.permute(2, 0, 1), tensor(iota(12), [3, 2, 2]))).backward();
    close(xv.grad!.data, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  test('concat and stack: values, each input gets its slice of the gradient', () => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([5, 6], [2, 1]);
    const c = ops.concat([a, b], 1);
    expect(c.shape).toEqual([2, 3]); close(c.data, [1, 2, 5, 3, 4, 6]);
    const av = variable([1, 2, 3, 4], { shape: [2, 2], requiresGrad: true });
    const bv = variable([5, 6], { shape: [2, 1], requiresGrad: true });
    ops.sum(ops.mul(ops.concat([av, bv], -1), tensor([10, 20, 30, 40, 50, 60], [2, 3]))).backward();
    close(av.grad!.data, [10, 20, 40, 50]); close(bv.grad!.data, [30, 60]);
    const s = ops.stack([tensor([1, 2], [2]), tensor([3, 4], [2])], 1);
    expect(s.shape).toEqual([2, 2]); close(s.data, [1, 3, 2, 4]);
    const s0 = grads((p, q) => ops.stack([p, q]), tensor([1, 2], [2]), tensor([3, 4], [2]));
    expect(s0.out.shape).toEqual([2, 2]); close(s0.out.data, [1, 2, 3, 4]); close(s0.grads[0], [1, 1]);
  });

  test('slice with steps and negative bounds, select, indexSelect with repeats', () => {
    const x = tensor(iota(12), [3, 4]);
    // x[1:, ::2] = rows 1, 2; columns 0, 2 → [4, 6, 8, 10]; gradient 1 at those positions
    const r = grads((v) => ops.slice(v, [{ start: 1 }, { step: 2 }]), x);
    expect(r.out.shape).toEqual([2, 2]); close(r.out.data, [4, 6, 8, 10]);
    close(r.grads[0], [0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    // x[-2:-1, 10:] (end clamped, start past the end): shape [1, 0]
    expect(ops.slice(x, [{ start: -2, end: -1 }, { start: 10 }]).shape).toEqual([1, 0]);
    // select(x, 1, −1) = last column [3, 7, 11]
    const s = grads((v) => ops.select(v, 1, -1), x);
    expect(s.out.shape).toEqual([3]); close(s.out.data, [3, 7, 11]);
    close(s.grads[0], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // indexSelect rows [2, 0, 2]: row 2 twice, so its gradient is 2
    const i = grads((v) => ops.indexSelect(v, 0, [2, 0, 2]), x);
    expect(i.out.shape).toEqual([3, 4]); close(i.out.data, [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
    close(i.grads[0], [1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2]);
  });

  test('pad: pairs from the last axis (torch.nn.functional.pad order), fill value, backward crops', () => {
    // [2, 2] with (left 1, right 0) on the last axis and (top 0, bottom 1) on the first → [3, 3]
    const r = grads((v) => ops.pad(v, [1, 0, 0, 1], -1), tensor([1, 2, 3, 4], [2, 2]));
    expect(r.out.shape).toEqual([3, 3]);
    close(r.out.data, [-1, 1, 2, -1, 3, 4, -1, -1, -1]); close(r.grads[0], [1, 1, 1, 1]);
    expect(ops.pad(input([2, 3, 4], 1), [2, 2]).shape).toEqual([2, 3, 8]);
    // Negative amounts crop: [−1, 2] on the last axis of [[1, 2, 3]] drops 1, adds two fills.
    const c = grads((v) => ops.pad(v, [-1, 2], 0), tensor([1, 2, 3], [1, 3]));
    expect(c.out.shape).toEqual([1, 4]); close(c.out.data, [2, 3, 0, 0]); close(c.grads[0], [0, 1, 1]);
  });

  test('squeeze, unsqueeze, flatten are views sharing data and the version counter', () => {
    const x = variable(iota(6), { shape: [1, 2, 1, 3] });
    const sq = x.squeeze();
    expect(sq.shape).toEqual([2, 3]); expect(sq.data).toBe(x.data);
    expect(ops.squeeze(x, [0, 1]).shape).toEqual([2, 1, 3]); // axis 1 has size 2: left alone, as torch
    expect(ops.unsqueeze(sq, 0).shape).toEqual([1, 2, 3]);
    expect(ops.unsqueeze(sq, -1).shape).toEqual([2, 3, 1]);
    expect(ops.flatten(x, 1).shape).toEqual([1, 6]);
    expect(ops.flatten(x, 1, 2).shape).toEqual([1, 2, 3]);
    expect(ops.flatten(x).shape).toEqual([6]);
    expect(ops.flatten(new Tensor(Float32Array.from([3]), [])).shape).toEqual([1]);
    // A saved view modified in place fails backward: the version is shared.
    const w = variable(iota(6), { shape: [2, 3], requiresGrad: true });
    const v = noGrad(() => w.unsqueeze(0));
    const y = ops.mul(w, w);
    noGrad(() => v.modify((d) => { d[0] = 5; }));
    expect(() => ops.sum(y).backward()).toThrow(AutogradError);
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  test('every shape op', () => {
    const x = input([2, 3, 4], 1);
    fd((v) => ops.permute(v, [1, 2, 0]), x);
    fd((v) => ops.transpose(v, 0, 2), x);
    fd((a, b, c) => ops.concat([a, b, c], 1), input([2, 1, 4], 2), input([2, 3, 4], 3), input([2, 2, 4], 4));
    fd((a, b) => ops.stack([a, b], -1), input([2, 3], 5), input([2, 3], 6));
    fd((v) => ops.slice(v, [null, { start: -2 }, { start: 1, step: 2 }]), x);
    fd((v) => ops.select(v, 2, 1), x);
    fd((v) => ops.indexSelect(v, 1, [0, 2, 2, 1]), x);
    fd((v) => ops.pad(v, [1, 2, 2, 0], 0.3), x);
    fd((v) => ops.pad(v, [-1, 2, 1, -2], 0.3), x);
    fd((v) => ops.flatten(ops.unsqueeze(ops.squeeze(v), 1), 1), input([2, 1, 3], 7));
  });
});

describe('awkward shapes', () => {
  test('empty inputs to concat, slices and pads', () => {
    const r = grads((a, b) => ops.concat([a, b], 0), input([0, 3], 1), input([2, 3], 2));
    expect(r.out.shape).toEqual([2, 3]); expect(r.grads[0].length).toBe(0); close(r.grads[1], [1, 1, 1, 1, 1, 1]);
    const p = ops.pad(input([0, 2], 3), [1, 1], 7);
    expect(p.shape).toEqual([0, 4]);
    const q = ops.pad(input([2, 0], 3), [1, 1], 7);
    expect(q.shape).toEqual([2, 2]); close(q.data, [7, 7, 7, 7]);
    const e = grads((v) => ops.slice(v, [{ start: 3, end: 1 }]), input([4, 2], 4));
    expect(e.out.shape).toEqual([0, 2]); close(e.grads[0], new Array(8).fill(0));
  });
});

describe('one node per op', () => {
  test('stack of scalars gives a vector; stack and select record a single node over their inputs', () => {
    const a = variable(2, { requiresGrad: true });
    const b = variable(3, { requiresGrad: true });
    const s = ops.stack([a, b]);
    expect(s.shape).toEqual([2]); close(s.data, [2, 3]);
    expect(s.node!.op).toBe('stack'); expect(s.node!.inputs).toEqual([a, b]);
    ops.sum(ops.mul(s, tensor([10, 20], [2]))).backward();
    close(a.grad!.data, [10]); close(b.grad!.data, [20]);
    const v = variable([1, 2, 3], { requiresGrad: true });
    const e = ops.select(v, 0, 1);
    expect(e.shape).toEqual([]); close(e.data, [2]); expect(e.node!.inputs).toEqual([v]);
    e.backward();
    close(v.grad!.data, [0, 1, 0]);
  });
});

describe('input errors', () => {
  test('bad axes, shapes and ranges name the op and the shapes', () => {
    const x = input([2, 3], 1);
    expect(() => ops.permute(x, [0])).toThrow(/permute: needs one axis per dimension of shape \[2, 3\], got \[0\]/);
    expect(() => ops.permute(x, [1, 1])).toThrow(/permute: \[1, 1\] is not a permutation/);
    expect(() => ops.transpose(x, 0, 2)).toThrow(/transpose: dim1 2 is out of range for a variable of rank 2/);
    expect(() => ops.transpose(input([2, 3, 4], 1))).toThrow(/without dim0 and dim1 it needs a 2-D variable, got shape \[2, 3, 4\]/);
    expect(() => ops.concat([x, input([3, 3], 2)], 1)).toThrow(/concat: input 1 has shape \[3, 3\], which does not match input 0's \[2, 3\] outside axis 1/);
    expect(() => ops.concat([])).toThrow(/concat: needs a non-empty array/);
    expect(() => ops.stack([x, input([3, 2], 2)])).toThrow(/stack: input 1 has shape \[3, 2\] but input 0 has \[2, 3\]/);
    expect(() => ops.slice(x, [{ step: 0 }])).toThrow(/slice: step on axis 0 must be a positive integer, got 0/);
    expect(() => ops.slice(x, [null, null, null])).toThrow(/slice: needs at most one range per axis of shape \[2, 3\], got 3/);
    expect(() => ops.select(x, 1, 3)).toThrow(/select: index 3 is out of range for axis 1 of size 3/);
    expect(() => ops.indexSelect(x, 0, [0, 2])).toThrow(/indexSelect: index 1 is 2, must be an integer in \[0, 1\]/);
    expect(() => ops.pad(x, [1])).toThrow(/pad: pads must be \(before, after\) pairs for at most 2 axes of shape \[2, 3\], got \[1\]/);
    expect(() => ops.pad(x, [1.5, 0])).toThrow(/pad: amounts must be integers, got \[1.5, 0\]/);
    expect(() => ops.pad(x, [-2, -2])).toThrow(/pad: \[-2, -2\] crops axis 1 of shape \[2, 3\] below size 0/);
    expect(() => ops.unsqueeze(x, 3)).toThrow(/unsqueeze: axis 3 is out of range for a variable of rank 3/);
    expect(() => ops.flatten(input([2, 3, 4], 1), 2, 1)).toThrow(/flatten: startDim 2 comes after endDim 1/);
  });
});
