import { describe, expect, it } from 'vitest';
import {
  add, addColVector, addRowVector, addScalar, axpy, colSums, mul, relu, reluBackward, rowSums, scale, sub,
} from '../../src/tensor/elementwise.js';
import { assertClose } from '../util/assert-close.js';
import { testRng } from '../util/rng.js';
import { int32View } from '../../src/runtime/twins.js';

const f = (...v: number[]): Float32Array => Float32Array.from(v);

describe('binary elementwise kernels', () => {
  it('add / sub / mul on hand values, returning out and leaving inputs alone', () => {
    const a = f(1, 2, 3);
    const b = f(10, -20, 0.5);
    const out = new Float32Array(3);
    expect(add(out, a, b)).toBe(out);
    expect(Array.from(out)).toEqual([11, -18, 3.5]);
    expect(sub(out, a, b)).toBe(out);
    expect(Array.from(out)).toEqual([-9, 22, 2.5]);
    expect(mul(out, a, b)).toBe(out);
    expect(Array.from(out)).toEqual([10, -40, 1.5]);
    expect(Array.from(a)).toEqual([1, 2, 3]);
    expect(Array.from(b)).toEqual([10, -20, 0.5]);
  });

  it('allows out to alias either or both inputs', () => {
    const a = f(1, 2, 3);
    add(a, a, f(1, 1, 1));
    expect(Array.from(a)).toEqual([2, 3, 4]);
    const b = f(5, 5, 5);
    sub(b, f(1, 2, 3), b); // out aliases the second input
    expect(Array.from(b)).toEqual([-4, -3, -2]);
    const c = f(1, -2, 3);
    mul(c, c, c); // squares in place
    expect(Array.from(c)).toEqual([1, 4, 9]);
  });

  it('rejects length mismatches naming the lengths', () => {
    expect(() => add(new Float32Array(3), new Float32Array(3), new Float32Array(2))).toThrow(
      'add: out has 3 elements but the inputs have 3 and 2',
    );
    expect(() => scale(new Float32Array(2), 2, new Float32Array(3))).toThrow('scale: out has 2 elements but the input has 3');
  });
});

describe('scalar kernels', () => {
  it('scale and addScalar, in place and out of place', () => {
    const x = f(1, -2, 0.25);
    const out = new Float32Array(3);
    expect(scale(out, -2, x)).toBe(out);
    expect(Array.from(out)).toEqual([-2, 4, -0.5]);
    expect(addScalar(out, x, 1)).toBe(out);
    expect(Array.from(out)).toEqual([2, -1, 1.25]);
    scale(x, 4, x);
    expect(Array.from(x)).toEqual([4, -8, 1]);
  });

  it('axpy accumulates alpha·x into out', () => {
    // out = [1, 1, 1] + 0.5·[2, 4, -6] = [2, 3, -2]
    const out = f(1, 1, 1);
    expect(axpy(out, 0.5, f(2, 4, -6))).toBe(out);
    expect(Array.from(out)).toEqual([2, 3, -2]);
    axpy(out, 1, out); // exact alias doubles it
    expect(Array.from(out)).toEqual([4, 6, -4]);
  });
});

describe('broadcast kernels', () => {
  // x = [[1, 2, 3], [4, 5, 6]]  (2 rows × 3 cols)
  const x = f(1, 2, 3, 4, 5, 6);

  it('addRowVector adds v[c] to every row (bias add), also in place', () => {
    const out = new Float32Array(6);
    expect(addRowVector(out, x, f(10, 20, 30), 2, 3)).toBe(out);
    expect(Array.from(out)).toEqual([11, 22, 33, 14, 25, 36]);
    const y = x.slice();
    addRowVector(y, y, f(-1, 0, 1), 2, 3);
    expect(Array.from(y)).toEqual([0, 2, 4, 3, 5, 7]);
  });

  it('addColVector adds v[r] to every element of row r, also in place', () => {
    const out = new Float32Array(6);
    expect(addColVector(out, x, f(100, -1), 2, 3)).toBe(out);
    expect(Array.from(out)).toEqual([101, 102, 103, 3, 4, 5]);
    const y = x.slice();
    addColVector(y, y, f(1, 2), 2, 3);
    expect(Array.from(y)).toEqual([2, 3, 4, 6, 7, 8]);
  });

  it('colSums: out[c] = Σ_r x[r, c], overwriting or accumulating', () => {
    const out = f(7, 7, 7);
    expect(colSums(out, x, 2, 3)).toBe(out);
    expect(Array.from(out)).toEqual([5, 7, 9]);
    colSums(out, x, 2, 3, true);
    expect(Array.from(out)).toEqual([10, 14, 18]);
    colSums(out, x, 0, 3);
    expect(Array.from(out)).toEqual([0, 0, 0]);
  });

  it('rowSums: out[r] = Σ_c x[r, c], overwriting or accumulating', () => {
    const out = f(7, 7);
    expect(rowSums(out, x, 2, 3)).toBe(out);
    expect(Array.from(out)).toEqual([6, 15]);
    rowSums(out, x, 2, 3, true);
    expect(Array.from(out)).toEqual([12, 30]);
  });

  it('colSums / rowSums with accumulate add the double sum to out once (as Dense accumulates its bias gradient)', () => {
    // Column/row [2^60, −2^60] sums to exactly 0 in doubles; starting the double sum from out (1)
    // would lose the 1 against 2^60 and leave 0.
    const big = f(2 ** 60, -(2 ** 60));
    expect(Array.from(colSums(f(1), big, 2, 1, true))).toEqual([1]);
    expect(Array.from(rowSums(f(1), big, 1, 2, true))).toEqual([1]);
  });

  it('colSums and rowSums agree with a direct double sum on random data (atol 1e-5)', () => {
    const rng = testRng(5);
    const rows = 37;
    const cols = 101;
    const m = new Float32Array(rows * cols);
    for (let i = 0; i < m.length; i++) m[i] = rng.uniform(-1, 1);
    const cs = new Float32Array(cols);
    const rs = new Float32Array(rows);
    colSums(cs, m, rows, cols);
    rowSums(rs, m, rows, cols);
    const ecs = new Array<number>(cols).fill(0);
    const ers = new Array<number>(rows).fill(0);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      ecs[c] += m[r * cols + c];
      ers[r] += m[r * cols + c];
    }
    assertClose(cs, ecs, { atol: 1e-5, rtol: 0 });
    assertClose(rs, ers, { atol: 1e-5, rtol: 0 });
  });

  it('rejects short buffers naming the sizes', () => {
    expect(() => addRowVector(new Float32Array(6), x, f(1, 2), 2, 3)).toThrow(
      'addRowVector: v (one value per column) has 2 elements, needs 3',
    );
    expect(() => colSums(new Float32Array(3), x, 3, 3)).toThrow('colSums: x has 6 elements, needs rows·cols = 3·3 = 9');
    expect(() => rowSums(new Float32Array(1), x, 2, 3)).toThrow('rowSums: out (one value per row) has 1 elements, needs 2');
    expect(() => addColVector(new Float32Array(6), x, f(1, 2), -1, 3)).toThrow(/non-negative integers, got rows=-1/);
  });
});

describe('relu / reluBackward (bit masks)', () => {
  it('match x > 0 ? x : 0 and x > 0 ? dy : 0 bit for bit, NaN, ±0 and infinities included', () => {
    const x = f(-2, -0, 0, 0.5, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3);
    const dy = f(1, 2, 3, NaN, 5, Infinity, 7, -8, 9, -Infinity);
    const y = new Float32Array(x.length);
    expect(relu(y, x)).toBe(y);
    const dx = new Float32Array(x.length);
    expect(reluBackward(dx, dy, x)).toBe(dx);
    for (let i = 0; i < x.length; i++) {
      expect(Object.is(y[i], x[i] <= 0 ? 0 : x[i]), `relu(${x[i]}) = ${y[i]}`).toBe(true);
      expect(Object.is(dx[i], x[i] <= 0 ? 0 : dy[i]), `relu'(${x[i]})·${dy[i]} = ${dx[i]}`).toBe(true);
    }
    // In place, on a view into a larger buffer.
    const big = f(9, -1, 2, -3, 9);
    relu(big.subarray(1, 4), big.subarray(1, 4));
    expect(Array.from(big)).toEqual([9, 0, 2, 0, 9]);
    expect(() => relu(new Float32Array(2), x)).toThrow(/relu: out has 2 elements but the input has 10/);
  });

  it('int32View shares memory and is cached per array', () => {
    const x = f(1, -1, 0);
    const v = int32View(x);
    expect(int32View(x)).toBe(v);
    expect(Array.from(v)).toEqual([0x3f800000, 0xbf800000 | 0, 0]);
    const view = x.subarray(1);
    expect(int32View(view)[0]).toBe(0xbf800000 | 0);
  });
});

describe('maps on the shared heap (kernel-table SIMD path, split over 2 threads)', () => {
  it('give the bits of the same maps on ordinary arrays, aliasing included', async () => {
    const { heapFloat32 } = await import('../../src/runtime/heap.js');
    const { getThreads, setThreads } = await import('../../src/runtime/workers.js');
    const before = getThreads();
    setThreads(2);
    try {
      const n = 65536 * 2 + 5;
      const rng = testRng(77);
      const a = heapFloat32(n);
      const b = heapFloat32(n);
      for (let i = 0; i < n; i++) { a[i] = 4 * rng.next() - 2; b[i] = 4 * rng.next() - 2; }
      b[3] = -0; a[4] = Number.NaN; b[5] = Infinity;
      const pa = Float32Array.from(a);
      const pb = Float32Array.from(b);
      const bits = (x: Float32Array): number[] => Array.from(new Int32Array(x.buffer, x.byteOffset, x.length));
      for (const [name, run] of [
        ['add', (o: Float32Array, x: Float32Array, y: Float32Array) => add(o, x, y)],
        ['sub', (o: Float32Array, x: Float32Array, y: Float32Array) => sub(o, x, y)],
        ['mul', (o: Float32Array, x: Float32Array, y: Float32Array) => mul(o, x, y)],
        ['scale', (o: Float32Array, x: Float32Array) => scale(o, 0.3, x)],
        ['addScalar', (o: Float32Array, x: Float32Array) => addScalar(o, x, -1.7)],
      ] as const) {
        const heapOut = heapFloat32(n);
        const plainOut = new Float32Array(n);
        run(heapOut, a, b);
        run(plainOut, pa, pb);
        expect(bits(heapOut), name).toEqual(bits(plainOut));
      }
      const h = Float32Array.from(a);
      const inHeap = heapFloat32(n);
      inHeap.set(a);
      axpy(inHeap, 0.7, b);
      axpy(h, 0.7, pb);
      expect(bits(inHeap)).toEqual(bits(h));
      // axpy rounds the product, then the sum (no fused multiply-add).
      expect(h[0]).toBe(Math.fround(pa[0] + Math.fround(Math.fround(0.7) * pb[0])));
    } finally {
      setThreads(before);
    }
  });
});
