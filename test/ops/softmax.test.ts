// softmax and logSoftmax over any axis: hand-derived values, agreement of the strided path with the
// last-axis kernels through a permute, finite differences, errors. References: reference-core.test.ts.
import { describe, expect, test } from 'vitest';
import { ops, variable } from '../../src/ops/index.js';
import { tensor } from '../../src/tensor/tensor.js';
import { close, fd, grads, input } from '../util/op-check.js';

describe('hand-derived values', () => {
  test('softmax over axis 0 of [[0, 0], [ln 3, 0]] = [[1/4, 1/2], [3/4, 1/2]]; upstream [1, 0] per column', () => {
    const x = variable([0, 0, Math.log(3), 0], { shape: [2, 2], requiresGrad: true });
    const s = ops.softmax(x, 0);
    close(s.data, [0.25, 0.5, 0.75, 0.5]);
    // column 0: y = (1/4, 3/4), g = (1, 0): dx = y·(g − Σ g·y) = (1/4·3/4, −3/4·1/4)
    s.backward(tensor([1, 1, 0, 0], [2, 2]));
    close(x.grad!.data, [0.1875, 0.25, -0.1875, -0.25]);
  });
  test('logSoftmax over axis 0: g − softmax·Σ g', () => {
    const x = variable([0, 0, Math.log(3), 0], { shape: [2, 2], requiresGrad: true });
    const s = x.logSoftmax(0);
    close(s.data, [Math.log(0.25), Math.log(0.5), Math.log(0.75), Math.log(0.5)]);
    s.backward(tensor([1, 1, 0, 0], [2, 2]));
    close(x.grad!.data, [0.75, 0.5, -0.75, -0.5]);
  });
  test('a middle axis equals the last-axis kernel applied after a permute, values and gradients', () => {
    const x = input([2, 3, 4], 1, -3, 3);
    for (const log of [false, true]) {
      const f = (v: Parameters<typeof ops.softmax>[0]) => (log ? ops.logSoftmax(v, 1) : ops.softmax(v, 1));
      const g = (v: Parameters<typeof ops.softmax>[0]) => ops.permute(log ? ops.logSoftmax(ops.permute(v, [0, 2, 1])) : ops.softmax(ops.permute(v, [0, 2, 1])), [0, 2, 1]);
      const w = input([2, 3, 4], 2);
      const a = grads((v) => ops.mul(f(v), w), x);
      const b = grads((v) => ops.mul(g(v), w), x);
      close(a.out.data, Array.from(b.out.data), 1e-6);
      close(a.grads[0], Array.from(b.grads[0]), 1e-6);
    }
  });
  test('large logits do not overflow', () => {
    close(ops.softmax(tensor([1000, 1000, 0, 0], [2, 2]), 0).data, [1, 1, 0, 0]);
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  test('every axis', () => {
    const x = input([2, 3, 4], 3, -2, 2);
    for (const axis of [0, 1, 2, -1]) {
      fd((v) => ops.softmax(v, axis), x);
      fd((v) => ops.logSoftmax(v, axis), x);
    }
  });
});

describe('awkward shapes and errors', () => {
  test('size-1 softmax axis gives ones (and a zero gradient); scalars throw; bad axes throw', () => {
    const r = grads((v) => ops.softmax(v, 1), input([3, 1], 4));
    close(r.out.data, [1, 1, 1]); close(r.grads[0], [0, 0, 0]);
    expect(ops.softmax(input([0, 3], 5), 0).shape).toEqual([0, 3]);
    expect(() => ops.softmax(tensor([1], []))).toThrow(/softmax: needs at least one axis, got a scalar/);
    expect(() => ops.logSoftmax(input([2, 3], 1), 2)).toThrow(/logSoftmax: axis 2 is out of range for a variable of rank 2/);
  });
});
