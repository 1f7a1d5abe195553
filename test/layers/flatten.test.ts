// Flatten: C,H,W order, views sharing data, cached views, shape errors.
import { describe, expect, it } from 'vitest';
import { Flatten } from '../../src/layers/flatten.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { testRng } from '../util/rng.js';

describe('Flatten', () => {
  it('flattens C,H,W in row-major order as views of x and dy', () => {
    const layer = new Flatten();
    expect(layer.build([2, 2, 3], testRng())).toEqual([12]);
    // x[b, c, h, w] = 100·b + 10·c + 3·h + w: flattening must list c, then h, then w.
    const data = new Float32Array(24);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) for (let h = 0; h < 2; h++) for (let w = 0; w < 3; w++) {
      data[b * 12 + c * 6 + h * 3 + w] = 100 * b + 10 * c + 3 * h + w;
    }
    const x = new Tensor(data, [2, 2, 2, 3]);
    const y = layer.forward(x, true);
    expect(y.shape).toEqual([2, 12]);
    expect(y.data).toBe(x.data);
    expect(Array.from(y.data.subarray(12, 24))).toEqual([100, 101, 102, 103, 104, 105, 110, 111, 112, 113, 114, 115]);
    const dy = new Tensor(new Float32Array(24).fill(1), [2, 12]);
    const dx = layer.backward(dy);
    expect(dx.shape).toEqual([2, 2, 2, 3]);
    expect(dx.data).toBe(dy.data);
  });

  it('returns the same view object for the same source buffer (no steady-state allocation)', () => {
    const layer = new Flatten();
    layer.build([3, 2], testRng());
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]);
    const y = layer.forward(x, true);
    expect(layer.forward(x, true)).toBe(y);
    const dy = tensor([1, 2, 3, 4, 5, 6], [1, 6]);
    expect(layer.backward(dy)).toBe(layer.backward(dy));
    const x2 = tensor(new Array(12).fill(0), [2, 3, 2]);
    expect(layer.forward(x2, true).shape).toEqual([2, 6]);
  });

  it('checks shapes and options, naming the layer', () => {
    const layer = new Flatten();
    expect(() => layer.forward(tensor([1], [1, 1]), true)).toThrow(/Flatten: forward\(\) called before build\(\)/);
    layer.build([1, 4, 4], testRng());
    expect(() => layer.forward(new Tensor(new Float32Array(32), [2, 1, 4, 4]).reshape([2, 16]), true)).toThrow(
      /Flatten: expected input \[batch, 1, 4, 4\], got \[2, 16\]/);
    layer.forward(new Tensor(new Float32Array(32), [2, 1, 4, 4]), true);
    expect(() => layer.backward(tensor(new Array(16).fill(0), [1, 16]))).toThrow(/Flatten: expected gradient \[2, 16\]/);
    expect(() => new Flatten({ startDim: 1 })).toThrow(/Flatten: unknown option "startDim"/);
    expect(new Flatten().getConfig()).toEqual({});
    expect(new Flatten().params()).toEqual([]);
  });
});
