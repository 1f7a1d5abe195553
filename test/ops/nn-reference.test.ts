// PyTorch 1.13 references (test/reference/ops_nn.py → ops_nn.json) for the nn ops: each case's output,
// the gradient of Σ y·gy for every input, and batchNorm's updated running statistics, within
// |a − r| ≤ 1e-5 + 1e-5·|r|. Cases: awkward sizes (1, 2, 5, 7 pixels; 1 and 3 channels; batch 1), every
// padding mode, stride 2, dilation 2, groups 2 and depthwise, max-pool ties, count_include_pad both ways.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Variable, noGrad, ops } from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

type Data = [number[], number[]];
interface Case {
  name: string;
  op: string;
  options: Record<string, unknown>;
  inputs: Record<string, Data>;
  gy: number[];
  y: Data;
  grads: Record<string, number[]>;
  stats?: { runningMean: number[]; runningVar: number[] };
  newStats?: { runningMean: number[]; runningVar: number[] };
  indices?: Data;
}
interface Composite {
  init: Record<string, Data>;
  losses: number[];
  final: Record<string, number[]>;
  [key: string]: unknown;
}
const ref = JSON.parse(readFileSync(new URL('../reference/ops_nn.json', import.meta.url), 'utf8')) as {
  torch: string; cases: Case[]; composites: { cnn: Composite; tokens: Composite };
};

const ATOL = 1e-5;
const RTOL = 1e-5;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= ATOL + RTOL * Math.abs(expected[i]))) expect.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err})`);
  }
}

const t = ([data, shape]: Data): Tensor => new Tensor(Float32Array.from(data), shape);

/** Runs the case's op on leaves `v`; `stats` receives batchNorm's running statistics (updated in place). */
function run(c: Case, v: Record<string, Variable>, stats: Tensor[]): Variable {
  const o = c.options;
  switch (c.op) {
    case 'conv2d':
      return ops.conv2d(v.x, v.weight, v.bias ?? null, o as ops.Conv2dOptions);
    case 'conv1d':
      return ops.conv1d(v.x, v.weight, v.bias ?? null, o as ops.Conv1dOptions);
    case 'maxPool2d':
      return ops.maxPool2d(v.x, o as unknown as ops.MaxPool2dOptions);
    case 'avgPool2d':
      return ops.avgPool2d(v.x, o as unknown as ops.AvgPool2dOptions);
    case 'layerNorm':
      return ops.layerNorm(v.x, o.normalizedShape as number[], v.weight ?? null, v.bias ?? null, o.eps as number);
    case 'batchNorm': {
      const s = c.stats!;
      stats.push(new Tensor(Float32Array.from(s.runningMean), [s.runningMean.length]), new Tensor(Float32Array.from(s.runningVar), [s.runningVar.length]));
      return ops.batchNorm(v.x, stats[0], stats[1], v.weight ?? null, v.bias ?? null, o as ops.BatchNormOptions);
    }
    case 'embedding':
      return ops.embedding(t(c.indices!), v.weight, o as ops.EmbeddingOptions);
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe(`PyTorch ${ref.torch} references for the nn ops`, () => {
  test('the reference file covers every op', () => {
    const seen = new Set(ref.cases.map((c) => c.op));
    expect([...seen].sort()).toEqual(['avgPool2d', 'batchNorm', 'conv1d', 'conv2d', 'embedding', 'layerNorm', 'maxPool2d']);
  });

  for (const c of ref.cases) {
    test(`${c.op}: ${c.name}`, () => {
      const v: Record<string, Variable> = {};
      for (const [name, data] of Object.entries(c.inputs)) v[name] = new Variable(t(data), { requiresGrad: name in c.grads });
      const stats: Tensor[] = [];
      const y = run(c, v, stats);
      expect(y.shape).toEqual(c.y[1]);
      expectClose(y.data, c.y[0], 'y');
      y.backward(new Tensor(Float32Array.from(c.gy), c.y[1]));
      for (const [name, g] of Object.entries(c.grads)) {
        expect(v[name].grad, `${name}.grad`).not.toBeNull();
        expectClose(v[name].grad!.data, g, `d/d ${name}`);
      }
      if (c.newStats !== undefined) {
        expectClose(stats[0].data, c.newStats.runningMean, 'runningMean');
        expectClose(stats[1].data, c.newStats.runningVar, 'runningVar');
      }
    });
  }
});

/** 3 SGD steps (lr 0.1) of `loss` over leaves made from `c.init`; checks each step's loss and the final parameters. */
function trainLikeTorch(c: Composite, loss: (p: Record<string, Variable>) => Variable): void {
  const p: Record<string, Variable> = {};
  for (const [name, data] of Object.entries(c.init)) p[name] = new Variable(t(data), { requiresGrad: true });
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    for (const v of Object.values(p)) v.zeroGrad();
    const l = loss(p);
    l.backward();
    losses.push(l.item());
    noGrad(() => {
      for (const v of Object.values(p)) {
        const g = v.grad!.data;
        v.modify((d) => { for (let i = 0; i < d.length; i++) d[i] -= 0.1 * g[i]; });
      }
    });
  }
  expectClose(losses, c.losses, 'losses');
  for (const [name, values] of Object.entries(c.final)) expectClose(p[name].data, values, `final ${name}`);
}

describe('PyTorch references: composites trained 3 SGD steps', () => {
  test('a CNN: conv → batchNorm → relu → maxPool → strided grouped conv → avgPool → linear → cross-entropy', () => {
    const c = ref.composites.cnn;
    const x = t(c.x as Data);
    const labels = c.labels as number[];
    const rm = new Tensor(new Float32Array(4), [4]);
    const rv = new Tensor(new Float32Array(4).fill(1), [4]);
    trainLikeTorch(c, (p) => {
      let h = ops.conv2d(x, p.w1, p.b1, { padding: 1 });
      h = ops.batchNorm(h, rm, rv, p.g1, p.h1, { training: true });
      h = ops.maxPool2d(ops.relu(h), { kernelSize: 2 });
      h = ops.conv2d(h, p.w2, p.b2, { stride: 2, padding: 1, groups: 2 });
      h = ops.reshape(ops.avgPool2d(h, { kernelSize: 2 }), [2, -1]);
      return ops.crossEntropy(ops.matmul(h, p.w3), labels);
    });
    expectClose(rm.data, c.runningMean as number[], 'runningMean');
    expectClose(rv.data, c.runningVar as number[], 'runningVar');
  });

  test('tokens: embedding → layerNorm → conv1d (same) → mse', () => {
    const c = ref.composites.tokens;
    const tokens = new Tensor(Float32Array.from((c.tokens as number[][]).flat()), [2, 5]);
    const target = t(c.target as Data);
    trainLikeTorch(c, (p) => {
      const h = ops.layerNorm(ops.embedding(tokens, p.emb), 4, p.ln_w, p.ln_b);
      return ops.mse(ops.conv1d(h, p.cw, p.cb, { padding: 'same' }), target);
    });
  });
});
