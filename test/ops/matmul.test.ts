// matmul with torch.matmul's shape rules and in-place transposes: hand-derived values, finite
// differences for every form, flags against explicit transposes, empty axes and errors.
// PyTorch references for each form: reference-core.test.ts (matmul_* cases).
import { describe, expect, test } from 'vitest';
import { Variable, ops } from '../../src/ops/index.js';
import { tensor } from '../../src/tensor/tensor.js';
import { close, fd, grads, input } from '../util/op-check.js';

const mm = (a: Variable, b: Variable): Variable => ops.matmul(a, b);

describe('hand-derived values', () => {
  test('1-D · 1-D is a dot product of shape []; gradients are the other vector', () => {
    const r = grads(mm, tensor([1, 2, 3], [3]), tensor([4, 5, 6], [3]));
    expect(r.out.shape).toEqual([]);
    close(r.out.data, [32]); close(r.grads[0], [4, 5, 6]); close(r.grads[1], [1, 2, 3]);
  });

  test('1-D · 2-D and 2-D · 1-D drop the added axis', () => {
    // [1, 2]·[[1, 2, 3], [4, 5, 6]] = [9, 12, 15]; da = row sums of b = [6, 15]; db = a per column
    let r = grads(mm, tensor([1, 2], [2]), tensor([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(r.out.shape).toEqual([3]);
    close(r.out.data, [9, 12, 15]); close(r.grads[0], [6, 15]); close(r.grads[1], [1, 1, 1, 2, 2, 2]);
    // [[1, 2, 3], [4, 5, 6]]·[1, 0, −1] = [−2, −2]; dA rows = b; db = column sums of A = [5, 7, 9]
    r = grads(mm, tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 0, -1], [3]));
    expect(r.out.shape).toEqual([2]);
    close(r.out.data, [-2, -2]); close(r.grads[0], [1, 0, -1, 1, 0, -1]); close(r.grads[1], [5, 7, 9]);
  });

  test('transA/transB read the stored matrix transposed: Aᵀ·B and A·Bᵀ', () => {
    // A stored [[1, 3], [2, 4]] (so Aᵀ = [[1, 2], [3, 4]]), B = [[5], [6]]: AᵀB = [17, 39].
    // dAᵀ = dY·Bᵀ = [[5, 6], [5, 6]] → dA (stored layout) = [[5, 5], [6, 6]]; dB = (Aᵀ)ᵀ·dY = [4, 6]
    let r = grads((a, b) => ops.matmul(a, b, { transA: true }), tensor([1, 3, 2, 4], [2, 2]), tensor([5, 6], [2, 1]));
    close(r.out.data, [17, 39]); close(r.grads[0], [5, 5, 6, 6]); close(r.grads[1], [4, 6]);
    // A = [[1, 2], [3, 4]], B stored [[5, 6]] ([1, 2], used as [2, 1]): AB = [17, 39]; dB = [4, 6]
    r = grads((a, b) => ops.matmul(a, b, { transB: true }), tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6], [1, 2]));
    expect(r.out.shape).toEqual([2, 1]);
    close(r.out.data, [17, 39]); close(r.grads[0], [5, 6, 5, 6]); close(r.grads[1], [4, 6]);
  });

  test('a broadcast batch operand receives the sum over the batch entries that reused it', () => {
    // a [1, 1, 2] = [[1, 1]] against b [3, 2, 1] = three columns [k, k]ᵀ, k = 1, 2, 3:
    // outputs 2k; da = Σ_k [k, k] = [6, 6]; db_k = [1, 1]
    const r = grads(mm, tensor([1, 1], [1, 1, 2]), tensor([1, 1, 2, 2, 3, 3], [3, 2, 1]));
    expect(r.out.shape).toEqual([3, 1, 1]);
    close(r.out.data, [2, 4, 6]); close(r.grads[0], [6, 6]); close(r.grads[1], [1, 1, 1, 1, 1, 1]);
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  test('every shape form', () => {
    fd(mm, input([4], 1), input([4], 2));
    fd(mm, input([4], 3), input([4, 3], 4));
    fd(mm, input([3, 4], 5), input([4], 6));
    fd(mm, input([2, 3, 4], 7), input([4], 8));
    fd(mm, input([4], 9), input([2, 4, 3], 10));
    fd(mm, input([3, 4], 11), input([2, 4, 5], 12));
    fd(mm, input([2, 1, 3, 4], 13), input([3, 4, 2], 14));
    fd(mm, input([2, 2, 3, 4], 15), input([4, 2], 16));
  });
  test('every transpose flag, batched, broadcast and tall', () => {
    fd((a, b) => ops.matmul(a, b, { transA: true }), input([4, 3], 17), input([4, 2], 18));
    fd((a, b) => ops.matmul(a, b, { transB: true }), input([3, 4], 19), input([2, 4], 20));
    fd((a, b) => ops.matmul(a, b, { transA: true, transB: true }), input([2, 4, 3], 21), input([2, 5, 4], 22));
    fd((a, b) => ops.matmul(a, b, { transB: true }), input([2, 3, 4], 23), input([5, 4], 24));
    fd((a, b) => ops.matmul(a, b, { transA: true }), input([1, 4, 3], 25), input([2, 4, 5], 26));
    fd((a, b) => ops.matmul(a, b, { transA: true }), input([2, 4, 3], 27), input([4, 2], 28));
  });
});

describe('flags equal explicit transposes', () => {
  test('values and gradients, batched', () => {
    const a = input([2, 4, 3], 29);
    const b = input([2, 5, 4], 30);
    const flagged = grads((x, y) => ops.matmul(x, y, { transA: true, transB: true }), a, b);
    const explicit = grads((x, y) => ops.matmul(ops.transpose(x, 1, 2), ops.transpose(y, -1, -2)), a, b);
    close(flagged.out.data, Array.from(explicit.out.data), 1e-6);
    close(flagged.grads[0], Array.from(explicit.grads[0]), 1e-6);
    close(flagged.grads[1], Array.from(explicit.grads[1]), 1e-6);
  });
});

describe('empty axes', () => {
  test('k = 0 gives zeros; m = 0 gives an empty result; gradients keep their shapes', () => {
    let r = grads(mm, input([2, 0], 1), input([0, 3], 2));
    expect(r.out.shape).toEqual([2, 3]); close(r.out.data, [0, 0, 0, 0, 0, 0]);
    expect(r.grads[0].length).toBe(0); expect(r.grads[1].length).toBe(0);
    r = grads(mm, input([0, 4], 3), input([4, 3], 4));
    expect(r.out.shape).toEqual([0, 3]); close(r.grads[1], new Array(12).fill(0));
    r = grads(mm, input([0, 2, 4], 5), input([4, 3], 6));
    expect(r.out.shape).toEqual([0, 2, 3]);
  });
});
