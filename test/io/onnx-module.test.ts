// ONNX export of user modules (traced): a residual CNN with batch norm, a shared layer and a Sequential
// inside, and an attention block from ops, run in onnxruntime-web against tensorkit's predictions.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx } from '../../src/io/index.js';
import {
  Dense, Module, Parameter, ReLU, Rng, Sequential, Tanh, Tensor, Variable, nn, ops, randn,
} from '../../src/index.js';
import { assertClose } from '../util/assert-close.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
});

async function runOnnx(model: Module, feeds: Record<string, Tensor>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const session = await ort.InferenceSession.create(encodeOnnx(model));
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', t.data, t.shape);
  const result = await session.run(inputs);
  const out: Record<string, { dims: readonly number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(result)) out[k] = { dims: v.dims, data: v.data as Float32Array };
  return out;
}

class Residual extends Module {
  conv1 = new nn.Conv2d(4, 4, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(4);
  conv2 = new nn.Conv2d(4, 4, 3, { padding: 1, bias: false });
  forward(x: Variable): Variable {
    return ops.relu(this.conv2.forward(ops.relu(this.bn1.forward(this.conv1.forward(x)))).add(x));
  }
}

class ResNet extends Module {
  stem = new nn.Conv2d(1, 4, 3, { padding: 1 });
  block = new Residual();
  pool = new nn.MaxPool2d(2);
  flat = new nn.Flatten();
  fc = new nn.Linear(4 * 3 * 3, 6);
  shared = new nn.Linear(6, 6);
  tail = new Sequential([new Dense({ units: 5 }), new Tanh()], { inputShape: [6], seed: 3 });
  forward(x: Variable): Variable {
    const h = this.flat.forward(this.pool.forward(this.block.forward(ops.relu(this.stem.forward(x)))));
    const z = this.shared.forward(ops.sigmoid(this.shared.forward(this.fc.forward(h))));
    return ops.softmax(this.tail.forward(z));
  }
}

class Attention extends Module {
  qkv = new nn.Linear(8, 24);
  proj = new nn.Linear(8, 8);
  gamma = Parameter.ones([8]);
  forward(x: Variable): Variable {
    // x [batch·T, 8] as one sequence: single-head attention written from ops, then a GELU and mean over features.
    const qkv = this.qkv.forward(x);
    const w = qkv.matmul(new Tensor(eye(24, 0, 8), [24, 8]));
    const k = qkv.matmul(new Tensor(eye(24, 8, 8), [24, 8]));
    const v = qkv.matmul(new Tensor(eye(24, 16, 8), [24, 8]));
    const a = ops.softmax(w.matmul(k.t()).div(Math.sqrt(8)));
    const h = x.add(this.proj.forward(a.matmul(v))).mul(this.gamma);
    return ops.gelu(h).sub(h.mean(-1, { keepDims: true })).pow(2).reshape([-1, 2, 4]).sum(2);
  }
}

/** Columns `from … from+n−1` of the identity: x·eye picks those features. */
function eye(rows: number, from: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let j = 0; j < n; j++) out[(from + j) * n + j] = 1;
  return out;
}

describe('exportOnnx of user modules → onnxruntime-web', () => {
  it('a residual CNN with batch norm, a shared layer and a Sequential inside matches within 1e-5', async () => {
    const model = new ResNet().build([1, 6, 6], { seed: 4 });
    const rng = new Rng(5);
    model.compile({ optimizer: { name: 'sgd', lr: 0.05 }, loss: 'cross-entropy' });
    // A few steps so batch-norm running statistics and weights are not their initial values.
    for (let i = 0; i < 3; i++) model.trainStep(randn([4, 1, 6, 6], rng), new Tensor(Float32Array.from([0, 1, 2, 3]), [4]));
    const x = randn([5, 1, 6, 6], rng);
    const want = model.predict(x);
    const got = (await runOnnx(model, { input: x })).output;
    expect(got.dims).toEqual([5, 5]);
    assertClose(got.data, want.data, { atol: 1e-5, rtol: 1e-4, what: 'onnx output' });
  });

  it('an attention block from ops (matmul with a transpose, softmax, GELU, mean, reshape, sum) matches within 1e-5', async () => {
    const model = new Attention().build([8], { seed: 2 });
    const x = randn([6, 8], new Rng(9));
    const want = (model.forward(new Variable(x)) as Variable).value;
    const got = (await runOnnx(model, { input: x })).output;
    expect(got.dims).toEqual([6, 2]);
    assertClose(got.data, want.data, { atol: 1e-5, rtol: 1e-4, what: 'onnx output' });
  });

  it('two inputs and two named outputs (a record), one of them returned from a shared layer', async () => {
    class TwoWay extends Module {
      enc = new nn.Linear(3, 4);
      mix = new nn.Linear(4, 4);
      forward(a: Variable, b: Variable): { sum: Variable; diff: Variable } {
        const ea = this.mix.forward(ops.tanh(this.enc.forward(a)));
        const eb = this.mix.forward(ops.tanh(this.enc.forward(b.reshape([-1, 3]))));
        return { sum: ea.add(eb.reshape([-1, 2, 4]).sum(1)), diff: ea.sub(eb.reshape([-1, 2, 4]).mean(1)) };
      }
    }
    const model = new TwoWay().build([[3], [2, 3]], { seed: 6 });
    const rng = new Rng(10);
    const a = randn([4, 3], rng);
    const b = randn([4, 2, 3], rng);
    const want = model.forward(new Variable(a), new Variable(b)) as { sum: Variable; diff: Variable };
    const got = await runOnnx(model, { input0: a, input1: b });
    expect(Object.keys(got).sort()).toEqual(['diff', 'sum']);
    assertClose(got.sum.data, want.sum.data, { atol: 1e-5, rtol: 1e-4, what: 'sum' });
    assertClose(got.diff.data, want.diff.data, { atol: 1e-5, rtol: 1e-4, what: 'diff' });
  });

  it('names an op without an ONNX mapping, and refuses batch-dependent control flow', () => {
    class Clamped extends Module {
      lin = new nn.Linear(3, 3);
      forward(x: Variable): Variable {
        return ops.crossEntropy(this.lin.forward(x), new Array(x.shape[0]).fill(0));
      }
    }
    expect(() => encodeOnnx(new Clamped().build([3]))).toThrow(/exportOnnx: op "crossEntropy" has no ONNX mapping \(a loss: .*\); exportable ops: .*matmul/);
    class Branchy extends Module {
      lin = new nn.Linear(3, 3);
      forward(x: Variable): Variable {
        return x.shape[0] > 2 ? this.lin.forward(x).relu() : this.lin.forward(x);
      }
    }
    expect(() => encodeOnnx(new Branchy().build([3]))).toThrow(/changes with the batch size/);
  });
});
