// Pooling kernels: hand-derived values, finite-difference gradients and PyTorch references.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward, poolGeometry, type PoolGeometry,
} from '../../src/tensor/pooling.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { testRng } from '../util/rng.js';

interface PoolCase {
  op: 'max' | 'avg' | 'avg_exclude_pad';
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  y_shape: number[];
  y: number[];
  dy: number[];
  dx: number[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/pool_norm.json', import.meta.url), 'utf8')) as {
  pool: { x_shape: [number, number, number, number]; x: number[]; cases: PoolCase[] };
};

function geometryOf(c: PoolCase): PoolGeometry {
  const [b, ch, h, w] = ref.pool.x_shape;
  return poolGeometry(b, ch, h, w, c.kernel[0], c.kernel[1], c.stride[0], c.stride[1], c.padding[0], c.padding[1]);
}

describe('poolGeometry', () => {
  it('computes PyTorch floor output sizes, stride defaulting to the kernel', () => {
    const g = poolGeometry(2, 3, 7, 6, 2, 2);
    expect([g.strideH, g.strideW, g.outH, g.outW]).toEqual([2, 2, 3, 3]);
    // (7 + 2·1 − 3)/2 + 1 = 4, (6 + 0 − 2)/1 + 1 = 5
    const h = poolGeometry(1, 1, 7, 6, 3, 2, 2, 1, 1, 0);
    expect([h.outH, h.outW]).toEqual([4, 5]);
  });

  it('rejects padding above half the kernel, like PyTorch', () => {
    expect(() => poolGeometry(1, 1, 8, 8, 3, 3, 1, 1, 2, 1)).toThrow(/padding must be at most half the kernel size, got padding 2×1 for kernel 3×3/);
    expect(() => poolGeometry(1, 1, 8, 8, 2, 2, 1, 1, 1, 1)).not.toThrow();
  });

  it('rejects windows that do not fit and bad dimensions', () => {
    expect(() => poolGeometry(1, 1, 2, 2, 3, 3)).toThrow(/kernel 3×3 with padding 0×0 does not fit input 2×2/);
    expect(() => poolGeometry(1, 1, 4, 4, 2, 2, 0, 1)).toThrow(/strideH must be an integer >= 1, got 0/);
    expect(() => poolGeometry(1, 1, 4, 4, 1.5, 2)).toThrow(/kH must be an integer >= 1, got 1.5/);
  });
});

describe('maxPool2d', () => {
  it('2×2 / stride 2 max pool, argmax and scatter backward (hand-derived)', () => {
    // One 4×4 plane; windows {1,5,2,6}, {3,0,7,4}, {9,8,12,13}, {10,11,15,14}.
    const x = Float32Array.from([
      1, 5, 3, 0,
      2, 6, 7, 4,
      9, 8, 10, 11,
      12, 13, 15, 14,
    ]);
    const g = poolGeometry(1, 1, 4, 4, 2, 2);
    const out = new Float32Array(4);
    const argmax = new Int32Array(4);
    expect(maxPool2dForward(out, argmax, x, g)).toBe(out);
    expect(Array.from(out)).toEqual([6, 7, 13, 15]);
    expect(Array.from(argmax)).toEqual([5, 6, 13, 14]);
    const dx = new Float32Array(16).fill(99); // overwritten, not accumulated
    expect(maxPool2dBackward(dx, Float32Array.from([1, 2, 3, 4]), argmax, g)).toBe(dx);
    const expected = new Array(16).fill(0);
    expected[5] = 1;
    expected[6] = 2;
    expected[13] = 3;
    expected[14] = 4;
    expect(Array.from(dx)).toEqual(expected);
  });

  it('takes the first max on ties, ignores padding and scatter-adds overlapping windows', () => {
    // 2×3 plane of equal values, 2×2 windows with stride 1 and padding 1: every window's first
    // in-image element wins, so output (oh, ow) picks input (max(oh−1, 0), max(ow−1, 0)).
    const x = new Float32Array(6).fill(-3); // negative: padding as 0 would win, padding as −∞ never does
    const g = poolGeometry(1, 1, 2, 3, 2, 2, 1, 1, 1, 1);
    expect([g.outH, g.outW]).toEqual([3, 4]);
    const out = new Float32Array(12);
    const argmax = new Int32Array(12);
    maxPool2dForward(out, argmax, x, g);
    expect(Array.from(out)).toEqual(new Array(12).fill(-3));
    expect(Array.from(argmax)).toEqual([0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5]);
    const dx = new Float32Array(6);
    maxPool2dBackward(dx, new Float32Array(12).fill(1), argmax, g);
    // Input 0 wins 4 windows, 1 and 3 two each, 2 two, 4 and 5 one each.
    expect(Array.from(dx)).toEqual([4, 2, 2, 2, 1, 1]);
  });

  it('propagates NaN like PyTorch and leaves the input unmodified', () => {
    const x = Float32Array.from([1, NaN, 2, 3]);
    const copy = x.slice();
    const out = new Float32Array(1);
    const argmax = new Int32Array(1);
    maxPool2dForward(out, argmax, x, poolGeometry(1, 1, 2, 2, 2, 2));
    expect(out[0]).toBeNaN();
    expect(argmax[0]).toBe(1);
    expect(Array.from(x)).toEqual(Array.from(copy));
  });

  it('2×2 / stride 2 fast path equals a first-max window scan (ties, NaN, ±Infinity, odd sizes)', () => {
    const rng = testRng(11);
    const [batch, channels, height, width] = [2, 3, 7, 9];
    const g = poolGeometry(batch, channels, height, width, 2, 2);
    const x = new Float32Array(batch * channels * height * width);
    // Values on a 0.5 grid in [-2, 2]: many ties; then NaNs and infinities in some windows.
    for (let i = 0; i < x.length; i++) x[i] = Math.round(rng.uniform(-4, 4)) / 2;
    for (const [i, v] of [[0, NaN], [20, NaN], [21, NaN], [40, Infinity], [41, -Infinity], [60, -Infinity], [100, Infinity]]) x[i] = v;
    const n = batch * channels * g.outH * g.outW;
    const out = new Float32Array(n);
    const argmax = new Int32Array(n);
    maxPool2dForward(out, argmax, x, g);
    for (let p = 0; p < batch * channels; p++) {
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          // Reference: scan the window in row-major order; strict > keeps the first max, NaN always wins.
          let max = -Infinity;
          let best = -1;
          for (let h = 2 * oh; h < 2 * oh + 2; h++) {
            for (let w = 2 * ow; w < 2 * ow + 2; w++) {
              const k = p * height * width + h * width + w;
              if (best < 0 || x[k] > max || x[k] !== x[k]) {
                max = x[k];
                best = k;
              }
            }
          }
          const o = p * g.outH * g.outW + oh * g.outW + ow;
          expect(argmax[o], `argmax of window ${p},${oh},${ow}`).toBe(best);
          expect(Object.is(out[o], max), `value of window ${p},${oh},${ow}: ${out[o]} vs ${max}`).toBe(true);
        }
      }
    }
  });

  it('checks buffer lengths against the geometry', () => {
    const g = poolGeometry(2, 1, 4, 4, 2, 2);
    expect(() => maxPool2dForward(new Float32Array(7), new Int32Array(8), new Float32Array(32), g)).toThrow(
      /maxPool2dForward: out has 7 elements, the geometry needs 8/,
    );
    expect(() => maxPool2dBackward(new Float32Array(32), new Float32Array(8), new Int32Array(2), g)).toThrow(/argmax has 2 elements/);
  });

  it('gradient matches finite differences (distinct values, strided + padded, non-square)', () => {
    const rng = testRng(7);
    const g = poolGeometry(2, 2, 5, 6, 3, 2, 2, 1, 1, 1);
    const n = 2 * 2 * 5 * 6;
    // A shuffled ramp with spacing 0.1: no ties and no max change under ±h = 1e-2.
    const perm = rng.permutation(n);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = perm[i] * 0.1 - 3;
    const m = 2 * 2 * g.outH * g.outW;
    const w = new Float32Array(m);
    for (let i = 0; i < m; i++) w[i] = rng.uniform(-1, 1);
    const out = new Float32Array(m);
    const argmax = new Int32Array(m);
    const loss = (): number => {
      maxPool2dForward(out, argmax, x, g);
      let s = 0;
      for (let i = 0; i < m; i++) s += w[i] * out[i];
      return s;
    };
    loss();
    const dx = maxPool2dBackward(new Float32Array(n), w, argmax, g);
    gradCheck(loss, x, dx, { h: 1e-2, tol: 1e-3, what: 'maxPool dx' });
  });
});

describe('avgPool2d', () => {
  it('2×2 / stride 1 / padding 1 average, with and without counting padding (hand-derived)', () => {
    // x = [[1, 2], [3, 4]]; the 3×3 output windows cover the padded 4×4 image.
    const x = Float32Array.from([1, 2, 3, 4]);
    const g = poolGeometry(1, 1, 2, 2, 2, 2, 1, 1, 1, 1);
    const out = new Float32Array(9);
    // Divisor 4 everywhere: corners x/4, edges (pair sum)/4, centre 10/4.
    expect(avgPool2dForward(out, x, g)).toBe(out);
    assertClose(out, [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], { atol: 1e-7, what: 'avg include pad' });
    // Divisor = in-image count: corners 1, edges 2, centre 4.
    avgPool2dForward(out, x, g, false);
    assertClose(out, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], { atol: 1e-7, what: 'avg exclude pad' });
    // Backward of all-ones dy with divisor 4: each input lies in 4 windows → 4 · 1/4 = 1.
    const dx = new Float32Array(4).fill(7);
    expect(avgPool2dBackward(dx, new Float32Array(9).fill(1), g)).toBe(dx);
    assertClose(dx, [1, 1, 1, 1], { atol: 1e-7, what: 'avg dx' });
    // Without padding counted: each input gets 1/1 + 1/2 + 1/2 + 1/4 = 2.25.
    avgPool2dBackward(dx, new Float32Array(9).fill(1), g, false);
    assertClose(dx, [2.25, 2.25, 2.25, 2.25], { atol: 1e-7, what: 'avg dx exclude pad' });
  });

  for (const countIncludePad of [true, false]) {
    it(`gradient matches finite differences (countIncludePad ${countIncludePad})`, () => {
      const rng = testRng(11);
      const g = poolGeometry(2, 3, 6, 5, 3, 2, 2, 1, 1, 1);
      const n = 2 * 3 * 6 * 5;
      const m = 2 * 3 * g.outH * g.outW;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = rng.uniform(-2, 2);
      const w = new Float32Array(m);
      for (let i = 0; i < m; i++) w[i] = rng.uniform(-1, 1);
      const out = new Float32Array(m);
      const loss = (): number => {
        avgPool2dForward(out, x, g, countIncludePad);
        let s = 0;
        for (let i = 0; i < m; i++) s += w[i] * out[i];
        return s;
      };
      const dx = avgPool2dBackward(new Float32Array(n), w, g, countIncludePad);
      gradCheck(loss, x, dx, { h: 1e-2, tol: 1e-3, what: 'avgPool dx' });
    });
  }
});

describe('pooling against PyTorch (F.max_pool2d / F.avg_pool2d, float64 reference)', () => {
  const x = Float32Array.from(ref.pool.x);
  for (const c of ref.pool.cases) {
    const name = `${c.op} kernel ${c.kernel} stride ${c.stride} padding ${c.padding}`;
    it(name, () => {
      const g = geometryOf(c);
      expect([ref.pool.x_shape[0], ref.pool.x_shape[1], g.outH, g.outW]).toEqual(c.y_shape);
      const out = new Float32Array(c.y.length);
      const dx = new Float32Array(x.length);
      const dy = Float32Array.from(c.dy);
      if (c.op === 'max') {
        const argmax = new Int32Array(c.y.length);
        maxPool2dForward(out, argmax, x, g);
        maxPool2dBackward(dx, dy, argmax, g);
      } else {
        avgPool2dForward(out, x, g, c.op === 'avg');
        avgPool2dBackward(dx, dy, g, c.op === 'avg');
      }
      // float32 storage of float64 references: atol 1e-5, rtol 1e-5.
      assertClose(out, c.y, { atol: 1e-5, rtol: 1e-5, what: `${name} y` });
      assertClose(dx, c.dx, { atol: 1e-5, rtol: 1e-5, what: `${name} dx` });
    });
  }
});
