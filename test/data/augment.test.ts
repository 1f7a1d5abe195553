import { describe, expect, it } from 'vitest';
import { augmentBatch, resolveAugment, transformImage } from '../../src/data/augment.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomTensor } from '../util/rng.js';

const NONE = { dx: 0, dy: 0, angle: 0, flip: false };

/** A 3×4 single-channel image with values 1..12 (row-major). */
const IMG = Float32Array.from({ length: 12 }, (_, i) => i + 1);

describe('transformImage', () => {
  it('is the identity with no shift, angle 0 and no flip', () => {
    const out = new Float32Array(12);
    expect(transformImage(out, IMG, 1, 3, 4, NONE)).toBe(out);
    expect(out).toEqual(IMG);
  });

  it('shifts by whole pixels, filling with zeros (hand-derived)', () => {
    const out = new Float32Array(12);
    // dx = +1: every row moves right by one; column 0 becomes 0.
    transformImage(out, IMG, 1, 3, 4, { ...NONE, dx: 1 });
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11]);
    // dy = -1: rows move up; the last row becomes 0.
    transformImage(out, IMG, 1, 3, 4, { ...NONE, dy: -1 });
    expect(Array.from(out)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0]);
  });

  it('flips left-right, and flipping twice gives the image back', () => {
    const once = new Float32Array(12);
    const twice = new Float32Array(12);
    transformImage(once, IMG, 1, 3, 4, { ...NONE, flip: true });
    expect(Array.from(once)).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
    transformImage(twice, once, 1, 3, 4, { ...NONE, flip: true });
    expect(twice).toEqual(IMG);
  });

  it('rotates a 3×3 image by 90° about its centre exactly (up to float rounding)', () => {
    // Image [[1,2,3],[4,5,6],[7,8,9]], centre (1,1). Output(u,v) = Input(cos·u + sin·v, −sin·u + cos·v)
    // with θ = 90°: output (u,v) reads input (v, −u), e.g. output top-left (u,v) = (−1,−1) reads
    // (−1, 1) = bottom-left = 7. With x right and y down a positive angle turns the image clockwise.
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = new Float32Array(9);
    transformImage(out, img, 1, 3, 3, { ...NONE, angle: Math.PI / 2 });
    expect(Array.from(out).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
  });

  it('interpolates bilinearly between pixels: a half-pixel sample is the mean of its neighbours', () => {
    // 2×2 image turned by 180° about its centre (exact pixels), then by 45° (corners mix neighbours).
    const img = Float32Array.from([1, 2, 3, 4]);
    const out = new Float32Array(4);
    transformImage(out, img, 1, 2, 2, { ...NONE, angle: Math.PI });
    expect(Array.from(out).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([4, 3, 2, 1]);
    // At 45°, output (0,0) is at (−.5,−.5) from the centre (.5,.5): the source point is
    // (cos·u + sin·v, −sin·u + cos·v) = (−.7071, 0) from the centre → x = −0.2071, y = 0.5:
    // weights on column −1 (outside, 0) 0.2071 and column 0: 0.7929, split 50/50 between rows 0 and 1.
    transformImage(out, img, 1, 2, 2, { ...NONE, angle: Math.PI / 4 });
    const expected = (1 - (Math.SQRT1_2 - 0.5)) * 0.5 * (1 + 3);
    expect(out[0]).toBeCloseTo(expected, 5);
  });

  it('treats every channel with the same transform', () => {
    const two = new Float32Array(24);
    two.set(IMG, 0);
    two.set(IMG.map((v) => -v), 12);
    const out = new Float32Array(24);
    transformImage(out, two, 2, 3, 4, { ...NONE, dx: 1, flip: true });
    for (let i = 0; i < 12; i++) expect(out[12 + i]).toBe(-out[i] || 0);
  });
});

describe('augmentBatch', () => {
  const rng = new Rng(5);
  const x = randomTensor([4, 2, 6, 6], rng, 0, 1);

  it('keeps the shape, is deterministic per seed and leaves x unchanged', () => {
    const opts = resolveAugment({ shift: 2, rotate: 15, flip: true });
    const a = new Tensor(new Float32Array(x.size), x.shape);
    const b = new Tensor(new Float32Array(x.size), x.shape);
    const c = new Tensor(new Float32Array(x.size), x.shape);
    const before = x.data.slice();
    expect(augmentBatch(a, x, opts, new Rng(9))).toBe(a);
    augmentBatch(b, x, opts, new Rng(9));
    augmentBatch(c, x, opts, new Rng(10));
    expect(a.shape).toEqual([4, 2, 6, 6]);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    expect(x.data).toEqual(before);
  });

  it('with all options off (or zero shift) copies the batch exactly and draws nothing', () => {
    const out = new Tensor(new Float32Array(x.size), x.shape);
    const r = new Rng(1);
    augmentBatch(out, x, resolveAugment({ shift: 0 }), r);
    expect(out.data).toEqual(x.data);
    expect(r.getState()).toEqual(new Rng(1).getState());
  });

  it('shift-only moves values without changing them (every output value is an input value or 0)', () => {
    const out = new Tensor(new Float32Array(x.size), x.shape);
    augmentBatch(out, x, resolveAugment({ shift: 2 }), new Rng(2));
    const inputs = new Set(Array.from(x.data));
    for (const v of out.data) expect(v === 0 || inputs.has(v)).toBe(true);
  });

  it('rejects aliasing, shape mismatches and bad options', () => {
    const opts = resolveAugment({ flip: true });
    expect(() => augmentBatch(x, x, opts, new Rng(0))).toThrow(/must not alias/);
    expect(() => augmentBatch(new Tensor(new Float32Array(10), [10]), x, opts, new Rng(0))).toThrow(/must be the same \[batch, channels, height, width\]/);
    expect(() => resolveAugment({ rotate: -5 })).toThrow(/rotate must be a number in \[0, 180\], got -5/);
    expect(() => resolveAugment({ shfit: 1 } as never)).toThrow(/unknown option "shfit"/);
  });
});
