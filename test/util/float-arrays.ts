// Float32 array helpers shared by the kernel tests: bit comparison, the error relative to the scale of
// the sums, and random operands in the shared heap.
import { heapFloat32 } from '../../src/runtime/heap.js';
import { testRng } from './rng.js';

/** Index of the first element whose bits differ (−1: none), lengths included. */
export function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** max |got − want| / max magnitude sum: the error relative to the scale of the sums. */
export function scaledError(got: ArrayLike<number>, want: ArrayLike<number>, mag: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, mag[i]);
  }
  return scale === 0 ? worst : worst / scale;
}

/**
 * n seeded values in the shared heap: uniform in [−1, 1), or adversarial (magnitudes from 1e-4 to 1e4
 * and both signs, so large terms cancel around small ones).
 */
export function heapRandom(n: number, seed: number, adversarial = false): Float32Array {
  const rng = testRng(seed);
  const a = heapFloat32(n);
  for (let i = 0; i < n; i++) a[i] = adversarial ? (rng.next() < 0.5 ? -1 : 1) * Math.exp(18.4 * rng.next() - 9.2) : 2 * rng.next() - 1;
  return a;
}
