import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1d, BatchNorm2d, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, ReLU, Rng, Sequential,
  Sigmoid, Softmax, Tanh, Tensor, tensor, NonFiniteError, type Layer,
} from '../../src/index.js';
import { createOptimizer } from '../../src/optimizers/index.js';
import { assertClose } from '../util/assert-close.js';
import { randomTensor } from '../util/rng.js';

interface Arr { shape: number[]; data: number[] }
interface Case {
  name: string; input: Arr; target: number[]; initial: Record<string, Arr>; initialOutput: Arr;
  losses: number[]; final: Record<string, Arr>; finalEvalOutput: Arr;
}
const ref = JSON.parse(readFileSync(new URL('../reference/sequential.json', import.meta.url), 'utf8')) as { cases: Case[] };

const toTensor = (a: Arr) => tensor(a.data, a.shape);

function buildCase(name: string, withSoftmax: boolean): { model: Sequential; optimizer: Record<string, unknown> & { name: string } } {
  const soft: Layer[] = withSoftmax ? [new Softmax()] : [];
  switch (name) {
    case 'cnn-momentum':
    case 'cnn-adam-wd':
      return {
        model: new Sequential([
          new Conv2D({ filters: 3, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2D({ poolSize: 2 }), new Flatten(),
          new Dense({ units: 5 }), new Tanh(), new Dense({ units: 3 }), ...soft,
        ], { inputShape: [1, 6, 6] }),
        optimizer: name === 'cnn-momentum' ? { name: 'momentum', lr: 0.1, momentum: 0.9 } : { name: 'adam', lr: 0.01, weightDecay: 1e-2 },
      };
    case 'cnn-bn-nadam':
      return {
        model: new Sequential([
          new Conv2D({ filters: 2, kernelSize: 3, stride: 2, padding: 1 }), new BatchNorm2d(), new LeakyReLU({ negativeSlope: 0.01 }),
          new AvgPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 3 }), ...soft,
        ], { inputShape: [1, 8, 8] }),
        optimizer: { name: 'nadam', lr: 0.01, weightDecay: 1e-3 },
      };
    case 'mlp-bn-rmsprop':
      return {
        model: new Sequential([new Dense({ units: 8 }), new Sigmoid(), new BatchNorm1d(), new Dense({ units: 4 }), ...soft], { inputShape: [10] }),
        optimizer: { name: 'rmsprop', lr: 0.01, beta: 0.9 },
      };
    default:
      throw new Error(`no model for ${name}`);
  }
}

describe('Sequential against torch.nn.Sequential + torch.optim (test/reference/sequential.py)', () => {
  for (const c of ref.cases) {
    for (const withSoftmax of [false, true]) {
      it(`${c.name}${withSoftmax ? ' with a trailing Softmax (fused cross-entropy)' : ''}: outputs, 3 losses, final state dict`, () => {
        const { model, optimizer } = buildCase(c.name, withSoftmax);
        const initial = Object.fromEntries(Object.entries(c.initial).map(([k, v]) => [k, toTensor(v)]));
        model.loadStateDict(initial);
        const x = toTensor(c.input);
        const y = tensor(c.target, [c.target.length]);
        const out0 = model.forward(x);
        if (!withSoftmax) assertClose(out0.data, c.initialOutput.data, { atol: 1e-5, rtol: 1e-4, what: 'initial output' });
        model.compile({ optimizer, loss: 'cross-entropy' });
        const losses = [0, 1, 2].map(() => model.trainStep(x, y).loss);
        // float32 forward/backward against float32 torch: differences stay around 1e-6.
        assertClose(losses, c.losses, { atol: 1e-5, rtol: 1e-4, what: 'loss' });
        const sd = model.stateDict();
        expect(Object.keys(sd).sort()).toEqual(Object.keys(c.final).sort());
        for (const [key, v] of Object.entries(c.final)) {
          expect(sd[key].shape, key).toEqual(v.shape);
          assertClose(sd[key].data, v.data, { atol: 2e-5, rtol: 1e-4, what: key });
        }
        if (!withSoftmax) assertClose(model.forward(x).data, c.finalEvalOutput.data, { atol: 2e-5, rtol: 1e-4, what: 'eval output' });
      });
    }
  }
});

function mlp(seed = 0, extra: Layer[] = []): Sequential {
  return new Sequential([new Dense({ units: 6 }), new ReLU(), ...extra, new Dense({ units: 3 })], { inputShape: [4], seed });
}

describe('Sequential', () => {
  it('names parameters with nn.Sequential keys (activations count in the index)', () => {
    const model = new Sequential([new Dense({ units: 6 }), new ReLU(), new Dense({ units: 3 }), new Softmax()], { inputShape: [4] });
    expect(model.params().map((p) => p.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(model.params().map((p) => p.value.shape)).toEqual([[6, 4], [6], [3, 6], [3]]);
    expect(model.outputShape).toEqual([3]);
    expect(model.countParams()).toBe(6 * 4 + 6 + 3 * 6 + 3);
  });

  it('summary lists every layer with output shape and parameter count, and the totals', () => {
    const model = new Sequential([
      new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 10 }),
    ], { inputShape: [1, 8, 8] });
    const text = model.summary();
    // conv: 4·1·3·3 + 4 = 40; dense: 10·(4·6·6) + 10 = 1450; total 1490.
    expect(text).toMatch(/0\s+conv2d\s+\[batch, 4, 6, 6\]\s+40/);
    expect(text).toMatch(/2\s+flatten\s+\[batch, 144\]\s+0/);
    expect(text).toMatch(/3\s+dense\s+\[batch, 10\]\s+1,450/);
    expect(text).toMatch(/Total params: 1,490/);
  });

  it('summary has FLOP columns (src/analysis is loaded), with ? for a layer without costs', () => {
    const model = new Sequential([new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 10 })], { inputShape: [1, 8, 8] });
    // conv: MACs 6·6·4·9 = 1296, FLOPs 2·1296 + 6·6·4 (bias) = 2736; dense: MACs 1440, FLOPs 2880 + 10 = 2890.
    expect(model.summary()).toMatch(/0\s+conv2d\s+\[batch, 4, 6, 6\]\s+40\s+1,296\s+2,736/);
    expect(model.summary()).toMatch(/3\s+dense\s+\[batch, 10\]\s+1,450\s+1,440\s+2,890/);
    const custom: Layer = {
      kind: 'no-costs-layer', build: (s) => s, forward: (x) => x, backward: (dy) => dy, params: () => [], getConfig: () => ({}),
    };
    const plain = new Sequential([new Dense({ units: 3 }), custom], { inputShape: [2] }).summary();
    // Dense 2→3: MACs 6, FLOPs 12 + 3 = 15; the custom layer's costs are unknown, and the totals say so.
    expect(plain).toMatch(/0\s+dense\s+\[batch, 3\]\s+9\s+6\s+15\b/);
    expect(plain).toMatch(/1\s+no-costs-layer\s+\[batch, 3\]\s+0\s+\?\s+\?\s+\?\s+\?$/m);
    expect(plain).toMatch(/Total\s+9\s+6\+\?\s+15\+\?/);
  });

  it('forward then backward gives finite-difference gradients of the input', () => {
    const rng = new Rng(3);
    const model = mlp(1, [new Tanh()]);
    const x = randomTensor([2, 4], rng);
    const w = randomTensor([2, 3], rng);
    const lossOf = () => {
      const y = model.forward(x, { training: true });
      let s = 0;
      for (let i = 0; i < y.size; i++) s += y.data[i] * w.data[i];
      return s;
    };
    lossOf();
    model.zeroGrad();
    const dx = model.backward(w).data.slice();
    const h = 1e-2;
    for (let i = 0; i < x.size; i++) {
      const o = x.data[i];
      x.data[i] = o + h;
      const lp = lossOf();
      x.data[i] = o - h;
      const lm = lossOf();
      x.data[i] = o;
      expect(Math.abs((lp - lm) / (2 * h) - dx[i])).toBeLessThan(1e-2);
    }
  });

  it('round-trips its state dict and rejects missing keys and wrong shapes by name', () => {
    const a = mlp(1);
    const b = mlp(2);
    expect(a.params()[0].value.data).not.toEqual(b.params()[0].value.data);
    b.loadStateDict(a.stateDict());
    expect(b.params()[0].value.data).toEqual(a.params()[0].value.data);
    const sd = a.stateDict();
    delete sd['2.bias'];
    expect(() => b.loadStateDict(sd)).toThrow(/missing keys \[2\.bias\]/);
    const bad = a.stateDict();
    bad['0.weight'] = tensor(new Array(8).fill(0), [2, 4]);
    expect(() => b.loadStateDict(bad)).toThrow(/"0\.weight" has shape \[2, 4\], the model needs \[6, 4\]/);
    // A tensor-like object whose data does not hold its shape is refused before anything is copied.
    const before = b.stateDict();
    const short = a.stateDict();
    short['0.weight'] = { shape: [6, 4], data: new Float32Array(5) } as unknown as Tensor;
    expect(() => b.loadStateDict(short)).toThrow('loadStateDict: "0.weight" has 5 values for shape [6, 4]');
    for (const [k, v] of Object.entries(b.stateDict())) expect(v.data, k).toEqual(before[k].data);
  });

  it('rebuilds from its config through the layer registry', () => {
    const a = mlp(5);
    const b = Sequential.fromConfig(JSON.parse(JSON.stringify(a.getConfig())), { seed: 5 });
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(b.stateDict()['0.weight'].data).toEqual(a.stateDict()['0.weight'].data);
  });

  it('gives errors that name the problem', () => {
    const model = mlp();
    expect(() => model.forward(tensor([1, 2, 3], [1, 3]))).toThrow(/input \[1, 3\] does not match the model's input \[batch, 4\]/);
    expect(() => model.trainStep(tensor([1, 2, 3, 4], [1, 4]), tensor([0], [1]))).toThrow(/compile/);
    expect(() => model.compile({ optimizer: 'adamw-nope', loss: 'mse' })).toThrow(/unknown optimizer "adamw-nope"; known: .*adam/);
    expect(() => model.compile({ optimizer: 'sgd', loss: 'hinge' })).toThrow(/unknown loss "hinge"; known: cross-entropy, mse/);
    expect(() => model.compile({ optimizer: { name: 'adam', beta1: 1.2 }, loss: 'mse' })).toThrow(/beta1.*1\.2/);
    expect(() => new Sequential([new Dense({ units: 3 })], { inputShape: [1, 4, 4] })).toThrow(/layer 0 \(dense\)/);
    expect(() => new Sequential([], { inputShape: [4] })).toThrow(/non-empty/);
  });

  it('keeps a trailing softmax numerically safe under cross-entropy (extreme logits)', () => {
    const model = new Sequential([new Dense({ units: 3 }), new Softmax()], { inputShape: [2] });
    const w = model.params()[0].value.data;
    w.set([1000, 0, 0, 1000, -1000, -1000]);
    model.compile({ optimizer: { name: 'sgd', lr: 1e-4 }, loss: 'cross-entropy' });
    const { loss } = model.trainStep(tensor([1, 0, 0, 1], [2, 2]), tensor([2, 2], [2]));
    // logits row 0 = [1000, 0, -1000] + bias, true class 2 ⇒ loss ≈ 2000 (finite), not Infinity.
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(1000);
    for (const p of model.params()) for (const v of p.value.data) expect(Number.isFinite(v)).toBe(true);
  });

  it('trains bit-identically for the same seed (weights, shuffling, validation split, dropout)', async () => {
    const rng = new Rng(11);
    const x = randomTensor([64, 4], rng);
    const y = tensor(Array.from({ length: 64 }, (_, i) => (x.data[i * 4] > 0 ? 1 : 0) + (x.data[i * 4 + 1] > 0 ? 1 : 0)), [64]);
    const train = async () => {
      const model = mlp(7, [new Dropout({ rate: 0.3 })]);
      model.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
      const h = await model.fit(x, y, { epochs: 3, batchSize: 10, seed: 9, validationSplit: 0.25 });
      return { sd: model.stateDict(), h };
    };
    const a = await train();
    const b = await train();
    for (const k of Object.keys(a.sd)) expect(b.sd[k].data).toEqual(a.sd[k].data);
    expect(b.h.batch).toEqual(a.h.batch);
    expect(b.h.epoch.loss).toEqual(a.h.epoch.loss);
    expect(b.h.epoch.valAccuracy).toEqual(a.h.epoch.valAccuracy);
    expect(a.h.batch.loss.length).toBe(3 * Math.ceil(48 / 10));
    expect(a.h.epoch.valLoss.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('fit validates its options and stops on a non-finite loss', async () => {
    const model = mlp();
    model.compile({ optimizer: { name: 'sgd', lr: 1e30 }, loss: 'mse' });
    const x = tensor(new Array(8).fill(1), [2, 4]);
    const y = tensor([0, 1, 0, 1, 0, 1], [2, 3]);
    await expect(model.fit(x, y, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 0/);
    await expect(model.fit(x, y, { validationSplit: 1.5 })).rejects.toThrow(/validationSplit must be in \[0, 1\), got 1\.5/);
    await expect(model.fit(x, tensor([0], [1]))).rejects.toThrow(/targets \[1\] do not match 2 inputs/);
    // lr 1e30 blows the weights up (to finite values) on the first step, so the second step's loss is not
    // finite; the error names the epoch and the batch, and the weights stay those of step 1 (finite).
    await expect(model.fit(x, y, { epochs: 5, batchSize: 1 })).rejects.toThrow(
      /^fit: at epoch 1, batch 2: the loss became (NaN|Infinity) at step 2; lower the learning rate/,
    );
    expect(model.params().every((p) => p.value.data.every(Number.isFinite))).toBe(true);
    // An update that overflows with a finite loss and finite gradients (lr 1e36 on inputs of 50: step 1
    // makes huge but finite weights, step 2's update overflows them) is caught after optimizer.step:
    // weights and optimizer state (momentum buffers, NAdam's step count and μ product) are restored to
    // those after step 1, and the error names the epoch, the batch, the step and the parameter.
    const big = tensor(new Array(8).fill(50), [2, 4]);
    for (const name of ['momentum', 'nadam']) {
      const overflow = mlp();
      overflow.compile({ optimizer: { name, lr: 1e36 }, loss: 'mse' });
      let afterStep1: Record<string, Tensor> = {};
      let optimizerAfterStep1 = overflow.optimizer!.stateDict();
      const keep = { onBatchEnd: (): void => { afterStep1 = overflow.stateDict(); optimizerAfterStep1 = overflow.optimizer!.stateDict(); } };
      await expect(overflow.fit(big, y, { epochs: 5, batchSize: 1, callbacks: [keep] })).rejects.toThrow(
        /^fit: at epoch 1, batch 2: the update of step 2 made the weights of "\d\.(weight|bias)" \(layer \d, dense\) NaN or infinite \(loss [0-9.e+]+\); weights and optimizer state are restored to the last good step; lower the learning rate/,
      );
      expect(Object.keys(afterStep1).length).toBe(4);
      for (const [k, v] of Object.entries(overflow.stateDict())) {
        expect(v.data.every(Number.isFinite), `${name} ${k} finite`).toBe(true);
        expect(v.data, `${name} ${k}`).toEqual(afterStep1[k].data);
      }
      expect(overflow.optimizer!.stateDict(), name).toEqual(optimizerAfterStep1);
      expect(overflow.optimizer!.stateDict().step).toBe(1);
    }
    await expect(model.fit(x, y, { epochs: 5, batchSize: 1 })).rejects.toThrow(NonFiniteError);
    // With checkGradients, a non-finite gradient is caught before any weight changes.
    // One linear layer: outputs ~1e30 give a finite loss (~1e60, summed in doubles) but dW = dyᵀx ~ 1e60
    // overflows float32.
    const guarded = new Sequential([new Dense({ units: 3 })], { inputShape: [4] });
    guarded.compile({ optimizer: { name: 'sgd', lr: 0.1 }, loss: 'mse' });
    const before = guarded.stateDict();
    const huge = tensor([1e30, 1e30, 1e30, 1e30, 1, 1, 1, 1], [2, 4]);
    await expect(guarded.fit(huge, y, { batchSize: 2, checkGradients: true })).rejects.toThrow(/gradient became NaN or Infinity at step 1 \(non-finite gradient first in "0\.weight", layer 0, dense\)/);
    for (const [k, v] of Object.entries(guarded.stateDict())) expect(v.data, k).toEqual(before[k].data);
  });

  it('predict and evaluate agree with forward', () => {
    const rng = new Rng(2);
    const model = mlp(3);
    model.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    const x = randomTensor([7, 4], rng);
    const y = tensor([0, 1, 2, 0, 1, 2, 0], [7]);
    const p = model.predict(x, { batchSize: 3 });
    expect(p.shape).toEqual([7, 3]);
    assertClose(p.data, model.forward(x).data, { atol: 0, rtol: 0, what: 'predict' });
    const classes = model.predictClasses(x);
    let correct = 0;
    for (let i = 0; i < 7; i++) if (classes[i] === y.data[i]) correct++;
    expect(model.evaluate(x, y, { batchSize: 2 }).accuracy).toBeCloseTo(correct / 7, 10);
  });
});

describe('Sequential option checks (review fixes)', () => {
  it('evaluate, predict and predictClasses reject a batchSize that is not a positive integer (0 used to loop forever)', () => {
    const model = mlp(3);
    model.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    const x = randomTensor([5, 4], new Rng(1));
    const y = tensor([0, 1, 2, 0, 1], [5]);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => model.evaluate(x, y, { batchSize: bad }), String(bad)).toThrow(/evaluate: batchSize must be a positive integer, got/);
      expect(() => model.predict(x, { batchSize: bad }), String(bad)).toThrow(/predict: batchSize must be a positive integer, got/);
      expect(() => model.predictClasses(x, { batchSize: bad }), String(bad)).toThrow(/batchSize must be a positive integer/);
    }
  });

  it('fit checks validationData before training: a pair of Tensors, matching rows and input shape, not empty', async () => {
    const model = mlp(3);
    model.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    const x = randomTensor([6, 4], new Rng(1));
    const y = tensor([0, 1, 2, 0, 1, 2], [6]);
    const before = model.stateDict();
    await expect(model.fit(x, y, { validationData: [x, tensor([0, 1], [2])] })).rejects.toThrow(/fit: validationData: targets \[2\] do not match 6 inputs/);
    await expect(model.fit(x, y, { validationData: [randomTensor([2, 5], new Rng(2)), tensor([0, 1], [2])] })).rejects.toThrow(/fit: validationData: input \[2, 5\] does not match/);
    await expect(model.fit(x, y, { validationData: [x.slice0(0, 0), tensor([], [0])] })).rejects.toThrow(/fit: validationData is empty/);
    await expect(model.fit(x, y, { validationData: x as unknown as [Tensor, Tensor] })).rejects.toThrow(/fit: validationData must be \[inputs, targets\]/);
    // Nothing was trained by the rejected calls.
    for (const [k, v] of Object.entries(model.stateDict())) expect(v.data, k).toEqual(before[k].data);
  });

  it('fit and evaluate say that targets must be a Tensor when given a plain array', async () => {
    const model = mlp(3);
    model.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    const x = randomTensor([2, 4], new Rng(1));
    await expect(model.fit(x, [0, 1] as unknown as Tensor)).rejects.toThrow(/fit: targets must be a Tensor/);
    expect(() => model.evaluate(x, [0, 1] as unknown as Tensor)).toThrow(/evaluate: targets must be a Tensor/);
    expect(() => model.trainStep(x, [0, 1] as unknown as Tensor)).toThrow(/trainStep: targets must be a Tensor/);
  });
});

describe('Tensor inputs', () => {
  it('accepts the batch as a Tensor only', () => {
    const model = mlp();
    expect(() => model.forward({ data: new Float32Array(4), shape: [1, 4] } as unknown as Tensor)).toThrow(/must be a Tensor/);
  });
});

describe('trainStep backward', () => {
  it('stops at the first layer with parameters: layers below it are not run, gradients are those of backward()', () => {
    const build = () => new Sequential([new Flatten(), new Dropout({ rate: 0 }), new Dense({ units: 4 }), new Tanh(), new Dense({ units: 3 })], { inputShape: [2, 3], seed: 5 });
    const x = randomTensor([5, 2, 3], new Rng(1));
    const y = tensor([0, 1, 2, 1, 0], [5]);
    const stepped = build().compile({ optimizer: { name: 'sgd', lr: 0 }, loss: 'cross-entropy' });
    const calls: string[] = [];
    stepped.layers.forEach((layer, i) => {
      const backward = layer.backward.bind(layer);
      layer.backward = (dy: Tensor, need?: boolean) => { calls.push(`${i}:${need}`); return backward(dy, need); };
    });
    stepped.trainStep(x, y);
    expect(calls).toEqual(['4:true', '3:true', '2:false']);
    // The same gradients through the public backward (which runs every layer and wants dL/dx).
    const manual = build().compile({ optimizer: { name: 'sgd', lr: 0 }, loss: 'cross-entropy' });
    const out = manual.forward(x, { training: true });
    manual.loss!.forward(out, y);
    manual.zeroGrad();
    manual.backward(manual.loss!.backward());
    manual.params().forEach((p, i) => expect(Array.from(stepped.params()[i].grad.data)).toEqual(Array.from(p.grad.data)));
  });
});

describe('Sequential delegates to the training loop of src/train/fit.ts', () => {
  it('fit before compile rejects (a promise, not a synchronous throw); trainStep counts steps from compile', async () => {
    const model = new Sequential([new Dense({ units: 3 })], { inputShape: [2] });
    const x = tensor([1, 0, 0, 1], [2, 2]);
    const y = tensor([0, 2], [2]);
    const pending = model.fit(x, y);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toThrow(/fit: call model\.compile\(\{ optimizer, loss \}\) first/);
    model.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    const steps: number[] = [];
    await model.fit(x, y, { epochs: 2, batchSize: 1, callbacks: [{ onBatchEnd: (logs) => steps.push(logs.step) }] });
    expect(steps).toEqual([1, 2, 3, 4]);
  });

  it('uses the logits under cross-entropy with a trailing Softmax, and its public optimizer / loss fields', async () => {
    const rng = new Rng(4);
    const x = randomTensor([6, 4], rng);
    const y = tensor([0, 1, 2, 0, 1, 2], [6]);
    const withSoftmax = new Sequential([new Dense({ units: 3 }), new Softmax()], { inputShape: [4], seed: 1 });
    const logitsOnly = new Sequential([new Dense({ units: 3 })], { inputShape: [4], seed: 1 });
    withSoftmax.compile({ optimizer: { name: 'sgd', lr: 0.5 }, loss: 'cross-entropy' });
    logitsOnly.compile({ optimizer: { name: 'sgd', lr: 0.5 }, loss: 'cross-entropy' });
    const a = await withSoftmax.fit(x, y, { epochs: 2, batchSize: 4, seed: 3 });
    const b = await logitsOnly.fit(x, y, { epochs: 2, batchSize: 4, seed: 3 });
    expect(a.batch.loss).toEqual(b.batch.loss);
    expect(Array.from(withSoftmax.params()[0].value.data)).toEqual(Array.from(logitsOnly.params()[0].value.data));
    expect(withSoftmax.evaluate(x, y)).toEqual(logitsOnly.evaluate(x, y));
    // A new optimizer assigned to the public field is the one the next step uses.
    const frozen = logitsOnly.params()[0].value.data.slice();
    logitsOnly.optimizer = createOptimizer('sgd', { lr: 0 });
    logitsOnly.trainStep(x, y);
    expect(Array.from(logitsOnly.params()[0].value.data)).toEqual(Array.from(frozen));
  });
});
