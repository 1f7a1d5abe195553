// Central finite differences against analytic gradients, in float32-friendly form.
import { expect } from 'vitest';

/**
 * Checks `analytic` (dL/dx for each element of `x`) against central differences of `lossFn`,
 * which must read `x` in place. Relative error per element: |a − n| / max(1, |a|, |n|).
 * `indices` restricts the check to a subset (large tensors).
 */
export function gradCheck(
  lossFn: () => number, x: Float32Array, analytic: ArrayLike<number>,
  opts: { h?: number; tol?: number; indices?: number[]; what?: string } = {},
): number {
  const { h = 1e-2, tol = 1e-2, what = 'grad' } = opts;
  const idx = opts.indices ?? Array.from({ length: x.length }, (_, i) => i);
  let worst = 0;
  let worstAt = -1;
  let worstA = 0;
  let worstN = 0;
  for (const i of idx) {
    const orig = x[i];
    x[i] = orig + h;
    const lp = lossFn();
    x[i] = orig - h;
    const lm = lossFn();
    x[i] = orig;
    const numeric = (lp - lm) / (2 * h);
    const a = analytic[i];
    const rel = Math.abs(a - numeric) / Math.max(1, Math.abs(a), Math.abs(numeric));
    if (!(rel <= worst)) {
      worst = rel;
      worstAt = i;
      worstA = a;
      worstN = numeric;
    }
  }
  if (!(worst < tol)) {
    expect.fail(`${what}[${worstAt}]: analytic ${worstA} vs numeric ${worstN} (relative error ${worst}, tol ${tol})`);
  }
  return worst;
}
