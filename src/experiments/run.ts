// Run tracking: a run is a folder holding params.json, metrics.jsonl (one JSON line per batch / epoch,
// appended as training goes), summary.json (rewritten atomically; it names the owning process, so a
// reader can tell a run that is still training from one whose process died), env.json and artifacts/.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, hostname, platform } from 'node:os';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { BatchLogs, Callback, EpochLogs, TrainingControl } from '../train/callbacks.js';
import { procStat } from './processes.js';

/** A run's parameters: JSON values (nested objects and lists are kept as given). */
export type RunParams = Readonly<Record<string, unknown>>;

/**
 * How a run ended (`running` while it trains; `stopped` = ended early by a sweep's early termination).
 * Readers ({@link readRun}) also report `killed` (the owning process is gone without finishing the
 * run) and `crashed` (gone after recording an `error`); a run never writes those itself.
 */
export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed' | 'killed' | 'crashed';

/**
 * summary.json. Epoch metrics appear under their snake_case names with their final value
 * (`loss`, `accuracy`, `val_loss`, `val_accuracy`), beside the bests and the timings below; any
 * number given to {@link Run.finish} or {@link Run.setSummary} (e.g. `test_accuracy`) is added.
 */
export interface RunSummary {
  status: RunStatus;
  /** Epochs finished. */
  epochs: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Highest validation accuracy of any epoch (NaN-free; absent without validation). */
  best_val_accuracy?: number;
  /** 1-based epoch of `best_val_accuracy`. */
  best_epoch?: number;
  /** Seconds from the start of training to the last finished epoch (or to `finish`). */
  train_seconds: number;
  /** The train-accuracy target of `time_to_target` (see {@link RunOptions.targetAccuracy}). */
  target_accuracy: number;
  /** Seconds from the start of training until the running train accuracy first reached the target; absent if never. */
  time_to_target?: number;
  /** Wall-clock start and last update, ISO 8601. `updated_at` is also a heartbeat: rewritten at least every {@link HEARTBEAT_SECONDS} while batches run. */
  started_at: string;
  updated_at: string;
  /** The process that writes the run: its pid, host name and start time (see {@link processStartTime}). */
  owner_pid: number;
  owner_host: string;
  owner_start: string;
  /** Set by {@link Run.recordError} or a failed finish. */
  error?: string;
  [metric: string]: number | string | undefined;
}

/** Options of {@link createRun}. */
export interface RunOptions {
  /** Runs root: the run folder is created inside it. */
  readonly root?: string;
  /**
   * Folder name, reduced to one safe segment by {@link safeSegment} (so the run stays inside `root`);
   * default {@link runNameFromParams}`(params)`. A taken name gets `-2`, `-3`, … appended.
   */
  readonly name?: string;
  /** Use exactly this folder instead of root/name (created if missing; its old metrics are kept and appended to). */
  readonly dir?: string;
  readonly params: RunParams;
  /** Train-accuracy target of `time_to_target` (default 0.85). */
  readonly targetAccuracy?: number;
  /** Batches averaged for the running train accuracy compared with the target (default 20). */
  readonly targetWindow?: number;
  /** Write one batch line every this many optimizer steps (default 1; 0: no batch lines). */
  readonly batchEvery?: number;
  /** Threads the training uses, recorded in env.json. */
  readonly threads?: number;
  /** Extra fields for env.json. */
  readonly env?: Readonly<Record<string, unknown>>;
}

/** One line of metrics.jsonl. `t` is seconds since the run was created. */
export type MetricLine =
  | { type: 'batch'; t: number; step: number; epoch: number; batch: number; loss: number; accuracy: number }
  | ({ type: 'epoch'; t: number; epoch: number } & Record<string, number>)
  | ({ type: 'log'; t: number } & Record<string, unknown>);

const PACKAGE_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** The git commit of the working directory (with `-dirty` when there are local changes), or null outside a repository. */
export function gitCommit(cwd = process.cwd()): string | null {
  try {
    const opts = { cwd, encoding: 'utf8' as const, timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** env.json: library version, Node, platform, CPU, cores, threads, git commit. */
export function environment(threads?: number, extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    tensorkit: PACKAGE_VERSION,
    node: process.version,
    platform: `${platform()}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    threads: threads ?? null,
    git: gitCommit(),
    pid: process.pid,
    ...extra,
  };
}

/** Longest time between two summary.json writes while batches run (the run's heartbeat), in seconds. */
export const HEARTBEAT_SECONDS = 30;

/**
 * An identifier of the start of process `pid` that survives pid reuse: on Linux the start time in
 * clock ticks since boot (field 22 of /proc/PID/stat); elsewhere `''`. `null` when no such process
 * exists (Linux only; elsewhere liveness is tested with signal 0).
 */
export function processStartTime(pid: number): string | null {
  if (platform() !== 'linux') return '';
  const stat = procStat(pid);
  return stat === null ? null : stat.start ?? '';
}

/**
 * Whether the process that wrote a run (pid, host, start identifier from summary.json) is alive.
 * Only a process on this host can be checked: for another host (or a summary without an owner) the
 * answer is `true` (unknown counts as alive, so a reader never declares a live run dead).
 */
export function ownerAlive(owner: { pid?: unknown; host?: unknown; start?: unknown }): boolean {
  const { pid, host, start } = owner;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || host !== hostname()) return true;
  if (platform() === 'linux') {
    const now = processStartTime(pid);
    if (now === null) return false;
    return typeof start !== 'string' || start === '' || now === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A user-given name as one safe folder name: path separators split it into parts, `.`, `..` and empty
 * parts are dropped, control characters and the characters Windows forbids in names (`<>:"|?*`)
 * become `_`, the parts join with `-`, leading dots, dashes and spaces go (no hidden folders, no
 * option look-alikes) and at most 120 characters remain. Other characters (spaces, letters of any
 * script) are kept. `'../../escape'` → `'escape'`, `'a/b c'` → `'a-b c'`. May return `''` (nothing usable).
 */
export function safeSegment(name: string): string {
  return name
    .split(/[\\/]+/)
    .filter((p) => p !== '' && p !== '.' && p !== '..')
    .map((p) => p.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_'))
    .join('-')
    .replace(/^[.\s-]+/, '')
    .slice(0, 120)
    .trimEnd();
}

/** Short parameter key: initials of a multi-word name (`batch_size`, `batchSize` → `bs`), else the first two letters. */
export function abbreviate(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  if (words.length === 0) return 'p';
  return words.length === 1 ? words[0].slice(0, 2) : words.map((w) => w[0]).join('');
}

function nameValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(nameValue).join('-');
  if (typeof v === 'number') return Number.isInteger(v) || Math.abs(v) >= 1e-3 ? String(Number(v.toPrecision(4))) : v.toExponential(1).replace('e-', 'e-');
  if (v !== null && typeof v === 'object') return Object.values(v).map(nameValue).join('-');
  return String(v);
}

/**
 * A readable folder name from parameters: `abbreviation_value` pairs joined by `_`, e.g.
 * `{ hidden_layers: 3, batch_size: 16, activation: 'tanh' }` → `hl_3_bs_16_ac_tanh`. Lists join with
 * `-`, object values contribute their values. Only `[A-Za-z0-9._-]` survive; at most 120 characters.
 */
export function runNameFromParams(params: RunParams, keys: readonly string[] = Object.keys(params)): string {
  const parts: string[] = [];
  for (const key of keys) {
    const v = params[key];
    if (v === undefined || typeof v === 'boolean') continue;
    parts.push(`${abbreviate(key)}_${nameValue(v)}`);
  }
  const name = parts.join('_').replace(/[^A-Za-z0-9._-]+/g, '').replace(/^[.-]+/, '').slice(0, 120);
  return name === '' ? 'run' : name;
}

/** Creates `root/name`, or `root/name-2`, … if taken (mkdir without `recursive` makes the claim race-free). */
function claimDir(root: string, name: string): string {
  const rel = relative(resolve(root), resolve(root, name));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || /[\\/]/.test(rel)) throw new Error(`createRun: run name ${JSON.stringify(name)} is not a single folder name inside ${root}`);
  mkdirSync(root, { recursive: true });
  for (let k = 1; ; k++) {
    const dir = join(root, k === 1 ? name : `${name}-${k}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

const jsonText = (v: unknown) => `${JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2)}\n`;

/**
 * A tracked run. Metric lines go straight to the file (one `write` per complete line), so a reader
 * sees whole lines plus at most one partial last line, which {@link readMetrics} skips.
 */
export class Run {
  /** The run folder. */
  readonly dir: string;
  /** `dir/artifacts`: plots, predictions, model files. */
  readonly artifacts: string;
  readonly params: RunParams;
  private readonly fd: number;
  private readonly t0: number;
  private readonly summary: RunSummary;
  private readonly targetWindow: number;
  private readonly batchEvery: number;
  private readonly window: Float64Array;
  private windowCount: number;
  private trainStart: number;
  private closed: boolean;
  private lastWrite = 0;

  /** Use {@link createRun}. */
  constructor(dir: string, options: RunOptions) {
    this.dir = dir;
    this.artifacts = join(dir, 'artifacts');
    this.params = options.params;
    mkdirSync(this.artifacts, { recursive: true });
    this.t0 = performance.now();
    this.targetWindow = options.targetWindow ?? 20;
    this.batchEvery = options.batchEvery ?? 1;
    if (!(Number.isInteger(this.targetWindow) && this.targetWindow >= 1)) throw new Error(`createRun: targetWindow must be an integer >= 1, got ${this.targetWindow}`);
    if (!(Number.isInteger(this.batchEvery) && this.batchEvery >= 0)) throw new Error(`createRun: batchEvery must be an integer >= 0, got ${this.batchEvery}`);
    const target = options.targetAccuracy ?? 0.85;
    if (!(target > 0 && target <= 1)) throw new Error(`createRun: targetAccuracy must be in (0, 1], got ${target}`);
    this.window = new Float64Array(this.targetWindow);
    this.windowCount = 0;
    this.trainStart = -1;
    this.closed = false;
    const now = new Date().toISOString();
    this.summary = {
      status: 'running', epochs: 0, steps: 0, train_seconds: 0, target_accuracy: target, started_at: now, updated_at: now,
      owner_pid: process.pid, owner_host: hostname(), owner_start: processStartTime(process.pid) ?? '',
    };
    this.lastWrite = performance.now();
    writeFileAtomic(join(dir, 'params.json'), Buffer.from(jsonText(options.params)));
    writeFileAtomic(join(dir, 'env.json'), Buffer.from(jsonText(environment(options.threads, options.env))));
    this.writeSummary();
    this.fd = openSync(join(dir, 'metrics.jsonl'), 'a');
  }

  /** Seconds since the run was created. */
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Appends one line to metrics.jsonl (`t` is added). */
  log(line: Record<string, unknown> & { type?: string }): void {
    if (this.closed) throw new Error(`run ${this.dir}: log after finish`);
    writeSync(this.fd, `${JSON.stringify({ type: 'log', ...line, t: Number(this.elapsed().toFixed(3)) }, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))}\n`);
  }

  /** Marks the start of training (the zero of `train_seconds` and `time_to_target`); called by the callback. */
  startTraining(): void {
    if (this.trainStart < 0) this.trainStart = performance.now();
  }

  private trainSeconds(): number {
    return this.trainStart < 0 ? 0 : (performance.now() - this.trainStart) / 1000;
  }

  /** Records one batch (a line every `batchEvery` steps) and updates the running accuracy for `time_to_target`. */
  logBatch(logs: BatchLogs): void {
    this.startTraining();
    this.summary.steps = logs.step;
    this.window[this.windowCount % this.targetWindow] = logs.accuracy;
    this.windowCount++;
    if (this.summary.time_to_target === undefined && this.windowCount >= this.targetWindow) {
      let sum = 0;
      for (let i = 0; i < this.targetWindow; i++) sum += this.window[i];
      if (sum / this.targetWindow >= this.summary.target_accuracy) this.summary.time_to_target = this.trainSeconds();
    }
    if (this.batchEvery > 0 && logs.step % this.batchEvery === 0) {
      this.log({ type: 'batch', step: logs.step, epoch: logs.epoch + 1, batch: logs.batch + 1, loss: logs.loss, accuracy: logs.accuracy });
    }
    if (performance.now() - this.lastWrite > HEARTBEAT_SECONDS * 1000) {
      this.summary.train_seconds = this.trainSeconds();
      this.writeSummary();
    }
  }

  /** Records one epoch (1-based `epoch` in the line) and rewrites summary.json with the latest and best values. */
  logEpoch(logs: EpochLogs): void {
    this.startTraining();
    const line: Record<string, number> = { epoch: logs.epoch + 1, loss: logs.loss, accuracy: logs.accuracy, seconds: logs.seconds, lr: logs.lr };
    if (!Number.isNaN(logs.valLoss)) {
      line.val_loss = logs.valLoss;
      line.val_accuracy = logs.valAccuracy;
    }
    this.log({ type: 'epoch', ...line });
    this.summary.epochs = logs.epoch + 1;
    this.summary.train_seconds = this.trainSeconds();
    for (const [k, v] of Object.entries(line)) if (k !== 'epoch' && k !== 'seconds') this.summary[k] = v;
    if (line.val_accuracy !== undefined && !(line.val_accuracy <= (this.summary.best_val_accuracy ?? -Infinity))) {
      this.summary.best_val_accuracy = line.val_accuracy;
      this.summary.best_epoch = logs.epoch + 1;
    }
    this.writeSummary();
  }

  /** Adds numbers (e.g. `test_accuracy`) or strings to summary.json and rewrites it. */
  setSummary(values: Readonly<Record<string, number | string>>): void {
    Object.assign(this.summary, values);
    this.writeSummary();
  }

  /**
   * Records an error in summary.json without ending the run, for a process about to die: a reader
   * then shows the run as `crashed` rather than `killed`.
   */
  recordError(message: string): void {
    this.summary.error = message;
    this.writeSummary();
  }

  /** A snapshot of summary.json's content. */
  getSummary(): Readonly<RunSummary> {
    return { ...this.summary };
  }

  /**
   * Ends the run: adds `values`, sets the status (default `finished`), fixes `train_seconds` unless
   * given, writes summary.json and closes metrics.jsonl. Calling it twice is an error.
   */
  finish(values: Readonly<Record<string, number | string>> = {}, status: RunStatus = 'finished'): void {
    if (this.closed) throw new Error(`run ${this.dir}: finish called twice`);
    if (this.trainStart >= 0 && values.train_seconds === undefined) this.summary.train_seconds = this.trainSeconds();
    Object.assign(this.summary, values);
    this.summary.status = status;
    this.writeSummary();
    this.closed = true;
    closeSync(this.fd);
  }

  /** A fit callback that logs every batch and epoch into this run. */
  callback(): Callback {
    return runCallback(this);
  }

  private writeSummary(): void {
    this.lastWrite = performance.now();
    this.summary.updated_at = new Date().toISOString();
    writeFileAtomic(join(this.dir, 'summary.json'), Buffer.from(jsonText(this.summary)));
  }
}

/**
 * Creates a run folder (`options.dir`, or a fresh `root/name`) and writes params.json, env.json,
 * an initial summary.json and an empty metrics.jsonl. Throws if neither `root` nor `dir` is given.
 */
export function createRun(options: RunOptions): Run {
  let dir: string;
  if (options.dir !== undefined) {
    dir = options.dir;
    mkdirSync(dir, { recursive: true });
  } else {
    if (options.root === undefined) throw new Error('createRun: give root (runs folder) or dir (run folder)');
    const name = options.name === undefined ? runNameFromParams(options.params) : safeSegment(options.name);
    if (name === '') throw new Error(`createRun: run name ${JSON.stringify(options.name)} has no usable characters for a folder name`);
    dir = claimDir(options.root, name);
  }
  return new Run(dir, options);
}

/**
 * A fit callback logging into `run`: a batch line per step (see `batchEvery`), an epoch line and a
 * summary update per epoch. `onEpochEnd` also calls `onEpoch(logs, control)` if given — sweeps use
 * it to stop a trial early. The run is not finished by the callback (the caller adds test metrics).
 */
export function runCallback(run: Run, onEpoch?: (logs: EpochLogs, control: TrainingControl) => void): Callback {
  return {
    onTrainBegin() {
      run.startTraining();
    },
    onBatchEnd(logs) {
      run.logBatch(logs);
    },
    onEpochEnd(logs, control) {
      run.logEpoch(logs);
      onEpoch?.(logs, control);
    },
  };
}
