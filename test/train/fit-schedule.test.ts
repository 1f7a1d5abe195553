// fit with per-step schedules: the 'warmup' schedule by name moves the lr after every optimizer step,
// its state travels in fit's position, and a run stopped mid-epoch resumes bit-identically.
import { describe, expect, it } from 'vitest';
import { Dense } from '../../src/layers/dense.js';
import { Gelu } from '../../src/layers/activations.js';
import { LayerNorm } from '../../src/layers/layer-norm.js';
import { createLoss } from '../../src/losses/index.js';
import { Sequential } from '../../src/model/sequential.js';
import { createOptimizer, createSchedule, type Optimizer } from '../../src/optimizers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import type { FitPosition } from '../../src/train/callbacks.js';
import { fit } from '../../src/train/fit.js';

const SPEC = { name: 'warmup', warmupSteps: 4, startFactor: 0.2, decay: 'cosine', decaySteps: 6, etaMin: 0.001 } as const;

function data(n: number): { x: Tensor; y: Tensor } {
  const rng = new Rng(3);
  const x = new Float32Array(n * 6);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  return { x: new Tensor(x, [n, 6]), y: tensor(Array.from({ length: n }, (_, i) => i % 3)) };
}

const model = (): Sequential => new Sequential([new Dense({ units: 8 }), new LayerNorm(), new Gelu(), new Dense({ units: 3 })], { inputShape: [6], seed: 5 });
const weights = (m: Sequential): number[][] => m.params().map((p) => Array.from(p.value.data));

describe('fit with a per-step schedule', () => {
  it('takes { name: "warmup", … } and sets the lr of every step from the closed form', async () => {
    const { x, y } = data(20);
    const optimizer = createOptimizer('adamw', { lr: 0.05 });
    const seen: number[] = [];
    await fit(model(), x, y, {
      epochs: 3, batchSize: 5, optimizer, loss: createLoss('cross-entropy'), schedule: SPEC,
      callbacks: [{ onBatchEnd: (logs) => { seen[logs.step - 1] = optimizer.lr; } }],
    });
    // The reference: the same schedule on its own optimizer, stepped 12 times.
    const probe: Optimizer = createOptimizer('sgd', { lr: 0.05 });
    const { name: _n, ...config } = SPEC;
    const sched = createSchedule('warmup', probe, config);
    const expected = Array.from({ length: 12 }, () => sched.stepBatch!());
    expect(seen).toEqual(expected);
    expect(seen[0]).toBeCloseTo(0.05 * (0.2 + 0.8 / 4), 15); // after step 1: 0.2 + 0.8·1/4 of the base
    expect(seen[9]).toBeCloseTo(0.001, 15); // the end of the cosine, then held
  });

  it('stopped mid-epoch and resumed from its position (schedule state inside), ends bit-identical to an uninterrupted run', async () => {
    const { x, y } = data(22);
    const options = { epochs: 3, batchSize: 4, seed: 9, schedule: SPEC, loss: createLoss('cross-entropy') };
    const reference = model();
    const refOptimizer = createOptimizer('adamw', { lr: 0.05 });
    await fit(reference, x, y, { ...options, optimizer: refOptimizer });

    const first = model();
    const optimizer = createOptimizer('adamw', { lr: 0.05 });
    let saved: { position: FitPosition; weights: Float32Array[]; state: ReturnType<Optimizer['stateDict']> } | null = null;
    await fit(first, x, y, {
      ...options, optimizer,
      callbacks: [{
        onBatchEnd(logs, control) {
          if (logs.step !== 8) return; // epoch 2, batch 2 of 6: mid-epoch and past the warmup
          saved = { position: control.position(), weights: first.params().map((p) => p.value.data.slice()), state: optimizer.stateDict() };
          control.stop();
        },
      }],
    });
    expect(saved!.position.schedule).toEqual({ step: 8, epoch: 1, baseLr: 0.05 });
    const resumed = model();
    resumed.params().forEach((p, i) => p.value.data.set(saved!.weights[i]));
    const optimizer2 = createOptimizer('adamw', { lr: 0.05 });
    optimizer2.loadStateDict(saved!.state);
    await fit(resumed, x, y, { ...options, optimizer: optimizer2, resumeFrom: saved!.position });
    expect(weights(resumed)).toEqual(weights(reference));
    expect(optimizer2.lr).toBe(refOptimizer.lr);
  });

  it('rejects a schedule spec it cannot create, naming the problem', async () => {
    const { x, y } = data(4);
    const run = (schedule: unknown): Promise<unknown> => fit(model(), x, y, {
      optimizer: createOptimizer('sgd'), loss: createLoss('cross-entropy'), schedule: schedule as never,
    });
    await expect(run('cosine')).rejects.toThrow(/cosine: tMax .* is required/);
    await expect(run({ name: 'warmup', warmupSteps: -2 })).rejects.toThrow(/warmup: warmupSteps must be/);
    await expect(run({ warmupSteps: 2 })).rejects.toThrow(/fit: schedule must be a schedule object, a registered schedule name or \{ name, \.\.\.config \}/);
  });
});
