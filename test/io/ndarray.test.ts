// ndarray interop, checked against the scijs `ndarray` package (dev dependency): views in both
// directions, and non-contiguous layouts (transpose, step, negative stride, slices) copied correctly.
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { fromNdarray, rowMajorStrides, toNdarray } from '../../src/io/index.js';
import { tensor } from '../../src/tensor/tensor.js';

/** Row-major values of an ndarray, read through its own `get` (the reference for our gather). */
function values(a: ndarray.NdArray): number[] {
  const out: number[] = [];
  const walk = (d: number, idx: number[]): void => {
    if (d === a.shape.length) {
      out.push(a.get(...idx));
      return;
    }
    for (let i = 0; i < a.shape[d]; i++) walk(d + 1, [...idx, i]);
  };
  walk(0, []);
  return out;
}

const base = () => ndarray(Float32Array.from({ length: 24 }, (_, i) => i * 1.5 - 4), [2, 3, 4]);

describe('fromNdarray', () => {
  it('shares the data of a contiguous float32 ndarray (offset included)', () => {
    const a = base();
    const t = fromNdarray(a);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.data.buffer).toBe(a.data.buffer);
    const row = a.pick(1, null, null);
    const r = fromNdarray(row);
    expect(r.shape).toEqual([3, 4]);
    expect(r.data.byteOffset).toBe(12 * 4);
    expect([...r.data]).toEqual(values(row));
  });

  it('copies transposed, stepped, reversed and sliced views in row-major order', () => {
    const views: [string, ndarray.NdArray<Float32Array>][] = [
      ['transpose', base().transpose(2, 0, 1)],
      ['step 2 on the last axis', base().step(1, 1, 2)],
      ['negative stride', base().step(-1, 1, -1)],
      ['hi/lo slice', base().hi(2, 3, 3).lo(0, 1, 1)],
      ['picked column', base().pick(null, 1, null).transpose(1, 0)],
    ];
    for (const [what, v] of views) {
      const t = fromNdarray(v);
      expect(t.shape, what).toEqual(v.shape);
      expect([...t.data], what).toEqual(values(v));
      expect(t.data.buffer, what).not.toBe(v.data.buffer);
    }
  });

  it('converts other element types and plain arrays, and handles scalars and empty arrays', () => {
    expect([...fromNdarray(ndarray(new Uint8Array([1, 2, 3, 4]), [2, 2]).transpose(1, 0)).data]).toEqual([1, 3, 2, 4]);
    expect([...fromNdarray(ndarray([5, 6, 7], [3])).data]).toEqual([5, 6, 7]);
    expect(fromNdarray({ data: [9], shape: [], stride: [], offset: 0 }).shape).toEqual([]);
    expect(fromNdarray({ data: [], shape: [0, 3], stride: [3, 1], offset: 0 }).size).toBe(0);
  });

  it('rejects malformed views, naming the field', () => {
    expect(() => fromNdarray({ data: [1, 2], shape: [3], stride: [1], offset: 0 })).toThrow(/reach indices \[0, 2\] outside data of length 2/);
    expect(() => fromNdarray({ data: [1, 2], shape: [2], stride: [-1], offset: 0 })).toThrow(/outside data/);
    expect(() => fromNdarray({ data: [1, 2], shape: [2], stride: [1, 1], offset: 0 })).toThrow(/stride must be 1 integers/);
    expect(() => fromNdarray({ data: [1, 2], shape: [-2], stride: [1], offset: 0 })).toThrow(/shape must be/);
    expect(() => fromNdarray({ data: [1, 2], shape: [2], stride: [1], offset: 0.5 })).toThrow(/offset must be/);
  });
});

describe('toNdarray', () => {
  it('gives a view the ndarray package wraps without a copy, writes shared both ways', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = toNdarray(t);
    expect(v.stride).toEqual([3, 1]);
    const a = ndarray(v.data, v.shape, v.stride, v.offset);
    expect(a.get(1, 2)).toBe(6);
    a.set(0, 1, 42);
    expect(t.data[1]).toBe(42);
    // And back: a transposed view of it round-trips into a tensor with the transposed values.
    expect([...fromNdarray(a.transpose(1, 0)).data]).toEqual([1, 4, 42, 5, 3, 6]);
  });

  it('row-major strides', () => {
    expect(rowMajorStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(rowMajorStrides([])).toEqual([]);
  });
});
