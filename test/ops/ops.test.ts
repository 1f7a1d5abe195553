// Every differentiable op, three ways: hand-derived values on tiny inputs, central finite differences,
// and (test/ops/reference.test.ts) PyTorch references. Also broadcasting edge cases and input errors.
//
// Finite differences run the ops themselves in float32 with h = 1e-2 on L = Σ wᵢ·opᵢ (w random, so
// every output element matters). Error = max|analytic − numeric| / max(max|analytic|, 1e-2) over a
// whole input, tolerance 1.5e-3: a gradient wrong by 0.5% fails (shown by the last test of the file).
import { describe, expect, test } from 'vitest';
import { Variable, ops, variable } from '../../src/ops/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { FD_TOL, close, fd, fdErrors, grads, input } from '../util/op-check.js';

describe('hand-derived values', () => {
  test('add/sub/mul/div and their gradients', () => {
    // a = [1, 2], b = [4, 8]; L = sum(op): d(a+b) = (1, 1); d(a−b) = (1, −1); d(ab) = (b, a);
    // d(a/b) = (1/b, −a/b²) = ([0.25, 0.125], [−1/16, −2/64])
    const a = tensor([1, 2], [2]);
    const b = tensor([4, 8], [2]);
    let r = grads(ops.add, a, b);
    close(r.out.data, [5, 10]); close(r.grads[0], [1, 1]); close(r.grads[1], [1, 1]);
    r = grads(ops.sub, a, b);
    close(r.out.data, [-3, -6]); close(r.grads[0], [1, 1]); close(r.grads[1], [-1, -1]);
    r = grads(ops.mul, a, b);
    close(r.out.data, [4, 16]); close(r.grads[0], [4, 8]); close(r.grads[1], [1, 2]);
    r = grads(ops.div, a, b);
    close(r.out.data, [0.25, 0.25]); close(r.grads[0], [0.25, 0.125]); close(r.grads[1], [-1 / 16, -2 / 64]);
  });

  test('neg, exp, log, sqrt, pow', () => {
    const x = tensor([1, 4], [2]);
    let r = grads(ops.neg, x);
    close(r.out.data, [-1, -4]); close(r.grads[0], [-1, -1]);
    r = grads(ops.exp, x); // d eˣ = eˣ
    close(r.out.data, [Math.E, Math.exp(4)]); close(r.grads[0], [Math.E, Math.exp(4)]);
    r = grads(ops.log, x); // d log x = 1/x
    close(r.out.data, [0, Math.log(4)]); close(r.grads[0], [1, 0.25]);
    r = grads(ops.sqrt, x); // d √x = 1/(2√x)
    close(r.out.data, [1, 2]); close(r.grads[0], [0.5, 0.25]);
    r = grads((v) => ops.pow(v, 3), x); // 3x²
    close(r.out.data, [1, 64]); close(r.grads[0], [3, 48]);
    r = grads((v) => ops.pow(v, -0.5), x); // −0.5·x^−1.5
    close(r.out.data, [1, 0.5]); close(r.grads[0], [-0.5, -0.0625]);
    r = grads((v) => ops.pow(v, 2), tensor([-3], [1])); // negative base, integer exponent: 2x
    close(r.out.data, [9]); close(r.grads[0], [-6]);
    r = grads((v) => ops.pow(v, 0), x);
    close(r.out.data, [1, 1]); close(r.grads[0], [0, 0]);
  });

  test('relu, tanh, sigmoid, gelu', () => {
    const x = tensor([-1, 0, 2], [3]);
    let r = grads(ops.relu, x); // gradient 0 at x ≤ 0 (PyTorch's choice at 0)
    close(r.out.data, [0, 0, 2]); close(r.grads[0], [0, 0, 1]);
    r = grads(ops.tanh, x); // 1 − tanh²
    const t = [-1, 0, 2].map(Math.tanh);
    close(r.out.data, t); close(r.grads[0], t.map((v) => 1 - v * v));
    r = grads(ops.sigmoid, x); // σ(1 − σ); σ(0) = 0.5 → 0.25
    const s = [-1, 0, 2].map((v) => 1 / (1 + Math.exp(-v)));
    close(r.out.data, s); close(r.grads[0], s.map((v) => v * (1 - v)));
    // gelu(0) = 0, gelu'(0) = Φ(0) = 0.5; gelu(2) = 2·Φ(2) = 2·0.97724987 = 1.95449974,
    // gelu'(2) = Φ(2) + 2·φ(2) = 0.97724987 + 2·0.05399097 = 1.08523181
    r = grads((v) => ops.gelu(v), tensor([0, 2], [2]));
    close(r.out.data, [0, 1.95449974], 2e-6); close(r.grads[0], [0.5, 1.08523181], 2e-6);
  });

  test('matmul 2-D: values and dA = dY·Bᵀ, dB = Aᵀ·dY', () => {
    // A = [[1, 2], [3, 4]], B = [[5], [6]]: AB = [17, 39]; with dY = 1: dA = [[5, 6], [5, 6]], dB = [4, 6]
    const r = grads((a, b) => ops.matmul(a, b), tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6], [2, 1]));
    expect(r.out.shape).toEqual([2, 1]);
    close(r.out.data, [17, 39]); close(r.grads[0], [5, 6, 5, 6]); close(r.grads[1], [4, 6]);
  });

  test('sum and mean over axes, keepDims, negative axes', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    let r = grads((v) => ops.sum(v, 1), x);
    expect(r.out.shape).toEqual([2]); close(r.out.data, [6, 15]); close(r.grads[0], [1, 1, 1, 1, 1, 1]);
    r = grads((v) => ops.mean(v, 0, { keepDims: true }), x);
    expect(r.out.shape).toEqual([1, 3]); close(r.out.data, [2.5, 3.5, 4.5]); close(r.grads[0], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    r = grads((v) => ops.mean(v, -1), x);
    close(r.out.data, [2, 5]); close(r.grads[0], [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3]);
    r = grads((v) => ops.mean(v), x);
    expect(r.out.shape).toEqual([]); close(r.out.data, [3.5]);
    r = grads((v) => ops.sum(v, [0, 1], { keepDims: true }), x);
    expect(r.out.shape).toEqual([1, 1]); close(r.out.data, [21]);
  });

  test('reshape shares data; transpose copies', () => {
    const x = variable([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    const v = ops.reshape(x, [3, -1]);
    expect(v.shape).toEqual([3, 2]);
    expect(v.data).toBe(x.data);
    const t = ops.transpose(x);
    expect(t.shape).toEqual([3, 2]);
    close(t.data, [1, 4, 2, 5, 3, 6]);
    // L = Σ wᵢⱼ·xᵀᵢⱼ → dL/dx = wᵀ
    const xv = variable([1, 2, 3, 4, 5, 6], { shape: [2, 3], requiresGrad: true });
    ops.sum(ops.mul(ops.transpose(xv), tensor([10, 20, 30, 40, 50, 60], [3, 2]))).backward();
    close(xv.grad!.data, [10, 30, 50, 20, 40, 60]);
  });

  test('softmax, logSoftmax, crossEntropy, mse', () => {
    // softmax([0, ln 3]) = [0.25, 0.75]; with upstream g = [1, 0]: dx = y·(g − y·g) = [0.25·0.75, −0.75·0.25]
    const x = variable([0, Math.log(3)], { shape: [1, 2], requiresGrad: true });
    const s = ops.softmax(x);
    close(s.data, [0.25, 0.75]);
    s.backward(tensor([1, 0], [1, 2]));
    close(x.grad!.data, [0.1875, -0.1875]);
    // logSoftmax: [log 0.25, log 0.75]; upstream [1, 0]: dx = g − softmax·Σg = [0.75, −0.75]
    const x2 = variable([0, Math.log(3)], { shape: [1, 2], requiresGrad: true });
    const ls = ops.logSoftmax(x2);
    close(ls.data, [Math.log(0.25), Math.log(0.75)]);
    ls.backward(tensor([1, 0], [1, 2]));
    close(x2.grad!.data, [0.75, -0.75]);
    // crossEntropy of rows [0, ln 3] (label 1) and [0, 0] (label 0): −(log 0.75 + log 0.5)/2;
    // dx = (softmax − onehot)/2 = [[0.125, −0.125], [−0.25, 0.25]]
    const z = variable([0, Math.log(3), 0, 0], { shape: [2, 2], requiresGrad: true });
    const ce = ops.crossEntropy(z, [1, 0]);
    close([ce.item()], [-(Math.log(0.75) + Math.log(0.5)) / 2]);
    ce.backward();
    close(z.grad!.data, [0.125, -0.125, -0.25, 0.25]);
    // mse([1, 3], [2, 1]) = (1 + 4)/2 = 2.5; dp = 2(p − t)/2 = [−1, 2], dt = [1, −2]
    const r = grads(ops.mse, tensor([1, 3], [2]), tensor([2, 1], [2]));
    close(r.out.data, [2.5]); close(r.grads[0], [-1, 2]); close(r.grads[1], [1, -2]);
  });
});

describe('broadcasting', () => {
  test('row vector, size-1 axes both sides, scalar number and rank-0 tensor', () => {
    // [2, 3] + [3]: the [3] gradient sums over rows → [2, 2, 2]
    let r = grads(ops.add, tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([10, 20, 30], [3]));
    expect(r.out.shape).toEqual([2, 3]); close(r.out.data, [11, 22, 33, 14, 25, 36]);
    close(r.grads[0], [1, 1, 1, 1, 1, 1]); close(r.grads[1], [2, 2, 2]);
    // [2, 1] · [1, 3] → [2, 3]: da = Σ_j b_j = 6 per row; db = Σ_i a_i = 3 per column
    r = grads(ops.mul, tensor([1, 2], [2, 1]), tensor([1, 2, 3], [1, 3]));
    expect(r.out.shape).toEqual([2, 3]); close(r.out.data, [1, 2, 3, 2, 4, 6]);
    close(r.grads[0], [6, 6]); close(r.grads[1], [3, 3, 3]);
    // [2, 2] − scalar tensor (shape []): its gradient is −(number of elements) = −4
    r = grads(ops.sub, tensor([1, 2, 3, 4], [2, 2]), new Tensor(new Float32Array([1]), []));
    expect(r.grads[1].length).toBe(1); close(r.grads[1], [-4]);
    // x / 2 with a plain number; 1 / x with the number first
    r = grads((v) => ops.div(v, 2), tensor([1, 4], [2]));
    close(r.out.data, [0.5, 2]); close(r.grads[0], [0.5, 0.5]);
    r = grads((v) => ops.div(1, v), tensor([1, 4], [2]));
    close(r.out.data, [1, 0.25]); close(r.grads[0], [-1, -1 / 16]);
    // [3, 1, 2] + [4, 1] → [3, 4, 2]; db sums over axes 0 and 2 → 6 per element
    r = grads(ops.add, input([3, 1, 2], 1), input([4, 1], 2));
    expect(r.out.shape).toEqual([3, 4, 2]); close(r.grads[0], [4, 4, 4, 4, 4, 4]); close(r.grads[1], [6, 6, 6, 6]);
  });

  test('incompatible shapes throw naming both', () => {
    expect(() => ops.add(tensor([1, 2], [2]), tensor([1, 2, 3], [3]))).toThrow(/add: shapes \[2\] and \[3\] cannot be broadcast/);
    expect(() => ops.mul(input([2, 3], 1), input([2, 1, 2], 2))).toThrow(/mul: shapes \[2, 3\] and \[2, 1, 2\]/);
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  const a23 = input([2, 3], 1);
  test('add, sub, mul, div with broadcasting', () => {
    fd(ops.add, a23, input([3], 2));
    fd(ops.sub, input([2, 1], 3), input([1, 3], 4));
    fd(ops.mul, input([3, 1, 2], 5), input([4, 2], 6));
    fd(ops.mul, a23, new Tensor(new Float32Array([0.7]), []));
    fd(ops.div, a23, input([2, 1], 7, 0.5, 2));
    fd(ops.div, input([3], 8), input([2, 3], 9, -2, 2, 0.5));
  });
  test('neg, exp, log, sqrt, pow', () => {
    fd(ops.neg, a23);
    fd(ops.exp, a23);
    fd(ops.log, input([2, 3], 10, 0.5, 2));
    fd(ops.sqrt, input([2, 3], 11, 0.5, 2));
    fd((v) => ops.pow(v, 3), a23);
    fd((v) => ops.pow(v, -1.5), input([5], 12, 0.5, 2));
  });
  test('relu, tanh, sigmoid, gelu (relu away from its kink)', () => {
    fd(ops.relu, input([3, 4], 13, -1, 1, 0.05));
    fd(ops.tanh, input([3, 4], 14, -2, 2));
    fd(ops.sigmoid, input([3, 4], 15, -3, 3));
    fd((v) => ops.gelu(v), input([3, 4], 16, -3, 3));
  });
  test('matmul 2-D, batched 3-D, 3-D with a shared 2-D weight', () => {
    fd((a, b) => ops.matmul(a, b), input([3, 4], 17), input([4, 2], 18));
    fd((a, b) => ops.matmul(a, b), input([2, 3, 4], 19), input([2, 4, 5], 20));
    fd((a, b) => ops.matmul(a, b), input([2, 3, 4], 21), input([4, 2], 22));
  });
  test('sum, mean (axes, keepDims), reshape, transpose', () => {
    const x = input([2, 3, 4], 23);
    fd((v) => ops.sum(v, 1), x);
    fd((v) => ops.mean(v, [0, 2], { keepDims: true }), x);
    fd((v) => ops.mean(v, -1), x);
    fd((v) => ops.sum(v), x);
    fd((v) => ops.transpose(ops.reshape(v, [6, 4])), x);
  });
  test('softmax, logSoftmax, crossEntropy, mse', () => {
    fd((v) => ops.softmax(v), input([3, 4], 24, -2, 2));
    fd((v) => ops.logSoftmax(v), input([2, 2, 3], 25, -2, 2));
    fd((v) => ops.crossEntropy(v, [3, 0, 2]), input([3, 4], 26, -2, 2));
    fd(ops.mse, input([2, 3], 27), input([2, 3], 28));
  });
  test('the check catches a gradient wrong by 0.5%', () => {
    const errors = fdErrors((v) => ops.sum(ops.gelu(v)), [input([3, 4], 16, -3, 3)], 1.005);
    expect(errors[0]).toBeGreaterThan(FD_TOL);
  });
});

describe('input errors', () => {
  test('matmul shapes', () => {
    expect(() => ops.matmul(input([2, 3], 1), input([2, 3], 2))).toThrow(/matmul: inner dimensions differ in \[2, 3\] · \[2, 3\]/);
    expect(() => ops.matmul(input([2, 2, 3], 1), input([3, 3, 1], 2))).toThrow(/batch axes \[2\] and \[3\] cannot be broadcast together in \[2, 2, 3\] · \[3, 3, 1\]/);
    expect(() => ops.matmul(input([3], 1), input([2, 1], 2))).toThrow(/inner dimensions differ in \[3\] · \[2, 1\] \(3 vs 2\)/);
    expect(() => ops.matmul(input([2, 3], 1), input([2, 3], 2), { transB: true })).not.toThrow();
    expect(() => ops.matmul(input([3], 1), input([3, 2], 2), { transA: true })).toThrow(/transA\/transB need a ≥2-D operand/);
    expect(() => ops.matmul(new Tensor(new Float32Array([1]), []), input([3, 2], 2))).toThrow(/both operands need at least one axis/);
  });
  test('axes, labels, shapes, operand types', () => {
    expect(() => ops.sum(input([2, 3], 1), 2)).toThrow(/axis 2 is out of range for a variable of rank 2/);
    expect(() => ops.sum(input([2, 3], 1), [1, -1])).toThrow(/listed twice/);
    expect(() => ops.crossEntropy(input([2, 3], 1), [0, 3])).toThrow(/label 1 is 3, must be an integer class index in \[0, 2\]/);
    expect(() => ops.crossEntropy(input([2, 3], 1), [0])).toThrow(/1 labels for 2 rows/);
    expect(() => ops.mse(input([2, 3], 1), input([3, 2], 1))).toThrow(/pred has shape \[2, 3\] but target has \[3, 2\]/);
    expect(() => ops.transpose(input([2, 3, 4], 1))).toThrow(/needs a 2-D variable/);
    expect(() => ops.exp([1, 2] as never)).toThrow(/exp: x must be a Variable, a Tensor or a number, got an array/);
    expect(() => ops.reshape(input([2, 3], 1), [4, 2])).toThrow(/cannot reshape/);
  });
});

describe('Variable methods', () => {
  test('x.matmul(w).add(b).relu().sum() matches the functions, values and gradients', () => {
    // x = [[1, −2]], w = [[1, 2], [3, 4]], b = [0.5, 10]: xw = [−5, −6], + b = [−4.5, 4], relu = [0, 4] → 4;
    // only column 1 passes: dw = xᵀ·[0, 1] = [[0, 1], [0, −2]], db = [0, 1], dx = [0, 1]·wᵀ = [2, 4]
    const x = variable([1, -2], { shape: [1, 2], requiresGrad: true });
    const w = variable([1, 2, 3, 4], { shape: [2, 2], requiresGrad: true });
    const b = variable([0.5, 10], { requiresGrad: true });
    const y = x.matmul(w).add(b).relu().sum();
    expect(y.item()).toBe(4);
    y.backward();
    close(w.grad!.data, [0, 1, 0, -2]); close(b.grad!.data, [0, 1]); close(x.grad!.data, [2, 4]);
  });

  test('every method is its function', () => {
    const x = variable([0.5, 1, 1.5, 2, 2.5, 3], { shape: [2, 3] });
    const pairs: [Variable, Variable][] = [
      [x.sub(1).mul(2).div(3).neg(), ops.neg(ops.div(ops.mul(ops.sub(x, 1), 2), 3))],
      [x.exp().log().sqrt().pow(3), ops.pow(ops.sqrt(ops.log(ops.exp(x))), 3)],
      [x.tanh().sigmoid().gelu().softmax().logSoftmax(), ops.logSoftmax(ops.softmax(ops.gelu(ops.sigmoid(ops.tanh(x)))))],
      [x.t().reshape([3, 2]).sum(0).mean(), ops.mean(ops.sum(ops.reshape(ops.transpose(x), [3, 2]), 0))],
    ];
    for (const [m, f] of pairs) {
      expect(m.shape).toEqual(f.shape);
      expect(Array.from(m.data)).toEqual(Array.from(f.data));
    }
  });
  test('the core set\'s methods are their functions too', () => {
    const x = variable([0.5, -1, 1.5, -2, 2.5, 3, -0.5, 1, 2, -3, 0.25, 4], { shape: [2, 3, 2] });
    const w = variable([1, 2, 3, 4], { shape: [2, 2] });
    const mask = tensor([1, 0], [2]);
    const pairs: [Variable | Tensor, Variable | Tensor][] = [
      [x.abs().clamp(0, 2).pow(2).leakyRelu(0.1).silu(), ops.silu(ops.leakyRelu(ops.pow(ops.clamp(ops.abs(x), 0, 2), 2), 0.1))],
      [x.gelu({ approximate: 'tanh' }).softmax(1).logSoftmax(0), ops.logSoftmax(ops.softmax(ops.gelu(x, { approximate: 'tanh' }), 1), 0)],
      [x.where(mask, 7), ops.where(mask, x, 7)],
      [x.matmul(w, { transB: true }), ops.matmul(x, w, { transB: true })],
      [x.max(1), ops.max(x, 1)], [x.min([0, 2], { keepDims: true }), ops.min(x, [0, 2], { keepDims: true })],
      [x.var(2), ops.var(x, 2)], [x.argmax(1), ops.argmax(x, 1)], [x.argmin(), ops.argmin(x)],
      [x.permute(2, 0, 1), ops.permute(x, [2, 0, 1])], [x.permute([1, 2, 0]), ops.permute(x, [1, 2, 0])],
      [x.transpose(0, 2), ops.transpose(x, 0, 2)], [x.unsqueeze(1).squeeze(1).flatten(1), ops.flatten(x, 1)],
      [x.slice([null, { start: 1 }]), ops.slice(x, [null, { start: 1 }])], [x.select(2, 0), ops.select(x, 2, 0)],
      [x.indexSelect(1, [2, 2]), ops.indexSelect(x, 1, [2, 2])], [x.pad([1, 1], 9), ops.pad(x, [1, 1], 9)],
    ];
    for (const [m, f] of pairs) {
      expect(m.shape).toEqual(f.shape);
      expect(Array.from(m instanceof Variable ? m.data : m.data)).toEqual(Array.from(f.data));
    }
  });
});
