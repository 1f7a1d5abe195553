// PyTorch 1.13 references (test/reference/ops_nn.py → ops_nn.json) for the nn ops: each case's output,
// the gradient of Σ y·gy for every input, and batchNorm's updated running statistics, within
// |a − r| ≤ 1e-5 + 1e-5·|r|. Cases: awkward sizes (1, 2, 5, 7 pixels; 1 and 3 channels; batch 1), every
// padding mode, stride 2, dilation 2, groups 2 and depthwise, max-pool ties, count_include_pad both ways.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Variable, ops } from '../../src/ops/index.js';
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
const ref = JSON.parse(readFileSync(new URL('../reference/ops_nn.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

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
