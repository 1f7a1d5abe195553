import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/losses/index.js';
import '../../src/optimizers/index.js';
import { Dense } from '../../src/layers/dense.js';
import { Sequential } from '../../src/model/sequential.js';
import type { EpochLogs, TrainingControl } from '../../src/train/callbacks.js';
import { CsvLogger } from '../../src/train/csv-logger.js';
import { parseCsv } from '../../src/train/csv.js';
import { EarlyStopping } from '../../src/train/early-stopping.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomTensor, testRng } from '../util/rng.js';

function tinyModel(lr = 0.1): Sequential {
  const m = new Sequential([new Dense({ units: 3 })], { inputShape: [4], seed: 1 });
  m.compile({ optimizer: { name: 'sgd', lr }, loss: 'cross-entropy' });
  return m;
}

function tinyData(n = 24): { x: Tensor; y: Tensor } {
  const rng = testRng(3);
  const x = randomTensor([n, 4], rng);
  const y = new Tensor(Float32Array.from({ length: n }, (_, i) => i % 3), [n]);
  return { x, y };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'tk-cb-'));

function logs(epoch: number, valLoss: number, extra: Partial<EpochLogs> = {}): EpochLogs {
  return { epoch, epochs: 10, loss: 1, accuracy: 0.5, valLoss, valAccuracy: 0.5, seconds: 0, lr: 0.1, ...extra };
}

function control(): TrainingControl & { stopped: boolean } {
  const c = { stopped: false, stop() { c.stopped = true; }, position: () => { throw new Error('not used'); } };
  return c;
}

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without an improvement larger than minDelta (scripted values)', () => {
    const model = tinyModel();
    const es = new EarlyStopping(model, { patience: 2, minDelta: 0.05 });
    const c = control();
    es.onTrainBegin();
    // 1.0 best; 0.97 is within minDelta (no improvement, wait 1); 0.9 improves (wait 0); 0.88, 0.87 do not → stop at epoch 4.
    [1.0, 0.97, 0.9, 0.88, 0.87].forEach((v, e) => {
      if (!c.stopped) es.onEpochEnd(logs(e, v), c);
    });
    expect(c.stopped).toBe(true);
    expect(es.stoppedEpoch).toBe(4);
    expect(es.bestEpoch).toBe(2);
    expect(es.best).toBe(0.9);
  });

  it('maximises accuracies and restores the weights of the best epoch at train end', () => {
    const model = tinyModel();
    const es = new EarlyStopping(model, { monitor: 'valAccuracy', patience: 1 });
    const c = control();
    const w = model.params()[0].value.data;
    es.onTrainBegin();
    w.fill(1);
    es.onEpochEnd(logs(0, NaN, { valAccuracy: 0.6 }), c); // best, weights = 1
    w.fill(2);
    es.onEpochEnd(logs(1, NaN, { valAccuracy: 0.55 }), c); // worse → stop
    expect(c.stopped).toBe(true);
    es.onTrainEnd();
    expect(es.restored).toBe(true);
    expect(Array.from(w).every((v) => v === 1)).toBe(true);
  });

  it('stops a real fit with lr 0 (validation loss never improves) after patience + 1 epochs', async () => {
    const model = tinyModel(0);
    const { x, y } = tinyData();
    const es = new EarlyStopping(model, { patience: 2 });
    const history = await model.fit(x, y, { epochs: 10, batchSize: 8, validationData: [x, y], callbacks: [es] });
    expect(history.epoch.loss.length).toBe(3);
    expect(es.bestEpoch).toBe(0);
    expect(es.restored).toBe(true); // last epoch was not the best, so the (identical) best weights were loaded
  });

  it('checks its options and complains about NaN monitors', () => {
    const model = tinyModel();
    expect(() => new EarlyStopping(model, { monitor: 'val_loss' as never })).toThrow(/monitor must be one of valLoss, valAccuracy, loss, accuracy, got "val_loss"/);
    expect(() => new EarlyStopping(model, { patience: -1 })).toThrow(/patience must be an integer >= 0/);
    expect(() => new EarlyStopping({} as never)).toThrow(/must be the model/);
    const es = new EarlyStopping(model);
    expect(() => es.onEpochEnd(logs(0, NaN), control())).toThrow(/valLoss is NaN at epoch 1/);
  });
});

describe('callback states (resume)', () => {
  it('EarlyStopping: getState carries best, wait and the best weights; setState on a fresh callback continues exactly', () => {
    const model = tinyModel();
    const w = model.params()[0].value.data;
    const a = new EarlyStopping(model, { patience: 3 });
    const c = control();
    a.onTrainBegin();
    w.fill(1);
    a.onEpochEnd(logs(0, 0.5), c); // best, weights 1
    w.fill(2);
    a.onEpochEnd(logs(1, 0.7), c); // wait 1
    const state = a.getState();
    expect(state).toMatchObject({ monitor: 'valLoss', best: 0.5, bestEpoch: 0, wait: 1, lastEpoch: 1, stoppedEpoch: -1 });
    expect(Array.from(state.tensors!['0.weight'].data).every((v) => v === 1)).toBe(true);
    // A fresh callback (a resumed process) restored from the state stops where the first one would.
    const b = new EarlyStopping(model, { patience: 3 });
    b.onTrainBegin();
    b.setState(state);
    for (const [es, ctl] of [[a, c], [b, control()]] as const) {
      es.onEpochEnd(logs(2, 0.6), ctl);
      expect(ctl.stopped).toBe(false);
      es.onEpochEnd(logs(3, 0.55), ctl);
      expect(ctl.stopped).toBe(true);
      expect([es.stoppedEpoch, es.bestEpoch]).toEqual([3, 0]);
    }
    b.onTrainEnd();
    expect(b.restored).toBe(true);
    expect(Array.from(w).every((v) => v === 1)).toBe(true);
    // A state saved after the stopping epoch (a checkpoint at its end) stops a resumed run at once.
    const again = new EarlyStopping(model, { patience: 3 });
    again.onTrainBegin();
    again.setState(a.getState());
    const ctl = control();
    again.onEpochBegin(4, ctl);
    expect(ctl.stopped).toBe(true);
  });

  it('EarlyStopping.setState names a wrong or missing field', () => {
    const model = tinyModel();
    const es = new EarlyStopping(model, { patience: 3 });
    const good = { monitor: 'valLoss', best: 0.5, bestEpoch: 0, wait: 1, lastEpoch: 1, stoppedEpoch: -1, tensors: model.stateDict() };
    expect(() => es.setState({ ...good, monitor: 'loss' })).toThrow('EarlyStopping: the saved state\'s monitor "loss" differs from this callback\'s "valLoss"');
    expect(() => es.setState({ ...good, wait: -1 })).toThrow('EarlyStopping: the saved state\'s wait must be an integer, got -1');
    expect(() => es.setState({ ...good, best: 'x' })).toThrow(/best must be a number, got "x"/);
    const { tensors: _t, ...noWeights } = good;
    expect(() => es.setState(noWeights)).toThrow(/best weights are missing \(restoreBestWeights is on\)/);
    expect(() => es.setState({ ...good, tensors: { w: [1, 2] as never } })).toThrow(/tensor "w" is not a Tensor/);
  });

  it('CsvLogger: a resumed run keeps the rows up to its position and cuts off the rest', async () => {
    const dir = tmp();
    const epochFile = join(dir, 'e.csv');
    const batchFile = join(dir, 'b.csv');
    const model = tinyModel();
    const { x, y } = tinyData(20);
    const logger = new CsvLogger({ epochFile, batchFile });
    let saved: ReturnType<CsvLogger['getState']> | null = null;
    let position: ReturnType<TrainingControl['position']> | null = null;
    const keep = { onBatchEnd: (l: { step: number }, c: TrainingControl) => { if (l.step === 4) { position = c.position(); saved = position.callbacks!.csvLogger; } } };
    await model.fit(x, y, { epochs: 3, batchSize: 8, callbacks: [logger, keep] });
    // At step 4 (epoch 2, batch 1) the files held epoch 1's row and batch rows 1-4 (pending rows flushed).
    expect(saved).toEqual({ epochBytes: expect.any(Number), batchBytes: expect.any(Number) });
    const full = readFileSync(batchFile, 'utf8').split('\n');
    expect(full.length - 2).toBe(9);
    const resumed = new CsvLogger({ epochFile, batchFile });
    resumed.onTrainBegin(undefined, { stop() {}, position: () => position! });
    expect(readFileSync(batchFile, 'utf8').split('\n').length - 2).toBe(9); // not truncated by onTrainBegin
    resumed.setState(saved!);
    expect(parseCsv(readFileSync(batchFile, 'utf8')).slice(1).map((r) => Number(r[0]))).toEqual([1, 2, 3, 4]);
    expect(parseCsv(readFileSync(epochFile, 'utf8')).slice(1).map((r) => Number(r[0]))).toEqual([1]);
    expect(() => resumed.setState({ epochBytes: -3, batchBytes: 0 })).toThrow('CsvLogger: the saved state\'s epochBytes must be a byte count, got -3');
  });
});

describe('CsvLogger', () => {
  it('writes one row per epoch and per batch, matching the fit history', async () => {
    const dir = tmp();
    const model = tinyModel();
    const { x, y } = tinyData(20);
    const logger = new CsvLogger({ epochFile: join(dir, 'sub', 'epochs.csv'), batchFile: join(dir, 'batches.csv') });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 8, validationData: [x, y], callbacks: [logger] });
    const epochs = parseCsv(readFileSync(join(dir, 'sub', 'epochs.csv'), 'utf8'));
    expect(epochs[0]).toEqual(['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds', 'lr']);
    expect(epochs.length).toBe(3);
    epochs.slice(1).forEach((r, e) => {
      expect(Number(r[0])).toBe(e + 1);
      expect(Number(r[1])).toBe(history.epoch.loss[e]);
      expect(Number(r[3])).toBe(history.epoch.valLoss[e]);
    });
    const batches = parseCsv(readFileSync(join(dir, 'batches.csv'), 'utf8'));
    expect(batches[0]).toEqual(['step', 'epoch', 'batch', 'loss', 'accuracy']);
    // 20 rows in batches of 8 → 3 batches per epoch, 6 in all.
    expect(batches.slice(1).map((r) => r.slice(0, 3).map(Number))).toEqual([[1, 1, 1], [2, 1, 2], [3, 1, 3], [4, 2, 1], [5, 2, 2], [6, 2, 3]]);
    batches.slice(1).forEach((r, i) => expect(Number(r[3])).toBe(history.batch.loss[i]));
  });
});
