// The sweep controller: suggests trials (grid / random / bayes), runs up to `parallel` of them at once
// (in-process functions or child processes), applies hyperband early termination, and keeps a state
// file (sweep.json, written atomically) so that a killed sweep resumes without repeating finished trials.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic.js';
import type { Callback } from '../train/callbacks.js';
import { Hyperband } from './hyperband.js';
import { acquireSweepLock } from './sweep-lock.js';
import { createRun, runCallback, runNameFromParams, type Run, type RunSummary } from './run.js';
import { expandParams, gridPoint, randomPoint, samplePrior, tpePoint, trialRng, type Observation, type TrialParams } from './search.js';
import { gridSize, type SweepConfig } from './sweep-config.js';
import { killIfArgs } from './processes.js';

/** Where a trial stands. `stopped`: ended early by hyperband; `failed`: threw or exited non-zero. */
export type TrialStatus = 'running' | 'finished' | 'stopped' | 'failed';

/** One trial in the sweep state. */
export interface TrialRecord {
  readonly index: number;
  /** Run folder name under `<sweep>/runs/`. */
  readonly name: string;
  /** Parameters as suggested (object values not yet spread). */
  readonly params: TrialParams;
  status: TrialStatus;
  /** The sweep metric from the run's summary (null if the run never reported it). */
  value: number | null;
  /** Epochs finished. */
  epochs: number;
  started_at: string;
  ended_at: string | null;
  /** Child process id while running (process trials), so a resume can end an orphan. */
  pid: number | null;
  error: string | null;
}

/** sweep.json. */
export interface SweepState {
  readonly version: 1;
  readonly config: SweepConfig;
  readonly seed: number;
  readonly started_at: string;
  trials: TrialRecord[];
  /** Hyperband rung records (see {@link Hyperband}). */
  hyperband: Record<string, Record<string, number | null>>;
}

/** What a trial function gets. */
export interface TrialContext {
  readonly index: number;
  readonly name: string;
  /** Parameters with object values spread (what the trainer should use). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Training seed: the `seed` parameter if swept, else the sweep's `trialSeed` (the same for every trial). */
  readonly seed: number;
  /** Threads this trial may use (`threads / parallel`, at least 1); an in-process trainer applies it itself (e.g. `setThreads`). */
  readonly threads: number;
  /** The trial's run (params.json, metrics.jsonl, summary.json, artifacts/). Finished by the controller. */
  readonly run: Run;
  /**
   * Reports the metrics of 1-based `epoch` (if the trial does not use {@link callback}); returns false
   * when hyperband says to stop. The trial should then return soon.
   */
  report(epoch: number, metrics: Readonly<Record<string, number>>): boolean;
  /** A fit callback that logs into the run and stops training when hyperband says so. */
  callback(): Callback;
  /** True once hyperband stopped this trial. */
  readonly stopped: boolean;
}

/** A trial run in-process. It may return final metrics (e.g. `{ test_accuracy }`) for the summary. */
export type TrainFn = (ctx: TrialContext) => Promise<Readonly<Record<string, number>> | void> | Readonly<Record<string, number>> | void;

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** Sweep folder: sweep.json and runs/ live here. */
  readonly dir: string;
  /** Trials at once (default 1). */
  readonly parallel?: number;
  /** Total thread budget split between parallel trials (default: all cores). */
  readonly threads?: number;
  /** Overrides the config's run_cap. */
  readonly runCap?: number;
  /** Training seed of every trial (default 1) unless `seed` is a swept parameter. */
  readonly trialSeed?: number;
  /** Stop after this many new trials were started in this call (for tests and batching; default: no limit). */
  readonly maxNewTrials?: number;
  /** Called with one line per trial start and end. */
  readonly log?: (line: string) => void;
}

/** The result of a sweep: its state, and the best trial (by the metric's goal) if any reported the metric. */
export interface SweepResult {
  readonly state: SweepState;
  readonly best: TrialRecord | null;
}

/** How a trial ended, with its run summary (as written). */
export interface TrialOutcome {
  readonly status: TrialStatus;
  readonly summary: Record<string, unknown>;
  readonly error?: string;
}

/** Executes a trial in run folder `dir`; `done` resolves when it ends, `pid` is its process (null in-process). */
export interface Executor {
  start(trial: TrialRecord, dir: string, hooks: TrialHooks): { done: Promise<TrialOutcome>; pid: number | null };
}

/** What an executor is told about a trial besides its parameters. */
export interface TrialHooks {
  readonly seed: number;
  readonly threads: number;
  /**
   * Called per finished epoch with the epoch line; false = stop the trial. A process executor also
   * accepts a promise (a distributed sweep asks Redis) and handles the epoch lines one at a time.
   */
  onEpoch(epoch: number, metrics: Readonly<Record<string, number>>): boolean | Promise<boolean>;
}

const now = () => new Date().toISOString();

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Loads sweep.json from `dir`, or null if there is none. */
export function loadSweepState(dir: string): SweepState | null {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) return null;
  const state = JSON.parse(readFileSync(path, 'utf8')) as SweepState;
  if (state.version !== 1 || !Array.isArray(state.trials)) throw new Error(`${path}: not a tensorkit sweep state file`);
  return state;
}

function saveState(dir: string, state: SweepState): void {
  writeFileAtomic(join(dir, 'sweep.json'), Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
}

/**
 * Ends an orphaned trial process of an interrupted sweep, if it is still alive and is that trial: its
 * arguments name the run folder (`--run_dir DIR`) or the trial and sweep (`--name TRIAL … -wp SWEEP`).
 * Without /proc (not Linux) nothing is ended.
 */
export function endOrphan(pid: number, runDir: string, trial: string, sweepName: string): void {
  killIfArgs(pid, (args) => args.includes(runDir) || (args.includes(trial) && args.includes(sweepName)));
}

/** The metric value of a summary: `summary[metric]` if finite, else null. */
function metricOf(summary: Record<string, unknown>, metric: string): number | null {
  const v = summary[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The parameters of trial `index`: grid point `index`, random draw `index`, or for bayes a random draw
 * until `startup_trials` trials have a metric value, then a TPE suggestion from those (maximized
 * metrics are negated) that avoids every configuration in `trials` (ended or still running). Null past
 * the end of a grid. The same inputs give the same suggestion, so a distributed sweep that calls this
 * with the shared history under a lock proposes what a local sweep would from the same history.
 */
export function suggestTrial(config: SweepConfig, seed: number, index: number, trials: readonly Pick<TrialRecord, 'params' | 'status' | 'value'>[]): TrialParams | null {
  if (config.method === 'grid') return gridPoint(config, index);
  if (config.method === 'random') return randomPoint(config, seed, index);
  const maximize = config.metric.goal === 'maximize';
  const done = trials.filter((t) => t.value !== null && t.status !== 'running');
  if (done.length < (config.startup_trials ?? 10)) {
    // A start-up draw that repeats a configuration already tried or running is drawn again (same
    // trial's Rng, so still seeded), unless the space seems exhausted.
    const point = randomPoint(config, seed, index);
    const key = (p: TrialParams) => JSON.stringify(Object.keys(config.parameters).map((n) => p[n] ?? null));
    const seen = new Set(trials.map((t) => key(t.params)));
    if (!seen.has(key(point))) return point;
    const rng = trialRng(seed + 0x5bd1e995, index);
    for (let tries = 0; tries < 256; tries++) {
      const again: TrialParams = {};
      for (const [name, spec] of Object.entries(config.parameters)) again[name] = samplePrior(spec, rng);
      if (!seen.has(key(again))) return again;
    }
    return point;
  }
  const obs: Observation[] = done.map((t) => ({ params: t.params, loss: maximize ? -(t.value as number) : (t.value as number) }));
  // Every configuration tried so far (finished, stopped, failed or still running) is excluded.
  return tpePoint(config, obs, trialRng(seed, index), { exclude: trials.map((t) => t.params) });
}

/**
 * A trial's run-folder name: {@link runNameFromParams} of the parameters that vary (constants would
 * make every name long and alike), with `-2`, `-3`, … appended when `taken` has it; the name is added
 * to `taken`.
 */
export function trialName(config: SweepConfig, params: TrialParams, taken: Set<string>): string {
  const varying: TrialParams = {};
  for (const [k, spec] of Object.entries(config.parameters)) if (!(spec.values && spec.values.length === 1)) varying[k] = params[k];
  const base = runNameFromParams(expandParams(Object.keys(varying).length > 0 ? varying : params));
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
  taken.add(name);
  return name;
}

/**
 * Runs (or resumes) a sweep with `executor`, holding `<dir>/sweep.lock` (see sweep-lock.ts): a
 * folder in use by another live sweep is refused with {@link SweepLockedError}. A state file in `options.dir` from an earlier call with
 * the same config is continued: finished / stopped / failed trials are kept, trials that were running
 * are run again from scratch under the same name and parameters, and new trials follow.
 */
async function runSweep(config: SweepConfig, executor: Executor, options: SweepOptions): Promise<SweepResult> {
  const parallel = options.parallel ?? 1;
  if (!(Number.isInteger(parallel) && parallel >= 1)) throw new Error(`sweep: parallel must be an integer >= 1, got ${parallel}`);
  const totalThreads = options.threads ?? availableParallelism();
  if (!(Number.isInteger(totalThreads) && totalThreads >= 1)) throw new Error(`sweep: threads must be an integer >= 1, got ${totalThreads}`);
  const threads = Math.max(1, Math.floor(totalThreads / parallel));
  const cap = options.runCap ?? config.run_cap ?? (config.method === 'grid' ? gridSize(config) : undefined);
  if (cap === undefined) throw new Error(`sweep: run_cap is required for method ${config.method} (in the config, or --run_cap)`);
  const runCap = config.method === 'grid' ? Math.min(cap, gridSize(config)) : cap;
  const log = options.log ?? (() => {});
  const dir = options.dir;
  const runsDir = join(dir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  // One process per sweep folder: a second sweep would take the first one's running trials for orphans.
  const lock = acquireSweepLock(dir);
  try {
    return await runLockedSweep(config, executor, options, { parallel, threads, runCap, log, dir, runsDir });
  } finally {
    lock.release();
  }
}

/** {@link runSweep} once the folder is locked. */
async function runLockedSweep(config: SweepConfig, executor: Executor, options: SweepOptions, settings: { parallel: number; threads: number; runCap: number; log: (line: string) => void; dir: string; runsDir: string }): Promise<SweepResult> {
  const { parallel, threads, runCap, log, dir, runsDir } = settings;

  let state = loadSweepState(dir);
  if (state && JSON.stringify(state.config) !== JSON.stringify(config)) {
    throw new Error(`sweep: ${join(dir, 'sweep.json')} belongs to a different sweep config; use another output folder or delete it`);
  }
  state ??= { version: 1, config, seed: config.seed ?? 0, started_at: now(), trials: [], hyperband: {} };
  const hyperband = config.early_terminate ? new Hyperband(config.early_terminate, config.metric.goal, state.hyperband) : null;
  const maximize = config.metric.goal === 'maximize';

  // Trials interrupted by a kill: end leftover processes, forget their rung records, run them again.
  const queue: TrialRecord[] = [];
  for (const t of state.trials) {
    if (t.status !== 'running') continue;
    if (t.pid !== null) endOrphan(t.pid, join(runsDir, t.name), t.name, dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() as string);
    hyperband?.forget(t.index);
    queue.push(t);
  }
  saveState(dir, state);

  const names = new Set(state.trials.map((t) => t.name));
  const suggest = (index: number): TrialParams | null => suggestTrial(config, state.seed, index, state.trials);
  const newTrial = (): TrialRecord | null => {
    const index = state.trials.length;
    if (index >= runCap) return null;
    const params = suggest(index);
    if (params === null) return null;
    const name = trialName(config, params, names);
    const t: TrialRecord = { index, name, params, status: 'running', value: null, epochs: 0, started_at: now(), ended_at: null, pid: null, error: null };
    state.trials.push(t);
    return t;
  };

  let started = 0;
  const maxNew = options.maxNewTrials ?? Infinity;
  const running = new Map<number, Promise<void>>();
  const launch = (t: TrialRecord) => {
    const runDir = join(runsDir, t.name);
    rmSync(runDir, { recursive: true, force: true });
    t.status = 'running';
    t.started_at = now();
    const expanded = expandParams(t.params);
    const seed = typeof expanded.seed === 'number' ? expanded.seed : (options.trialSeed ?? 1);
    const hooks: TrialHooks = {
      seed,
      threads,
      onEpoch(epoch, metrics) {
        t.epochs = Math.max(t.epochs, epoch);
        const keep = hyperband ? hyperband.report(epoch, metrics[config.metric.name] ?? NaN, t.index) : true;
        saveState(dir, state);
        return keep;
      },
    };
    const { done, pid } = executor.start(t, runDir, hooks);
    t.pid = pid;
    saveState(dir, state);
    log(`trial ${t.index + 1}/${runCap} ${t.name} started`);
    started++;
    running.set(t.index, done.then(({ status, summary, error }) => {
      t.status = status;
      t.value = metricOf(summary, config.metric.name);
      t.epochs = typeof summary.epochs === 'number' ? summary.epochs : t.epochs;
      t.ended_at = now();
      t.pid = null;
      t.error = error ?? null;
      saveState(dir, state);
      running.delete(t.index);
      log(`trial ${t.index + 1}/${runCap} ${t.name} ${status}${t.value !== null ? ` ${config.metric.name}=${t.value.toFixed(4)}` : ''}${error ? `: ${error}` : ''}`);
    }));
  };

  for (;;) {
    while (running.size < parallel && started < maxNew) {
      const t = queue.shift() ?? newTrial();
      if (!t) break;
      launch(t);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  const scored = state.trials.filter((t) => t.value !== null);
  const best = scored.length === 0 ? null : scored.reduce((a, b) => ((maximize ? (b.value as number) > (a.value as number) : (b.value as number) < (a.value as number)) ? b : a));
  return { state, best };
}

/**
 * Runs a sweep from TypeScript: `trainFn` is called once per trial with its parameters, a run to log
 * into and a hyperband hook. Trials run concurrently up to `parallel` (in one process they interleave
 * at each `await`; use {@link sweepProcesses} for real parallelism). Suggestions are seeded by the
 * config's `seed`; with `parallel` 1 the whole sweep is deterministic. Bayes uses the finished
 * trials only (running ones are not imputed).
 */
export function sweep(config: SweepConfig, trainFn: TrainFn, options: SweepOptions): Promise<SweepResult> {
  const executor: Executor = {
    start(trial, dir, hooks) {
      const run = createRun({ dir, params: expandParams(trial.params), threads: hooks.threads });
      let stopped = false;
      const report = (epoch: number, metrics: Readonly<Record<string, number>>) => {
        // runSweep's hooks answer synchronously.
        if (!(hooks.onEpoch(epoch, metrics) as boolean)) stopped = true;
        return !stopped;
      };
      const ctx: TrialContext = {
        index: trial.index, name: trial.name, params: expandParams(trial.params), seed: hooks.seed, threads: hooks.threads, run, report,
        callback: () => runCallback(run, (logs, control) => {
          const metrics: Record<string, number> = { loss: logs.loss, accuracy: logs.accuracy, val_loss: logs.valLoss, val_accuracy: logs.valAccuracy };
          if (!report(logs.epoch + 1, metrics)) control.stop();
        }),
        get stopped() {
          return stopped;
        },
      };
      const done = (async () => {
        try {
          const final = (await trainFn(ctx)) ?? {};
          run.finish(final, stopped ? 'stopped' : 'finished');
          return { status: (stopped ? 'stopped' : 'finished') as TrialStatus, summary: run.getSummary() as Record<string, unknown> };
        } catch (err) {
          const error = (err as Error).message;
          run.finish({ error }, 'failed');
          return { status: 'failed' as TrialStatus, summary: run.getSummary() as Record<string, unknown>, error };
        }
      })();
      return { done, pid: null };
    },
  };
  return runSweep(config, executor, options);
}

/** How child trials are launched. */
export interface ProcessOptions extends SweepOptions {
  /**
   * Extra arguments for every trial (e.g. `['--quick']`). With the default trainer (`tensorkit train`)
   * each parameter becomes `--<name> <value>` (lists comma-joined, `true` as a bare switch, `false`
   * left out), plus `--out <dir>/..`, `-wp <sweep>`, `-we runs`, `--name <trial>`, `--seed`, `--threads`.
   */
  readonly extraArgs?: readonly string[];
  /** Working folder of the children (default: the current one). */
  readonly cwd?: string;
  /** Milliseconds between reads of the children's metrics.jsonl (default 250). */
  readonly poll?: number;
}

/** The tensorkit CLI entry next to this module: dist/cli/main.js when built, else src/cli/main.ts through tsx. */
export function cliCommand(): string[] {
  const js = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--import', 'tsx', fileURLToPath(new URL('../cli/main.ts', import.meta.url))];
}

/** Command-line arguments of one parameter value. */
function paramArgs(name: string, value: unknown): string[] {
  if (value === true) return [`--${name}`];
  if (value === false || value === null || value === undefined) return [];
  return [`--${name}`, Array.isArray(value) ? value.join(',') : String(value)];
}

/** New complete epoch lines of a growing metrics.jsonl, read from byte `offset`. */
function readNewLines(path: string, offset: number): { lines: Record<string, unknown>[]; offset: number } {
  if (!existsSync(path)) return { lines: [], offset };
  const size = statSync(path).size;
  if (size <= offset) return { lines: [], offset };
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    const end = buf.lastIndexOf(10);
    if (end < 0) return { lines: [], offset };
    const lines = buf.subarray(0, end).toString('utf8').split('\n').filter((l) => l !== '').flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    return { lines, offset: offset + end + 1 };
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a sweep with one child process per trial: `tensorkit train` by default, or the config's
 * `program` (a .js/.mjs/.ts script given `--run_dir DIR --seed S --threads T` and `--<param> <value>`,
 * expected to record a run in DIR with {@link createRun}). The controller follows each child's
 * metrics.jsonl for epoch lines (stderr goes to `<dir>/logs/<trial>.stderr.log`) and ends a child with SIGTERM when hyperband stops it (its summary
 * is then marked `stopped`). Each child gets `threads / parallel` threads (`--threads` and the
 * `TENSORKIT_THREADS` environment variable).
 */
export function sweepProcesses(config: SweepConfig, options: ProcessOptions): Promise<SweepResult> {
  return runSweep(config, processExecutor(config, options), options);
}

/**
 * The executor of {@link sweepProcesses}, also used by distributed-sweep agents: `options.dir` is the
 * sweep folder (the run folder given to `start` must be `<dir>/runs/<trial name>`), stderr logs go to
 * `<dir>/logs/`. Epoch lines reach `hooks.onEpoch` in order, one at a time, even when it answers
 * with a promise.
 */
export function processExecutor(config: SweepConfig, options: Pick<ProcessOptions, 'dir' | 'extraArgs' | 'cwd' | 'poll'>): Executor {
  const sweepName = options.dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() as string;
  const root = resolve(options.dir, '..');
  const poll = options.poll ?? 250;
  return {
    start(trial, dir, hooks) {
      const params = expandParams(trial.params);
      const args: string[] = [];
      for (const [k, v] of Object.entries(params)) if (k !== 'seed') args.push(...paramArgs(k, v));
      args.push('--seed', String(hooks.seed), '--threads', String(hooks.threads), ...(options.extraArgs ?? []));
      let command: string[];
      if (config.program) {
        const program = isAbsolute(config.program) ? config.program : resolve(options.cwd ?? process.cwd(), config.program);
        command = [process.execPath, ...(program.endsWith('.ts') ? ['--import', 'tsx'] : []), program, '--run_dir', dir, ...args];
      } else {
        command = [...cliCommand(), 'train', '--out', root, '-wp', sweepName, '-we', 'runs', '--name', trial.name, ...args];
      }
      // stderr goes beside the runs, not into the run folder: `tensorkit train` claims that folder itself.
      mkdirSync(join(options.dir, 'logs'), { recursive: true });
      const errPath = join(options.dir, 'logs', `${trial.name}.stderr.log`);
      const errFd = openSync(errPath, 'a');
      const child: ChildProcess = spawn(command[0], command.slice(1), {
        cwd: options.cwd,
        // The thread pool reads TENSORKIT_THREADS, so the budget holds whatever the trainer does with --threads.
        env: { ...process.env, TENSORKIT_THREADS: String(hooks.threads) },
        stdio: ['ignore', 'ignore', errFd],
      });
      closeSync(errFd);
      let offset = 0;
      let stopped = false;
      // Epoch lines are handed over in order through one promise chain (onEpoch may be asynchronous).
      let chain: Promise<void> = Promise.resolve();
      const follow = () => {
        const next = readNewLines(join(dir, 'metrics.jsonl'), offset);
        offset = next.offset;
        for (const line of next.lines) {
          if (line.type !== 'epoch') continue;
          chain = chain.then(async () => {
            if (stopped) return;
            let keep: boolean;
            try {
              keep = await hooks.onEpoch(line.epoch as number, line as Record<string, number>);
            } catch {
              keep = true; // A failed report must not end a healthy trial.
            }
            if (!keep) {
              stopped = true;
              child.kill('SIGTERM');
            }
          });
        }
      };
      const timer = setInterval(follow, poll);
      const done = new Promise<TrialOutcome>((resolveDone) => {
        let ended = false;
        const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
          if (ended) return;
          ended = true;
          clearInterval(timer);
          if (!spawnError) follow();
          await chain;
          const summaryPath = join(dir, 'summary.json');
          const summary = readJson(summaryPath) as Partial<RunSummary> & Record<string, unknown>;
          if (stopped) {
            summary.status = 'stopped';
            if (existsSync(summaryPath)) writeFileAtomic(summaryPath, Buffer.from(`${JSON.stringify(summary, null, 2)}\n`));
            resolveDone({ status: 'stopped', summary });
          } else if (code === 0) resolveDone({ status: 'finished', summary });
          else {
            const tail = existsSync(errPath) ? readFileSync(errPath, 'utf8').trim().split('\n').slice(-1)[0] : '';
            resolveDone({ status: 'failed', summary, error: spawnError?.message ?? `exit ${code ?? signal}${tail ? `: ${tail}` : ''}` });
          }
        };
        child.once('error', (err) => void finish(null, null, err));
        child.once('exit', (code, signal) => void finish(code, signal));
      });
      return { done, pid: child.pid ?? null };
    },
  };
}
