// Module: attribute-path naming (nested, arrays, records, shared), state dicts and their errors,
// train/eval, Parameter, layer modules (one op, fused backward, shared use = summed gradients), fit.
import { describe, expect, it } from 'vitest';
import {
  AutogradError, Conv2D, Dense, Flatten, MaxPool2D, Module, Parameter, ReLU, Rng, Sequential, Tensor, Variable, nn, noGrad, ops,
} from '../../src/index.js';
import { gradCheck } from '../util/grad-check.js';

function randn(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rng.normal() * scale), shape);
}

class Block extends Module {
  conv1 = new nn.Conv2d(2, 2, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(2);
  conv2 = new nn.Conv2d(2, 2, 3, { padding: 1 });
  forward(x: Variable): Variable {
    return ops.relu(this.conv2.forward(ops.relu(this.bn.forward(this.conv1.forward(x)))).add(x));
  }
}

class Net extends Module {
  gain = Parameter.ones([3]);
  stem = new nn.Conv2d(1, 2, 3, { padding: 1 });
  blocks = [new Block(), new Block()];
  heads = { main: new nn.Linear(2 * 4 * 4, 3), aux: new nn.Linear(2 * 4 * 4, 3) };
  flat = new nn.Flatten();
  forward(x: Variable): Variable {
    let h = ops.relu(this.stem.forward(x));
    for (const b of this.blocks) h = b.forward(h);
    const f = this.flat.forward(h);
    return this.heads.main.forward(f).add(this.heads.aux.forward(f)).mul(this.gain);
  }
}

describe('Module naming', () => {
  it('names parameters and buffers by attribute path, PyTorch order (own first, then children depth first)', () => {
    const net = new Net().build([1, 4, 4], { seed: 1 });
    const names = net.namedParameters().map(([n, p]) => `${n}:${p.value.shape.join('x')}`);
    expect(names).toEqual([
      'gain:3', 'stem.weight:2x1x3x3', 'stem.bias:2',
      'blocks.0.conv1.weight:2x2x3x3', 'blocks.0.conv1.bias:2', 'blocks.0.bn.weight:2', 'blocks.0.bn.bias:2',
      'blocks.0.conv2.weight:2x2x3x3', 'blocks.0.conv2.bias:2',
      'blocks.1.conv1.weight:2x2x3x3', 'blocks.1.conv1.bias:2', 'blocks.1.bn.weight:2', 'blocks.1.bn.bias:2',
      'blocks.1.conv2.weight:2x2x3x3', 'blocks.1.conv2.bias:2',
      'heads.main.weight:3x32', 'heads.main.bias:3', 'heads.aux.weight:3x32', 'heads.aux.bias:3',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual([
      'blocks.0.bn.running_mean', 'blocks.0.bn.running_var', 'blocks.0.bn.num_batches_tracked',
      'blocks.1.bn.running_mean', 'blocks.1.bn.running_var', 'blocks.1.bn.num_batches_tracked',
    ]);
    // state_dict order: per module its parameters then its buffers.
    expect(Object.keys(net.stateDict()).slice(3, 10)).toEqual([
      'blocks.0.conv1.weight', 'blocks.0.conv1.bias', 'blocks.0.bn.weight', 'blocks.0.bn.bias',
      'blocks.0.bn.running_mean', 'blocks.0.bn.running_var', 'blocks.0.bn.num_batches_tracked',
    ]);
    expect(net.params().map((p) => p.name)).toEqual(net.namedParameters().map(([n]) => n));
    expect(net.namedModules().map(([n]) => n).slice(0, 4)).toEqual(['', 'stem', 'blocks.0', 'blocks.0.conv1']);
    expect(net.countParams()).toBe(3 + 18 + 2 + 2 * (36 + 2 + 2 + 2 + 36 + 2) + 2 * (96 + 3));
  });

  it('lists a shared module or parameter once, under its first path', () => {
    class Shared extends Module {
      a = new nn.Linear(3, 3);
      b: nn.Linear;
      w = Parameter.zeros([3]);
      ws = [this.w];
      constructor() {
        super();
        this.b = this.a;
      }
      forward(x: Variable): Variable {
        return this.b.forward(this.a.forward(x)).add(this.w);
      }
    }
    const m = new Shared().build([3]);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['w', 'a.weight', 'a.bias']);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'a']);
  });

  it('train() and eval() set the mode recursively', () => {
    const net = new Net();
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.blocks[1].train();
    expect(net.blocks[1].bn.training).toBe(true);
    expect(net.blocks[0].bn.training).toBe(false);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
  });
});

describe('Module state dict', () => {
  it('round-trips: another instance loaded from it predicts the same', () => {
    const a = new Net().build([1, 4, 4], { seed: 1 });
    const x = randn([5, 1, 4, 4], 2);
    a.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    // One step in train mode so the batch-norm running statistics are not their initial values.
    a.trainStep(x, new Tensor(Float32Array.from([0, 1, 2, 0, 1]), [5]));
    const b = new Net().build([1, 4, 4], { seed: 7 });
    expect(b.predict(x).data).not.toEqual(a.predict(x).data);
    b.loadStateDict(a.stateDict());
    expect(b.predict(x).data).toEqual(a.predict(x).data);
    expect(b.stateDict()['blocks.0.bn.running_mean'].data).toEqual(a.stateDict()['blocks.0.bn.running_mean'].data);
  });

  it('names every missing and unexpected key and every shape mismatch, copying nothing', () => {
    const net = new Net().build([1, 4, 4]);
    const sd = net.stateDict();
    const before = net.stateDict()['stem.weight'].data.slice();
    delete sd['blocks.1.bn.bias'];
    sd['extra.weight'] = new Tensor(new Float32Array(1), [1]);
    sd['heads.aux.bias'] = new Tensor(new Float32Array(4), [4]);
    sd['stem.weight'] = new Tensor(new Float32Array(18).fill(5), [2, 1, 3, 3]);
    expect(() => net.loadStateDict(sd)).toThrow(
      'loadStateDict: missing keys [blocks.1.bn.bias]; unexpected keys [extra.weight]; "heads.aux.bias" has shape [4], the module needs [3]');
    expect(net.stateDict()['stem.weight'].data).toEqual(before);
    // strict: false ignores missing and unexpected keys, not shapes.
    delete sd['heads.aux.bias'];
    net.loadStateDict(sd, { strict: false });
    expect(net.stateDict()['stem.weight'].data.every((v) => v === 5)).toBe(true);
  });

  it('says which layer modules are not built yet', () => {
    const net = new Net();
    expect(() => net.loadStateDict(new Net().build([1, 4, 4]).stateDict())).toThrow(/not built yet: stem, blocks\.0\.conv1.*call build\(inputShape\)/);
  });
});

describe('Parameter', () => {
  it('has a preallocated zero gradient that backward accumulates into and zeroGrad refills', () => {
    const p = new Parameter(new Tensor(Float32Array.from([1, 2, 3]), [3]));
    expect(p.requiresGrad).toBe(true);
    expect(Array.from(p.grad.data)).toEqual([0, 0, 0]);
    const grad = p.grad;
    // d/dp Σ p² = 2p, twice.
    ops.sum(ops.mul(p, p)).backward();
    ops.sum(ops.mul(p, p)).backward();
    expect(p.grad).toBe(grad);
    expect(Array.from(p.grad.data)).toEqual([4, 8, 12]);
    p.zeroGrad();
    expect(Array.from(p.grad.data)).toEqual([0, 0, 0]);
    expect(() => new Parameter(new Tensor(new Float32Array(1), [1]), { decayMul: -1 })).toThrow('decayMul must be a finite number ≥ 0, got -1');
  });
});

describe('layer modules', () => {
  it('record one op per call whose backward is the layer\'s own', () => {
    const conv = new nn.Conv2d(1, 2, 3);
    const x = new Variable(randn([2, 1, 5, 5], 3), { requiresGrad: true });
    const y = conv.forward(x);
    expect(y.node?.op).toBe('conv2d');
    expect(y.node?.inputs).toEqual([x]);
    expect(y.shape).toEqual([2, 2, 3, 3]);
    noGrad(() => expect(conv.forward(x).node).toBeNull());
  });

  it('give the same gradients as the Sequential path, bit for bit', () => {
    const layers = () => [
      new Conv2D({ filters: 3, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2D({ poolSize: 2 }), new Flatten(),
      new Dense({ units: 6 }), new ReLU(), new Dense({ units: 4 }),
    ];
    const seq = new Sequential(layers(), { inputShape: [1, 6, 6], seed: 3 });
    class Same extends Module {
      conv = new nn.Conv2d(1, 3, 3, { padding: 1 });
      pool = new nn.MaxPool2d(2);
      flat = new nn.Flatten();
      fc1 = new nn.Linear(27, 6);
      act = new nn.ReLU();
      fc2 = new nn.Linear(6, 4);
      forward(x: Variable): Variable {
        const h = this.flat.forward(this.pool.forward(ops.relu(this.conv.forward(x))));
        return this.fc2.forward(this.act.forward(this.fc1.forward(h)));
      }
    }
    const mod = new Same().build([1, 6, 6]);
    const sd = seq.stateDict();
    mod.loadStateDict({
      'conv.weight': sd['0.weight'], 'conv.bias': sd['0.bias'], 'fc1.weight': sd['4.weight'], 'fc1.bias': sd['4.bias'],
      'fc2.weight': sd['6.weight'], 'fc2.bias': sd['6.bias'],
    });
    const x = randn([8, 1, 6, 6], 4);
    const y = new Tensor(Float32Array.from([0, 1, 2, 3, 0, 1, 2, 3]), [8]);
    seq.compile({ optimizer: { name: 'sgd', lr: 0 }, loss: 'cross-entropy' });
    mod.compile({ optimizer: { name: 'sgd', lr: 0 }, loss: 'cross-entropy' });
    const l1 = seq.trainStep(x, y).loss;
    const l2 = mod.trainStep(x, y).loss;
    expect(l2).toBe(l1);
    const gs = seq.params();
    const gm = mod.params();
    expect(gm.map((p) => p.name)).toEqual(['conv.weight', 'conv.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    for (let i = 0; i < gs.length; i++) expect(gm[i].grad.data, gm[i].name).toEqual(gs[i].grad.data);
  });

  it('a layer used twice in one forward accumulates both gradients (= two layers with the same weights, and finite differences)', () => {
    class Twice extends Module {
      lin = new nn.Linear(4, 4);
      forward(x: Variable): Variable {
        return this.lin.forward(ops.tanh(this.lin.forward(x)));
      }
    }
    class Two extends Module {
      a = new nn.Linear(4, 4);
      b = new nn.Linear(4, 4);
      forward(x: Variable): Variable {
        return this.b.forward(ops.tanh(this.a.forward(x)));
      }
    }
    const shared = new Twice().build([4], { seed: 5 });
    const two = new Two().build([4]);
    const w = shared.stateDict();
    two.loadStateDict({ 'a.weight': w['lin.weight'], 'a.bias': w['lin.bias'], 'b.weight': w['lin.weight'], 'b.bias': w['lin.bias'] });
    const x = randn([3, 4], 6);
    const target = randn([3, 4], 7);
    const loss = (m: Module) => ops.mse(m.forward(new Variable(x)) as Variable, target);
    shared.zeroGrad();
    two.zeroGrad();
    loss(shared).backward();
    loss(two).backward();
    const [gw, gb] = shared.params();
    const [aw, ab, bw, bb] = two.params();
    for (let i = 0; i < gw.grad.size; i++) expect(gw.grad.data[i]).toBeCloseTo(aw.grad.data[i] + bw.grad.data[i], 6);
    for (let i = 0; i < gb.grad.size; i++) expect(gb.grad.data[i]).toBeCloseTo(ab.grad.data[i] + bb.grad.data[i], 6);
    // Finite differences on the shared weight (the loss reads it in place).
    const f = () => noGrad(() => loss(shared).item());
    gradCheck(f, gw.value.data, gw.grad.data, { h: 1e-2, tol: 5e-3, what: 'shared weight' });
    gradCheck(f, gb.value.data, gb.grad.data, { h: 1e-2, tol: 5e-3, what: 'shared bias' });
  });

  it('a layer called with a second input shape runs a copy sharing the weights', () => {
    const act = new nn.ReLU();
    const lin = new nn.Linear(3, 2);
    class M extends Module {
      act = act;
      lin = lin;
      forward(a: Variable, b: Variable): Variable {
        return ops.add(ops.sum(this.lin.forward(this.act.forward(a))), ops.sum(this.lin.forward(this.act.forward(b))));
      }
    }
    const m = new M();
    const a = randn([2, 3], 8);
    const b = randn([4, 5, 3], 9);
    const out = m.forward(new Variable(a), new Variable(b)) as Variable;
    out.backward();
    // d Σ lin(relu(x)) / dW[o, i] = Σ_rows relu(x)[row, i], over both inputs' rows (2 + 20).
    const [w] = m.params();
    const expected = [0, 0, 0];
    for (const t of [a, b]) for (let r = 0; r < t.size / 3; r++) for (let i = 0; i < 3; i++) expected[i] += Math.max(0, t.data[r * 3 + i]);
    for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) expect(w.grad.data[o * 3 + i]).toBeCloseTo(expected[i], 5);
  });

  it('fail clearly when a cached call is overwritten before its backward, or the input does not fit', () => {
    const lin = new nn.Linear(3, 2);
    const x = new Variable(randn([2, 3], 1));
    const first = ops.sum(lin.forward(x));
    lin.forward(x);
    expect(() => first.backward()).toThrow(AutogradError);
    expect(() => first.backward()).toThrow(/ran again \(a later forward\) before the backward of an earlier call/);
    expect(() => new nn.Linear(4, 2).forward(x)).toThrow('dense layer module: input [2, 3]: nn.Linear(4, 2) needs 4 features on the last axis');
    expect(() => new nn.Conv2d(3, 2, 3).forward(new Variable(randn([1, 1, 5, 5], 1))))
      .toThrow('conv2d layer module: input [1, 1, 5, 5]: nn.Conv2d expects [batch, 3, height, width]');
    const conv = new nn.Conv2d(1, 2, 3);
    conv.forward(new Variable(randn([1, 1, 5, 5], 1)));
    expect(() => conv.forward(new Variable(randn([1, 1, 2, 2], 1)))).toThrow(/conv2d layer module: cannot take input \[1, 1, 2, 2\]/);
  });
});

describe('Sequential as a Module', () => {
  it('records one op inside a module, with the layers\' gradients, and keeps its state-dict keys', () => {
    const seq = new Sequential([new Dense({ units: 4 }), new ReLU(), new Dense({ units: 2 })], { inputShape: [3], seed: 2 });
    class Wrap extends Module {
      body = seq;
      scale = Parameter.ones([2]);
      forward(x: Variable): Variable {
        return this.body.forward(x).mul(this.scale);
      }
    }
    const m = new Wrap();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['scale', 'body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias']);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const x = randn([5, 3], 3);
    const out = m.forward(new Variable(x)) as Variable;
    expect(out.node?.inputs[0].node?.op).toBe('sequential');
    ops.sum(out).backward();
    const viaModule = seq.params().map((p) => p.grad.data.slice());
    // The same gradients through Sequential's own backward: dL/dy = 1 · scale (ones).
    seq.zeroGrad();
    seq.forward(x, { training: true });
    seq.backward(new Tensor(new Float32Array(10).fill(1), [5, 2]));
    seq.params().forEach((p, i) => expect(p.grad.data).toEqual(viaModule[i]));
  });
});

describe('fit for modules', () => {
  it('trains a user module with compile/fit/evaluate/predict', async () => {
    const net = new Net();
    const x = randn([40, 1, 4, 4], 11);
    const y = new Tensor(Float32Array.from({ length: 40 }, (_, i) => (x.data[i * 16] > 0 ? 1 : 0) + (x.data[i * 16 + 5] > 0 ? 1 : 0)), [40]);
    net.compile({ optimizer: { name: 'adam', lr: 0.02 }, loss: 'cross-entropy' });
    const history = await net.fit(x, y, { epochs: 8, batchSize: 10, seed: 1 });
    expect(history.epoch.loss[7]).toBeLessThan(history.epoch.loss[0] * 0.7);
    const { accuracy } = net.evaluate(x, y);
    expect(accuracy).toBeGreaterThan(0.7);
    expect(net.predict(x).shape).toEqual([40, 3]);
    expect(net.predictClasses(x).length).toBe(40);
    expect(() => net.predict(randn([2, 1, 5, 5], 1))).toThrow('predict: input [2, 1, 5, 5] does not match the module\'s input [batch, 1, 4, 4]');
  });

  it('is deterministic: same seeds, same weights', async () => {
    const run = async () => {
      const net = new Net();
      const x = randn([20, 1, 4, 4], 12);
      const y = new Tensor(Float32Array.from({ length: 20 }, (_, i) => i % 3), [20]);
      net.compile({ optimizer: { name: 'momentum', lr: 0.05, momentum: 0.9 }, loss: 'cross-entropy' });
      await net.fit(x, y, { epochs: 2, batchSize: 8, seed: 3 });
      return net.stateDict();
    };
    const a = await run();
    const b = await run();
    for (const k of Object.keys(a)) expect(b[k].data, k).toEqual(a[k].data);
  });

  it('draws randomness from the root module\'s Rng during a forward (dropout masks reproducible by seed)', async () => {
    const seen: unknown[] = [];
    class Inner extends Module {
      drop = new nn.Dropout(0.5);
      forward(x: Variable): Variable {
        seen.push(this.rng());
        return this.drop.forward(x);
      }
    }
    class Outer extends Module {
      inner = new Inner();
      lin = new nn.Linear(6, 3);
      forward(x: Variable): Variable {
        return this.lin.forward(this.inner.forward(x));
      }
    }
    const outer = new Outer();
    outer.forward(new Variable(randn([2, 6], 1)));
    expect(seen[0]).toBe(outer.rng());
    const run = async (seed: number) => {
      const m = new Outer().build([6], { seed });
      m.compile({ optimizer: { name: 'sgd', lr: 0.1 }, loss: 'cross-entropy' });
      await m.fit(randn([16, 6], 2), new Tensor(Float32Array.from({ length: 16 }, (_, i) => i % 3), [16]), { epochs: 2, batchSize: 4 });
      return m.stateDict()['lin.weight'].data;
    };
    expect(await run(3)).toEqual(await run(3));
    expect(await run(3)).not.toEqual(await run(4));
  });

  it('rejects a forward with several outputs', () => {
    class Two extends Module {
      lin = new nn.Linear(2, 2);
      forward(x: Variable): Variable[] {
        const y = this.lin.forward(x);
        return [y, y];
      }
    }
    expect(() => new Two().predict(randn([1, 2], 1))).toThrow('Two: fit, evaluate and predict need a forward that returns one Variable, got an array');
  });
});

describe('matmul adds a Parameter\'s gradient straight into its .grad', () => {
  // The sink path (Parameter.gradSink: gemm accumulating into .grad) against the tape's path (a plain
  // leaf Variable: the gradient returned, then added): the same bits, across two backward calls without
  // zeroGrad (so the second one adds onto a nonzero gradient), for a 2-D and a batched (tall) product.
  it.each([
    ['2-D x', [5, 4]],
    ['batched x (one tall product)', [2, 3, 4]],
  ] as const)('%s: bit-identical to a plain leaf variable, accumulating over two backward calls', (_name, xShape) => {
    const x = new Variable(randn([...xShape], 21));
    const wValue = randn([3, 4], 22);
    const c = new Variable(randn([...xShape.slice(0, -1), 3], 23));
    const p = new Parameter(wValue.clone());
    const v = new Variable(wValue.clone(), { requiresGrad: true });
    for (let i = 0; i < 2; i++) {
      ops.sum(ops.mul(ops.matmul(x, p, { transB: true }), c)).backward();
      ops.sum(ops.mul(ops.matmul(x, v, { transB: true }), c)).backward();
    }
    const bitsOf = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
    expect(bitsOf(p.grad.data)).toEqual(bitsOf(v.grad!.data));
    expect(p.grad.data.some((g) => g !== 0)).toBe(true);
  });
});
