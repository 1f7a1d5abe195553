// Shared by the gemm, gemm-plan, workers and im2col tests: random operands, bit-exact comparison and
// the four transpose combinations.
import type { GemmOptions } from '../../src/tensor/gemm.js';
import type { Rng } from '../../src/tensor/rng.js';

/** `n` values from U(−1, 1). */
export function randomArray(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform(-1, 1);
  return x;
}

/** Exact element-wise equality (+0 vs −0 differ; cheaper than a deep toEqual on large typed arrays). */
export function sameBits(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

/** The four transA/transB combinations. */
export const COMBOS: readonly GemmOptions[] = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

/** `A·B`, `Aᵀ·B`, … for test names. */
export function label(o: GemmOptions): string {
  return `${o.transA ? 'Aᵀ' : 'A'}·${o.transB ? 'Bᵀ' : 'B'}`;
}
