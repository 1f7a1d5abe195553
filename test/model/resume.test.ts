import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSchedule, loadModel, Rng, saveModel, type FitPosition, type Sequential } from '../../src/index.js';
import { runUntilKilled } from '../util/kill-child.js';
import { compileFresh, fitOptions, makeData, makeModel } from './resume-setup.js';

const { x, y } = makeData();

async function uninterrupted(): Promise<Sequential> {
  const model = makeModel();
  await model.fit(x, y, fitOptions(compileFresh(model)));
  return model;
}

/** Loads a checkpoint file and trains to the end from the position it holds. */
async function resumeFrom(path: string): Promise<Sequential> {
  const loaded = loadModel(path);
  const { model, optimizer, trainingState } = loaded;
  expect(optimizer).toBeDefined();
  model.compile({ optimizer: optimizer!, loss: 'cross-entropy' });
  const schedule = createSchedule('exponential', optimizer!, { gamma: 0.97 });
  schedule.loadStateDict(trainingState!.schedule as Record<string, number>);
  await model.fit(x, y, { ...fitOptions(schedule), resumeFrom: trainingState as unknown as FitPosition });
  return model;
}

function expectSameWeights(a: Sequential, b: Sequential): void {
  const sa = a.stateDict();
  const sb = b.stateDict();
  expect(Object.keys(sb)).toEqual(Object.keys(sa));
  for (const k of Object.keys(sa)) expect(Array.from(sb[k].data), k).toEqual(Array.from(sa[k].data));
}

describe('checkpoint and resume', () => {
  it('resumes bit-identically from a mid-epoch and from an epoch-end checkpoint (dropout, schedule, validation split)', async () => {
    const reference = await uninterrupted();
    const dir = mkdtempSync(join(tmpdir(), 'tk-resume-'));
    // 48 training samples / batch 8 = 6 batches per epoch: step 15 is mid-epoch 3, step 18 ends it.
    for (const stopAt of [15, 18]) {
      const path = join(dir, `ckpt-${stopAt}.safetensors`);
      const model = makeModel();
      const schedule = compileFresh(model);
      await model.fit(x, y, {
        ...fitOptions(schedule),
        callbacks: [{
          onBatchEnd(logs, control) {
            if (logs.step !== stopAt) return;
            const position = control.position();
            expect(position).toMatchObject(stopAt === 18 ? { epoch: 2, batch: 6, step: 18 } : { epoch: 2, batch: 3, step: 15 });
            saveModel(model, path, { optimizer: model.optimizer!, trainingState: { ...position, schedule: schedule.stateDict() } });
            control.stop();
          },
        }],
      });
      expectSameWeights(await resumeFrom(path), reference);
    }
  });

  it('rejects a resume position outside the run', async () => {
    const model = makeModel();
    const schedule = compileFresh(model);
    const bad: FitPosition = { epoch: 99, batch: 0, step: 0, shuffleRng: new Rng(1).getState(), modelRng: new Rng(1).getState() };
    await expect(model.fit(x, y, { ...fitOptions(schedule), resumeFrom: bad })).rejects.toThrow(/resumeFrom position epoch 99, batch 0 is outside 40 epochs of 6 batches/);
  });

  it('a training process killed with SIGKILL at a random step resumes from its last checkpoint bit-identically', async () => {
    const reference = await uninterrupted();
    const dir = mkdtempSync(join(tmpdir(), 'tk-kill-'));
    const path = join(dir, 'ckpt.safetensors');
    const killAfter = 20 + new Rng(Date.now() % 100000).int(150);
    const lastSaved = await runUntilKilled(new URL('./resume-child.ts', import.meta.url).pathname, [path], /^saved (\d+)$/, killAfter);
    expect(lastSaved).toBeGreaterThanOrEqual(killAfter);
    const resumed = await resumeFrom(path);
    expectSameWeights(resumed, reference);
  }, 60_000);
});

describe('augmentation in fit', () => {
  it('augments image batches reproducibly and resumes exactly with augmentation on', async () => {
    const { Conv2D, Flatten, ReLU, Dense: D, Sequential: S, Tensor: T } = await import('../../src/index.js');
    const rng = new Rng(5);
    const imgs = new Float32Array(24 * 1 * 8 * 8);
    for (let i = 0; i < imgs.length; i++) imgs[i] = rng.next();
    const xs = new T(imgs, [24, 1, 8, 8]);
    const ys = new T(Float32Array.from({ length: 24 }, (_, i) => i % 2), [24]);
    const make = () => {
      const m = new S([new Conv2D({ filters: 2, kernelSize: 3 }), new ReLU(), new Flatten(), new D({ units: 2 })], { inputShape: [1, 8, 8], seed: 2 });
      m.compile({ optimizer: { name: 'sgd', lr: 0.1 }, loss: 'cross-entropy' });
      return m;
    };
    const opts = { epochs: 3, batchSize: 5, seed: 8, augment: { shift: 2, rotate: 10, flip: true } };
    const a = make();
    const b = make();
    const plain = make();
    await a.fit(xs, ys, opts);
    await b.fit(xs, ys, opts);
    await plain.fit(xs, ys, { ...opts, augment: undefined });
    expectSameWeights(a, b);
    expect(Array.from(a.stateDict()['0.weight'].data)).not.toEqual(Array.from(plain.stateDict()['0.weight'].data));
    // Stop mid-epoch 2, resume in memory: same weights as the uninterrupted run.
    const c = make();
    let saved: { sd: ReturnType<Sequential['stateDict']>; opt: ReturnType<NonNullable<Sequential['optimizer']>['stateDict']>; pos: FitPosition } | null = null;
    await c.fit(xs, ys, { ...opts, callbacks: [{ onBatchEnd(logs, control) { if (logs.step === 7) { saved = { sd: c.stateDict(), opt: c.optimizer!.stateDict(), pos: control.position() }; control.stop(); } } }] });
    const d = make();
    d.loadStateDict(saved!.sd);
    d.optimizer!.loadStateDict(saved!.opt);
    await d.fit(xs, ys, { ...opts, resumeFrom: saved!.pos });
    expectSameWeights(d, a);
    const mlp = new S([new D({ units: 2 })], { inputShape: [6] });
    mlp.compile({ optimizer: 'sgd', loss: 'cross-entropy' });
    await expect(mlp.fit(new T(new Float32Array(24 * 6), [24, 6]), ys, opts)).rejects.toThrow(/augment needs images \[N, C, H, W\], got inputs \[24, 6\]/);
  });
});

describe('resume keeps the interrupted epoch\'s running loss', () => {
  it('a plateau schedule on the training loss sees the same epoch loss after a mid-epoch or last-batch resume', async () => {
    const { Dense: D, ReLU: R, Sequential: S, Tensor: T } = await import('../../src/index.js');
    const rng = new Rng(3);
    const xs = new T(Float32Array.from({ length: 12 * 4 }, () => rng.normal()), [12, 4]);
    const ys = new T(Float32Array.from({ length: 12 }, (_, i) => i % 3), [12]);
    const make = () => {
      const m = new S([new D({ units: 5 }), new R(), new D({ units: 3 })], { inputShape: [4], seed: 4 });
      m.compile({ optimizer: { name: 'sgd', lr: 0.2 }, loss: 'cross-entropy' });
      return { m, schedule: createSchedule('reduce-on-plateau', m.optimizer!, { patience: 0, factor: 0.5, threshold: 0 }) };
    };
    // 12 samples / batch 4 = 3 batches per epoch, no validation: the schedule steps on the epoch's training loss.
    const opts = { epochs: 4, batchSize: 4, seed: 6 };
    const ref = make();
    const refHistory = await ref.m.fit(xs, ys, { ...opts, schedule: ref.schedule });
    for (const stopAt of [5, 6]) { // mid-epoch 2, and after its last batch (before its end-of-epoch work)
      const a = make();
      let saved: { sd: ReturnType<Sequential['stateDict']>; opt: ReturnType<NonNullable<Sequential['optimizer']>['stateDict']>; sched: Record<string, number>; pos: FitPosition } | null = null;
      await a.m.fit(xs, ys, {
        ...opts, schedule: a.schedule,
        callbacks: [{ onBatchEnd(logs, control) { if (logs.step === stopAt) { saved = { sd: a.m.stateDict(), opt: a.m.optimizer!.stateDict(), sched: a.schedule.stateDict(), pos: control.position() }; control.stop(); } } }],
      });
      const b = make();
      b.m.loadStateDict(saved!.sd);
      b.m.optimizer!.loadStateDict(saved!.opt);
      b.schedule.loadStateDict(saved!.sched);
      const h = await b.m.fit(xs, ys, { ...opts, schedule: b.schedule, resumeFrom: saved!.pos });
      expect(h.epoch.loss, `stop at step ${stopAt}`).toEqual(refHistory.epoch.loss.slice(1));
      expect(h.epoch.accuracy, `stop at step ${stopAt}`).toEqual(refHistory.epoch.accuracy.slice(1));
      expect(h.epoch.lr, `stop at step ${stopAt}`).toEqual(refHistory.epoch.lr.slice(1));
      expectSameWeights(b.m, ref.m);
    }
  });
});

describe('stopping mid-epoch', () => {
  it('ends the run without finishing the epoch: no validation, schedule step or epoch-end callbacks', async () => {
    const model = makeModel();
    const schedule = compileFresh(model);
    const lrBefore = model.optimizer!.lr;
    const epochEnds: number[] = [];
    let positionAfterStop: FitPosition | null = null;
    const history = await model.fit(x, y, {
      ...fitOptions(schedule),
      callbacks: [{
        onBatchEnd(logs, control) {
          if (logs.step === 3) {
            control.stop();
            positionAfterStop = control.position();
          }
        },
        onEpochEnd(logs) { epochEnds.push(logs.epoch); },
      }],
    });
    expect(epochEnds).toEqual([]);
    expect(history.epoch.loss).toEqual([]);
    expect(history.batch.loss).toHaveLength(3);
    expect(model.optimizer!.lr).toBe(lrBefore);
    expect(positionAfterStop).toMatchObject({ epoch: 0, batch: 3, step: 3 });
  });
});

describe('resume position naming (shuffleRng / modelRng)', () => {
  it('reports shuffleRng and modelRng, and resumes bit-identically from files that call shuffleRng by its old names', async () => {
    const reference = await uninterrupted();
    const dir = mkdtempSync(join(tmpdir(), 'tk-names-'));
    const path = join(dir, 'mid.safetensors');
    const model = makeModel();
    const schedule = compileFresh(model);
    let position: FitPosition | null = null;
    await model.fit(x, y, {
      ...fitOptions(schedule),
      callbacks: [{
        onBatchEnd(logs, control) {
          if (logs.step !== 15) return;
          position = control.position();
          // The model's Rng has moved on (dropout masks) from its seed; fit's Rng state is the one at the epoch start.
          expect(position.modelRng).toEqual(model.getRngState());
          saveModel(model, path, { optimizer: model.optimizer!, trainingState: { ...position, schedule: schedule.stateDict() } });
          control.stop();
        },
      }],
    });
    const saved = position as unknown as FitPosition;
    expect(Object.keys(saved)).toEqual(expect.arrayContaining(['shuffleRng', 'modelRng']));
    expect(Object.keys(saved)).not.toContain('epochRng');
    expectSameWeights(await resumeFrom(path), reference);
    // The same checkpoint written under the former names: `epochRng` (older fit positions) and `rng` (TrainingState's old field).
    for (const oldName of ['epochRng', 'rng']) {
      const { model: m, optimizer, trainingState } = loadModel(path);
      const { shuffleRng, ...rest } = trainingState!;
      const legacyPath = join(dir, `legacy-${oldName}.safetensors`);
      saveModel(m, legacyPath, { optimizer, trainingState: { ...rest, [oldName]: shuffleRng } });
      expect(loadModel(legacyPath).trainingState).not.toHaveProperty('shuffleRng');
      expectSameWeights(await resumeFrom(legacyPath), reference);
    }
  });

  it('rejects a resume position without its Rng states, and a model file whose shuffleRng is not an Rng state', async () => {
    const model = makeModel();
    const schedule = compileFresh(model);
    const state = new Rng(1).getState();
    await expect(model.fit(x, y, { ...fitOptions(schedule), resumeFrom: { epoch: 1, batch: 0, step: 6, modelRng: state } as unknown as FitPosition }))
      .rejects.toThrow(/fit: resumeFrom has no shuffleRng/);
    await expect(model.fit(x, y, { ...fitOptions(schedule), resumeFrom: { epoch: 1, batch: 0, step: 6, shuffleRng: state } as unknown as FitPosition }))
      .rejects.toThrow(/fit: resumeFrom has no modelRng/);
    const path = join(mkdtempSync(join(tmpdir(), 'tk-badrng-')), 'bad.safetensors');
    expect(() => saveModel(model, path, { trainingState: { epoch: 1, step: 6, shuffleRng: { s: [1, 2], spare: null } as never } }))
      .toThrow(/trainingState shuffleRng must be an Rng state/);
  });
});
