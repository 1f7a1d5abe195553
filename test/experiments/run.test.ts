// Run tracking: folder layout, readable de-duplicated names, metric lines readable while running, summary values.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { abbreviate, createRun, runNameFromParams } from '../../src/experiments/run.js';
import { epochSeries, listRuns, readMetrics, runsToCsv } from '../../src/experiments/store.js';
import { parseCsv } from '../../src/train/csv.js';
import type { TrainingControl } from '../../src/train/callbacks.js';

const control = { stop() {}, position() { throw new Error('unused'); } } as unknown as TrainingControl;

describe('run names', () => {
  it('abbreviates parameter names and joins values readably', () => {
    expect(abbreviate('hidden_layers')).toBe('hl');
    expect(abbreviate('batchSize')).toBe('bs');
    expect(abbreviate('activation')).toBe('ac');
    expect(runNameFromParams({ hidden_layers: 3, batch_size: 16, activation: 'tanh' })).toBe('hl_3_bs_16_ac_tanh');
    expect(runNameFromParams({ kernel_sizes: [3, 5], learning_rate: 0.0001, quick: true, pair: { lr: 0.01, m: 0.9 } })).toBe('ks_3-5_lr_1.0e-4_pa_0.01-0.9');
    expect(runNameFromParams({ note: 'a/b c' })).toBe('no_abc');
    expect(runNameFromParams({})).toBe('run');
  });
});

describe('createRun', () => {
  it('writes params, env, metric lines and summary; names are de-duplicated; lists and exports read them back', () => {
    const root = mkdtempSync(join(tmpdir(), 'tk-run-'));
    const run = createRun({ root, params: { hidden_layers: 3, batch_size: 16, activation: 'tanh' }, targetAccuracy: 0.6, targetWindow: 2, threads: 2 });
    expect(run.dir).toBe(join(root, 'hl_3_bs_16_ac_tanh'));
    expect(createRun({ root, params: { hidden_layers: 3, batch_size: 16, activation: 'tanh' } }).dir).toBe(join(root, 'hl_3_bs_16_ac_tanh-2'));
    expect(createRun({ root, name: 'custom', params: { a: 1 } }).dir).toBe(join(root, 'custom'));
    expect(existsSync(run.artifacts)).toBe(true);
    expect(JSON.parse(readFileSync(join(run.dir, 'params.json'), 'utf8'))).toEqual({ hidden_layers: 3, batch_size: 16, activation: 'tanh' });
    const env = JSON.parse(readFileSync(join(run.dir, 'env.json'), 'utf8'));
    expect(env).toMatchObject({ node: process.version, threads: 2 });
    expect(env.tensorkit).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.git === null || /^[0-9a-f]{40}(-dirty)?$/.test(env.git)).toBe(true);

    const cb = run.callback();
    cb.onTrainBegin?.({ epochs: 2, batches: 2, samples: 4 }, control);
    // Running accuracy over a window of 2 batches: (0.5+0.5)/2 < 0.6, then (0.5+0.7)/2 = 0.6 reaches the target.
    cb.onBatchEnd?.({ epoch: 0, batch: 0, batches: 2, step: 1, loss: 2, accuracy: 0.5 }, control);
    cb.onBatchEnd?.({ epoch: 0, batch: 1, batches: 2, step: 2, loss: 1.5, accuracy: 0.5 }, control);
    expect(run.getSummary().time_to_target).toBeUndefined();
    cb.onEpochEnd?.({ epoch: 0, epochs: 2, loss: 1.7, accuracy: 0.5, valLoss: 1.6, valAccuracy: 0.55, seconds: 0.1, lr: 0.01 }, control);
    cb.onBatchEnd?.({ epoch: 1, batch: 0, batches: 2, step: 3, loss: 1.2, accuracy: 0.7 }, control);
    expect(run.getSummary().time_to_target).toBeGreaterThanOrEqual(0);
    // A writer mid-line: readers skip the partial last line.
    appendFileSync(join(run.dir, 'metrics.jsonl'), '{"type":"batch","ste');
    expect(readMetrics(run.dir).map((l) => l.type)).toEqual(['batch', 'batch', 'epoch', 'batch']);
    const live = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8'));
    expect(live).toMatchObject({ status: 'running', epochs: 1, val_accuracy: 0.55, best_val_accuracy: 0.55, best_epoch: 1 });
    appendFileSync(join(run.dir, 'metrics.jsonl'), 'p":4}\n'); // the line completes; now it is whole
    cb.onEpochEnd?.({ epoch: 1, epochs: 2, loss: 1.1, accuracy: 0.7, valLoss: 1.2, valAccuracy: 0.5, seconds: 0.1, lr: 0.01 }, control);
    run.finish({ test_accuracy: 0.52 });
    expect(() => run.finish()).toThrow('finish called twice');
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'finished', epochs: 2, steps: 3, val_accuracy: 0.5, best_val_accuracy: 0.55, best_epoch: 1, test_accuracy: 0.52, target_accuracy: 0.6 });
    expect(summary.train_seconds).toBeGreaterThanOrEqual(summary.time_to_target);
    expect(epochSeries(run.dir)).toMatchObject({ epoch: [1, 2], val_accuracy: [0.55, 0.5], loss: [1.7, 1.1] });

    const runs = listRuns(root);
    expect(runs.map((r) => r.name)).toEqual(['custom', 'hl_3_bs_16_ac_tanh', 'hl_3_bs_16_ac_tanh-2']);
    const csv = parseCsv(runsToCsv(runs));
    expect(csv[0].slice(0, 2)).toEqual(['name', 'params.a']);
    expect(csv[0]).toContain('metrics.test_accuracy');
    expect(csv[2][csv[0].indexOf('metrics.test_accuracy')]).toBe('0.52');
    expect(csv[2][csv[0].indexOf('params.activation')]).toBe('tanh');
  });

  it('rejects bad options by name', () => {
    expect(() => createRun({ params: {} })).toThrow('createRun: give root (runs folder) or dir (run folder)');
    const root = mkdtempSync(join(tmpdir(), 'tk-run-'));
    expect(() => createRun({ root, params: {}, targetAccuracy: 1.5 })).toThrow('targetAccuracy must be in (0, 1], got 1.5');
  });
});

describe('safe run folder names (issue 13: paths outside --out)', () => {
  it('reduces a name to one segment without separators, dot segments or leading dots', async () => {
    const { safeSegment } = await import('../../src/experiments/run.js');
    expect(safeSegment('../../escape')).toBe('escape');
    expect(safeSegment('a/b c')).toBe('a-b c');
    expect(safeSegment('My sweep: v2?')).toBe('My sweep_ v2_');
    expect(safeSegment('nul\u0000byte')).toBe('nul_byte');
    expect(safeSegment(' . /x')).toBe('x');
    expect(safeSegment('..\\..\\win')).toBe('win');
    expect(safeSegment('/etc/passwd')).toBe('etc-passwd');
    expect(safeSegment('.hidden')).toBe('hidden');
    expect(safeSegment('-rf')).toBe('rf');
    expect(safeSegment('ok.name_1-2')).toBe('ok.name_1-2');
    expect(safeSegment('../..')).toBe('');
    expect(safeSegment('x'.repeat(300))).toHaveLength(120);
  });

  it('createRun keeps a hostile name inside root, and refuses one with nothing usable', () => {
    const parent = mkdtempSync(join(tmpdir(), 'tk-run-safe-'));
    const root = join(parent, 'root');
    const run = createRun({ root, name: '../../outside', params: {} });
    expect(run.dir).toBe(join(root, 'outside'));
    run.finish();
    expect(() => createRun({ root, name: '../', params: {} })).toThrow(/has no usable characters/);
    expect(existsSync(join(parent, 'outside'))).toBe(false);
  });
});

describe('run owner and effective status (issue 13: killed runs)', () => {
  const repo = new URL('../..', import.meta.url).pathname;
  const runModule = new URL('../../src/experiments/run.ts', import.meta.url).pathname;

  /** Creates a run in a child process that logs an epoch, optionally records an error, then dies by SIGKILL. */
  function killedRun(root: string, name: string, error?: string): string {
    const script = `import { createRun } from ${JSON.stringify(runModule)};
const run = createRun({ root: ${JSON.stringify(root)}, name: ${JSON.stringify(name)}, params: { optimizer: 'adam' } });
run.logEpoch({ epoch: 0, epochs: 5, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 1, lr: 0.1 });
${error ? `run.recordError(${JSON.stringify(error)});` : ''}
process.kill(process.pid, 'SIGKILL');
`;
    const file = join(root, `${name}.mts`);
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', cwd: repo });
    expect(r.signal).toBe('SIGKILL');
    return join(root, name);
  }

  it('records pid, host and start time; a live owner reads as running', async () => {
    const { hostname } = await import('node:os');
    const { readRun } = await import('../../src/experiments/store.js');
    const root = mkdtempSync(join(tmpdir(), 'tk-owner-'));
    const run = createRun({ root, name: 'live', params: {} });
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'running', owner_pid: process.pid, owner_host: hostname() });
    expect(typeof summary.owner_start).toBe('string');
    expect(readRun(run.dir).metrics.status).toBe('running');
    run.finish();
    expect(readRun(run.dir).metrics.status).toBe('finished');
  });

  it('a run whose process was killed reads as killed, or crashed when it recorded an error', async () => {
    const { readRun, effectiveStatus } = await import('../../src/experiments/store.js');
    const root = mkdtempSync(join(tmpdir(), 'tk-owner-'));
    const killed = killedRun(root, 'killed');
    const crashed = killedRun(root, 'crashed', 'out of memory');
    // On disk the runs still say running; readers correct that.
    expect(JSON.parse(readFileSync(join(killed, 'summary.json'), 'utf8')).status).toBe('running');
    expect(readRun(killed).metrics).toMatchObject({ status: 'killed', recorded_status: 'running', epochs: 1 });
    expect(readRun(crashed).metrics).toMatchObject({ status: 'crashed', error: 'out of memory' });
    expect(listRuns(root).map((r) => [r.name, r.metrics.status])).toEqual([['crashed', 'crashed'], ['killed', 'killed']]);
    // Another host's run cannot be checked: it stays running. A reused pid with another start time is dead.
    expect(effectiveStatus({ status: 'running', owner_pid: 1, owner_host: 'some-other-host', owner_start: '1' })).toBe('running');
    if (process.platform === 'linux') expect(effectiveStatus({ status: 'running', owner_pid: process.pid, owner_host: (await import('node:os')).hostname(), owner_start: 'not-this-start' })).toBe('killed');
  }, 30_000);
});

describe('run heartbeat', () => {
  it('rewrites summary.json during long epochs (at most HEARTBEAT_SECONDS apart while batches run)', async () => {
    const { HEARTBEAT_SECONDS } = await import('../../src/experiments/run.js');
    const { vi } = await import('vitest');
    vi.useFakeTimers({ toFake: ['performance', 'Date'] });
    try {
      const root = mkdtempSync(join(tmpdir(), 'tk-heartbeat-'));
      const run = createRun({ root, name: 'hb', params: {} });
      const read = () => JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8'));
      const first = read().updated_at;
      run.logBatch({ epoch: 0, batch: 0, batches: 100, step: 1, loss: 1, accuracy: 0.5 });
      expect(read().updated_at).toBe(first); // no rewrite per batch
      vi.advanceTimersByTime((HEARTBEAT_SECONDS + 1) * 1000);
      run.logBatch({ epoch: 0, batch: 1, batches: 100, step: 2, loss: 1, accuracy: 0.5 });
      const beat = read();
      expect(beat.updated_at).not.toBe(first);
      expect(beat.steps).toBe(2);
      expect(beat.status).toBe('running');
      run.finish();
    } finally {
      vi.useRealTimers();
    }
  });
});
