// PyTorch 1.13 references (test/reference/ops.py → ops.json) for composites of the differentiable ops:
// values and every input gradient within |a − r| ≤ 1e-5 + 1e-5·|r|.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Variable, ops } from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

type Input = [number[], number[]];
interface Case {
  inputs: Record<string, Input>;
  grads: Record<string, number[]>;
  loss: number;
  [key: string]: unknown;
}
const ref = JSON.parse(readFileSync(new URL('../reference/ops.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };

const ATOL = 1e-5;
const RTOL = 1e-5;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= ATOL + RTOL * Math.abs(expected[i]))) {
      expect.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err})`);
    }
  }
}

function leaves(c: Case): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const [name, [data, shape]] of Object.entries(c.inputs)) {
    out[name] = new Variable(new Tensor(Float32Array.from(data), shape), { requiresGrad: true });
  }
  return out;
}

function checkGrads(c: Case, v: Record<string, Variable>): void {
  for (const [name, g] of Object.entries(c.grads)) {
    expect(v[name].grad, `${name}.grad`).not.toBeNull();
    expectClose(v[name].grad!.data, g, `d loss/d ${name}`);
  }
}

describe('PyTorch references', () => {
  test('2-layer MLP with GELU and softmax cross-entropy: logits, loss and all gradients', () => {
    const c = ref.cases.mlp;
    const v = leaves(c);
    const logits = ops.add(ops.matmul(ops.gelu(ops.add(ops.matmul(v.x, v.w1), v.b1)), v.w2), v.b2);
    const loss = ops.crossEntropy(logits, c.labels as number[]);
    loss.backward();
    expectClose(logits.data, c.logits as number[], 'logits');
    expectClose([loss.item()], [c.loss], 'loss');
    checkGrads(c, v);
  });

  test('residual block y = x + W2·relu(W1·x) with an MSE loss', () => {
    const c = ref.cases.residual;
    const v = leaves(c);
    const [td, ts] = c.target as Input;
    const y = ops.add(v.x, ops.matmul(v.w2, ops.relu(ops.matmul(v.w1, v.x))));
    const loss = ops.mse(y, new Tensor(Float32Array.from(td), ts));
    loss.backward();
    expectClose(y.data, c.y as number[], 'y');
    expectClose([loss.item()], [c.loss], 'loss');
    checkGrads(c, v);
  });

  test('mixed: broadcasting, batched matmul, transpose, reductions, softmax family, unary maps', () => {
    const c = ref.cases.mixed;
    const { a, b, c: cc, d, w } = leaves(c);
    const p = ops.matmul(a, b);
    const t1 = ops.sum(ops.softmax(p), [0, 2]);
    const t2 = ops.mean(ops.logSoftmax(a), 1, { keepDims: true });
    const t3 = ops.mul(ops.tanh(ops.sub(a, d)), ops.sigmoid(d));
    const t4 = ops.div(ops.sqrt(ops.add(ops.exp(cc), 1)), ops.add(ops.pow(cc, 3), 0.5));
    const t5 = ops.add(ops.neg(ops.log(cc)), ops.transpose(ops.sum(ops.transpose(w), 0, { keepDims: true })));
    const t6 = ops.mean(ops.matmul(ops.reshape(a, [6, 4]), ops.transpose(w)));
    let loss = ops.add(ops.sum(t1), ops.mean(ops.mul(t2, t3)));
    loss = ops.sub(ops.add(loss, ops.sum(ops.mul(t4, t5))), t6);
    loss = ops.add(loss, ops.div(ops.sum(ops.pow(d, 2)), 4));
    loss.backward();
    expectClose([loss.item()], [c.loss], 'loss');
    checkGrads(c, { a, b, c: cc, d, w });
  });
});
