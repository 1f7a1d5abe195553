// The shared sweep state in a real Redis: registration, the lock, bayes proposals from many clients at
// once without duplicates, hyperband decisions taken once, re-validation of what is read back, pull.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, parseRedisUrl } from '../../../src/experiments/distributed/connection.js';
import {
  assignTrial, checkTrialParams, hyperbandDecide, keys, markRunning, pullSweep, readMeta, readTrials, recordEnd, recordEpoch, storeSweep, sweepStatus, withLock,
} from '../../../src/experiments/distributed/store.js';
import { validateSweepConfig, type ValidateOptions } from '../../../src/experiments/sweep-config.js';
import { loadSweepState } from '../../../src/experiments/sweep.js';
import { REDIS_TESTS, startRedis, type TestRedis } from '../../util/redis.js';

const metric = { name: 'val_accuracy', goal: 'maximize' } as const;
const free = (): ValidateOptions => ({});

describe('checkTrialParams', () => {
  const config = validateSweepConfig({ method: 'random', metric, run_cap: 4, parameters: { lr: { distribution: 'log_uniform_values', min: 1e-4, max: 1e-1 }, n: { values: [1, 2] }, k: { min: 1, max: 3 } } });
  it('accepts values the parameters can take', () => {
    expect(checkTrialParams(config, { lr: 1e-3, n: 2, k: 3 })).toEqual({ lr: 1e-3, n: 2, k: 3 });
  });
  it('rejects values outside the sweep, unknown parameters and non-objects, naming the parameter', () => {
    expect(() => checkTrialParams(config, { lr: 5, n: 2, k: 1 })).toThrow(/trial parameter lr: value 5 is outside/);
    expect(() => checkTrialParams(config, { lr: 1e-3, n: 3, k: 1 })).toThrow(/trial parameter n: value 3 is outside the sweep's values \[1,2\]/);
    expect(() => checkTrialParams(config, { lr: 1e-3, n: 1, k: 1.5 })).toThrow(/trial parameter k/);
    expect(() => checkTrialParams(config, { lr: 1e-3, n: 1, k: 1, out: '/etc' })).toThrow(/trial parameter out: is not a parameter/);
    expect(() => checkTrialParams(config, 'lr=1')).toThrow(/must be an object/);
  });
});

describe.skipIf(!REDIS_TESTS)('sweep state in Redis', () => {
  let redis: TestRedis;
  let clients: Redis[];
  beforeAll(async () => {
    redis = await startRedis();
    const target = parseRedisUrl(redis.url);
    clients = await Promise.all([0, 1, 2, 3].map(() => connect(target, 5000)));
  });
  afterAll(async () => {
    for (const c of clients ?? []) c.disconnect();
    await redis?.stop();
  });

  it('the lock makes read-modify-write steps of concurrent clients atomic', async () => {
    const key = 'test:counter';
    await clients[0].set(key, '0');
    await Promise.all(Array.from({ length: 20 }, (_, i) => withLock(clients[i % 4], 'lock-test', async () => {
      const v = Number(await clients[i % 4].get(key));
      await new Promise((r) => setTimeout(r, 1)); // Let the others run in between.
      await clients[i % 4].set(key, String(v + 1));
    })));
    expect(await clients[0].get(key)).toBe('20');
    expect(await clients[0].exists(keys('lock-test').lock)).toBe(0);
  });

  it('bayes proposals from 4 clients at once never repeat a configuration', async () => {
    const config = validateSweepConfig({ method: 'bayes', metric, run_cap: 9, startup_trials: 2, seed: 7, parameters: { x: { values: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] } } });
    const meta = await storeSweep(clients[0], config, { name: 'tpe', trialSeed: 1, quick: false, id: 'tpe-race' });
    // Two finished start-up trials, then 7 proposals requested at the same moment.
    for (const i of [0, 1]) {
      const t = await assignTrial(clients[0], meta, i);
      await markRunning(clients[0], meta, i, 'test:1', 'test');
      await recordEnd(clients[0], meta, i, { state: 'finished', value: 1 - ((t.params!.x as number) - 0.3) ** 2, epochs: 1, error: null, files: {} });
    }
    const proposed = await Promise.all([2, 3, 4, 5, 6, 7, 8].map((i) => assignTrial(clients[i % 4], meta, i)));
    const all = (await readTrials(clients[0], meta)).map((t) => t.params!.x);
    expect(new Set(all).size).toBe(9);
    expect(proposed.map((t) => t.name)).toEqual(proposed.map((t) => `x_${t.params!.x}`));
    // Asked again, a trial keeps its proposal.
    expect((await assignTrial(clients[1], meta, 5)).params).toEqual(proposed[3].params);
  });

  it('takes each hyperband decision once, from every agent\'s rung records', async () => {
    const config = validateSweepConfig({ method: 'grid', metric, early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 }, parameters: { x: { values: [1, 2, 3] } } });
    const meta = await storeSweep(clients[0], config, { name: 'hb', trialSeed: 1, quick: false, id: 'hb-once' });
    expect(await hyperbandDecide(clients[0], meta, 0, 1, 0.9)).toBe(true); // First at the rung.
    expect(await hyperbandDecide(clients[1], meta, 1, 1, 0.5)).toBe(false); // Below the top half of {0.9, 0.5}.
    // A rerun of trial 1 (say after a stall) reporting a different value gets the same decision and changes no record.
    expect(await hyperbandDecide(clients[2], meta, 1, 1, 0.99)).toBe(false);
    expect(await clients[0].hgetall(keys('hb-once').rung(1))).toEqual({ 0: '0.9', 1: '0.5' });
    expect(await hyperbandDecide(clients[3], meta, 2, 1, 0.7)).toBe(true); // Top 2 of {0.9, 0.5, 0.7}.
    expect(await hyperbandDecide(clients[3], meta, 2, 3, 0.7)).toBe(true); // Epoch 3 is no rung.
  });

  it('re-validates a registration read back, and refuses tampered ones', async () => {
    const config = validateSweepConfig({ method: 'grid', metric, parameters: { epochs: { values: [1, 2] }, x: { value: 3 } } });
    const meta = await storeSweep(clients[0], config, { name: 'val', trialSeed: 1, quick: true, id: 'val-1' });
    expect(await readMeta(clients[0], 'val-1', free)).toEqual(meta);
    const raw = JSON.parse((await clients[0].get(keys('val-1').meta)) as string);
    await clients[0].set(keys('val-2').meta, JSON.stringify({ ...raw, id: 'val-2', extraArgs: ['--import', 'evil.js'] }));
    await expect(readMeta(clients[0], 'val-2', free)).rejects.toThrow(/extraArgs may only hold --quick/);
    await clients[0].set(keys('val-3').meta, JSON.stringify({ ...raw, config: { ...raw.config, method: 'shell' } }));
    await expect(readMeta(clients[0], 'val-3', free)).rejects.toThrow(/unknown method "shell"/);
    await expect(readMeta(clients[0], 'val-1', () => ({ knownParameters: ['epochs'] }))).rejects.toThrow(/parameters\.x: unknown parameter/);
    await expect(readMeta(clients[0], 'nope', free)).rejects.toThrow(/no sweep "nope" is registered/);
    await expect(readMeta(clients[0], '../x', free)).rejects.toThrow(/sweep id/);
    // Trial parameters changed in Redis are refused before anything runs.
    await clients[0].hset(keys('val-1').trial(0), 'params', JSON.stringify({ epochs: 1, x: 3, out: '/' }));
    await expect(assignTrial(clients[0], meta, 0)).rejects.toThrow(/trial parameter out/);
  });

  it('status shows live metrics; pull writes a local sweep folder', async () => {
    const config = validateSweepConfig({ method: 'grid', metric, parameters: { x: { values: [1, 2, 3] } } });
    const meta = await storeSweep(clients[0], config, { name: 'pull', trialSeed: 1, quick: false, id: 'pull-1' });
    await markRunning(clients[0], meta, 0, 'hostA:1', 'hostA');
    await recordEpoch(clients[0], meta, 0, 1, { type: 'epoch' as unknown as number, epoch: 1, val_accuracy: 0.5 } as Record<string, number>);
    await markRunning(clients[0], meta, 1, 'hostB:2', 'hostB');
    await recordEnd(clients[0], meta, 1, { state: 'stopped', value: 0.25, epochs: 1, error: null, files: { 'summary.json': '{"status":"stopped","val_accuracy":0.25}\n', 'params.json': '{"x":2}\n', '../evil': 'x' } });
    const st = await sweepStatus(clients[0], meta);
    expect(st.trials.map((t) => t.state)).toEqual(['running', 'stopped', 'queued']);
    expect(st.trials[0].metrics).toMatchObject({ epoch: 1, val_accuracy: 0.5 });
    expect(st.counts).toEqual({ queued: 1, running: 1, finished: 0, stopped: 1, failed: 0 });
    expect(st.finished).toBe(false);
    const dir = join(mkdtempSync(join(tmpdir(), 'tk-pull-')), 'pull');
    expect(await pullSweep(clients[0], meta, dir)).toBe(2);
    const state = loadSweepState(dir)!;
    expect(state.trials.map((t) => [t.name, t.status, t.value])).toEqual([['x_1', 'running', null], ['x_2', 'stopped', 0.25]]);
    expect(JSON.parse(readFileSync(join(dir, 'runs', 'x_2', 'summary.json'), 'utf8'))).toEqual({ status: 'stopped', val_accuracy: 0.25 });
    expect(readFileSync(join(dir, 'runs', 'x_1', 'metrics.jsonl'), 'utf8')).toBe('{"type":"epoch","epoch":1,"val_accuracy":0.5}\n');
    expect(JSON.parse(readFileSync(join(dir, 'runs', 'x_1', 'params.json'), 'utf8'))).toEqual({ x: 1 });
  });
});
