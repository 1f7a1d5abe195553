import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, createSchedule, readTrainingState, Dense, loadModel, Rng, saveModel, Sequential, Tanh, Tensor, type FitPosition } from '../../src/index.js';
import { BIG_CKPT, BIG_FIT, bigData, makeBigModel } from './checkpoint-setup.js';

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

/** Trains `model` from the position saved in `path` for `epochs` more epochs, with a fresh Checkpoint on `dir`. */
async function resume(path: string, dir: string, options: ConstructorParameters<typeof Checkpoint>[1], fit: { epochs: number; batchSize: number; seed?: number; validationSplit?: number },
  x: Tensor, y: Tensor, more: number, spy?: { onTrainBegin(): void }): Promise<Checkpoint> {
  const loaded = loadModel(path);
  loaded.model.compile({ optimizer: loaded.optimizer!, loss: 'cross-entropy' });
  const ck = new Checkpoint(loaded.model, { ...options, dir });
  const start = loaded.trainingState!.epoch;
  const stopper = { onEpochEnd: (logs: { epoch: number }, control: { stop(): void }) => { if (logs.epoch + 1 >= start + more) control.stop(); } };
  await loaded.model.fit(x, y, { ...fit, resumeFrom: loaded.trainingState as unknown as FitPosition, callbacks: [ck, ...(spy ? [spy] : []), stopper] });
  return ck;
}

describe('Checkpoint across a stop and resume', () => {
  it('keepLast counts the epoch files already in the folder: a resumed run leaves the newest K in all', async () => {
    const dir = tmp();
    const { x, y } = data();
    const fit = { epochs: 20, batchSize: 8, seed: 1 };
    const first = makeModel();
    const stopAt4 = { onEpochEnd: (logs: { epoch: number }, control: { stop(): void }) => { if (logs.epoch === 3) control.stop(); } };
    await first.fit(x, y, { ...fit, callbacks: [new Checkpoint(first, { dir, keepLast: 2 }), stopAt4] });
    expect(readdirSync(dir).filter((f) => f.startsWith('epoch-')).sort()).toEqual(['epoch-0003.safetensors', 'epoch-0004.safetensors']);
    const ck = await resume(join(dir, 'last.safetensors'), dir, { dir, keepLast: 2 }, fit, x, y, 3);
    expect(readdirSync(dir).filter((f) => f.startsWith('epoch-')).sort()).toEqual(['epoch-0006.safetensors', 'epoch-0007.safetensors']);
    expect(ck.saved.map((p) => p.slice(dir.length + 1))).toEqual(['epoch-0006.safetensors', 'epoch-0007.safetensors']);
  });

  it('a position without the Checkpoint state (an older file): the best value is read back from best.safetensors, and a resumed run replaces it only with a better epoch', async () => {
    const { x, y } = data();
    const fit = { epochs: 20, batchSize: 8, seed: 1 };
    for (const recorded of [1e-6, 1e6]) {
      const dir = tmp();
      const first = makeModel();
      const stopAt2 = { onEpochEnd: (logs: { epoch: number }, control: { stop(): void }) => { if (logs.epoch === 1) control.stop(); } };
      await first.fit(x, y, { ...fit, callbacks: [new Checkpoint(first, { dir, monitor: 'loss' }), stopAt2] });
      // The first run's best, as it would be on disk: epoch 2 with the recorded loss.
      const bestPath = join(dir, 'best.safetensors');
      const before = loadModel(bestPath).trainingState!;
      saveModel(first, bestPath, { optimizer: first.optimizer!, trainingState: { ...before, metrics: { ...(before.metrics as object), epoch: 2, best: recorded } } });
      const bytes = readFileSync(bestPath);
      // An older last.safetensors: its position has no callback states.
      const lastPath = join(dir, 'last.safetensors');
      const last = loadModel(lastPath);
      const { callbacks: _states, ...olderPosition } = last.trainingState!;
      saveModel(last.model, lastPath, { optimizer: last.optimizer!, trainingState: olderPosition });
      let atStart = NaN;
      let ck: Checkpoint | null = null;
      const spy = { onTrainBegin: () => { atStart = ck!.best; } };
      const loaded = loadModel(join(dir, 'last.safetensors'));
      loaded.model.compile({ optimizer: loaded.optimizer!, loss: 'cross-entropy' });
      ck = new Checkpoint(loaded.model, { dir, monitor: 'loss' });
      const stopAt5 = { onEpochEnd: (logs: { epoch: number }, control: { stop(): void }) => { if (logs.epoch === 4) control.stop(); } };
      await loaded.model.fit(x, y, { ...fit, resumeFrom: loaded.trainingState as unknown as FitPosition, callbacks: [ck, spy, stopAt5] });
      expect(atStart).toBe(recorded);
      if (recorded === 1e-6) {
        // Nothing the resumed epochs reach beats it: the file and the record stay.
        expect(ck.best).toBe(1e-6);
        expect(ck.bestEpoch).toBe(2);
        expect(readFileSync(bestPath).equals(bytes)).toBe(true);
      } else {
        // Any real loss beats 1e6: the first resumed epoch (3) replaces it, the last one (5, loss still falling) ends best.
        expect(ck.bestEpoch).toBe(5);
        expect(ck.best).toBeLessThan(2);
        const saved = loadModel(bestPath).trainingState!;
        expect(saved.monitor).toBe('loss');
        expect((saved.metrics as { epoch: number; best: number }).epoch).toBe(5);
        expect((saved.metrics as { best: number }).best).toBe(ck.best);
      }
    }
  });

  it('the best record comes from the resumed position, not from a best.safetensors written later (a resume from an older checkpoint)', async () => {
    const { x, y } = data();
    const fit = { epochs: 20, batchSize: 8, seed: 1 };
    const dir = tmp();
    const first = makeModel();
    const stopAt4 = { onEpochEnd: (logs: { epoch: number }, control: { stop(): void }) => { if (logs.epoch === 3) control.stop(); } };
    await first.fit(x, y, { ...fit, callbacks: [new Checkpoint(first, { dir, monitor: 'loss', keepLast: 5 }), stopAt4] });
    const atEpoch2 = loadModel(join(dir, 'epoch-0002.safetensors')).trainingState!;
    expect((atEpoch2.callbacks as Record<string, { bestEpoch: number }>).checkpoint.bestEpoch).toBe(2);
    // best.safetensors now holds epoch 4 (the loss keeps falling); resume from epoch 2's file.
    expect((readTrainingState(join(dir, 'best.safetensors'))!.metrics as { epoch: number }).epoch).toBe(4);
    let atResume = NaN;
    let ck: Checkpoint | null = null;
    const spy = { onEpochBegin: () => { if (Number.isNaN(atResume)) atResume = ck!.bestEpoch; } };
    const loaded = loadModel(join(dir, 'epoch-0002.safetensors'));
    loaded.model.compile({ optimizer: loaded.optimizer!, loss: 'cross-entropy' });
    ck = new Checkpoint(loaded.model, { dir, monitor: 'loss', keepLast: 5 });
    await loaded.model.fit(x, y, { ...fit, resumeFrom: loaded.trainingState as unknown as FitPosition, callbacks: [ck, spy, stopAt4] });
    expect(atResume).toBe(2);
    // Epochs 3 and 4 are replayed, each better than the last: the record and the file end at epoch 4,
    // with the bits of the uninterrupted run's.
    expect(ck.bestEpoch).toBe(4);
    const best = loadModel(join(dir, 'best.safetensors'));
    const sd = best.model.stateDict();
    for (const [k, v] of Object.entries(first.stateDict())) expect(Array.from(sd[k].data), k).toEqual(Array.from(v.data));
  });

  it('a fresh (not resumed) run does not inherit the best of an earlier run in the folder', async () => {
    const dir = tmp();
    const { x, y } = data();
    const a = makeModel();
    await a.fit(x, y, { epochs: 2, batchSize: 8, callbacks: [new Checkpoint(a, { dir, monitor: 'loss' })] });
    const b = makeModel();
    const ck = new Checkpoint(b, { dir, monitor: 'loss' });
    let atStart = 0;
    await b.fit(x, y, { epochs: 1, batchSize: 8, callbacks: [ck, { onTrainBegin: () => { atStart = ck.best; } }] });
    expect(atStart).toBeNaN();
    expect(ck.bestEpoch).toBe(1);
  });

  it('a training process killed with SIGKILL mid-save: the resumed Checkpoint removes its temporary files and keeps keepLast epoch files', async () => {
    const dir = tmp();
    const child = new URL('./checkpoint-child.ts', import.meta.url).pathname;
    const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    let leftovers: string[] = [];
    // A kill can land between two saves; try again (at most 5 times) until one leaves a temporary file.
    for (let attempt = 0; attempt < 5 && leftovers.length === 0; attempt++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (!proc.killed && /epoch 3\n/.test(out)) {
            // Kill while a save's temporary file exists (saves run back to back, so one soon does).
            const deadline = Date.now() + 10_000;
            while (Date.now() < deadline && temps().length === 0) { /* poll */ }
            proc.kill('SIGKILL');
          }
        });
        proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
      });
      leftovers = temps();
    }
    expect(leftovers.length).toBeGreaterThan(0);
    const epochFiles = () => readdirSync(dir).filter((f) => f.startsWith('epoch-')).sort();
    const { x, y } = bigData();
    let tempsAtStart: string[] = ['not called'];
    const ck = await resume(join(dir, 'last.safetensors'), dir, { dir, ...BIG_CKPT }, BIG_FIT, x, y, 2, { onTrainBegin: () => { tempsAtStart = temps(); } });
    expect(tempsAtStart).toEqual([]);
    expect(temps()).toEqual([]);
    expect(epochFiles()).toHaveLength(BIG_CKPT.keepLast);
    expect(ck.saved).toHaveLength(BIG_CKPT.keepLast);
    // The killed run's best was read back (not restarted), and the resumed epochs only improved it.
    expect(Number.isNaN(ck.best)).toBe(false);
    const bestState = loadModel(ck.bestPath).trainingState!;
    expect((bestState.metrics as { best: number }).best).toBe(ck.best);
  }, 120_000);
});
