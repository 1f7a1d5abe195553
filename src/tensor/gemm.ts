// gemm: the one hot primitive (Dense and Conv2D forward/backward all go through it).
// PLACEHOLDER implementation (straightforward loops); the blocked, packed kernel replaces the body.

/** Options of {@link gemm}. */
export interface GemmOptions {
  /** `a` is stored as [k×m] and used transposed. */
  readonly transA?: boolean;
  /** `b` is stored as [n×k] and used transposed. */
  readonly transB?: boolean;
  /** Add into `out` instead of overwriting it. */
  readonly accumulate?: boolean;
}

/**
 * `out[m×n] (+)= op(a)[m×k] · op(b)[k×n]`, all row-major. `out` must not alias `a` or `b`.
 * Returns `out`. Allocates nothing.
 */
export function gemm(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  return gemmNaive(out, a, b, m, n, k, options);
}

/** The naive triple loop, kept as the reference the fast kernels are tested against. Accumulates in doubles. */
export function gemmNaive(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  const { transA = false, transB = false, accumulate = false } = options;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      out[i * n + j] = accumulate ? out[i * n + j] + s : s;
    }
  }
  return out;
}
