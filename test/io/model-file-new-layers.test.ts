// Model files with the layers, optimizer and schedule of issue 15: a token model (embedding, layer-norm,
// multi-head attention, gelu, silu, conv1d) and an image model (global-avg-pool2d) trained with AdamW
// (AMSGrad) under a warmup schedule round-trip through save/load; weights keep torch's state-dict keys
// and continuing training after the load is bit-identical.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, type TrainingState } from '../../src/io/index.js';
import { createLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';
import { createSchedule, type Optimizer } from '../../src/optimizers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn, Tensor } from '../../src/tensor/tensor.js';

const T = 5;

function tokenModel(seed: number): Sequential {
  return new Sequential([
    createLayer('embedding', { numEmbeddings: 9, embeddingDim: 8, paddingIdx: 0 }), createLayer('layer-norm', { eps: 1e-4 }),
    createLayer('multi-head-attention', { embedDim: 8, numHeads: 2, causal: true }), createLayer('gelu', { approximate: 'tanh' }),
    createLayer('conv1d', { filters: 3, kernelSize: 3, padding: 1 }), createLayer('silu'),
    createLayer('layer-norm', { normalizedShape: [3, 8], affine: false }), createLayer('flatten'), createLayer('dense', { units: 3 }),
  ], { inputShape: [T], seed });
}

function imageModel(seed: number): Sequential {
  return new Sequential([
    createLayer('conv2d', { filters: 4, kernelSize: 3 }), createLayer('gelu'), createLayer('global-avg-pool2d'), createLayer('dense', { units: 3 }),
  ], { inputShape: [1, 6, 6], seed });
}

const rng = new Rng(4);
const TOKENS = new Tensor(Float32Array.from({ length: 12 * T }, () => Math.floor(rng.uniform(0, 9))), [12, T]);
const IMAGES = randn([12, 1, 6, 6], rng);
const Y = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i % 3), [12]);

function train(model: Sequential, x: Tensor, steps: number, schedule?: { stepBatch?(): number }): void {
  for (let s = 0; s < steps; s++) {
    model.trainStep(x.slice0((s % 3) * 4, (s % 3) * 4 + 4), Y.slice0((s % 3) * 4, (s % 3) * 4 + 4));
    schedule?.stepBatch?.();
  }
}

describe('model files with the new layers, adamw and warmup', () => {
  for (const [name, make, x] of [['token model', tokenModel, TOKENS], ['image model', imageModel, IMAGES]] as const) {
    it(`${name}: architecture, weights, AdamW (AMSGrad) state and the schedule state round-trip; continuing is bit-identical`, () => {
      const a = make(3).compile({ optimizer: { name: 'adamw', lr: 0.01, amsgrad: true }, loss: 'cross-entropy' });
      const schedule = createSchedule('warmup', a.optimizer as Optimizer, { warmupSteps: 4, decay: 'linear', decaySteps: 6 });
      train(a, x, 3, schedule);
      const state: TrainingState = { epoch: 0, step: 3, schedule: schedule.stateDict() };
      const loaded = decodeModel(encodeModel(a, { optimizer: a.optimizer as Optimizer, trainingState: state }));
      const b = loaded.model;
      expect(b.getConfig()).toEqual(a.getConfig());
      expect(loaded.optimizer?.kind).toBe('adamw');
      expect(loaded.optimizer?.stateDict()).toEqual(a.optimizer?.stateDict());
      const sdA = a.stateDict();
      const sdB = b.stateDict();
      expect(Object.keys(sdB)).toEqual(Object.keys(sdA));
      for (const k of Object.keys(sdA)) expect(sdB[k].data, k).toEqual(sdA[k].data);
      expect(b.predict(x).data).toEqual(a.predict(x).data);

      const optimizer = loaded.optimizer as Optimizer;
      const schedule2 = createSchedule('warmup', optimizer, { warmupSteps: 4, decay: 'linear', decaySteps: 6 });
      schedule2.loadStateDict(loaded.trainingState?.schedule as Record<string, number>);
      expect(optimizer.lr).toBe((a.optimizer as Optimizer).lr);
      b.compile({ optimizer, loss: 'cross-entropy' });
      train(a, x, 4, schedule);
      train(b, x, 4, schedule2);
      for (const [k, t] of Object.entries(a.stateDict())) expect(b.stateDict()[k].data, k).toEqual(t.data);
    });
  }

  it('uses torch\'s state-dict keys for the new layers (nn.Embedding, nn.LayerNorm, nn.MultiheadAttention, nn.Conv1d)', () => {
    expect(Object.keys(tokenModel(1).stateDict())).toEqual([
      '0.weight', '1.weight', '1.bias', '2.in_proj_weight', '2.in_proj_bias', '2.out_proj.weight', '2.out_proj.bias',
      '4.weight', '4.bias', '8.weight', '8.bias',
    ]);
    expect(tokenModel(1).stateDict()['4.weight'].shape).toEqual([3, 5, 3]);
  });
});
