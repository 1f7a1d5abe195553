// Sweeps in child processes: a sweep killed with SIGKILL resumes without repeating finished trials,
// hyperband ends a child process early, and a second sweep on a folder in use is refused (started later
// or at the same moment) without touching the first. The trials run test/experiments/fake-trainer.ts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSweepConfig } from '../../src/experiments/sweep-config.js';
import { loadSweepState, sweepProcesses } from '../../src/experiments/sweep.js';
import { processAlive } from '../util/process.js';

const root = new URL('../..', import.meta.url).pathname;
const program = join(root, 'test/experiments/fake-trainer.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('sweep in child processes', () => {
  it('resumes after SIGKILL without repeating finished trials', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-sweep-kill-'));
    const configPath = join(work, 'kill.json');
    writeFileSync(configPath, JSON.stringify({
      name: 'kill', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0, 0.1, 0.2, 0.3, 0.4, 0.5] }, epochs: { value: 4 }, delay: { value: 150 } },
    }));
    const log = join(work, 'executions.log');
    const args = ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sweep', configPath, '--out', work, '--parallel', '2', '--threads', '2'];
    const env = { ...process.env, FAKE_TRAINER_LOG: log };
    const dir = join(work, 'kill');

    const first = spawn(process.execPath, args, { cwd: root, env, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    let finishedBefore: string[] = [];
    let orphanPids: number[] = [];
    for (;;) {
      if (Date.now() > deadline) throw new Error('the sweep did not finish two trials in time');
      await sleep(50);
      const state = existsSync(join(dir, 'sweep.json')) ? loadSweepState(dir) : null;
      const done = state?.trials.filter((t) => t.status === 'finished') ?? [];
      if (done.length >= 2 && state!.trials.some((t) => t.status === 'running')) {
        first.kill('SIGKILL');
        await new Promise((r) => first.once('exit', r));
        const final = loadSweepState(dir)!;
        finishedBefore = final.trials.filter((t) => t.status === 'finished').map((t) => t.name);
        orphanPids = final.trials.filter((t) => t.status === 'running' && t.pid !== null).map((t) => t.pid as number);
        break;
      }
    }
    expect(finishedBefore.length).toBeGreaterThanOrEqual(2);
    expect(finishedBefore.length).toBeLessThan(6);
    const before = loadSweepState(dir)!;
    const endedAt = new Map(before.trials.filter((t) => t.status === 'finished').map((t) => [t.name, t.ended_at]));
    const metricsBefore = new Map(finishedBefore.map((n) => [n, readFileSync(join(dir, 'runs', n, 'metrics.jsonl'), 'utf8')]));

    const second = spawn(process.execPath, args, { cwd: root, env, stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => second.once('exit', r));
    expect(code).toBe(0);
    const after = loadSweepState(dir)!;
    expect(after.trials.map((t) => t.params.x)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(after.trials.every((t) => t.status === 'finished' && t.epochs === 4 && t.pid === null)).toBe(true);
    for (const t of after.trials) expect(t.value).toBeCloseTo(1 - ((t.params.x as number) - 0.3) ** 2 - 0.1 / 4, 12);
    // Trials finished before the kill were not run again: same end time, untouched metrics, one start and one end each.
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (const name of finishedBefore) {
      expect(after.trials.find((t) => t.name === name)?.ended_at).toBe(endedAt.get(name));
      expect(readFileSync(join(dir, 'runs', name, 'metrics.jsonl'), 'utf8')).toBe(metricsBefore.get(name));
      const runDir = join(dir, 'runs', name);
      expect(lines.filter((l) => l === `${runDir} start`)).toHaveLength(1);
      expect(lines.filter((l) => l === `${runDir} end`)).toHaveLength(1);
    }
    // Every trial ended at least once, and the orphans of the killed sweep are gone.
    for (const t of after.trials) expect(lines).toContain(`${join(dir, 'runs', t.name)} end`);
    // (An orphan that was exiting on its own when the resume looked may take a moment to be reaped.)
    for (const pid of orphanPids) {
      for (let waited = 0; processAlive(pid) && waited < 5000; waited += 100) await sleep(100);
      expect(processAlive(pid), `orphan ${pid}`).toBe(false);
    }
  }, 120_000);

  it('ends a child process early when hyperband stops its trial', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tk-sweep-hb-')), 'hb');
    const config = validateSweepConfig({
      method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' }, early_terminate: { type: 'hyperband', min_iter: 1, eta: 2 },
      parameters: { x: { values: [0.3, 0.9] }, epochs: { value: 8 }, delay: { value: 250 } },
    });
    const result = await sweepProcesses(config, { dir, parallel: 1, threads: 1, poll: 25, cwd: root });
    const [good, bad] = result.state.trials;
    expect(good).toMatchObject({ status: 'finished', epochs: 8 });
    expect(bad.status).toBe('stopped');
    expect(bad.epochs).toBeLessThan(8);
    const summary = JSON.parse(readFileSync(join(dir, 'runs', bad.name, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('stopped');
    expect(summary.epochs).toBeLessThan(8);
    // The thread budget reaches the child as --threads and TENSORKIT_THREADS.
    expect(JSON.parse(readFileSync(join(dir, 'runs', good.name, 'params.json'), 'utf8'))).toMatchObject({ threads: 1, envThreads: '1', seed: 1 });
  }, 60_000);

  /** A sweep process on `work`/shared with the trial log (and a gate that holds each trial after epoch 1 until the file exists). */
  function sweepProcess(work: string, configPath: string, log: string, gate?: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sweep', configPath, '--out', work, '--parallel', '1', '--threads', '1'], {
      cwd: root, env: { ...process.env, FAKE_TRAINER_LOG: log, ...(gate ? { FAKE_TRAINER_GATE: gate } : {}) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, exit, out: () => out };
  }

  function lockConfig(work: string): string {
    const configPath = join(work, 'shared.json');
    writeFileSync(configPath, JSON.stringify({
      name: 'shared', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0.1, 0.2, 0.3] }, epochs: { value: 3 }, delay: { value: 150 } },
    }));
    return configPath;
  }

  /** Every trial ran exactly once (one start and one end line each in the trainer log) and finished. */
  function ranOnce(work: string, log: string): void {
    const dir = join(work, 'shared');
    const state = loadSweepState(dir)!;
    expect(state.trials.map((t) => t.status)).toEqual(['finished', 'finished', 'finished']);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (const t of state.trials) {
      const runDir = join(dir, 'runs', t.name);
      expect(lines.filter((l) => l === `${runDir} start`), t.name).toHaveLength(1);
      expect(lines.filter((l) => l === `${runDir} end`), t.name).toHaveLength(1);
    }
    expect(existsSync(join(dir, 'sweep.lock'))).toBe(false);
  }

  it('refuses a second sweep started on a folder whose sweep is running, leaving the first untouched', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-sweep-lock-later-'));
    const configPath = lockConfig(work);
    const log = join(work, 'executions.log');
    // The first sweep's trial waits at the gate after epoch 1, so it is surely running while the second starts.
    const gate = join(work, 'gate');
    const first = sweepProcess(work, configPath, log, gate);
    const dir = join(work, 'shared');
    const deadline = Date.now() + 60_000;
    let runningPid: number | null = null;
    while (runningPid === null) {
      if (Date.now() > deadline) throw new Error(`the first sweep did not start a trial in time: ${first.out()}`);
      await sleep(50);
      const state = existsSync(join(dir, 'sweep.json')) ? loadSweepState(dir) : null;
      runningPid = state?.trials.find((t) => t.status === 'running' && t.pid !== null)?.pid ?? null;
    }
    const second = sweepProcess(work, configPath, log);
    expect(await second.exit).toBe(1);
    expect(second.out()).toMatch(new RegExp(`sweep\\.lock is held by another sweep: pid ${first.child.pid} on host [^,]+, started \\d{4}-`));
    expect(processAlive(runningPid), 'the first sweep\'s running trial').toBe(true);
    writeFileSync(gate, '');
    expect(await first.exit, first.out()).toBe(0);
    ranOnce(work, log);
  }, 120_000);

  it('of two sweeps started together on one folder, one runs every trial once and the other is refused', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-sweep-lock-together-'));
    const configPath = lockConfig(work);
    const log = join(work, 'executions.log');
    const a = sweepProcess(work, configPath, log);
    const b = sweepProcess(work, configPath, log);
    const codes = await Promise.all([a.exit, b.exit]);
    expect([...codes].sort()).toEqual([0, 1]);
    const refused = codes[0] === 1 ? a : b;
    const owner = codes[0] === 1 ? b : a;
    expect(refused.out()).toMatch(new RegExp(`held by another sweep: pid ${owner.child.pid} on host`));
    ranOnce(work, log);
  }, 120_000);
});
