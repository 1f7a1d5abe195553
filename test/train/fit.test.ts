// The training loop of src/train/fit.ts: a model that is not a Sequential trains through it
// (bit-identically to the Sequential with the same layers), partial last batches, seeded shuffling,
// resuming a model without an Rng, evaluate / predict helpers, and argument errors.
import { describe, expect, it } from 'vitest';
import { Dense } from '../../src/layers/dense.js';
import { ReLU, Softmax, Tanh } from '../../src/layers/activations.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Flatten } from '../../src/layers/flatten.js';
import { BatchNorm1d } from '../../src/layers/batch-norm.js';
import type { Layer } from '../../src/layers/layer.js';
import { createLoss } from '../../src/losses/index.js';
import { Sequential } from '../../src/model/sequential.js';
import { createOptimizer } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import type { FitPosition } from '../../src/train/callbacks.js';
import { evaluate, fit, NonFiniteError, predict, Trainer, type Trainable } from '../../src/train/fit.js';

/** Dense(5) → Tanh → Dense(3) written by hand (no Sequential), params named as nn.Sequential would. */
class HandMlp implements Trainable {
  readonly layers: Layer[];
  readonly seenRows: number[][] = [];
  private readonly all: Param[];

  constructor(seed: number, inFeatures = 4) {
    this.layers = [new Dense({ units: 5 }), new Tanh(), new Dense({ units: 3 })];
    const rng = new Rng(seed);
    let shape: readonly number[] = [inFeatures];
    for (const l of this.layers) shape = l.build(shape, rng);
    this.all = [];
    this.layers.forEach((l, i) => {
      for (const p of l.params()) this.all.push({ name: `${i}.${p.name}`, value: p.value, grad: p.grad, decayMul: p.decayMul });
    });
  }

  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    const training = options.training ?? false;
    if (training) {
      // Column 0 of every row holds its sample id (see rows()): record the ids each training batch holds.
      const per = x.size / x.shape[0];
      this.seenRows.push(Array.from({ length: x.shape[0] }, (_, r) => x.data[r * per]));
    }
    let h = x;
    for (const l of this.layers) h = l.forward(h, training);
    return h;
  }

  backward(dy: Tensor): Tensor {
    let g = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i].backward(g);
    return g;
  }

  params(): readonly Param[] {
    return this.all;
  }

  zeroGrad(): void {
    for (const p of this.all) p.grad.data.fill(0);
  }
}

/** `n` rows of 4 features; feature 0 is the row id, the rest a fixed function of it; 3 classes. */
function rows(n: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(n * 4);
  const rng = new Rng(77);
  for (let i = 0; i < n; i++) {
    x[i * 4] = i;
    for (let j = 1; j < 4; j++) x[i * 4 + j] = rng.uniform(-1, 1);
  }
  return { x: new Tensor(x, [n, 4]), y: tensor(Array.from({ length: n }, (_, i) => i % 3)) };
}

function weights(params: readonly Param[]): Record<string, number[]> {
  return Object.fromEntries(params.map((p) => [p.name, Array.from(p.value.data)]));
}

const adam = () => createOptimizer('adam', { lr: 0.01 });
const xent = () => createLoss('cross-entropy');

describe('fit over any Trainable', () => {
  it('trains a hand-written model bit-identically to the Sequential with the same layers and seed', async () => {
    const { x, y } = rows(10);
    const hand = new HandMlp(3);
    const seq = new Sequential([new Dense({ units: 5 }), new Tanh(), new Dense({ units: 3 })], { inputShape: [4], seed: 3 });
    expect(weights(hand.params())).toEqual(weights(seq.params()));
    seq.compile({ optimizer: adam(), loss: xent() });
    const options = { epochs: 3, batchSize: 4, seed: 12 };
    const handHistory = await fit(hand, x, y, { ...options, optimizer: adam(), loss: xent() });
    const seqHistory = await seq.fit(x, y, options);
    expect(weights(hand.params())).toEqual(weights(seq.params()));
    expect(handHistory.batch).toEqual(seqHistory.batch);
    expect(handHistory.epoch.loss).toEqual(seqHistory.epoch.loss);
    // And it learned something: the epoch loss fell.
    expect(handHistory.epoch.loss[2]).toBeLessThan(handHistory.epoch.loss[0]);
  });

  it('covers every row once per epoch, the last batch partial: 10 rows in batches of 4 are 4, 4, 2', async () => {
    const { x, y } = rows(10);
    const model = new HandMlp(1);
    const batchRows: number[] = [];
    const history = await fit(model, x, y, {
      epochs: 2, batchSize: 4, optimizer: adam(), loss: xent(),
      callbacks: [{ onTrainBegin: (info) => expect(info).toEqual({ epochs: 2, batches: 3, samples: 10 }), onBatchEnd: (logs) => batchRows.push(logs.batch) }],
    });
    expect(model.seenRows.map((r) => r.length)).toEqual([4, 4, 2, 4, 4, 2]);
    expect(batchRows).toEqual([0, 1, 2, 0, 1, 2]);
    for (const epoch of [model.seenRows.slice(0, 3).flat(), model.seenRows.slice(3).flat()]) {
      expect([...epoch].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    // The epoch mean weighs the partial batch by its 2 rows: Σ loss·rows / 10.
    const b = history.batch.loss;
    expect(history.epoch.loss[0]).toBeCloseTo((b[0] * 4 + b[1] * 4 + b[2] * 2) / 10, 12);
  });

  it('shuffles from the seed: epoch e takes the e-th permutation of Rng(seed); same seed ⇒ same order, shuffle: false ⇒ in order', async () => {
    const { x, y } = rows(9);
    const order = async (options: { seed?: number; shuffle?: boolean }) => {
      const model = new HandMlp(2);
      await fit(model, x, y, { epochs: 2, batchSize: 9, optimizer: adam(), loss: xent(), ...options });
      return model.seenRows;
    };
    const rng = new Rng(5);
    const expected = [Array.from(rng.permutation(9)), Array.from(rng.permutation(9))];
    expect(await order({ seed: 5 })).toEqual(expected);
    expect(expected[0]).not.toEqual(expected[1]);
    expect(await order({ seed: 6 })).not.toEqual(expected);
    expect(await order({ seed: 5, shuffle: false })).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 7, 8]]);
  });

  it('a model without an Rng reports positions without modelRng and resumes mid-epoch bit-identically', async () => {
    const { x, y } = rows(11);
    const options = { epochs: 3, batchSize: 3, seed: 4 };
    const reference = new HandMlp(8);
    await fit(reference, x, y, { ...options, optimizer: adam(), loss: xent() });
    const first = new HandMlp(8);
    const optimizer = adam();
    let saved: { position: FitPosition; weights: Float32Array[]; optimizer: ReturnType<typeof optimizer.stateDict> } | null = null;
    await fit(first, x, y, {
      ...options, optimizer, loss: xent(),
      callbacks: [{
        onBatchEnd(logs, control) {
          if (logs.step !== 6) return;
          saved = { position: control.position(), weights: first.params().map((p) => p.value.data.slice()), optimizer: optimizer.stateDict() };
          control.stop();
        },
      }],
    });
    expect(saved!.position).toMatchObject({ epoch: 1, batch: 2, step: 6 });
    expect(saved!.position).not.toHaveProperty('modelRng', expect.anything());
    const resumed = new HandMlp(99);
    resumed.params().forEach((p, i) => p.value.data.set(saved!.weights[i]));
    const optimizer2 = adam();
    optimizer2.loadStateDict(saved!.optimizer);
    await fit(resumed, x, y, { ...options, optimizer: optimizer2, loss: xent(), resumeFrom: saved!.position });
    expect(weights(resumed.params())).toEqual(weights(reference.params()));
  });

  it('names the non-finite parameter of any model, without layer details it does not give', async () => {
    const { x, y } = rows(4);
    const model = new HandMlp(1);
    model.params()[1].value.data[0] = NaN; // "0.bias"
    const run = fit(model, x, y, { batchSize: 2, optimizer: adam(), loss: xent() });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(fit(model, x, y, { batchSize: 2, optimizer: adam(), loss: xent() }))
      .rejects.toThrow(/^fit: at epoch 1, batch 1: the loss became NaN at step 1 \(non-finite weights first in "0\.bias"\); lower the learning rate/);
  });
});

describe('Trainer, evaluate and predict', () => {
  it('trainStep counts steps and correct rows; evaluate is the row-weighted mean over batches; predict sizes its output from the model', () => {
    const { x, y } = rows(7);
    const model = new HandMlp(5);
    const trainer = new Trainer(model, { optimizer: createOptimizer('sgd', { lr: 0.1 }), loss: xent() });
    const step = trainer.trainStep(x, y);
    expect(trainer.step).toBe(1);
    const out = predict(model, x, { batchSize: 3 });
    expect(out.shape).toEqual([7, 3]);
    const loss = xent();
    const whole = loss.forward(model.forward(x), y);
    const r = evaluate(model, x, y, { loss, batchSize: 2 });
    expect(r.loss).toBeCloseTo(whole, 6);
    let correct = 0;
    for (let i = 0; i < 7; i++) {
      const row = Array.from(out.data.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === y.data[i]) correct++;
    }
    expect(r.accuracy).toBe(correct / 7);
    expect(step.loss).toBeGreaterThan(0);
    expect(Array.from(predict(model, x, { batchSize: 7 }).data)).toEqual(Array.from(out.data));
  });

  it('rejects a model missing a method, a half fast path, bad metrics and a missing resume Rng, naming them', async () => {
    const { x, y } = rows(4);
    const model = new HandMlp(1);
    const broken = { forward: model.forward.bind(model), params: () => model.params(), zeroGrad: () => model.zeroGrad() } as unknown as Trainable;
    expect(() => new Trainer(broken, { optimizer: adam(), loss: xent() })).toThrow(/Trainer: the model must have forward, backward, params and zeroGrad methods/);
    const half = Object.assign(new HandMlp(1), { forwardForLoss: (t: Tensor) => t });
    expect(() => predict(half, x)).toThrow(/predict: the model must have both forwardForLoss and backwardForLoss, or neither/);
    expect(() => new Trainer(model, { optimizer: adam(), loss: xent(), metrics: ['f1'] })).toThrow(/Trainer: unknown metric "f1"; known: accuracy/);
    expect(() => evaluate(model, x, y, { loss: xent(), batchSize: 0 })).toThrow(/evaluate: batchSize must be a positive integer, got 0/);
    await expect(fit(model, x, y, { optimizer: adam(), loss: xent(), resumeFrom: { epoch: 0, batch: 0, step: 0 } as unknown as FitPosition }))
      .rejects.toThrow(/fit: resumeFrom has no shuffleRng/);
    await expect(fit(model, x, tensor([0, 1]), { optimizer: adam(), loss: xent() })).rejects.toThrow(/fit: targets \[2\] do not match 4 inputs/);
  });
});

describe('non-finite values in training and prediction', () => {
  // Conv 3×3 (4) → ReLU → Flatten → Dense 10 → Softmax on 512 images 1×8×8, one of them with one NaN pixel.
  const cnn = (): Sequential => new Sequential(
    [new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 10 }), new Softmax()],
    { inputShape: [1, 8, 8], seed: 3 },
  );
  const images = (): { x: Tensor; y: Tensor } => {
    const rng = new Rng(9);
    const x = new Tensor(new Float32Array(512 * 64).map(() => rng.uniform(0, 1)), [512, 1, 8, 8]);
    const y = new Tensor(new Float32Array(512).map((_, i) => i % 10), [512]);
    x.data[300 * 64 + 27] = Number.NaN; // image 300: in batch 10 of 32 (no shuffling)
    return { x, y };
  };

  it('one NaN pixel in 512 training images stops fit at its batch with every weight finite (ReLU keeps the NaN)', async () => {
    const { x, y } = images();
    const model = cnn();
    model.compile({ optimizer: { name: 'momentum', lr: 0.01 }, loss: 'cross-entropy' });
    let before: Record<string, Tensor> = {};
    const keep = { onBatchEnd: (): void => { before = model.stateDict(); } };
    await expect(model.fit(x, y, { epochs: 2, batchSize: 32, shuffle: false, callbacks: [keep] }))
      .rejects.toThrow(/^fit: at epoch 1, batch 10: the loss became NaN at step 10; lower the learning rate or check the inputs/);
    for (const [k, v] of Object.entries(model.stateDict())) {
      expect(v.data.every(Number.isFinite), k).toBe(true);
      expect(v.data, k).toEqual(before[k].data); // the weights of step 9, the last good one
    }
  });

  it('a rejected step leaves no trace in batch-norm running statistics (buffers restored with the weights)', async () => {
    const model = new Sequential([new Dense({ units: 5 }), new BatchNorm1d(), new ReLU(), new Dense({ units: 3 })], { inputShape: [4], seed: 2 });
    model.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
    const rng = new Rng(4);
    const x = new Tensor(new Float32Array(64 * 4).map(() => rng.normal()), [64, 4]);
    const y = new Tensor(new Float32Array(64).map((_, i) => i % 3), [64]);
    x.data[40 * 4 + 1] = Number.NaN; // batch 3 of 16
    let before: Record<string, Tensor> = {};
    const keep = { onBatchEnd: (): void => { before = model.stateDict(); } };
    await expect(model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, callbacks: [keep] })).rejects.toThrow(/^fit: at epoch 1, batch 3: the loss became NaN/);
    const after = model.stateDict();
    expect(Object.keys(after)).toContain('1.running_mean');
    for (const [k, v] of Object.entries(after)) expect(Array.from(v.data), k).toEqual(Array.from(before[k].data));
    expect(Array.from(after['1.num_batches_tracked'].data)).toEqual([2]);
  });

  it('predict gives NaN probabilities for a NaN input (and only for it); predictClasses throws a NonFiniteError naming it', () => {
    const { x } = images();
    const model = cnn();
    const probs = model.predict(x);
    for (let i = 0; i < 512; i++) {
      const row = probs.data.subarray(i * 10, i * 10 + 10);
      expect(row.every(Number.isNaN) || i !== 300, `row ${i}`).toBe(true);
      if (i !== 300) expect(row.every(Number.isFinite), `row ${i}`).toBe(true);
    }
    expect(() => model.predictClasses(x)).toThrow(NonFiniteError);
    expect(() => model.predictClasses(x)).toThrow('predictClasses: the outputs of 1 of 512 inputs are NaN (first: input 300), so they have no class');
    // Without the bad image, classes come back as usual.
    expect(model.predictClasses(x.slice0(0, 300)).length).toBe(300);
  });
});
