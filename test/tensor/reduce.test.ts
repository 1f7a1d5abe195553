import { describe, expect, it } from 'vitest';
import {
  argmaxRows, dot, logSoftmaxRows, max, mean, min, softmaxRows, sum, sumSquares,
} from '../../src/tensor/reduce.js';
import { assertClose } from '../util/assert-close.js';
import { testRng } from '../util/rng.js';

const f = (...v: number[]): Float32Array => Float32Array.from(v);

describe('whole-array reductions', () => {
  it('sum, mean, max, min, dot, sumSquares on hand values', () => {
    const x = f(3, -1, 4, -1.5, 5);
    expect(sum(x)).toBe(9.5);
    expect(mean(x)).toBe(1.9);
    expect(max(x)).toBe(5);
    expect(min(x)).toBe(-1.5);
    // 3·1 + (−1)·2 + 4·0 + (−1.5)·(−2) + 5·0.5 = 3 − 2 + 0 + 3 + 2.5 = 6.5
    expect(dot(x, f(1, 2, 0, -2, 0.5))).toBe(6.5);
    // 9 + 1 + 16 + 2.25 + 25 = 53.25
    expect(sumSquares(x)).toBe(53.25);
  });

  it('sums in double precision (1 + 1e-8·10⁶ would stall in float32 accumulation)', () => {
    const x = new Float32Array(1_000_001).fill(1e-8);
    x[0] = 1;
    // In float32, 1 + 1e-8 rounds back to 1; a double accumulator reaches ≈ 1.01.
    expect(sum(x)).toBeCloseTo(1 + Math.fround(1e-8) * 1e6, 6);
  });

  it('handles empty and single-element arrays, NaN propagation in max/min', () => {
    expect(sum(new Float32Array(0))).toBe(0);
    expect(sumSquares(new Float32Array(0))).toBe(0);
    expect(() => mean(new Float32Array(0))).toThrow('mean: empty array');
    expect(() => max(new Float32Array(0))).toThrow('max: empty array');
    expect(() => min(new Float32Array(0))).toThrow('min: empty array');
    expect(max(f(-7))).toBe(-7);
    expect(min(f(-7))).toBe(-7);
    expect(max(f(1, NaN, 2))).toBeNaN();
    expect(min(f(1, NaN, 2))).toBeNaN();
    expect(() => dot(f(1, 2), f(1))).toThrow('dot: lengths differ (2 vs 1)');
  });
});

describe('row softmax / log-softmax / argmax', () => {
  it('softmax of [0, ln 2, ln 3] is [1/6, 2/6, 3/6]; rows are independent', () => {
    const x = f(0, Math.log(2), Math.log(3), 5, 5, 5);
    const out = new Float32Array(6);
    expect(softmaxRows(out, x, 2, 3)).toBe(out);
    assertClose(out, [1 / 6, 2 / 6, 3 / 6, 1 / 3, 1 / 3, 1 / 3], { atol: 1e-7, rtol: 1e-6 });
  });

  it('is stable for large logits (max subtraction): [1000, 1001]', () => {
    // softmax = [1/(1+e), e/(1+e)]; log-softmax = [−log(1+e), 1 − log(1+e)] = [−1.3132617, −0.3132617]
    const x = f(1000, 1001);
    const p = softmaxRows(new Float32Array(2), x, 1, 2);
    const lp = logSoftmaxRows(new Float32Array(2), x, 1, 2);
    const l1pe = Math.log(1 + Math.E);
    assertClose(p, [1 / (1 + Math.E), Math.E / (1 + Math.E)], { atol: 1e-7, rtol: 1e-6 });
    assertClose(lp, [-l1pe, 1 - l1pe], { atol: 1e-6, rtol: 1e-6 });
    expect(Number.isFinite(lp[0]) && Number.isFinite(p[1])).toBe(true);
    // Very negative logits too: no 0/0.
    const q = softmaxRows(new Float32Array(2), f(-1000, -1001), 1, 2);
    assertClose(q, [Math.E / (1 + Math.E), 1 / (1 + Math.E)], { atol: 1e-7, rtol: 1e-6 });
  });

  it('log-softmax equals log(softmax) and rows of softmax sum to 1 (random logits in [−5, 5], atol 1e-5)', () => {
    const rng = testRng(3);
    const rows = 8;
    const cols = 10;
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-5, 5);
    const p = softmaxRows(new Float32Array(x.length), x, rows, cols);
    const lp = logSoftmaxRows(new Float32Array(x.length), x, rows, cols);
    assertClose(lp, Array.from(p, Math.log), { atol: 1e-5, rtol: 1e-5 });
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += p[r * cols + c];
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
  });

  it('softmax and log-softmax may work in place', () => {
    const x = f(1, 2, 3);
    const expected = softmaxRows(new Float32Array(3), x, 1, 3);
    const expectedLog = logSoftmaxRows(new Float32Array(3), x, 1, 3);
    const y = x.slice();
    softmaxRows(y, y, 1, 3);
    expect(Array.from(y)).toEqual(Array.from(expected));
    const z = x.slice();
    logSoftmaxRows(z, z, 1, 3);
    expect(Array.from(z)).toEqual(Array.from(expectedLog));
  });

  it('argmaxRows picks the first maximum of each row', () => {
    const x = f(1, 3, 3, -5, -2, -1, 0, 0, 0);
    const out = new Int32Array(3);
    expect(argmaxRows(out, x, 3, 3)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 0]);
  });

  it('argmaxRows gives −1 (no class) for a row holding a NaN wherever it sits, writes only out[0 … rows−1], and takes a Float32Array out', () => {
    const x = f(1, NaN, 2, NaN, 5, 6, -Infinity, -Infinity, -1, 3, 9, NaN, Infinity, 1, Infinity);
    const out = Int32Array.from([9, 9, 9, 9, 9, 9]);
    argmaxRows(out, x, 5, 3);
    expect(Array.from(out)).toEqual([-1, -1, 2, -1, 0, 9]);
    const asFloat = new Float32Array(2);
    expect(argmaxRows(asFloat, f(0, 1, 7, 7), 2, 2)).toBe(asFloat);
    expect(Array.from(asFloat)).toEqual([1, 0]);
    expect(Array.from(argmaxRows(Int32Array.from([4]), f(), 0, 3))).toEqual([4]);
  });
});
