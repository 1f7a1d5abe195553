// Distributed sweeps against a real redis-server: agent processes finish a grid sweep with the local
// sweep's results, a SIGKILLed agent's trial runs again elsewhere and counts once, a Redis restart is
// survived, a lost Redis ends an agent with a clear message, TPE proposes no duplicates across agents,
// and hyperband stops the trials it stops locally.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { connect, parseRedisUrl } from '../../../src/experiments/distributed/connection.js';
import { keys } from '../../../src/experiments/distributed/store.js';
import { validateSweepConfig } from '../../../src/experiments/sweep-config.js';
import { sweepProcesses } from '../../../src/experiments/sweep.js';
import { REDIS_TESTS, startRedis, type TestRedis } from '../../util/redis.js';
import { processAlive } from '../../util/process.js';

const root = new URL('../../..', import.meta.url).pathname;
const program = join(root, 'test/experiments/fake-trainer.ts');
const cli = join(root, 'src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** The process id an agent recorded for trial `index` (the hash field the status JSON leaves out). */
async function readTrialPid(redis: TestRedis, id: string, index: number): Promise<string> {
  const client = await connect(parseRedisUrl(redis.url), 5000);
  try {
    return (await client.hget(keys(id).trial(index), 'pid')) ?? '';
  } finally {
    client.disconnect();
  }
}

interface Proc {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  out(): string;
}

/** Runs `tensorkit ARGS` as a child process (through tsx, as a user's shell would run the built CLI). */
function tensorkit(args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, out: () => text };
}

/** Runs the CLI in this process; returns status and output. */
async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

type Status = { finished: boolean; total: number; trials: { index: number; name: string; state: string; params: Record<string, unknown>; epochs: number; value: number | null; agent: string | null; attempts: number; metrics: Record<string, number> | null }[] };

async function status(redis: TestRedis, id: string): Promise<Status> {
  const r = await run(['sweep', 'status', id, '--queue', redis.url, '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Status;
}

/** Polls until `check` returns a value (not undefined) or `ms` pass; never a fixed sleep as the assertion. */
async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits for a process to exit within `ms`; kills it and throws otherwise. */
async function exited(p: Proc, ms: number): Promise<number | null> {
  const timeout = sleep(ms).then(() => 'timeout' as const);
  const r = await Promise.race([p.exit, timeout]);
  if (r === 'timeout') {
    p.child.kill('SIGKILL');
    throw new Error(`process did not exit within ${ms} ms; output:\n${p.out()}`);
  }
  return r;
}

/** Registers `config` (written to a temp file) and returns the sweep id from the last stdout line. */
async function register(redis: TestRedis, config: unknown, extra: readonly string[] = []): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'tk-dist-cfg-')), 'sweep.json');
  writeFileSync(file, JSON.stringify(config));
  const r = await run(['sweep', file, '--queue', redis.url, ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return lines[lines.length - 1];
}

describe.skipIf(!REDIS_TESTS)('distributed sweep agents', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('3 agents finish a grid sweep of tensorkit train with the local sweep\'s metrics', async () => {
    const config = {
      name: 'equal', method: 'grid', metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { learning_rate: { values: [0.01, 0.001] }, hidden_size: { values: [16, 32] }, num_layers: { value: 1 }, batch_size: { value: 50 } },
    };
    const id = await register(redis, config, ['--quick']);
    expect(id).toMatch(/^equal-\d{8}T\d{4}-[0-9a-f]{4}$/);
    const artifacts = mkdtempSync(join(tmpdir(), 'tk-dist-art-'));
    const agents = [0, 1, 2].map(() => tensorkit(['agent', id, '--queue', redis.url, '--threads', '1', '--artifacts', artifacts]));
    for (const a of agents) expect(await exited(a, 90_000), a.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.finished).toBe(true);
    expect(st.trials.map((t) => t.state)).toEqual(['finished', 'finished', 'finished', 'finished']);

    const out = mkdtempSync(join(tmpdir(), 'tk-dist-pull-'));
    expect((await run(['sweep', 'pull', id, '--queue', redis.url, '--out', join(out, 'pulled')])).code).toBe(0);
    const local = join(out, 'local');
    const result = await sweepProcesses(validateSweepConfig(config), { dir: local, parallel: 1, threads: 1, extraArgs: ['--quick'], cwd: root });
    expect(result.state.trials.map((t) => t.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    for (const t of result.state.trials) {
      const a = JSON.parse(readFileSync(join(local, 'runs', t.name, 'summary.json'), 'utf8'));
      const b = JSON.parse(readFileSync(join(out, 'pulled', 'runs', t.name, 'summary.json'), 'utf8'));
      // Same seeds, same data: bit-identical metrics.
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'test_accuracy', 'test_loss', 'steps']) expect(b[key], `${t.name} ${key}`).toBe(a[key]);
      expect(st.trials.find((x) => x.name === t.name)?.value).toBe(a.val_accuracy);
      // The whole run folder (model files included) went to the shared artifacts folder.
      expect(JSON.parse(readFileSync(join(artifacts, id, 'runs', t.name, 'summary.json'), 'utf8')).val_accuracy).toBe(a.val_accuracy);
      expect(readdirSync(join(artifacts, id, 'runs', t.name))).toEqual(expect.arrayContaining(['params.json', 'metrics.jsonl', 'predictions.csv', 'artifacts']));
    }
    // The pulled folder is an ordinary sweep folder: runs lists it.
    const listed = await run(['runs', 'list', join(out, 'pulled')]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('4 runs');
  }, 180_000);

  it('runs the trial of a SIGKILLed agent again on another agent after the stall timeout; it counts once', async () => {
    const id = await register(redis, {
      name: 'kill', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0.1, 0.2, 0.3] }, epochs: { value: 5 }, delay: { value: 300 } },
    });
    const args = ['agent', id, '--queue', redis.url, '--program', program, '--stall_timeout', '1.5'];
    // Trials wait at the gate after epoch 1 until the file exists: the victim is surely mid-trial when killed.
    const gate = join(mkdtempSync(join(tmpdir(), 'tk-dist-gate-')), 'gate');
    const victim = tensorkit(args, { FAKE_TRAINER_GATE: gate });
    // Kill the first agent once its trial has streamed an epoch (the trial is mid-way).
    const trial = await waitFor('a running trial with a streamed epoch', 30_000, async () => {
      const st = await status(redis, id);
      return st.trials.find((t) => t.state === 'running' && t.epochs >= 1 && t.agent?.endsWith(`:${victim.child.pid}`));
    });
    expect(trial.metrics?.val_accuracy).toBeTypeOf('number'); // Live metrics of a running trial.
    victim.child.kill('SIGKILL');
    await victim.exit;
    writeFileSync(gate, '');
    const survivor = tensorkit(args, { FAKE_TRAINER_GATE: gate });
    expect(await exited(survivor, 90_000), survivor.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.trials.map((t) => t.state)).toEqual(['finished', 'finished', 'finished']);
    const again = st.trials[trial.index];
    expect(again.attempts).toBe(2);
    expect(again.agent).toMatch(new RegExp(`:${survivor.child.pid}$`));
    for (const t of st.trials) {
      if (t.index !== trial.index) expect(t.attempts).toBe(1);
      expect(t.epochs).toBe(5);
      expect(t.value).toBeCloseTo(1 - ((t.params.x as number) - 0.3) ** 2 - 0.1 / 5, 12);
    }
    // Counted once: one run folder per trial, and the rerun's metrics hold each epoch once.
    const out = join(mkdtempSync(join(tmpdir(), 'tk-dist-kill-')), 'pulled');
    expect((await run(['sweep', 'pull', id, '--queue', redis.url, '--out', out])).code).toBe(0);
    const lines = readFileSync(join(out, 'runs', again.name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5]);
    const state = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(state.trials).toHaveLength(3);
  }, 150_000);

  it('survives a Redis restart mid-sweep (append-only file on): agents reconnect and the sweep completes', async () => {
    const id = await register(redis, {
      name: 'restart', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0, 0.1, 0.2, 0.3] }, epochs: { value: 4 }, delay: { value: 250 } },
    });
    const args = ['agent', id, '--queue', redis.url, '--program', program, '--stall_timeout', '10'];
    const agents = [tensorkit(args), tensorkit(args)];
    await waitFor('a finished trial and a running one', 60_000, async () => {
      const st = await status(redis, id);
      return st.trials.some((t) => t.state === 'finished') && st.trials.some((t) => t.state === 'running') ? true : undefined;
    });
    await redis.kill();
    await redis.start();
    for (const a of agents) expect(await exited(a, 90_000), a.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.trials.map((t) => t.state)).toEqual(['finished', 'finished', 'finished', 'finished']);
    for (const t of st.trials) expect(t.epochs).toBe(4);
  }, 150_000);

  it('an agent that loses Redis for good exits 1 with a clear message after its bounded wait', async () => {
    const id = await register(redis, {
      name: 'lost', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0, 0.1] }, epochs: { value: 50 }, delay: { value: 200 } },
    });
    // The trial waits at a gate that never opens: it is still running when Redis goes away.
    const gate = join(mkdtempSync(join(tmpdir(), 'tk-dist-gate-')), 'never');
    const agent = tensorkit(['agent', id, '--queue', redis.url, '--program', program, '--redis_timeout', '1.5'], { FAKE_TRAINER_GATE: gate });
    const trial = await waitFor('a running trial past epoch 1', 30_000, async () => (await status(redis, id)).trials.find((x) => x.state === 'running' && x.epochs >= 1));
    const pid = Number(await readTrialPid(redis, id, trial.index));
    expect(pid).toBeGreaterThan(0);
    await redis.kill();
    try {
      expect(await exited(agent, 30_000)).toBe(1);
      expect(agent.out()).toMatch(/lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ for more than 2 s/);
      // The agent ended its trial's process on the way out.
      await waitFor('the trial process to end', 10_000, async () => (processAlive(pid) ? undefined : true));
    } finally {
      await redis.start();
    }
  }, 60_000);

  it('an agent stopped with SIGTERM ends its trial and puts it back in the queue at once', async () => {
    const id = await register(redis, {
      name: 'term', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0.1, 0.2] }, epochs: { value: 3 }, delay: { value: 50 } },
    });
    const gate = join(mkdtempSync(join(tmpdir(), 'tk-dist-gate-')), 'gate');
    // The default stall timeout (30 s) is longer than this test may wait: the trial must come back by hand-over.
    const args = ['agent', id, '--queue', redis.url, '--program', program];
    const first = tensorkit(args, { FAKE_TRAINER_GATE: gate });
    const trial = await waitFor('a running trial past epoch 1', 30_000, async () => (await status(redis, id)).trials.find((x) => x.state === 'running' && x.epochs >= 1));
    const pid = Number(await readTrialPid(redis, id, trial.index));
    first.child.kill('SIGTERM');
    expect(await exited(first, 20_000)).toBe(1);
    expect(first.out()).toMatch(new RegExp(`stopped by SIGTERM; trial ${trial.index + 1} \\(${trial.name.replace(/\./g, '\\.')}\\) went back to the queue`));
    await waitFor('the trial process to end', 10_000, async () => (processAlive(pid) ? undefined : true));
    expect((await status(redis, id)).trials[trial.index].state).toBe('queued');
    writeFileSync(gate, '');
    const second = tensorkit(args, { FAKE_TRAINER_GATE: gate });
    expect(await exited(second, 25_000), second.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.trials.map((t) => t.state)).toEqual(['finished', 'finished']);
    expect(st.trials[trial.index].attempts).toBe(2);
  }, 90_000);

  it('a bayes (TPE) sweep with 2 agents proposes no configuration twice', async () => {
    // 9 configurations, 9 trials: with no duplicates every configuration runs exactly once.
    const id = await register(redis, {
      name: 'tpe', method: 'bayes', program, run_cap: 9, startup_trials: 2, seed: 4, metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: { x: { values: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] }, epochs: { value: 1 }, delay: { value: 20 } },
    });
    const agents = [0, 1].map(() => tensorkit(['agent', id, '--queue', redis.url, '--program', program]));
    for (const a of agents) expect(await exited(a, 90_000), a.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.trials.every((t) => t.state === 'finished')).toBe(true);
    expect(st.trials.map((t) => t.params.x).sort()).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(new Set(st.trials.map((t) => t.agent)).size).toBe(2);
  }, 120_000);

  it('hyperband stops the same trials distributed as locally, deciding from every agent\'s records', async () => {
    // eta 3, rung at epoch 1. Trial 0 (x = 0.3, the best) runs first on an agent that then leaves;
    // trials 1 and 2 race on two other agents. Each reaches the rung after trial 0, below the top third
    // whatever the order, but only if the rung records are shared: alone, an agent's first trial is kept.
    const config = {
      name: 'hb', method: 'grid', program, metric: { name: 'val_accuracy', goal: 'maximize' }, early_terminate: { type: 'hyperband', min_iter: 1, eta: 3 },
      parameters: { x: { values: [0.3, 0.9, 0.95] }, epochs: { value: 8 }, delay: { value: 200 } },
    };
    const local = await sweepProcesses(validateSweepConfig(config), { dir: join(mkdtempSync(join(tmpdir(), 'tk-dist-hb-')), 'hb'), parallel: 1, threads: 1, poll: 50, cwd: root });
    const expected = local.state.trials.map((t) => t.status);
    expect(expected).toEqual(['finished', 'stopped', 'stopped']);
    const id = await register(redis, config);
    const args = ['agent', id, '--queue', redis.url, '--program', program];
    const first = tensorkit([...args, '--count', '1']);
    expect(await exited(first, 60_000), first.out()).toBe(0);
    expect((await status(redis, id)).trials.map((t) => t.state)).toEqual(['finished', 'queued', 'queued']);
    const agents = [tensorkit(args), tensorkit(args)];
    for (const a of agents) expect(await exited(a, 90_000), a.out()).toBe(0);
    const st = await status(redis, id);
    expect(st.trials.map((t) => t.state)).toEqual(expected);
    for (const t of st.trials.filter((x) => x.state === 'stopped')) expect(t.epochs).toBeLessThan(8);
  }, 150_000);
});
