// PyTorch 1.13 references (test/reference/ops_core.py → ops_core.json) for every core op on its own:
// the output and the gradient of L = Σ w·out for each input that requires grad, within
// |a − r| ≤ 1e-5 + 1e-5·|r| (2e-5 relative for the transcendental and summed ones, noted per case).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Variable, ops } from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

interface Case {
  inputs: Record<string, [number[], number[], boolean]>;
  weight: number[];
  out: [number[], number[]];
  grads: Record<string, number[]>;
}
const ref = JSON.parse(readFileSync(new URL('../reference/ops_core.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };

type V = Record<string, Variable>;
const labels = (t: Variable): number[] => Array.from(t.data);

/** The tensorkit expression of each PyTorch case (same names as in ops_core.py). */
const BUILD: Record<string, (v: V) => Variable> = {
  add_broadcast: ({ a, b }) => ops.add(a, b),
  sub_rank_mismatch: ({ a, b }) => ops.sub(a, b),
  mul_scalar_tensor: ({ a, b }) => ops.mul(a, b),
  mul_size1_both: ({ a, b }) => ops.mul(a, b),
  div_broadcast: ({ a, b }) => ops.div(a, b),
  pow_number: ({ x }) => ops.pow(x, 2.5),
  pow_square: ({ x }) => ops.pow(x, 2),
  pow_int_negative_base: ({ x }) => x.pow(3),
  pow_tensor: ({ x, p }) => ops.pow(x, p),
  exp: ({ x }) => ops.exp(x),
  log: ({ x }) => ops.log(x),
  sqrt: ({ x }) => ops.sqrt(x),
  abs: ({ x }) => x.abs(),
  neg: ({ x }) => ops.neg(x),
  clamp: ({ x }) => ops.clamp(x, -0.5, 0.7),
  clamp_min: ({ x }) => x.clamp(0.2),
  where: ({ a, b }) => ops.where(new Tensor(Float32Array.from([1, 0, 1]), [3, 1]), a, b),
  relu: ({ x }) => ops.relu(x),
  leaky_relu: ({ x }) => ops.leakyRelu(x, 0.2),
  leaky_relu_default: ({ x }) => x.leakyRelu(),
  tanh: ({ x }) => ops.tanh(x),
  sigmoid: ({ x }) => ops.sigmoid(x),
  gelu: ({ x }) => ops.gelu(x),
  gelu_tanh: ({ x }) => x.gelu({ approximate: 'tanh' }),
  silu: ({ x }) => ops.silu(x),
  matmul_1d_1d: ({ a, b }) => ops.matmul(a, b),
  matmul_1d_2d: ({ a, b }) => ops.matmul(a, b),
  matmul_2d_1d: ({ a, b }) => ops.matmul(a, b),
  matmul_3d_1d: ({ a, b }) => ops.matmul(a, b),
  matmul_1d_3d: ({ a, b }) => ops.matmul(a, b),
  matmul_2d_3d: ({ a, b }) => ops.matmul(a, b),
  matmul_batch_broadcast: ({ a, b }) => ops.matmul(a, b),
  matmul_4d_2d: ({ a, b }) => a.matmul(b),
  matmul_transA: ({ a, b }) => ops.matmul(a, b, { transA: true }),
  matmul_transB: ({ a, b }) => ops.matmul(a, b, { transB: true }),
  matmul_transAB_batched: ({ a, b }) => ops.matmul(a, b, { transA: true, transB: true }),
  matmul_transB_3d_2d: ({ a, b }) => ops.matmul(a, b, { transB: true }),
  matmul_transA_broadcast: ({ a, b }) => ops.matmul(a, b, { transA: true }),
  sum_axes_keepdim: ({ x }) => ops.sum(x, [0, 2], { keepDims: true }),
  sum_middle: ({ x }) => x.sum(1),
  mean_last: ({ x }) => ops.mean(x, -1),
  mean_all: ({ x }) => x.mean(),
  sum_empty_axis: ({ x }) => ops.sum(x, 1),
  max_dim_ties: ({ x }) => ops.max(x, 1),
  max_dim_keepdim: ({ x }) => x.max(-1, { keepDims: true }),
  max_all_ties: ({ x }) => ops.max(x),
  amax_dims_ties: ({ x }) => ops.max(x, [0, 2]),
  min_dim: ({ x }) => ops.min(x, 0),
  amin_all_ties: ({ x }) => x.min([0, 1]),
  var_dim: ({ x }) => ops.variance(x, 1),
  var_all_biased: ({ x }) => x.var(undefined, { unbiased: false }),
  var_axes_keepdim: ({ x }) => ops.var(x, [0, 2], { keepDims: true }),
  reshape: ({ x }) => ops.mul(x.reshape([4, -1]), 1),
  permute: ({ x }) => x.permute(2, 0, 1),
  transpose_4d: ({ x }) => x.transpose(0, 2),
  concat: ({ a, b, c }) => ops.concat([a, b, c], 1),
  stack: ({ a, b }) => ops.stack([a, b], 1),
  slice: ({ x }) => x.slice([null, { start: 1, end: 5, step: 2 }, { step: 3 }]),
  slice_negative: ({ x }) => ops.slice(x, [{ start: -3 }, { end: -1 }]),
  select: ({ x }) => x.select(1, -1),
  index_select: ({ x }) => x.indexSelect(0, [2, 0, 2]),
  pad: ({ x }) => x.pad([1, 2, 0, 1], 0.5),
  pad_negative: ({ x }) => ops.pad(x, [-1, 2, 1, -1], 0.25),
  squeeze_unsqueeze_flatten: ({ x }) => x.squeeze(1).unsqueeze(-1).flatten(1),
  softmax_axis1: ({ x }) => ops.softmax(x, 1),
  log_softmax_axis0: ({ x }) => x.logSoftmax(0),
  softmax_last: ({ x }) => x.softmax(),
  cross_entropy_indices: ({ x, t }) => ops.crossEntropy(x, labels(t)),
  cross_entropy_smoothing: ({ x, t }) => ops.crossEntropy(x, t, { labelSmoothing: 0.1 }),
  cross_entropy_probs: ({ x, t }) => ops.crossEntropy(x, t),
  cross_entropy_probs_smoothing: ({ x, t }) => ops.crossEntropy(x, t, { labelSmoothing: 0.2 }),
  mse: ({ p, t }) => ops.mse(p, t),
  cross_entropy_1d: ({ x, t }) => ops.crossEntropy(x, t),
  cross_entropy_spatial: ({ x, t }) => ops.crossEntropy(x, t, { labelSmoothing: 0.1 }),
  cross_entropy_spatial_probs: ({ x, t }) => ops.crossEntropy(x, t),
};

// Cases whose float32 results go through exp/log/erf/tanh or long sums: allow 2e-5 relative.
const LOOSE = new Set(['pow_number', 'pow_tensor', 'gelu', 'gelu_tanh', 'silu', 'var_dim', 'var_all_biased', 'var_axes_keepdim',
  'cross_entropy_probs', 'cross_entropy_probs_smoothing', 'cross_entropy_smoothing', 'cross_entropy_spatial', 'cross_entropy_spatial_probs', 'log_softmax_axis0']);

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string, rtol: number): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= 1e-5 + rtol * Math.abs(expected[i]))) expect.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err})`);
  }
}

describe('PyTorch 1.13 references, op by op', () => {
  test('every case in ops_core.json has a tensorkit expression and vice versa', () => {
    expect(Object.keys(ref.cases).sort()).toEqual(Object.keys(BUILD).sort());
  });

  for (const [name, c] of Object.entries(ref.cases)) {
    test(name, () => {
      const v: V = {};
      for (const [k, [data, shape, requiresGrad]] of Object.entries(c.inputs)) {
        v[k] = new Variable(new Tensor(Float32Array.from(data), shape), { requiresGrad });
      }
      const out = BUILD[name](v);
      const rtol = LOOSE.has(name) ? 2e-5 : 1e-5;
      expect(out.shape, 'output shape').toEqual(c.out[1]);
      expectClose(out.data, c.out[0], 'out', rtol);
      const w = new Tensor(Float32Array.from(c.weight), c.out[1]);
      if (out.requiresGrad) ops.sum(ops.mul(out, w)).backward();
      for (const [k, g] of Object.entries(c.grads)) {
        if (g.length === 0) {
          expect(v[k].grad === null || v[k].grad!.size === 0).toBe(true);
          continue;
        }
        expect(v[k].grad, `${k}.grad`).not.toBeNull();
        expectClose(v[k].grad!.data, g, `d/d${k}`, rtol);
      }
      for (const [k, [, , requiresGrad]] of Object.entries(c.inputs)) if (!requiresGrad) expect(v[k].grad).toBeNull();
    });
  }
});
