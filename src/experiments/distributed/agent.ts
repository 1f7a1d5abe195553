// Distributed sweeps on BullMQ: registering a sweep (its trials become jobs of a queue named after
// it) and the agent that pulls trials from that queue, runs each as a child process, streams its epoch
// metrics to Redis, applies the shared hyperband decisions and records the finished run.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { expandParams } from '../search.js';
import type { SweepConfig, ValidateOptions } from '../sweep-config.js';
import { processExecutor, type TrialRecord } from '../sweep.js';
import { connect, redisOptions, watchConnection, type RedisTarget } from './connection.js';
import {
  assignTrial, doneCount, DONE_STATES, hyperbandDecide, KEY_PREFIX, keys, markRunning, MAX_FILE_BYTES, queueName, readMeta, recordEnd, recordEpoch,
  recordPid, storeSweep, type RegisterOptions, type SweepMeta, type TrialState,
} from './store.js';
import { killIfArgs } from '../processes.js';

/** How a sweep's config is re-validated when read back (the CLI passes the train command's rules). */
export type Revalidate = (raw: unknown, program: boolean) => ValidateOptions;

/** BullMQ's connection options for `target` (BullMQ opens and duplicates the clients itself). */
function bullConnection(target: RedisTarget): ConnectionOptions {
  return { ...redisOptions(target), lazyConnect: false } as ConnectionOptions;
}

/** Milliseconds to wait for Redis before a command gives up (register, status, pull). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Registers `config` (already validated) on the Redis at `target`: stores it and its trials, then adds
 * one job per trial (job id `trial-<index>`) to the sweep's queue. Returns the sweep's metadata.
 */
export async function registerSweep(target: RedisTarget, config: SweepConfig, options: RegisterOptions): Promise<SweepMeta> {
  const client = await connect(target, CONNECT_TIMEOUT_MS);
  try {
    const meta = await storeSweep(client, config, options);
    const jobs = new Queue(queueName(meta.id), { connection: bullConnection(target), prefix: KEY_PREFIX });
    try {
      await jobs.addBulk(Array.from({ length: meta.total }, (_, i) => ({
        name: 'trial', data: { index: i }, opts: { jobId: `trial-${i}`, attempts: 1, removeOnComplete: false, removeOnFail: false },
      })));
    } finally {
      await jobs.close();
    }
    return meta;
  } finally {
    client.disconnect();
  }
}

/** Connects and reads a registered sweep (re-validated), for status and pull. */
export async function openSweep(target: RedisTarget, id: string, revalidate: Revalidate): Promise<{ client: Redis; meta: SweepMeta }> {
  const client = await connect(target, CONNECT_TIMEOUT_MS);
  try {
    return { client, meta: await readMeta(client, id, revalidate) };
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

/** Options of {@link runAgent}. */
export interface AgentOptions {
  readonly target: RedisTarget;
  readonly sweepId: string;
  /** Most trials this agent runs (default: until the sweep is finished). */
  readonly count?: number;
  /** Threads of each trial (default 1). */
  readonly threads?: number;
  /** A folder every host mounts: each trial's run folder (model files included) is copied to `<artifacts>/<sweep id>/runs/<trial>`. */
  readonly artifacts?: string;
  /**
   * A trial whose agent stops renewing its lock (killed, frozen, cut off) is run again by another
   * agent after about this long (default 30 000 ms). Tests use a short one.
   */
  readonly stallTimeoutMs?: number;
  /** Give up after Redis has been unreachable this long (default 60 000 ms). */
  readonly redisTimeoutMs?: number;
  /** The only script this agent runs for a config with `program` (configs in Redis are data, never trusted to name code). */
  readonly program?: string;
  /** Re-validation of the config read from Redis. */
  readonly revalidate: Revalidate;
  /** Working folder of the child processes (default: the current one). */
  readonly cwd?: string;
  /** Milliseconds between reads of a trial's metrics.jsonl (default 250). */
  readonly poll?: number;
  /** One line per trial start and end. */
  readonly log?: (line: string) => void;
}

/** What an agent did. */
export interface AgentResult {
  /** Trials this agent ran to their end. */
  readonly trials: number;
  /** True when the sweep was finished as the agent left. */
  readonly sweepFinished: boolean;
}

/**
 * Ends process `pid` if it is still an earlier attempt of trial `name` of sweep `id` (its arguments
 * name `--run_dir …/<id>/runs/<name>`, or both `<id>` and `<name>` as `tensorkit train` gets them).
 * Without /proc (not Linux) nothing is ended.
 */
function endOrphanAttempt(pid: number, name: string, id: string): void {
  const tail = join(id, 'runs', name);
  killIfArgs(pid, (args) => args.some((a) => a.endsWith(`/${tail}`)) || (args.includes(name) && args.includes(id)));
}

/** A finished run's files to keep in Redis: the run folder's plain files up to {@link MAX_FILE_BYTES}. */
function runFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (statSync(path).size <= MAX_FILE_BYTES) files[entry.name] = readFileSync(path, 'utf8');
  }
  return files;
}

/**
 * Runs trials of sweep `sweepId` until it is finished (every trial ended, on whichever agent) or
 * `count` trials ran here. Each trial is a BullMQ job; BullMQ's lock renewal and stalled-job check
 * hand the trial of a vanished agent to another one after {@link AgentOptions.stallTimeoutMs}, and
 * the rerun replaces the lost attempt (a trial counts once). Rejects with a clear message when Redis
 * stays unreachable longer than {@link AgentOptions.redisTimeoutMs}, ending its running trial. On
 * SIGINT or SIGTERM it ends its running trial, puts that trial back in the queue at once (not after
 * the stall timeout) and rejects.
 */
export async function runAgent(options: AgentOptions): Promise<AgentResult> {
  const log = options.log ?? (() => {});
  const stall = options.stallTimeoutMs ?? 30_000;
  const redisTimeout = options.redisTimeoutMs ?? 60_000;
  const threads = options.threads ?? 1;
  const client = await connect(options.target, Math.min(redisTimeout, 30_000));
  let meta: SweepMeta;
  try {
    meta = await readMeta(client, options.sweepId, options.revalidate);
  } catch (err) {
    client.disconnect();
    throw err;
  }
  const config = meta.config;
  if (config.program !== undefined) {
    const allowed = options.program === undefined ? undefined : resolve(options.program);
    if (allowed === undefined || resolve(config.program) !== allowed) {
      client.disconnect();
      throw new Error(`sweep ${meta.id} runs the program ${JSON.stringify(config.program)}; an agent runs a program only when started with --program naming that same script`);
    }
  }
  const agentName = `${hostname()}:${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'tensorkit-agent-'));
  const sweepDir = join(work, meta.id);
  const executor = processExecutor(config, { dir: sweepDir, extraArgs: meta.extraArgs, cwd: options.cwd, poll: options.poll });
  let ran = 0;
  let running: { pid: number | null } | null = null;
  let fatal: Error | null = null;
  // Set by SIGINT / SIGTERM: the running trial is ended and handed back to the queue at once.
  let leaving: NodeJS.Signals | null = null;
  let finishRun: (err: Error | null, sweepFinished: boolean) => void = () => {};

  const worker = new Worker(queueName(meta.id), async (job: Job, token?: string) => {
    const index = (job.data as { index?: unknown }).index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= meta.total) throw new Error(`job ${job.id}: bad trial index ${JSON.stringify(index)}`);
    let trial;
    try {
      trial = await assignTrial(client, meta, index);
    } catch (err) {
      // Parameters that fail validation are never run: the trial fails with the reason.
      await recordEnd(client, meta, index, { state: 'failed', value: null, epochs: 0, error: (err as Error).message, files: {} });
      log(`trial ${index + 1}/${meta.total} failed: ${(err as Error).message}`);
      return;
    }
    if (DONE_STATES.includes(trial.state)) return; // Ended already (its job was handed out again after the end was recorded).
    const name = trial.name as string;
    const runDir = join(sweepDir, 'runs', name);
    // An earlier attempt's process on this host (its agent was killed) is ended before the rerun.
    if (trial.host === hostname() && trial.pid !== null) endOrphanAttempt(trial.pid, name, meta.id);
    rmSync(runDir, { recursive: true, force: true });
    if (leaving) {
      // A signal came while the job was being fetched: hand it back untouched (closing first, so that
      // this worker does not fetch it again).
      void worker.close();
      await job.moveToWait(token);
      finishRun(new Error(`stopped by ${leaving}`), false);
      throw new WaitingError();
    }
    await markRunning(client, meta, index, agentName, hostname());
    log(`trial ${index + 1}/${meta.total} ${name} started${trial.attempts > 0 ? ` (attempt ${trial.attempts + 1})` : ''}`);
    const expanded = expandParams(trial.params as Record<string, unknown>);
    const seed = typeof expanded.seed === 'number' ? expanded.seed : meta.trialSeed;
    const record: TrialRecord = { index, name, params: trial.params as Record<string, unknown>, status: 'running', value: null, epochs: 0, started_at: '', ended_at: null, pid: null, error: null };
    let epochs = 0;
    const { done, pid } = executor.start(record, runDir, {
      seed,
      threads,
      async onEpoch(epoch, line) {
        epochs = Math.max(epochs, epoch);
        await recordEpoch(client, meta, index, epoch, line);
        return hyperbandDecide(client, meta, index, epoch, line[config.metric.name] ?? NaN);
      },
    });
    running = { pid };
    await recordPid(client, meta, index, pid);
    const outcome = await done;
    running = null;
    if (fatal) throw fatal;
    if (leaving) {
      // Back to the queue now rather than after the stall timeout; the next agent starts it afresh.
      // The worker closes first, or it would fetch the job straight back.
      void worker.close();
      await client.hset(keys(meta.id).trial(index), { state: 'queued', agent: '', host: '', pid: '', epochs: '0', metrics: '' });
      await job.moveToWait(token);
      rmSync(runDir, { recursive: true, force: true });
      finishRun(new Error(`stopped by ${leaving}; trial ${index + 1} (${name}) went back to the queue`), false);
      throw new WaitingError();
    }
    const value = typeof outcome.summary[config.metric.name] === 'number' && Number.isFinite(outcome.summary[config.metric.name]) ? (outcome.summary[config.metric.name] as number) : null;
    const finalEpochs = typeof outcome.summary.epochs === 'number' ? outcome.summary.epochs : epochs;
    if (options.artifacts !== undefined && existsSync(runDir)) {
      // Copied beside, then renamed into place, so a reader never sees half a run folder.
      const dest = join(resolve(options.artifacts), meta.id, 'runs', name);
      const staging = `${dest}.partial-${process.pid}`;
      mkdirSync(join(resolve(options.artifacts), meta.id, 'runs'), { recursive: true });
      rmSync(staging, { recursive: true, force: true });
      cpSync(runDir, staging, { recursive: true });
      rmSync(dest, { recursive: true, force: true });
      renameSync(staging, dest);
    }
    const recorded = await recordEnd(client, meta, index, { state: outcome.status as TrialState, value, epochs: finalEpochs, error: outcome.error ?? null, files: runFiles(runDir) });
    rmSync(runDir, { recursive: true, force: true });
    ran++;
    log(`trial ${index + 1}/${meta.total} ${name} ${outcome.status}${value !== null ? ` ${config.metric.name}=${value.toFixed(4)}` : ''}${outcome.error ? `: ${outcome.error}` : ''}${recorded ? '' : ' (already recorded by another agent)'}`);
    if (options.count !== undefined && ran >= options.count) void worker.close();
  }, {
    connection: bullConnection(options.target),
    prefix: KEY_PREFIX,
    concurrency: 1,
    lockDuration: stall,
    stalledInterval: Math.max(100, Math.round(stall / 2)),
    maxStalledCount: 5,
    drainDelay: 1,
    autorun: false,
  });
  worker.on('error', () => {}); // Connection errors while Redis is away; the watchdog below bounds them.

  return new Promise<AgentResult>((resolveRun, rejectRun) => {
    let settled = false;
    const finish = (err: Error | null, sweepFinished: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(poller);
      unwatch();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const cleanup = () => {
        client.disconnect();
        rmSync(work, { recursive: true, force: true });
      };
      if (err) {
        if (running?.pid) {
          try {
            process.kill(running.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        void worker.close(true).catch(() => {});
        cleanup();
        rejectRun(err);
      } else {
        void worker.close().then(cleanup, cleanup).then(() => resolveRun({ trials: ran, sweepFinished }));
      }
    };
    finishRun = finish;
    // A signal ends the running trial (its job goes back to the queue, see the processor) or, idle, the agent.
    const onSignal = (signal: NodeJS.Signals) => {
      if (leaving) return;
      leaving = signal;
      const pid = running?.pid;
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      } else {
        finish(new Error(`stopped by ${signal}`), false);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const unwatch = watchConnection(client, options.target, redisTimeout, (message) => {
      fatal = new Error(message);
      finish(fatal, false);
    });
    // The sweep is finished when every trial ended, whichever agent ran it.
    let checking = false;
    const poller = setInterval(() => {
      if (checking || settled || client.status !== 'ready') return;
      checking = true;
      doneCount(client, meta.id).then((n) => {
        checking = false;
        if (n >= meta.total && running === null) finish(null, true);
      }, () => {
        checking = false;
      });
    }, 300);
    worker.on('closed', () => {
      if (!settled) doneCount(client, meta.id).then((n) => finish(null, n >= meta.total), () => finish(null, false));
    });
    worker.run().catch((err: Error) => finish(err, false));
  });
}
