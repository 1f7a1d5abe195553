import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, createSchedule, Dense, loadModel, Rng, Sequential, Tanh, Tensor, type FitPosition } from '../../src/index.js';

function makeModel(): Sequential {
  const m = new Sequential([new Dense({ units: 8 }), new Tanh(), new Dense({ units: 3 })], { inputShape: [4], seed: 1 });
  m.compile({ optimizer: { name: 'momentum', lr: 0.1, momentum: 0.9 }, loss: 'cross-entropy' });
  return m;
}

function data(n = 24): { x: Tensor; y: Tensor } {
  const rng = new Rng(3);
  const x = new Float32Array(n * 4);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  return { x: new Tensor(x, [n, 4]), y: new Tensor(Float32Array.from({ length: n }, (_, i) => i % 3), [n]) };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'tk-ckpt-'));

describe('Checkpoint callback', () => {
  it('writes every N epochs, keeps the last K, the best and the last, as loadable model files', async () => {
    const dir = tmp();
    const model = makeModel();
    const { x, y } = data();
    const ck = new Checkpoint(model, { dir, every: 2, keepLast: 2, monitor: 'loss' });
    const snapshots: Record<string, Tensor>[] = [];
    const recorder = { onEpochEnd: () => { snapshots.push(model.stateDict()); } };
    const history = await model.fit(x, y, { epochs: 7, batchSize: 8, callbacks: [ck, recorder] });
    expect(readdirSync(dir).sort()).toEqual(['best.safetensors', 'epoch-0004.safetensors', 'epoch-0006.safetensors', 'last.safetensors']);
    const lowest = history.epoch.loss.indexOf(Math.min(...history.epoch.loss)) + 1;
    expect(ck.bestEpoch).toBe(lowest);
    const best = loadModel(ck.bestPath);
    expect((best.trainingState!.metrics as { epoch: number }).epoch).toBe(lowest);
    for (const [k, v] of Object.entries(best.model.stateDict())) expect(v.data, k).toEqual(snapshots[lowest - 1][k].data);
    const periodic = loadModel(join(dir, 'epoch-0006.safetensors'));
    expect(periodic.trainingState).toMatchObject({ epoch: 6, batch: 0, step: 18 });
    expect(periodic.optimizer!.kind).toBe('momentum');
    for (const [k, v] of Object.entries(periodic.model.stateDict())) expect(v.data, k).toEqual(snapshots[5][k].data);
  });

  it('a run resumed from last.safetensors (saved every few steps, with a schedule) ends bit-identical to an uninterrupted one', async () => {
    const { x, y } = data(40);
    const opts = { epochs: 5, batchSize: 8, seed: 4, validationSplit: 0.2 };
    const full = makeModel();
    await full.fit(x, y, { ...opts, schedule: createSchedule('step', full.optimizer!, { stepSize: 2, gamma: 0.5 }) });

    const dir = tmp();
    const first = makeModel();
    const schedule = createSchedule('step', first.optimizer!, { stepSize: 2, gamma: 0.5 });
    const ck = new Checkpoint(first, { dir, every: 10, everySteps: 3, schedule });
    const stopper = { onBatchEnd: (logs: { step: number }, control: { stop(): void }) => { if (logs.step === 10) control.stop(); } };
    await first.fit(x, y, { ...opts, schedule, callbacks: [ck, stopper] });

    const loaded = loadModel(ck.lastPath);
    expect(loaded.trainingState).toMatchObject({ step: 9, epoch: 2, batch: 1 });
    const resumed = loaded.model;
    resumed.compile({ optimizer: loaded.optimizer!, loss: 'cross-entropy' });
    const schedule2 = createSchedule('step', loaded.optimizer!, { stepSize: 2, gamma: 0.5 });
    schedule2.loadStateDict(loaded.trainingState!.schedule!);
    await resumed.fit(x, y, { ...opts, schedule: schedule2, resumeFrom: loaded.trainingState as unknown as FitPosition });
    for (const [k, v] of Object.entries(full.stateDict())) expect(Array.from(resumed.stateDict()[k].data), k).toEqual(Array.from(v.data));
  });

  it('validates its options', () => {
    expect(() => new Checkpoint(makeModel(), { dir: '' })).toThrow(/dir \(a folder path\) is required/);
    expect(() => new Checkpoint(makeModel(), { dir: tmp(), every: 0 })).toThrow(/every must be an integer >= 1, got 0/);
    // everySteps 0 is accepted (the default: no step checkpoints), so the message must not claim >= 1.
    expect(() => new Checkpoint(makeModel(), { dir: tmp(), everySteps: -1 })).toThrow('Checkpoint: everySteps must be an integer >= 0 (0: only at epoch ends), got -1');
    expect(new Checkpoint(makeModel(), { dir: tmp(), everySteps: 0 }).everySteps).toBe(0);
    expect(() => new Checkpoint(makeModel(), { dir: tmp(), monitor: 'val_acc' as never })).toThrow(/monitor/);
  });
});
