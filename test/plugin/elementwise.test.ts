// defineElementwise: a plugin's compiled kernel runs through the kernel table like a built-in — SIMD on
// heap arrays split over the worker threads, its twin on ordinary arrays — with the same bits, and a
// Lion step computed with it matches a float64 hand evaluation of the update.
import { afterEach, describe, expect, it } from 'vitest';
import { defineElementwise, getThreads, heapFloat32, isHeapArray, KERNEL_MIN_PARALLEL, setThreads } from '../../src/plugin/index.js';
import { testRng } from '../util/rng.js';

const lion = defineElementwise({
  name: 'test-lion',
  arrays: ['p', 'g', 'm'],
  scalars: ['lr', 'beta1', 'beta2', 'shrink'],
  body: ({ p, g, m }, { lr, beta1, beta2, shrink }) => {
    const c = m.mul(beta1).add(g.mul(beta1.neg().add(1)));
    return { p: p.mul(shrink).sub(c.sign().mul(lr)), m: m.mul(beta2).add(g.mul(beta2.neg().add(1))) };
  },
});

function fill(a: Float32Array, seed: number): Float32Array {
  const rng = testRng(seed);
  for (let i = 0; i < a.length; i++) a[i] = 2 * rng.next() - 1;
  return a;
}
const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

describe('defineElementwise', () => {
  const before = getThreads();
  afterEach(() => setThreads(before));

  it('gives the same bits on heap arrays (SIMD, 1 and 2 threads) and ordinary arrays (twin), at ragged lengths', () => {
    for (const n of [1, 3, 4, 5, 33, KERNEL_MIN_PARALLEL * 2 + 7]) {
      const runs: number[][][] = [];
      for (const where of ['plain', 'heap1', 'heap2'] as const) {
        setThreads(where === 'heap2' ? 2 : 1);
        const alloc = (k: number): Float32Array => fill(where === 'plain' ? new Float32Array(n) : heapFloat32(n), k);
        const p = alloc(1);
        const g = alloc(2);
        const m = alloc(3);
        g[0] = -0;
        expect(isHeapArray(p)).toBe(where !== 'plain' || false);
        lion.run(n, p, g, m, 0.01, 0.9, 0.99, 1 - 0.01 * 0.1);
        runs.push([bits(p), bits(m)]);
      }
      expect(runs[1], `n=${n} heap, 1 thread`).toEqual(runs[0]);
      expect(runs[2], `n=${n} heap, 2 threads`).toEqual(runs[0]);
    }
  });

  it('computes the Lion update (hand-derived in float64, within float32 rounding)', () => {
    const n = 1000;
    const p = fill(heapFloat32(n), 4);
    const g = fill(heapFloat32(n), 5);
    const m = fill(heapFloat32(n), 6);
    const [p0, g0, m0] = [Float64Array.from(p), Float64Array.from(g), Float64Array.from(m)];
    const [lr, b1, b2, wd] = [0.003, 0.9, 0.99, 0.1];
    lion.run(n, p, g, m, lr, b1, b2, 1 - lr * wd);
    for (let i = 0; i < n; i++) {
      const c = b1 * m0[i] + (1 - b1) * g0[i];
      const wantP = p0[i] * (1 - lr * wd) - lr * Math.sign(c);
      const wantM = b2 * m0[i] + (1 - b2) * g0[i];
      expect(Math.abs(p[i] - wantP)).toBeLessThan(1e-6);
      expect(Math.abs(m[i] - wantM)).toBeLessThan(1e-6);
    }
  });

  it('reaches worker threads that were started before the kernel was defined', () => {
    setThreads(2);
    const n = KERNEL_MIN_PARALLEL * 3;
    const x = fill(heapFloat32(n), 7);
    lion.run(n, x, fill(heapFloat32(n), 8), fill(heapFloat32(n), 9), 0.1, 0.9, 0.99, 1); // the pool is running now
    const square = defineElementwise({ name: 'test-late-square', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.mul(x) }) });
    const y = heapFloat32(n);
    square.run(n, y, x);
    for (let i = 0; i < n; i += 997) expect(y[i]).toBe(Math.fround(x[i] * x[i]));
    expect(y[n - 1]).toBe(Math.fround(x[n - 1] * x[n - 1]));
  });

  it('refuses a second kernel under the same name', () => {
    expect(() => defineElementwise({ name: 'test-lion', arrays: ['x'], body: ({ x }) => ({ x: x.abs() }) })).toThrow(/exists already/);
  });
});
