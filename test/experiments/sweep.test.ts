// Sweeps driven from TypeScript: grid order, run folders, hyperband stopping, bayes, and resuming an interrupted sweep.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSweepConfig } from '../../src/experiments/sweep-config.js';
import { loadSweepState, sweep, type TrainFn } from '../../src/experiments/sweep.js';
import { listRuns } from '../../src/experiments/store.js';

const metric = { name: 'val_accuracy', goal: 'maximize' };

/** A fake training: val_accuracy = 1 - (x - 0.3)² - 0.1 / epoch, reported per epoch through the run's callback. */
const fakeTrain: TrainFn = async (ctx) => {
  const x = ctx.params.x as number;
  const epochs = (ctx.params.epochs as number | undefined) ?? 3;
  const cb = ctx.callback();
  let stop = false;
  const control = { stop: () => { stop = true; }, position: () => { throw new Error('unused'); } };
  cb.onTrainBegin?.({ epochs, batches: 1, samples: 1 }, control);
  for (let e = 0; e < epochs && !stop; e++) {
    const acc = 1 - (x - 0.3) ** 2 - 0.1 / (e + 1);
    cb.onBatchEnd?.({ epoch: e, batch: 0, batches: 1, step: e + 1, loss: 1 - acc, accuracy: acc }, control);
    await cb.onEpochEnd?.({ epoch: e, epochs, loss: 1 - acc, accuracy: acc, valLoss: 1 - acc, valAccuracy: acc, seconds: 0, lr: 0.1 }, control);
    await new Promise((r) => setTimeout(r, 1));
  }
  return { test_accuracy: 1 - (x - 0.3) ** 2 };
};

describe('sweep (in-process)', () => {
  it('runs a grid in order, records each trial as a run, and returns the best', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-sweep-'));
    const config = validateSweepConfig({ method: 'grid', metric, parameters: { x: { values: [0, 0.3, 0.6] }, act: { values: ['relu', 'tanh'] } } });
    const seen: [string, number, number][] = [];
    const result = await sweep(config, async (ctx) => {
      seen.push([ctx.name, ctx.seed, ctx.threads]);
      return fakeTrain(ctx);
    }, { dir, parallel: 2, threads: 4, trialSeed: 7 });
    expect(result.state.trials.map((t) => t.params)).toEqual([
      { x: 0, act: 'relu' }, { x: 0, act: 'tanh' }, { x: 0.3, act: 'relu' }, { x: 0.3, act: 'tanh' }, { x: 0.6, act: 'relu' }, { x: 0.6, act: 'tanh' },
    ]);
    expect(seen.map((s) => s[0]).sort()).toEqual(['x_0.3_ac_relu', 'x_0.3_ac_tanh', 'x_0.6_ac_relu', 'x_0.6_ac_tanh', 'x_0_ac_relu', 'x_0_ac_tanh']);
    expect(seen.every(([, seed, threads]) => seed === 7 && threads === 2)).toBe(true); // 4 threads / 2 parallel
    expect(result.state.trials.every((t) => t.status === 'finished' && t.epochs === 3)).toBe(true);
    expect(result.best?.params.x).toBe(0.3);
    expect(result.best?.value).toBeCloseTo(1 - 0.1 / 3, 12);
    const runs = listRuns(join(dir, 'runs'));
    expect(runs).toHaveLength(6);
    expect(runs.find((r) => r.name === 'x_0.3_ac_relu')?.metrics).toMatchObject({ status: 'finished', test_accuracy: 1 });
    expect(loadSweepState(dir)?.trials).toHaveLength(6);
  });

  it('stops trials that fall outside the top 1/eta at a hyperband rung', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-sweep-'));
    // Trials in order x = 0.3 (best), 0.9, 0.35, 0 with eta 2 and rungs at epochs 1, 2, 4.
    const config = validateSweepConfig({ method: 'grid', metric, parameters: { x: { values: [0.3, 0.9, 0.35, 0] }, epochs: { value: 6 } }, early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 } });
    const result = await sweep(config, fakeTrain, { dir, parallel: 1 });
    // Rung 1 sees [0.3→0.9, 0.9→0.54]: keep ceil(2/2) = 1 → x=0.9 stops after epoch 1.
    // x=0.35 at rung 1: [0.9, 0.54, 0.8975] keep 2 → continues; rung 2: [0.95, 0.9475] keep 1 → stops after epoch 2.
    // x=0 at rung 1: 0.81 ranks 3rd of 4, keep 2 → stops.
    expect(result.state.trials.map((t) => [t.status, t.epochs])).toEqual([['finished', 6], ['stopped', 1], ['stopped', 2], ['stopped', 1]]);
    expect(JSON.parse(readFileSync(join(dir, 'runs', 'x_0.9', 'summary.json'), 'utf8')).status).toBe('stopped');
    expect(Object.keys(result.state.hyperband).sort()).toEqual(['1', '2', '4']);
  });

  it('bayes: random start-up trials, then model-based ones; deterministic with parallel 1', async () => {
    const config = validateSweepConfig({ method: 'bayes', metric, run_cap: 16, startup_trials: 6, seed: 3, parameters: { x: { distribution: 'uniform', min: -2, max: 2 }, lr: { distribution: 'log_uniform_values', min: 1e-4, max: 1 } } });
    const a = await sweep(config, (ctx) => fakeTrain({ ...ctx, params: { x: ctx.params.x, epochs: 1 } }), { dir: mkdtempSync(join(tmpdir(), 'tk-sweep-')) });
    const b = await sweep(config, (ctx) => fakeTrain({ ...ctx, params: { x: ctx.params.x, epochs: 1 } }), { dir: mkdtempSync(join(tmpdir(), 'tk-sweep-')) });
    expect(a.state.trials.map((t) => t.params)).toEqual(b.state.trials.map((t) => t.params));
    const x = a.state.trials.map((t) => t.params.x as number);
    // Within 0.2 of the optimum x = 0.3 by chance: 10% of uniform draws on [-2, 2]. The model-based trials: at least half.
    const near = (xs: number[]) => xs.filter((v) => Math.abs(v - 0.3) < 0.2).length;
    expect(near(x.slice(6))).toBeGreaterThanOrEqual(5);
    expect(a.best?.value).toBeGreaterThan(0.895); // 1 - (x - 0.3)² - 0.1 after one epoch: at most 0.9
  });

  it('resumes an interrupted sweep: finished trials are kept, interrupted ones rerun, new ones follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-sweep-'));
    const config = validateSweepConfig({ method: 'random', metric, run_cap: 5, seed: 11, parameters: { x: { min: 0, max: 1 } } });
    const calls: number[] = [];
    const counted: TrainFn = (ctx) => {
      calls.push(ctx.index);
      return fakeTrain(ctx);
    };
    await sweep(config, counted, { dir, maxNewTrials: 3 });
    // Simulate a kill during trial 3: the state says running, and its folder holds partial output. Its process
    // (a stand-in whose arguments name the trial and the sweep) is still alive; an unrelated process is too.
    const sweepName = dir.split('/').pop() as string;
    const idle = 'setTimeout(() => {}, 60000)';
    const orphan = spawn(process.execPath, ['-e', idle, '--', '--name', 'interrupted', '-wp', sweepName], { stdio: 'ignore' });
    const bystander = spawn(process.execPath, ['-e', idle, '--', '--name', 'other', '-wp', sweepName], { stdio: 'ignore' });
    const orphanExit = new Promise((r) => orphan.once('exit', (_code, signal) => r(signal)));
    await new Promise((r) => setTimeout(r, 200));
    const state = loadSweepState(dir)!;
    state.trials.push({ ...state.trials[2], index: 3, name: 'interrupted', params: { x: 0.5 }, status: 'running', value: null, epochs: 1, ended_at: null, pid: orphan.pid as number });
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(state));
    writeFileSync(join(dir, 'runs', 'stale.txt'), '');
    const result = await sweep(config, counted, { dir });
    expect(await orphanExit).toBe('SIGKILL');
    expect(bystander.exitCode).toBeNull(); // still running: its arguments name another trial
    bystander.kill();
    expect(calls).toEqual([0, 1, 2, 3, 4]);
    expect(result.state.trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    expect(result.state.trials.every((t) => t.status === 'finished')).toBe(true);
    expect(result.state.trials[3]).toMatchObject({ name: 'interrupted', params: { x: 0.5 } });
    expect(existsSync(join(dir, 'runs', 'interrupted', 'summary.json'))).toBe(true);
    // A different config in the same folder is refused.
    await expect(sweep({ ...config, run_cap: 9 }, counted, { dir })).rejects.toThrow('belongs to a different sweep config');
  });

  it('marks a trial that throws as failed and carries on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-sweep-'));
    const config = validateSweepConfig({ method: 'grid', metric, parameters: { x: { values: [0, 1] } } });
    const result = await sweep(config, (ctx) => {
      if (ctx.params.x === 0) throw new Error('diverged');
      return fakeTrain(ctx);
    }, { dir });
    expect(result.state.trials.map((t) => [t.status, t.error])).toEqual([['failed', 'diverged'], ['finished', null]]);
    expect(JSON.parse(readFileSync(join(dir, 'runs', 'x_0', 'summary.json'), 'utf8'))).toMatchObject({ status: 'failed', error: 'diverged' });
  });

  it('requires run_cap for random and bayes', async () => {
    const config = validateSweepConfig({ method: 'random', metric, parameters: { x: { min: 0, max: 1 } } });
    await expect(sweep(config, fakeTrain, { dir: mkdtempSync(join(tmpdir(), 'tk-sweep-')) })).rejects.toThrow('run_cap is required for method random');
  });
});
