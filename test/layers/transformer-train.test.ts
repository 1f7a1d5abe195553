// The issue-15 layers together: an nn.Sequential-equivalent transformer stage (embedding, layer-norm,
// causal multi-head attention, gelu, layer-norm over [T, E], silu, conv1d, dense) trained 3 steps with
// AdamW (AMSGrad, weight decay) under the per-step warmup → cosine schedule equals PyTorch 1.13
// (test/reference/layers_train.py: torch's weights loaded by nn.Sequential key, float64 reference).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';
import { createSchedule, type Optimizer } from '../../src/optimizers/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';

interface StateJson { [key: string]: { shape: number[]; data: number[] } }
const ref = JSON.parse(readFileSync(new URL('../reference/layers_train.json', import.meta.url), 'utf8')) as {
  shape: number[]; x: number[]; y: number[]; init: StateJson; losses: number[]; lrs: number[]; final: StateJson;
};

describe('a transformer stage of the new layers trained 3 steps', () => {
  it('equals torch (losses, lrs and every final weight within 1e-5)', () => {
    const [B, T] = ref.shape;
    const model = new Sequential([
      createLayer('embedding', { numEmbeddings: 11, embeddingDim: 8 }), createLayer('layer-norm'),
      createLayer('multi-head-attention', { embedDim: 8, numHeads: 2, causal: true }), createLayer('gelu'),
      createLayer('layer-norm', { normalizedShape: [T, 8] }), createLayer('silu'),
      createLayer('conv1d', { filters: 4, kernelSize: 3, padding: 1 }), createLayer('flatten'), createLayer('dense', { units: 3 }),
    ], { inputShape: [T] });
    model.loadStateDict(Object.fromEntries(Object.entries(ref.init).map(([k, v]) => [k, new Tensor(Float32Array.from(v.data), v.shape)])));
    // eps 1e-3 as in the reference script: the key bias's gradient is exactly zero in exact arithmetic.
    model.compile({ optimizer: { name: 'adamw', lr: 0.02, weightDecay: 0.05, eps: 1e-3, amsgrad: true }, loss: 'cross-entropy' });
    const optimizer = model.optimizer as Optimizer;
    const schedule = createSchedule('warmup', optimizer, { warmupSteps: 2, startFactor: 0.25, decay: 'cosine', decaySteps: 4, etaMin: 0.001 });
    const x = new Tensor(Float32Array.from(ref.x), [B, T]);
    const y = new Tensor(Float32Array.from(ref.y), [B]);
    const losses: number[] = [];
    const lrs: number[] = [];
    for (let s = 0; s < 3; s++) {
      lrs.push(optimizer.lr);
      losses.push(model.trainStep(x, y).loss);
      schedule.stepBatch!();
    }
    assertClose(lrs, ref.lrs, { atol: 1e-12, rtol: 0, what: 'lr per step' });
    assertClose(losses, ref.losses, { atol: 1e-5, rtol: 0, what: 'loss per step' });
    const sd = model.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(ref.final));
    for (const [key, want] of Object.entries(ref.final)) assertClose(sd[key].data, want.data, { atol: 1e-5, rtol: 0, what: key });
  });
});
