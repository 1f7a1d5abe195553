// The elementwise ops added beside the originals (abs, clamp, where, pow with a tensor exponent,
// leakyRelu, gelu's tanh form, silu): hand-derived values, finite differences, broadcasting edge
// cases, errors, and that an untracked op records nothing. PyTorch references: reference-core.test.ts.
import { describe, expect, test } from 'vitest';
import { noGrad, ops, variable } from '../../src/ops/index.js';
import { broadcastShapes } from '../../src/ops/op-helpers.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { FD_TOL, close, fd, fdErrors, grads, input } from '../util/op-check.js';
import { testRng } from '../util/rng.js';

describe('hand-derived values', () => {
  test('abs: |x|, gradient sign(x) and 0 at 0', () => {
    const r = grads(ops.abs, tensor([-2, 0, 3], [3]));
    close(r.out.data, [2, 0, 3]); close(r.grads[0], [-1, 0, 1]);
  });

  test('clamp: gradient 1 inside [min, max] including both ends, 0 outside; one-sided bounds', () => {
    let r = grads((v) => ops.clamp(v, -0.5, 0.5), tensor([-1, -0.5, 0.2, 0.5, 2], [5]));
    close(r.out.data, [-0.5, -0.5, 0.2, 0.5, 0.5]); close(r.grads[0], [0, 1, 1, 1, 0]);
    r = grads((v) => ops.clamp(v, null, 1), tensor([-3, 3], [2]));
    close(r.out.data, [-3, 1]); close(r.grads[0], [1, 0]);
    r = grads((v) => v.clamp(0), tensor([-3, 3], [2]));
    close(r.out.data, [0, 3]); close(r.grads[0], [0, 1]);
    // min > max: everything becomes max (PyTorch's rule), no gradient passes.
    r = grads((v) => ops.clamp(v, 2, 1), tensor([0, 1.5, 3], [3]));
    close(r.out.data, [1, 1, 1]); close(r.grads[0], [0, 0, 0]);
  });

  test('where: nonzero and NaN pick a; a gets g where true, b (broadcast scalar) the rest summed', () => {
    const cond = new Tensor(Float32Array.from([1, 0, NaN, -2]), [4]);
    const r = grads((a, b) => ops.where(cond, a, b), tensor([1, 2, 3, 4], [4]), tensor([10], [1]));
    close(r.out.data, [1, 10, 3, 4]); close(r.grads[0], [1, 0, 1, 1]); close(r.grads[1], [1]);
    // cond [2, 1] against a [3] and b [2, 3]: rows pick wholesale.
    const c2 = tensor([0, 1], [2, 1]);
    const r2 = grads((a, b) => ops.where(c2, a, b), tensor([1, 2, 3], [3]), tensor([4, 5, 6, 7, 8, 9], [2, 3]));
    expect(r2.out.shape).toEqual([2, 3]);
    close(r2.out.data, [4, 5, 6, 1, 2, 3]); close(r2.grads[0], [1, 1, 1]); close(r2.grads[1], [1, 1, 1, 0, 0, 0]);
  });

  test('pow with a tensor exponent: dx = p·x^(p−1), dp = x^p·ln x (0 at x = 0, p ≥ 0)', () => {
    const r = grads(ops.pow, tensor([2, 4, 0], [3]), tensor([3, 0.5, 2], [3]));
    close(r.out.data, [8, 2, 0]);
    close(r.grads[0], [12, 0.25, 0]);
    close(r.grads[1], [8 * Math.LN2, 2 * Math.log(4), 0], 1e-6);
    // Exponent broadcast from a scalar variable: dp sums x^p·ln x.
    const r2 = grads(ops.pow, tensor([2, 3], [2]), tensor([2], []));
    close(r2.out.data, [4, 9]); close(r2.grads[0], [4, 6]); close(r2.grads[1], [4 * Math.LN2 + 9 * Math.log(3)], 1e-6);
  });

  test('leakyRelu: slope·x below zero (and slope as the gradient at 0), default slope 0.01', () => {
    let r = grads((v) => ops.leakyRelu(v, 0.1), tensor([-2, 0, 3], [3]));
    close(r.out.data, [-0.2, 0, 3]); close(r.grads[0], [0.1, 0.1, 1]);
    r = grads((v) => v.leakyRelu(), tensor([-2, 3], [2]));
    close(r.out.data, [-0.02, 3]); close(r.grads[0], [0.01, 1]);
  });

  test('gelu tanh form: 0.5·x·(1 + tanh(β(x + κx³))) and its derivative, from the formula in doubles', () => {
    const beta = Math.sqrt(2 / Math.PI);
    const kappa = 0.044715;
    const xs = [-2, 0, 1, 3];
    const f = (x: number): number => 0.5 * x * (1 + Math.tanh(beta * (x + kappa * x ** 3)));
    const df = (x: number): number => {
      const t = Math.tanh(beta * (x + kappa * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * beta * (1 + 3 * kappa * x * x);
    };
    const r = grads((v) => ops.gelu(v, { approximate: 'tanh' }), tensor(xs, [4]));
    close(r.out.data, xs.map(f), 2e-6); close(r.grads[0], xs.map(df), 2e-6);
    // gelu(0) = 0, gelu'(0) = 0.5 in both forms.
    close([r.out.data[1], r.grads[0][1]], [0, 0.5]);
  });

  test('silu: x·σ(x); silu(2) = 2σ(2), derivative σ(1 + x(1 − σ)); large |x| stays finite', () => {
    const s2 = 1 / (1 + Math.exp(-2));
    const r = grads(ops.silu, tensor([0, 2, -100, 100], [4]));
    close(r.out.data, [0, 2 * s2, 0, 100], 2e-6);
    close(r.grads[0], [0.5, s2 * (1 + 2 * (1 - s2)), 0, 1], 2e-6);
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  test('abs, clamp (away from the ends), where, leakyRelu', () => {
    fd(ops.abs, input([3, 4], 1, -1, 1, 0.05));
    // Clamp bounds ±0.5; points kept 0.05 away from them by shifting a gap-pushed input.
    const c = input([3, 4], 2, -1, 1, 0.05);
    for (let i = 0; i < c.size; i++) c.data[i] += c.data[i] > 0 ? 0.5 : -0.5;
    fd((v) => ops.clamp(v, -0.5, 0.5), c);
    fd((v) => ops.clamp(v, 0.5), c);
    const mask = tensor([1, 0, 1], [3, 1]);
    fd((a, b) => ops.where(mask, a, b), input([3, 4], 3), input([4], 4));
    fd((a, b) => ops.where(mask, a, b), input([1], 5), input([2, 3, 1], 6));
    fd((v) => ops.leakyRelu(v, 0.2), input([3, 4], 7, -1, 1, 0.05));
  });
  test('pow: number exponents (2, 2.5, 3, −1.5) and a broadcast tensor exponent', () => {
    fd((v) => ops.pow(v, 2), input([2, 3], 8));
    fd((v) => ops.pow(v, 2.5), input([2, 3], 9, 0.5, 2));
    fd((v) => ops.pow(v, 3), input([2, 3], 10));
    fd((v) => ops.pow(v, -1.5), input([5], 11, 0.5, 2));
    fd(ops.pow, input([2, 3], 12, 0.5, 2), input([3], 13, -1, 2));
    fd(ops.pow, input([2, 1], 14, 0.5, 2), input([1, 3], 15, -1, 2));
  });
  test('gelu (both forms), silu', () => {
    fd((v) => ops.gelu(v, { approximate: 'tanh' }), input([3, 4], 16, -3, 3));
    fd(ops.silu, input([3, 4], 17, -4, 4));
  });
  test('the check catches a 0.5% error in the tanh-form GELU and in silu', () => {
    expect(fdErrors((v) => ops.gelu(v, { approximate: 'tanh' }), [input([3, 4], 16, -3, 3)], 1.005)[0]).toBeGreaterThan(FD_TOL);
    expect(fdErrors(ops.silu, [input([3, 4], 17, -4, 4)], 1.005)[0]).toBeGreaterThan(FD_TOL);
  });
});

describe('awkward shapes', () => {
  test('empty tensors flow through binary and unary ops (shape kept, no gradient elements)', () => {
    const r = grads(ops.add, input([0, 3], 1), input([3], 2));
    expect(r.out.shape).toEqual([0, 3]); expect(r.grads[0].length).toBe(0); close(r.grads[1], [0, 0, 0]);
    const e = grads((v) => ops.silu(ops.abs(v)), input([2, 0], 3));
    expect(e.out.shape).toEqual([2, 0]);
  });
  test('scalar ⊕ scalar gives a scalar; rank-0 with a number', () => {
    const r = grads(ops.mul, new Tensor(Float32Array.from([3]), []), new Tensor(Float32Array.from([4]), []));
    expect(r.out.shape).toEqual([]); close(r.out.data, [12]); close(r.grads[0], [4]); close(r.grads[1], [3]);
    expect(ops.add(2, 3).shape).toEqual([]);
  });
});

describe('broadcasting against a naive index walk (seeded random shape pairs)', () => {
  test('40 pairs of ranks 0–4 with size-1 and missing axes: mul and div values and both gradients', () => {
    const rng = testRng(77);
    const pick = (n: number): number => Math.floor(rng.next() * n);
    for (let trial = 0; trial < 40; trial++) {
      const rank = pick(5);
      const out = Array.from({ length: rank }, () => 1 + pick(3));
      const make = (): number[] => out.slice(pick(rank + 1)).map((d) => (rng.next() < 0.4 ? 1 : d));
      const sa = make();
      const sb = make();
      const full = broadcastShapes(sa, sb);
      const a = input(sa, 100 + trial, 0.5, 2);
      const b = input(sb, 200 + trial, 0.5, 2);
      // Naive: walk the output index, map to each operand by dropping broadcast axes.
      const n = full.reduce((p, d) => p * d, 1);
      const at = (shape: number[], flat: number): number => {
        let rest = flat;
        let idx = 0;
        let stride = 1;
        for (let d = full.length - 1; d >= 0; d--) {
          const i = rest % full[d];
          rest = Math.floor(rest / full[d]);
          const k = d - (full.length - shape.length);
          if (k >= 0) {
            idx += (shape[k] === 1 ? 0 : i) * stride;
            stride *= shape[k];
          }
        }
        return idx;
      };
      const y = new Array<number>(n);
      const ga = new Array<number>(a.size).fill(0);
      const gb = new Array<number>(b.size).fill(0);
      for (let i = 0; i < n; i++) {
        const x1 = a.data[at(sa, i)];
        const x2 = b.data[at(sb, i)];
        y[i] = x1 / x2;
        ga[at(sa, i)] += 1 / x2;
        gb[at(sb, i)] += -x1 / (x2 * x2);
      }
      const r = grads(ops.div, a, b);
      expect(r.out.shape, `[${sa}] / [${sb}]`).toEqual(full);
      close(r.out.data, y, 1e-6);
      close(r.grads[0], ga, 1e-5);
      close(r.grads[1], gb, 1e-5);
      const m = grads(ops.mul, a, b);
      close(m.out.data, y.map((v, i) => v * b.data[at(sb, i)] * b.data[at(sb, i)]), 1e-5);
    }
  });
});

describe('untracked ops record nothing', () => {
  test('a constant input or noGrad gives a result with no node', () => {
    expect(ops.silu(input([2], 1)).node).toBeNull();
    const x = variable([1, 2], { requiresGrad: true });
    expect(ops.clamp(x, 0, 1).node).not.toBeNull();
    noGrad(() => {
      expect(ops.clamp(x, 0, 1).node).toBeNull();
      expect(ops.where(tensor([1, 0], [2]), x, 0).requiresGrad).toBe(false);
    });
  });
});

describe('input errors', () => {
  test('name the op, the option and the value', () => {
    const x = input([2], 1);
    expect(() => ops.clamp(x)).toThrow(/clamp: give at least one of min and max/);
    expect(() => ops.clamp(x, NaN)).toThrow(/clamp: min and max must be numbers/);
    expect(() => ops.leakyRelu(x, Infinity)).toThrow(/leakyRelu: slope must be a finite number, got Infinity/);
    expect(() => ops.gelu(x, { approximate: 'fast' as never })).toThrow(/gelu: approximate must be 'none' or 'tanh', got fast/);
    expect(() => ops.pow(x, [2] as never)).toThrow(/pow: the exponent must be a number, a Variable or a Tensor, got an array/);
    expect(() => ops.pow(x, NaN)).toThrow(/pow: the exponent is NaN/);
    expect(() => ops.where([1, 0] as never, x, x)).toThrow(/where: cond must be a Tensor or a Variable mask/);
    expect(() => ops.where(tensor([1, 0, 1], [3]), x, x)).toThrow(/where: shapes cond \[3\], a \[2\] and b \[2\] cannot be broadcast/);
    expect(() => ops.pow(x, input([3], 2))).toThrow(/pow: shapes \[2\] and \[3\] cannot be broadcast/);
  });
});
