// Structured pruning: unit choice by L1/L2 norm (hand-derived), physically smaller models, and output
// equivalence with the original whose pruned units' contributions are zeroed, for every prunable pattern.
import { describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1d, BatchNorm2d, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential, Softmax, Tanh,
  Tensor,
} from '../../src/index.js';
import {
  analyzeModel, planPrune, pruneChannels, pruneSchedule, takeAlong, unitCounts, unitNorms, type PrunePlan,
} from '../../src/analysis/index.js';
import { assertClose } from '../util/assert-close.js';
import { randomTensor, testRng } from '../util/rng.js';

/** A copy of `model` (same architecture, copied weights and buffers). */
function copyOf(model: Sequential): Sequential {
  const copy = Sequential.fromConfig(model.getConfig());
  copy.loadStateDict(model.stateDict());
  return copy;
}

/** Gives every BatchNorm non-trivial weight, bias and running statistics, so slicing them matters. */
function randomizeBatchNorms(model: Sequential, seed: number): void {
  const rng = testRng(seed);
  const sd = model.stateDict();
  for (const key of Object.keys(sd)) {
    const layer = model.layers[Number(key.split('.')[0])];
    if (!layer.kind.startsWith('batch-norm') || key.endsWith('num_batches_tracked')) continue;
    const t = sd[key];
    for (let i = 0; i < t.size; i++) t.data[i] = key.endsWith('running_var') ? 0.5 + rng.next() : rng.next() * 2 - 1;
  }
  model.loadStateDict(sd);
}

/** The original with the removed units' weight rows and bias entries set to zero. */
function zeroProducer(model: Sequential, plan: PrunePlan): Sequential {
  const copy = copyOf(model);
  const sd = copy.stateDict();
  for (const name of ['weight', 'bias']) {
    const t = sd[`${plan.layer}.${name}`];
    const per = t.size / t.shape[0];
    for (const u of plan.removed) t.data.fill(0, u * per, (u + 1) * per);
  }
  copy.loadStateDict(sd);
  return copy;
}

/** The original with the consumer's input weights for the removed units (each `spatial` columns/taps wide) set to zero. */
function zeroConsumer(model: Sequential, plan: PrunePlan, spatial: number): Sequential {
  const copy = copyOf(model);
  const sd = copy.stateDict();
  const w = sd[`${plan.consumer}.weight`];
  // Conv weight [out, inC, kH, kW] and Dense weight [out, in] both keep their inputs on axis 1.
  const inner = w.size / w.shape[0] / w.shape[1];
  for (let o = 0; o < w.shape[0]; o++) {
    for (const u of plan.removed) {
      for (let s = 0; s < spatial; s++) {
        const col = u * spatial + s;
        w.data.fill(0, (o * w.shape[1] + col) * inner, (o * w.shape[1] + col + 1) * inner);
      }
    }
  }
  copy.loadStateDict(sd);
  return copy;
}

function outputs(model: Sequential, x: Tensor): Float32Array {
  return model.predict(x).data;
}

const TOL = { atol: 1e-5, rtol: 1e-5 };

describe('unitNorms and the choice of units', () => {
  // Dense 2 → 3 with rows [3, 0], [1, 1], [0, −1.5]: L1 = 3, 2, 1.5; L2 = 3, √2 ≈ 1.414, 1.5.
  const model = new Sequential([new Dense({ units: 3 }), new ReLU(), new Dense({ units: 2 })], { inputShape: [2] });
  const sd = model.stateDict();
  sd['0.weight'].data.set([3, 0, 1, 1, 0, -1.5]);
  sd['0.bias'].data.set([10, 10, 10]); // biases do not count
  model.loadStateDict(sd);

  it('computes L1 and L2 norms per output unit', () => {
    assertClose(unitNorms(model.layers[0], 'l1'), [3, 2, 1.5], { atol: 1e-6 });
    assertClose(unitNorms(model.layers[0], 'l2'), [3, Math.SQRT2, 1.5], { atol: 1e-6 });
  });

  it('removes the smallest-norm unit under each criterion', () => {
    expect(planPrune(model, { layer: 0, count: 1, criterion: 'l1' }).removed).toEqual([2]);
    expect(planPrune(model, { layer: 0, count: 1, criterion: 'l2' }).removed).toEqual([1]);
    expect(planPrune(model, { layer: 0, count: 2, criterion: 'l2' }).kept).toEqual([0]);
    // amount 0.5 of 3 units rounds to 2.
    expect(planPrune(model, { layer: 0, amount: 0.5 }).removed).toEqual([1, 2]);
    expect(planPrune(model, { layer: 0, units: [0] }).kept).toEqual([1, 2]);
  });

  it('keeps the surviving weights exactly and leaves the original untouched', () => {
    const pruned = pruneChannels(model, { layer: 0, count: 1, criterion: 'l2' });
    const p = pruned.stateDict();
    expect(Array.from(p['0.weight'].data)).toEqual([3, 0, 0, -1.5]);
    expect(p['0.weight'].shape).toEqual([2, 2]);
    expect(p['2.weight'].shape).toEqual([2, 2]);
    expect(Array.from(p['2.weight'].data)).toEqual(Array.from(takeAlong(sd['2.weight'], 1, [0, 2]).data));
    expect(model.stateDict()['0.weight'].shape).toEqual([3, 2]);
    expect(pruned).not.toBe(model);
    expect(pruned.layers[0]).toBeInstanceOf(Dense);
  });
});

describe('pruneChannels: equivalence with the zeroed original', () => {
  it('conv → ReLU → conv (and on through Flatten → Dense)', () => {
    const model = new Sequential([
      new Conv2D({ filters: 6, kernelSize: 3 }), new ReLU(), new Conv2D({ filters: 5, kernelSize: 3, padding: 1 }), new ReLU(),
      new Flatten(), new Dense({ units: 4 }),
    ], { inputShape: [2, 7, 7], seed: 1 });
    const x = randomTensor([3, 2, 7, 7], testRng(2));
    const plan = planPrune(model, { layer: 0, count: 2, criterion: 'l2' });
    expect(plan.consumer).toBe(2);
    const pruned = pruneChannels(model, { layer: 0, count: 2, criterion: 'l2' });
    expect(pruned.stateDict()['0.weight'].shape).toEqual([4, 2, 3, 3]);
    expect(pruned.stateDict()['2.weight'].shape).toEqual([5, 4, 3, 3]);
    expect(pruned.countParams()).toBe(model.countParams() - 2 * (18 + 1) - 5 * 2 * 9);
    assertClose(outputs(pruned, x), outputs(zeroProducer(model, plan), x), { ...TOL, what: 'vs zeroed producer' });
    assertClose(outputs(pruned, x), outputs(zeroConsumer(model, plan, 1), x), { ...TOL, what: 'vs zeroed consumer' });
    // And the pruned units really mattered: the original differs.
    expect(Math.max(...outputs(model, x).map((v, i) => Math.abs(v - outputs(pruned, x)[i])))).toBeGreaterThan(1e-3);
  });

  it('conv → BatchNorm2d → ReLU → conv slices the BatchNorm weight, bias and running statistics', () => {
    const model = new Sequential([
      new Conv2D({ filters: 5, kernelSize: 3 }), new BatchNorm2d(), new ReLU(), new Conv2D({ filters: 3, kernelSize: 2 }),
    ], { inputShape: [1, 6, 6], seed: 3 });
    randomizeBatchNorms(model, 4);
    const x = randomTensor([2, 1, 6, 6], testRng(5));
    const plan = planPrune(model, { layer: 0, units: [1, 3] });
    expect(plan.batchNorms).toEqual([1]);
    const pruned = pruneChannels(model, { layer: 0, units: [1, 3] });
    const before = model.stateDict();
    const after = pruned.stateDict();
    for (const name of ['weight', 'bias', 'running_mean', 'running_var']) {
      expect(Array.from(after[`1.${name}`].data), name).toEqual([0, 2, 4].map((c) => before[`1.${name}`].data[c]));
    }
    expect(after['3.weight'].shape).toEqual([3, 3, 2, 2]);
    // BN(0) ≠ 0, so only the consumer-side zeroing is equivalent here.
    assertClose(outputs(pruned, x), outputs(zeroConsumer(model, plan, 1), x), TOL);
  });

  it('conv → ReLU → MaxPool → Flatten → Dense drops each channel\'s H·W columns', () => {
    const model = new Sequential([
      new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new MaxPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 6 }), new Tanh(), new Dense({ units: 3 }),
    ], { inputShape: [1, 8, 8], seed: 6 });
    const x = randomTensor([3, 1, 8, 8], testRng(7));
    // Conv output [4, 6, 6] → pool [4, 3, 3]: each channel owns 9 consecutive columns of the 36.
    const plan = planPrune(model, { layer: 0, count: 1, criterion: 'l1' });
    const pruned = pruneChannels(model, { layer: 0, count: 1, criterion: 'l1' });
    expect(pruned.stateDict()['4.weight'].shape).toEqual([6, 27]);
    const c = plan.removed[0];
    const w = model.stateDict()['4.weight'];
    const keptCols = Array.from({ length: 36 }, (_, i) => i).filter((i) => Math.floor(i / 9) !== c);
    expect(Array.from(pruned.stateDict()['4.weight'].data)).toEqual(Array.from(takeAlong(w, 1, keptCols).data));
    assertClose(outputs(pruned, x), outputs(zeroProducer(model, plan), x), TOL);
    assertClose(outputs(pruned, x), outputs(zeroConsumer(model, plan, 9), x), TOL);
  });

  it('conv → ReLU → AvgPool → Dropout → Flatten → Dense (no pooling/dropout in the way of equivalence)', () => {
    const model = new Sequential([
      new Conv2D({ filters: 3, kernelSize: 3 }), new ReLU(), new AvgPool2D({ poolSize: 2 }), new Dropout({ rate: 0.5 }), new Flatten(), new Dense({ units: 2 }),
    ], { inputShape: [2, 6, 6], seed: 8 });
    const x = randomTensor([2, 2, 6, 6], testRng(9));
    const plan = planPrune(model, { layer: 0, count: 2 });
    assertClose(outputs(pruneChannels(model, { layer: 0, count: 2 }), x), outputs(zeroProducer(model, plan), x), TOL);
  });

  it('dense → ReLU → dense', () => {
    const model = new Sequential([new Dense({ units: 8 }), new ReLU(), new Dense({ units: 6 }), new ReLU(), new Dense({ units: 3 })], { inputShape: [5], seed: 10 });
    const x = randomTensor([4, 5], testRng(11));
    for (const layer of [0, 2]) {
      const plan = planPrune(model, { layer, count: 3, criterion: 'l2' });
      const pruned = pruneChannels(model, { layer, count: 3, criterion: 'l2' });
      expect(unitCounts(pruned)).toEqual(layer === 0 ? { 0: 5, 2: 6, 4: 3 } : { 0: 8, 2: 3, 4: 3 });
      assertClose(outputs(pruned, x), outputs(zeroProducer(model, plan), x), TOL);
    }
  });

  it('dense → BatchNorm1d → ReLU → Dropout → dense', () => {
    const model = new Sequential([
      new Dense({ units: 7 }), new BatchNorm1d(), new ReLU(), new Dropout({ rate: 0.2 }), new Dense({ units: 4 }),
    ], { inputShape: [6], seed: 12 });
    randomizeBatchNorms(model, 13);
    const x = randomTensor([5, 6], testRng(14));
    const plan = planPrune(model, { layer: 0, count: 4, criterion: 'l1' });
    const pruned = pruneChannels(model, { layer: 0, count: 4, criterion: 'l1' });
    expect(pruned.stateDict()['1.running_var'].shape).toEqual([3]);
    expect(pruned.stateDict()['4.weight'].shape).toEqual([4, 3]);
    assertClose(outputs(pruned, x), outputs(zeroConsumer(model, plan, 1), x), TOL);
  });

  it('conv → Flatten → BatchNorm1d → Dense slices the BatchNorm per column', () => {
    const model = new Sequential([
      new Conv2D({ filters: 3, kernelSize: 2 }), new Flatten(), new BatchNorm1d(), new ReLU(), new Dense({ units: 2 }),
    ], { inputShape: [1, 3, 3], seed: 15 });
    randomizeBatchNorms(model, 16);
    const x = randomTensor([3, 1, 3, 3], testRng(17));
    const plan = planPrune(model, { layer: 0, units: [1] });
    const pruned = pruneChannels(model, { layer: 0, units: [1] });
    // Channel 1 of [3, 2, 2] owns columns 4..7 of the 12 features.
    expect(Array.from(pruned.stateDict()['2.running_mean'].data)).toEqual([0, 1, 2, 3, 8, 9, 10, 11].map((i) => model.stateDict()['2.running_mean'].data[i]));
    assertClose(outputs(pruned, x), outputs(zeroConsumer(model, plan, 4), x), TOL);
  });

  it('pruned models train and analyze like any other (fewer FLOPs)', () => {
    const model = new Sequential([new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 2 })], { inputShape: [1, 5, 5] });
    const pruned = pruneChannels(model, { layer: 0, count: 2 });
    expect(analyzeModel(pruned).totals.flops).toBeLessThan(analyzeModel(model).totals.flops);
    pruned.compile({ optimizer: { name: 'sgd', lr: 0.1 }, loss: 'cross-entropy' });
    const x = randomTensor([4, 1, 5, 5], testRng(18));
    const y = new Tensor(new Float32Array([0, 1, 0, 1]), [4]);
    expect(Number.isFinite(pruned.trainStep(x, y).loss)).toBe(true);
  });
});

describe('pruneChannels: refusals', () => {
  const model = new Sequential([
    new Conv2D({ filters: 3, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 4 }), new Softmax(), new Dense({ units: 2 }),
  ], { inputShape: [1, 5, 5] });
  const last = new Sequential([new Dense({ units: 3 }), new ReLU()], { inputShape: [2] });

  it('names the problem', () => {
    expect(() => pruneChannels(last, { layer: 0, count: 1 })).toThrow("layer 0 (dense) feeds the model's output");
    expect(() => pruneChannels(model, { layer: 5, count: 1 })).toThrow("layer 5 (dense) feeds the model's output");
    expect(() => pruneChannels(model, { layer: 0, count: 3 })).toThrow('removing 3 of the 3 units of layer 0 (conv2d) would leave none; at most 2 can be removed');
    expect(() => pruneChannels(model, { layer: 0, amount: 1 })).toThrow('amount must be a fraction in [0, 1), got 1');
    expect(() => pruneChannels(model, { layer: 0, amount: 0.9 })).toThrow('would leave none'); // round(2.7) = 3
    expect(() => pruneChannels(model, { layer: 1, count: 1 })).toThrow('layer 1 (relu) cannot be pruned');
    expect(() => pruneChannels(model, { layer: 3, count: 1 })).toThrow('through layer 4 (softmax), which mixes channels');
    expect(() => pruneChannels(model, { layer: 7, count: 1 })).toThrow('layer must be an index in [0, 5], got 7');
    expect(() => pruneChannels(model, { layer: 0, count: 1, amount: 0.5 })).toThrow('give exactly one of count, amount or units, got count, amount');
    expect(() => pruneChannels(model, { layer: 0 })).toThrow('got none');
    expect(() => pruneChannels(model, { layer: 0, count: 1.5 })).toThrow('count must be a non-negative integer, got 1.5');
    expect(() => pruneChannels(model, { layer: 0, units: [3] })).toThrow('unit 3 is not an index in [0, 2] of layer 0 (conv2d)');
    expect(() => pruneChannels(model, { layer: 0, count: 1, criterion: 'l3' as 'l1' })).toThrow(`criterion must be 'l1' or 'l2', got "l3"`);
  });
});

describe('pruneSchedule', () => {
  function net(): Sequential {
    return new Sequential([new Dense({ units: 6 }), new ReLU(), new Dense({ units: 5 }), new ReLU(), new Dense({ units: 2 })], { inputShape: [3], seed: 20 });
  }
  

  it('records the metric after every step and the units and FLOPs of the kept model', async () => {
    const model = net();
    const tuned: number[] = [];
    const result = await pruneSchedule(model, {
      steps: [{ layer: 0, count: 2 }, { layer: 2, count: 1 }, { layer: 2, amount: 0.5 }],
      evaluate: (m) => unitCounts(m)[0] + unitCounts(m)[2], // a stand-in metric: total hidden units
      fineTune: (m) => { tuned.push(m.countParams()); },
    });
    expect(result.baseline).toBe(11);
    expect(result.history.map((r) => r.metric)).toEqual([9, 8, 6]); // amount 0.5 of 4 = 2
    expect(result.history.map((r) => r.units)).toEqual([{ 0: 4, 2: 5, 4: 2 }, { 0: 4, 2: 4, 4: 2 }, { 0: 4, 2: 2, 4: 2 }]);
    expect(result.history.every((r) => r.accepted)).toBe(true);
    expect(result.history[2].flops).toBe(analyzeModel(result.model).totals.flops);
    expect(tuned).toHaveLength(3);
    expect(model.layers).toHaveLength(5);
    expect(unitCounts(model)).toEqual({ 0: 6, 2: 5, 4: 2 }); // the input model is unchanged
  });

  it('undoes a rejected step and skips the rest of that layer', async () => {
    const seen: number[] = [];
    const steps = [...Array(5).fill({ layer: 0, count: 1 }), ...Array(4).fill({ layer: 2, count: 1 })];
    const result = await pruneSchedule(net(), {
      steps,
      evaluate: (m) => unitCounts(m)[0] * 10 + unitCounts(m)[2],
      // Accept while layer 0 keeps ≥ 4 units and layer 2 keeps ≥ 3.
      accept: (metric) => Math.floor(metric / 10) >= 4 && metric % 10 >= 3,
      onStep: (r) => { seen.push(r.step); },
    });
    expect(result.baseline).toBe(65);
    expect(result.history.map((r) => [r.layer, r.metric, r.accepted])).toEqual([
      [0, 55, true], [0, 45, true], [0, 35, false], [2, 44, true], [2, 43, true], [2, 42, false],
    ]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.history[2].units).toEqual({ 0: 4, 2: 5, 4: 2 });
    expect(unitCounts(result.model)).toEqual({ 0: 4, 2: 3, 4: 2 });
  });
});
