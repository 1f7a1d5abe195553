import { describe, expect, it } from 'vitest';
import { GEMM_KC, GEMM_MC, GEMM_MR, GEMM_NC, GEMM_NR, gemm, gemmNaive, type GemmOptions } from '../../src/tensor/gemm.js';
import { assertClose } from '../util/assert-close.js';
import { testRng } from '../util/rng.js';
import type { Rng } from '../../src/tensor/rng.js';
import { randomArray, sameBits, COMBOS, label } from '../util/gemm.js';

/**
 * Blocked vs naive. Both sum in doubles, but gemm rounds to float32 between KC-deep blocks, so the
 * tolerance scales with √k: atol 1e-5·(1 + √k) on entries of size ~√k/3, rtol 1e-5.
 */
function checkAgainstNaive(m: number, n: number, k: number, opts: GemmOptions, rng: Rng): void {
  const a = randomArray(m * k, rng);
  const b = randomArray(k * n, rng);
  const aCopy = a.slice();
  const bCopy = b.slice();
  const init = randomArray(m * n, rng);
  const tol = { atol: 1e-5 * (1 + Math.sqrt(k)), rtol: 1e-5 };
  for (const accumulate of [false, true]) {
    const fast = init.slice();
    const ref = init.slice();
    const ret = gemm(fast, a, b, m, n, k, { ...opts, accumulate });
    gemmNaive(ref, a, b, m, n, k, { ...opts, accumulate });
    expect(ret).toBe(fast);
    assertClose(fast, ref, { ...tol, what: `gemm ${label(opts)} ${m}×${n}×${k} accumulate=${accumulate}` });
  }
  expect(sameBits(a, aCopy), 'a unmodified').toBe(true);
  expect(sameBits(b, bCopy), 'b unmodified').toBe(true);
}

describe('gemm', () => {
  it('exports block sizes that are multiples of the register tile', () => {
    expect(GEMM_MC % GEMM_MR).toBe(0);
    expect(GEMM_NC % GEMM_NR).toBe(0);
    expect(GEMM_KC).toBeGreaterThan(0);
  });

  it('computes a hand-derived 2×3 · 3×2 product in all four layouts', () => {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]
    // AB[0,0] = 1·7 + 2·9 + 3·11 = 58,  AB[0,1] = 1·8 + 2·10 + 3·12 = 64
    // AB[1,0] = 4·7 + 5·9 + 6·11 = 139, AB[1,1] = 4·8 + 5·10 + 6·12 = 154
    const A = Float32Array.of(1, 2, 3, 4, 5, 6);
    const At = Float32Array.of(1, 4, 2, 5, 3, 6); // stored [3×2]
    const B = Float32Array.of(7, 8, 9, 10, 11, 12);
    const Bt = Float32Array.of(7, 9, 11, 8, 10, 12); // stored [2×3]
    const expected = [58, 64, 139, 154];
    for (const [a, b, opts] of [
      [A, B, {}], [At, B, { transA: true }], [A, Bt, { transB: true }], [At, Bt, { transA: true, transB: true }],
    ] as const) {
      const out = new Float32Array(4).fill(99);
      expect(gemm(out, a, b, 2, 2, 3, opts)).toBe(out);
      expect(Array.from(out)).toEqual(expected);
      // accumulate adds onto what is there: 1 + 58, …
      out.fill(1);
      gemm(out, a, b, 2, 2, 3, { ...opts, accumulate: true });
      expect(Array.from(out)).toEqual([59, 65, 140, 155]);
    }
  });

  it('matches the naive reference at awkward sizes, all trans combos, with and without accumulate', () => {
    const rng = testRng(11);
    const sizes = [1, 7, 33, 65, 100];
    for (const opts of COMBOS) {
      for (const m of sizes) for (const n of sizes) for (const k of [1, 7, 65]) checkAgainstNaive(m, n, k, opts, rng);
    }
  });

  it('matches the naive reference across block boundaries (non-multiples of MC, KC, NC)', () => {
    const rng = testRng(12);
    const shapes: [number, number, number][] = [
      [GEMM_MC + 3, GEMM_NR * 3 + 5, GEMM_KC + 17], // two row blocks, two depth blocks
      [2 * GEMM_MC + 1, 9, 2 * GEMM_KC + 1], // three of each, thin n
      [5, GEMM_NC + 13, 30], // two column panels
      [16, 26 * 26, 9], // the first conv layer of the seed CNN
    ];
    for (const opts of COMBOS) for (const [m, n, k] of shapes) checkAgainstNaive(m, n, k, opts, rng);
  });

  it('k = 0 overwrites out with zeros, or leaves it when accumulating', () => {
    const a = new Float32Array(0);
    const b = new Float32Array(0);
    const out = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(gemm(out, a, b, 2, 3, 0, { accumulate: true })).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
    gemm(out, a, b, 2, 3, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('m = 0 or n = 0 is a no-op; m = n = k = 1 is a scalar product', () => {
    const out = Float32Array.of(7);
    gemm(out, new Float32Array(0), Float32Array.of(1, 2), 0, 2, 1);
    gemm(out, Float32Array.of(1, 2), new Float32Array(0), 1, 0, 2);
    expect(out[0]).toBe(7);
    gemm(out, Float32Array.of(3), Float32Array.of(-2), 1, 1, 1);
    expect(out[0]).toBe(-6);
    gemm(out, Float32Array.of(3), Float32Array.of(-2), 1, 1, 1, { accumulate: true });
    expect(out[0]).toBe(-12);
  });

  it('writes only the first m·n elements of a longer out and reads subarray views', () => {
    const rng = testRng(13);
    const backing = randomArray(40, rng);
    const a = backing.subarray(0, 15); // 3×5
    const b = backing.subarray(15, 35); // 5×4
    const out = new Float32Array(12 + 3).fill(42);
    const ref = new Float32Array(12);
    gemm(out, a, b, 3, 4, 5);
    gemmNaive(ref, a, b, 3, 4, 5);
    assertClose(out.subarray(0, 12), ref, { atol: 1e-6, rtol: 1e-6 });
    expect(Array.from(out.subarray(12))).toEqual([42, 42, 42]);
  });

  it('rejects bad sizes and aliasing with messages naming the problem', () => {
    const x = new Float32Array(6);
    expect(() => gemm(new Float32Array(3), x, x, 2, 2, 3)).toThrow(/out has 3 elements, needs m·n = 2·2 = 4/);
    expect(() => gemm(new Float32Array(4), new Float32Array(5), x, 2, 2, 3)).toThrow(/a has 5 elements/);
    expect(() => gemm(new Float32Array(4), x, new Float32Array(2), 2, 2, 3)).toThrow(/b has 2 elements/);
    expect(() => gemm(x, x, x, 2, 2, -1)).toThrow(/non-negative integers.*k=-1/);
    const buf = new Float32Array(16);
    expect(() => gemm(buf.subarray(0, 4), buf.subarray(2, 8), buf.subarray(8, 14), 2, 2, 3)).toThrow(/must not alias/);
    // disjoint views of one buffer are fine
    expect(() => gemm(buf.subarray(0, 4), buf.subarray(4, 10), buf.subarray(10, 16), 2, 2, 3)).not.toThrow();
  });
});
