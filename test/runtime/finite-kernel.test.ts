// The step guard's finite pass (src/runtime/finite-kernel.ts): on heap arrays its SIMD code split over
// the threads, elsewhere its twin. Both copy bits unchanged and flag exactly the planes that hold a NaN
// or an infinity, at every length around the quad and plane edges, on 1 and 2 threads.
import { afterEach, describe, expect, it } from 'vitest';
import { FINITE_PASS, FINITE_PLANE, finitePassTwin, finitePlanes } from '../../src/runtime/finite-kernel.js';
import { heapFloat32, isHeapArray } from '../../src/runtime/heap.js';
import { KERNEL_MIN_PARALLEL } from '../../src/runtime/kernel-table.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { firstDifference } from '../util/float-arrays.js';
import { testRng } from '../util/rng.js';

const LENGTHS = [1, 3, 4, 5, 7, 8, FINITE_PLANE - 1, FINITE_PLANE, FINITE_PLANE + 1, FINITE_PLANE + 5,
  3 * FINITE_PLANE + 2, KERNEL_MIN_PARALLEL + 3, 5 * KERNEL_MIN_PARALLEL + 1];
const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const threadCounts = availableCores() >= 2 ? [1, 2] : [1];
const before = getThreads();
afterEach(() => setThreads(before));

/** Random finite values with -0, denormals and the largest float mixed in. */
function fill(a: Float32Array, seed: number): void {
  const rng = testRng(seed);
  const odd = [-0, 1e-45, -1e-45, 3.4028234663852886e38, -3.4028234663852886e38];
  for (let i = 0; i < a.length; i++) a[i] = i % 97 === 5 ? odd[i % odd.length] : 2 * rng.next() - 1;
}

/** Plane p is bad in the flags: any of its four floats is not +0. */
function badPlanes(flags: Float32Array, planes: number): number[] {
  const bad: number[] = [];
  for (let p = 0; p < planes; p++) {
    for (let j = 0; j < 4; j++) {
      if (!Object.is(flags[4 * p + j], 0)) {
        bad.push(p);
        break;
      }
    }
  }
  return bad;
}

/** Where specials go: the first element, the last, a quad's last lane, the tail, both sides of a plane edge. */
function positions(n: number): number[] {
  const at = new Set([0, n - 1, Math.min(n - 1, 3), n - 1 - (n & 3), FINITE_PLANE - 1, FINITE_PLANE, 2 * FINITE_PLANE + 6]);
  return [...at].filter((i) => i >= 0 && i < n);
}

describe('finite pass', () => {
  it('flags exactly the planes with a NaN or an infinity, and copies every bit (heap arrays, 1 and 2 threads)', () => {
    for (const threads of threadCounts) {
      setThreads(threads);
      for (const n of LENGTHS) {
        const planes = finitePlanes(n);
        const src = heapFloat32(n);
        const dst = heapFloat32(n);
        const flags = heapFloat32(4 * planes);
        expect(isHeapArray(src) && isHeapArray(dst) && isHeapArray(flags)).toBe(true);
        fill(src, n);
        FINITE_PASS.runPlanes(planes, FINITE_PLANE, dst, src, flags, n, 1);
        expect(badPlanes(flags, planes)).toEqual([]);
        expect(firstDifference(dst, src)).toBe(-1);
        for (const [k, at] of positions(n).entries()) {
          const special = SPECIALS[k % SPECIALS.length];
          const kept = src[at];
          src[at] = special;
          // A NaN with a payload of its own must come through the copy unchanged.
          if (Number.isNaN(special)) new Uint32Array(src.buffer, src.byteOffset + 4 * at, 1)[0] = 0x7fa01234;
          dst.fill(0);
          FINITE_PASS.runPlanes(planes, FINITE_PLANE, dst, src, flags, n, 1);
          expect(badPlanes(flags, planes), `n ${n}, ${special} at ${at}, ${threads} threads`).toEqual([Math.floor(at / FINITE_PLANE)]);
          expect(firstDifference(dst, src)).toBe(-1);
          // Without the copy: the same flags, dst untouched.
          dst.fill(7);
          flags.fill(0);
          FINITE_PASS.runPlanes(planes, FINITE_PLANE, dst, src, flags, n, 0);
          expect(badPlanes(flags, planes)).toEqual([Math.floor(at / FINITE_PLANE)]);
          expect(dst.findIndex((v) => v !== 7)).toBe(-1);
          src[at] = kept;
        }
      }
    }
  });

  it('gives the twin\'s flags and copy on ordinary arrays, and the twin equals the SIMD code', () => {
    for (const n of LENGTHS) {
      const planes = finitePlanes(n);
      const plain = new Float32Array(n);
      fill(plain, 3 * n);
      const bad = positions(n);
      plain[bad[bad.length - 1]] = Number.POSITIVE_INFINITY;
      const twinDst = new Float32Array(n);
      const twinFlags = new Float32Array(4 * planes);
      // Ordinary arrays: the dispatch runs the twin.
      FINITE_PASS.runPlanes(planes, FINITE_PLANE, twinDst, plain, twinFlags, n, 1);
      expect(firstDifference(twinDst, plain)).toBe(-1);
      expect(badPlanes(twinFlags, planes)).toEqual([Math.floor(bad[bad.length - 1] / FINITE_PLANE)]);
      // The SIMD code on a heap copy gives the same flags.
      const src = heapFloat32(n);
      src.set(plain);
      const dst = heapFloat32(n);
      const flags = heapFloat32(4 * planes);
      FINITE_PASS.runPlanes(planes, FINITE_PLANE, dst, src, flags, n, 1);
      expect(Array.from(flags, (v) => Object.is(v, 0))).toEqual(Array.from(twinFlags, (v) => Object.is(v, 0)));
      // And a direct twin call over a plane range touches only those planes.
      const part = new Float32Array(4 * planes).fill(5);
      finitePassTwin(new Float32Array(n), plain, part, planes - 1, planes, n, 0);
      for (let p = 0; p < planes - 1; p++) expect(part[4 * p]).toBe(5);
    }
  });
});
