// Shared checks for the differentiable ops' tests: seeded inputs away from kinks, gradients of Σ out,
// and central finite differences of L = Σ w·op(inputs) against backward.
import { expect } from 'vitest';
import { Variable, noGrad, ops } from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testRng } from './rng.js';

/** Finite-difference step (float32 ops). */
export const H = 1e-2;
/** Relative error bound of {@link fd}: a gradient wrong by 0.5% fails it. */
export const FD_TOL = 1.5e-3;

/** |actual − expected| ≤ tol·max(1, |expected|) elementwise. */
export function close(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      expect.fail(`[${i}]: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

/** Uniform values in [low, high), pushed to at least `gap` from zero (away from kinks and poles). */
export function input(shape: number[], seed: number, low = -1, high = 1, gap = 0): Tensor {
  const rng = testRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = low + (high - low) * rng.next();
    if (Math.abs(v) < gap) v = v < 0 ? -gap - Math.abs(v) : gap + v;
    d[i] = v;
  }
  return new Tensor(d, shape);
}

/**
 * Worst relative error of each input's analytic gradient against central differences of
 * L = Σ w·build(inputs) (w uniform in [0.5, 1.5)), over all elements: max|a − n| / max(max|a|, 1e-2).
 * `scaleAnalytic` multiplies the analytic gradient (to show that a wrong one is caught).
 */
export function fdErrors(build: (...v: Variable[]) => Variable, inputs: Tensor[], scaleAnalytic = 1): number[] {
  const vars = inputs.map((t) => new Variable(t.clone(), { requiresGrad: true }));
  const out = build(...vars);
  const w = input(out.shape as number[], 99, 0.5, 1.5);
  const loss = (): number => ops.sum(ops.mul(build(...vars), w)).item();
  ops.sum(ops.mul(out, w)).backward();
  return vars.map((v) => {
    const analytic = v.grad === null ? new Float32Array(v.size) : v.grad.data;
    let worst = 0;
    let scale = 1e-2;
    for (let i = 0; i < analytic.length; i++) scale = Math.max(scale, Math.abs(analytic[i]));
    noGrad(() => {
      for (let i = 0; i < v.size; i++) {
        const orig = v.data[i];
        v.data[i] = orig + H;
        const lp = loss();
        v.data[i] = orig - H;
        const lm = loss();
        v.data[i] = orig;
        worst = Math.max(worst, Math.abs(analytic[i] * scaleAnalytic - (lp - lm) / (2 * H)));
      }
    });
    return worst / scale;
  });
}

/** Asserts every input's gradient agrees with finite differences within {@link FD_TOL}. */
export function fd(build: (...v: Variable[]) => Variable, ...inputs: Tensor[]): void {
  const errors = fdErrors(build, inputs);
  errors.forEach((e, i) => expect(e, `input ${i}: relative error ${e}`).toBeLessThan(FD_TOL));
}

/** The output and each input's gradient of Σ build(inputs). */
export function grads(build: (...v: Variable[]) => Variable, ...inputs: Tensor[]): { out: Variable; grads: Float32Array[] } {
  const vars = inputs.map((t) => new Variable(t.clone(), { requiresGrad: true }));
  const out = build(...vars);
  ops.sum(out).backward();
  return { out, grads: vars.map((v) => (v.grad === null ? new Float32Array(v.size) : v.grad.data)) };
}
