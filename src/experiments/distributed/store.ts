// The shared state of a distributed sweep in Redis: its registration (validated config and options),
// one hash per trial (state, parameters, latest metrics), streamed epoch lines, the finished runs'
// files, hyperband rung records and decisions, and the lock around "read history + decide + record".
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../../io/atomic.js';
import { Hyperband } from '../hyperband.js';
import { expandParams, type TrialParams } from '../search.js';
import { gridSize, SweepConfigError, validateSweepConfig, type ParameterSpec, type SweepConfig, type ValidateOptions } from '../sweep-config.js';
import { suggestTrial, trialName, type SweepState, type TrialRecord, type TrialStatus } from '../sweep.js';

/** Prefix of every key (BullMQ's queue keys are `tensorkit:sweep-<id>:…`, ours `tensorkit:sweeps:<id>:…`). */
export const KEY_PREFIX = 'tensorkit';

/** A trial's state as `tensorkit sweep status` shows it. */
export type TrialState = 'queued' | 'running' | 'finished' | 'stopped' | 'failed';

/** Terminal states: the trial counts as done. */
export const DONE_STATES: readonly TrialState[] = ['finished', 'stopped', 'failed'];

/** What `tensorkit sweep CONFIG --queue URL` stores once. */
export interface SweepMeta {
  readonly version: 1;
  readonly id: string;
  readonly name: string;
  readonly config: SweepConfig;
  /** Seed of the search (the config's seed, default 0). */
  readonly seed: number;
  /** Training seed of every trial unless `seed` is swept (the local sweep's `--seed`). */
  readonly trialSeed: number;
  /** Number of trials. */
  readonly total: number;
  /** Extra trainer arguments (`--quick` or nothing). */
  readonly extraArgs: readonly string[];
  readonly created_at: string;
}

/** One trial as stored. */
export interface DistributedTrial {
  readonly index: number;
  name: string | null;
  params: TrialParams | null;
  state: TrialState;
  epochs: number;
  /** The sweep metric from the finished run's summary. */
  value: number | null;
  /** The latest epoch line (live while running). */
  metrics: Record<string, number> | null;
  started_at: string | null;
  ended_at: string | null;
  /** `host:pid` of the agent that ran (or runs) it. */
  agent: string | null;
  /** How many times it was started (a stalled trial runs again). */
  attempts: number;
  error: string | null;
  /** Host and process id of the trial's process (so an agent on that host can end an orphan). */
  host: string | null;
  pid: number | null;
}

/** Sweep ids: folder-safe names. */
const ID_PATTERN = /^[A-Za-z0-9._-]{1,120}$/;

/** Throws if `id` is not a possible sweep id. */
export function checkSweepId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new SweepConfigError('sweep id', `must match [A-Za-z0-9._-]{1,120}, got ${JSON.stringify(id)}`);
  return id;
}

/** Keys of sweep `id`. */
export function keys(id: string) {
  const base = `${KEY_PREFIX}:sweeps:${id}`;
  return {
    meta: `${base}:meta`,
    trial: (i: number) => `${base}:trial:${i}`,
    lines: (i: number) => `${base}:lines:${i}`,
    files: (i: number) => `${base}:files:${i}`,
    done: `${base}:done`,
    rung: (epoch: number) => `${base}:hb:${epoch}`,
    decisions: `${base}:hbdec`,
    lock: `${base}:lock`,
  };
}

/** The BullMQ queue name of sweep `id`. */
export function queueName(id: string): string {
  return `sweep-${id}`;
}

/** A new sweep id: the name, the UTC time and 4 random hex digits (`fmnist-grid-20261202T1612-a3f0`). */
export function newSweepId(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
  return checkSweepId(`${name.slice(0, 80)}-${stamp}-${randomBytes(2).toString('hex')}`);
}

const now = () => new Date().toISOString();

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether `v` is a value `spec` can produce (for grid/random/bayes proposals read back from Redis). */
function inSpec(spec: ParameterSpec, v: unknown): boolean {
  if (spec.values) return spec.values.some((x) => sameJson(x, v));
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (spec.distribution === 'normal' || spec.distribution === 'q_normal') return true;
  if (spec.distribution === 'int_uniform' && !Number.isInteger(v)) return false;
  return v >= (spec.min as number) && v <= (spec.max as number);
}

/**
 * Checks trial parameters read from Redis against the config: exactly the config's parameters, each
 * value one the parameter can take. Throws naming the parameter and the value.
 */
export function checkTrialParams(config: SweepConfig, params: unknown): TrialParams {
  if (!isObject(params)) throw new SweepConfigError('trial parameters', `must be an object, got ${JSON.stringify(params)}`);
  for (const k of Object.keys(params)) if (!(k in config.parameters)) throw new SweepConfigError(`trial parameter ${k}`, 'is not a parameter of the sweep');
  for (const [name, spec] of Object.entries(config.parameters)) {
    if (!inSpec(spec, params[name])) throw new SweepConfigError(`trial parameter ${name}`, `value ${JSON.stringify(params[name])} is outside the sweep's ${spec.values ? `values ${JSON.stringify(spec.values)}` : `${spec.distribution} range`}`);
  }
  return params;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function parseJson(v: string | undefined): unknown {
  if (v === undefined || v === '') return null;
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
}

/** A trial from its hash (missing fields: a queued trial). */
export function trialFromHash(index: number, h: Record<string, string>): DistributedTrial {
  const state = (['queued', 'running', 'finished', 'stopped', 'failed'] as const).find((s) => s === h.state) ?? 'queued';
  const metrics = parseJson(h.metrics);
  return {
    index,
    name: h.name || null,
    params: isObject(parseJson(h.params)) ? (parseJson(h.params) as TrialParams) : null,
    state,
    epochs: num(h.epochs) ?? 0,
    value: num(h.value),
    metrics: isObject(metrics) ? (metrics as Record<string, number>) : null,
    started_at: h.started_at || null,
    ended_at: h.ended_at || null,
    agent: h.agent || null,
    attempts: num(h.attempts) ?? 0,
    error: h.error || null,
    host: h.host || null,
    pid: num(h.pid),
  };
}

/**
 * Reads and re-validates a sweep's registration (`validate` as at registration, so an agent never
 * trusts what it reads). Throws if the sweep does not exist.
 */
export async function readMeta(client: Redis, id: string, validate: (raw: unknown, program: boolean) => ValidateOptions): Promise<SweepMeta> {
  checkSweepId(id);
  const text = await client.get(keys(id).meta);
  if (text === null) throw new SweepConfigError('sweep id', `no sweep ${JSON.stringify(id)} is registered on this Redis (register one with tensorkit sweep CONFIG --queue URL)`);
  const raw = parseJson(text);
  if (!isObject(raw) || raw.version !== 1) throw new SweepConfigError('sweep id', `the registration of ${id} is not a tensorkit sweep`);
  const program = isObject(raw.config) && 'program' in raw.config;
  const config = validateSweepConfig(raw.config, validate(raw.config, program));
  const int = (v: unknown, what: string, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SweepConfigError(`registration of ${id}`, `${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const extraArgs = raw.extraArgs;
  if (!Array.isArray(extraArgs) || !extraArgs.every((a) => a === '--quick')) throw new SweepConfigError(`registration of ${id}`, `extraArgs may only hold --quick, got ${JSON.stringify(extraArgs)}`);
  return {
    version: 1, id, name: typeof raw.name === 'string' ? raw.name : id, config,
    seed: int(raw.seed, 'seed', 0), trialSeed: int(raw.trialSeed, 'trialSeed', 0), total: int(raw.total, 'total', 1),
    extraArgs: extraArgs as string[], created_at: typeof raw.created_at === 'string' ? raw.created_at : '',
  };
}

/** Options of {@link registerSweep}. */
export interface RegisterOptions {
  readonly name: string;
  readonly trialSeed: number;
  readonly runCap?: number;
  readonly quick: boolean;
  /** Fixed id (default {@link newSweepId}). */
  readonly id?: string;
}

/**
 * Stores a validated sweep and its trials (grid and random trials with their parameters, which the
 * seed fixes; bayes trials get theirs when an agent starts them). Returns the metadata. The jobs are
 * added to the queue by the caller (see agent.ts), after this.
 */
export async function storeSweep(client: Redis, config: SweepConfig, options: RegisterOptions): Promise<SweepMeta> {
  const cap = options.runCap ?? config.run_cap ?? (config.method === 'grid' ? gridSize(config) : undefined);
  if (cap === undefined) throw new SweepConfigError('run_cap', `is required for method ${config.method} (in the config, or --run_cap)`);
  const total = config.method === 'grid' ? Math.min(cap, gridSize(config)) : cap;
  const id = checkSweepId(options.id ?? newSweepId(options.name));
  const meta: SweepMeta = {
    version: 1, id, name: options.name, config, seed: config.seed ?? 0, trialSeed: options.trialSeed, total,
    extraArgs: options.quick ? ['--quick'] : [], created_at: now(),
  };
  const k = keys(id);
  const created = await client.set(k.meta, JSON.stringify(meta), 'NX');
  if (created !== 'OK') throw new SweepConfigError('sweep id', `${id} is already registered`);
  const pipe = client.multi();
  const names = new Set<string>();
  for (let i = 0; i < total; i++) {
    const fields: Record<string, string> = { state: 'queued', attempts: '0' };
    if (config.method !== 'bayes') {
      const params = suggestTrial(config, meta.seed, i, []) as TrialParams;
      fields.params = JSON.stringify(params);
      fields.name = trialName(config, params, names);
    }
    pipe.hset(k.trial(i), fields);
  }
  await pipe.exec();
  return meta;
}

/** Every trial of the sweep, in index order. */
export async function readTrials(client: Redis, meta: SweepMeta): Promise<DistributedTrial[]> {
  const k = keys(meta.id);
  const pipe = client.pipeline();
  for (let i = 0; i < meta.total; i++) pipe.hgetall(k.trial(i));
  const res = (await pipe.exec()) ?? [];
  return res.map(([err, h], i) => {
    if (err) throw err;
    return trialFromHash(i, h as Record<string, string>);
  });
}

// Deletes the lock only if it still holds our token (it may have expired and been taken by another agent).
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Runs `fn` holding the sweep's lock (SET NX PX with a random token, released by a compare-and-delete
 * script), so that "read the shared history, decide, record" is one atomic step across agents. The
 * lock expires after `ttlMs` if its holder dies; waiting for it gives up after `waitMs`.
 */
export async function withLock<T>(client: Redis, id: string, fn: () => Promise<T>, ttlMs = 15_000, waitMs = 120_000): Promise<T> {
  const key = keys(id).lock;
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  for (let delay = 5; (await client.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK'; delay = Math.min(50, delay * 2)) {
    if (Date.now() > deadline) throw new Error(`sweep ${id}: waited ${Math.round(waitMs / 1000)} s for the sweep lock`);
    await new Promise((r) => setTimeout(r, delay));
  }
  try {
    return await fn();
  } finally {
    await client.eval(RELEASE, 1, key, token);
  }
}

/**
 * The name and parameters of trial `index`, deciding them if nobody has: for bayes, under the lock,
 * from the shared history (finished trials' metrics; every trial proposed so far, running included, is
 * excluded), exactly as a local sweep would from the same history. Parameters read back are checked
 * against the config.
 */
export async function assignTrial(client: Redis, meta: SweepMeta, index: number): Promise<DistributedTrial> {
  const k = keys(meta.id);
  const read = async () => trialFromHash(index, await client.hgetall(k.trial(index)));
  let trial = await read();
  if (trial.params === null || trial.name === null) {
    if (meta.config.method !== 'bayes') throw new Error(`sweep ${meta.id}: trial ${index} has no parameters in Redis`);
    trial = await withLock(client, meta.id, async () => {
      const again = await read();
      if (again.params !== null && again.name !== null) return again;
      const all = await readTrials(client, meta);
      const history = all.filter((t) => t.params !== null).map((t) => ({
        params: t.params as TrialParams,
        status: (t.state === 'queued' ? 'running' : t.state) as TrialStatus,
        value: DONE_STATES.includes(t.state) ? t.value : null,
      }));
      const params = suggestTrial(meta.config, meta.seed, index, history) as TrialParams;
      const name = trialName(meta.config, params, new Set(all.map((t) => t.name).filter((n): n is string => n !== null)));
      await client.hset(k.trial(index), { params: JSON.stringify(params), name });
      again.params = params;
      again.name = name;
      return again;
    });
  }
  trial.params = checkTrialParams(meta.config, trial.params);
  if (!/^[^/\\\0]{1,200}$/.test(trial.name as string) || trial.name === '.' || trial.name === '..') throw new Error(`sweep ${meta.id}: trial ${index} has a bad name ${JSON.stringify(trial.name)}`);
  return trial;
}

/** Marks trial `index` running on this agent (a rerun forgets the earlier attempt's epoch lines). */
export async function markRunning(client: Redis, meta: SweepMeta, index: number, agent: string, host: string): Promise<void> {
  const k = keys(meta.id);
  await client.multi()
    .del(k.lines(index))
    .hset(k.trial(index), { state: 'running', epochs: '0', metrics: '', value: '', started_at: now(), ended_at: '', agent, host, pid: '', error: '' })
    .hincrby(k.trial(index), 'attempts', 1)
    .exec();
}

/** Records the trial's process id. */
export async function recordPid(client: Redis, meta: SweepMeta, index: number, pid: number | null): Promise<void> {
  await client.hset(keys(meta.id).trial(index), 'pid', pid === null ? '' : String(pid));
}

/** Streams one epoch line (as in metrics.jsonl) of a running trial. */
export async function recordEpoch(client: Redis, meta: SweepMeta, index: number, epoch: number, line: Readonly<Record<string, number>>): Promise<void> {
  const k = keys(meta.id);
  await client.multi().rpush(k.lines(index), JSON.stringify(line)).hset(k.trial(index), { epochs: String(epoch), metrics: JSON.stringify(line) }).exec();
}

/**
 * The hyperband decision for trial `index` at `epoch` (see {@link Hyperband}), from the rung records
 * of every agent, taken once: under the lock, a decision already stored for (trial, epoch), e.g. by an
 * earlier attempt of a stalled trial, is returned as it was; otherwise the value is recorded and the
 * decision stored.
 */
export async function hyperbandDecide(client: Redis, meta: SweepMeta, index: number, epoch: number, value: number): Promise<boolean> {
  const hb = meta.config.early_terminate;
  if (!hb) return true;
  const rule = new Hyperband(hb, meta.config.metric.goal);
  if (!rule.isRung(epoch)) return true;
  const k = keys(meta.id);
  return withLock(client, meta.id, async () => {
    const field = `${index}:${epoch}`;
    const earlier = await client.hget(k.decisions, field);
    if (earlier === '1' || earlier === '0') return earlier === '1';
    const rung: Record<string, number | null> = {};
    for (const [trial, v] of Object.entries(await client.hgetall(k.rung(epoch)))) rung[trial] = v === 'null' ? null : Number(v);
    const keep = new Hyperband(hb, meta.config.metric.goal, { [String(epoch)]: rung }).report(epoch, value, index);
    const recorded = rung[String(index)];
    await client.multi().hset(k.rung(epoch), String(index), recorded === null || recorded === undefined ? 'null' : String(recorded)).hset(k.decisions, field, keep ? '1' : '0').exec();
    return keep;
  });
}

/** Run files larger than this are not copied into Redis (they stay in the artifacts folder). */
export const MAX_FILE_BYTES = 8 << 20;

/**
 * Records how trial `index` ended, with its run files (name → text), and counts it done. Returns false
 * if it had already ended (a late duplicate), in which case nothing is changed.
 */
export async function recordEnd(client: Redis, meta: SweepMeta, index: number, end: { state: TrialState; value: number | null; epochs: number; error: string | null; files: Record<string, string> }): Promise<boolean> {
  const k = keys(meta.id);
  const current = await client.hget(k.trial(index), 'state');
  if (current !== null && DONE_STATES.includes(current as TrialState)) return false;
  const pipe = client.multi().del(k.files(index));
  if (Object.keys(end.files).length > 0) pipe.hset(k.files(index), end.files);
  pipe.hset(k.trial(index), {
    state: end.state, value: end.value === null ? '' : String(end.value), epochs: String(end.epochs), ended_at: now(), error: end.error ?? '', pid: '',
  });
  pipe.sadd(k.done, String(index));
  await pipe.exec();
  return true;
}

/** Number of trials that ended. */
export async function doneCount(client: Redis, id: string): Promise<number> {
  return client.scard(keys(id).done);
}

/** What `tensorkit sweep status --json` prints. */
export interface SweepStatus {
  readonly id: string;
  readonly name: string;
  readonly method: string;
  readonly metric: { readonly name: string; readonly goal: string };
  readonly total: number;
  readonly counts: Record<TrialState, number>;
  /** True when every trial ended. */
  readonly finished: boolean;
  readonly trials: readonly { index: number; name: string | null; state: TrialState; params: TrialParams | null; epochs: number; value: number | null; metrics: Record<string, number> | null; agent: string | null; attempts: number; error: string | null; started_at: string | null; ended_at: string | null }[];
}

/** The sweep's status: every trial with its state, parameters and latest metrics. */
export async function sweepStatus(client: Redis, meta: SweepMeta): Promise<SweepStatus> {
  const trials = await readTrials(client, meta);
  const counts: Record<TrialState, number> = { queued: 0, running: 0, finished: 0, stopped: 0, failed: 0 };
  for (const t of trials) counts[t.state]++;
  return {
    id: meta.id, name: meta.name, method: meta.config.method, metric: meta.config.metric, total: meta.total, counts,
    finished: counts.finished + counts.stopped + counts.failed === meta.total,
    trials: trials.map((t) => ({
      index: t.index, name: t.name, state: t.state, params: t.params, epochs: t.epochs, value: t.value, metrics: t.metrics,
      agent: t.agent, attempts: t.attempts, error: t.error, started_at: t.started_at, ended_at: t.ended_at,
    })),
  };
}

/**
 * Writes the sweep as a local sweep folder: `<dir>/sweep.json` (the local state format, so reports
 * and resumable tooling read it) and `<dir>/runs/<trial>/` with each started trial's files as the
 * agent recorded them (params.json, metrics.jsonl, summary.json, …); a trial still running gets its
 * parameters and the epoch lines streamed so far. Queued trials are left out. Returns the trial count written.
 */
export async function pullSweep(client: Redis, meta: SweepMeta, dir: string): Promise<number> {
  const k = keys(meta.id);
  const trials = (await readTrials(client, meta)).filter((t) => t.state !== 'queued' && t.name !== null && t.params !== null);
  const runsDir = join(dir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  for (const t of trials) {
    const name = t.name as string;
    if (!/^[^/\\\0]{1,200}$/.test(name) || name === '.' || name === '..') throw new Error(`sweep ${meta.id}: trial ${t.index} has a bad name ${JSON.stringify(name)}`);
    const runDir = join(runsDir, name);
    mkdirSync(runDir, { recursive: true });
    const files = await client.hgetall(k.files(t.index));
    if (Object.keys(files).length > 0) {
      for (const [file, text] of Object.entries(files)) {
        if (!/^[A-Za-z0-9._-]{1,100}$/.test(file) || file.startsWith('.')) continue; // Only plain file names are written.
        writeFileAtomic(join(runDir, file), Buffer.from(text));
      }
    } else {
      const lines = await client.lrange(k.lines(t.index), 0, -1);
      writeFileSync(join(runDir, 'params.json'), `${JSON.stringify(expandParams(t.params as TrialParams), null, 2)}\n`);
      writeFileSync(join(runDir, 'metrics.jsonl'), lines.map((l) => `${l}\n`).join(''));
    }
  }
  const hyperband: Record<string, Record<string, number | null>> = {};
  if (meta.config.early_terminate) {
    for (const epoch of new Hyperband(meta.config.early_terminate, meta.config.metric.goal).rungs) {
      const rung = await client.hgetall(k.rung(epoch));
      if (Object.keys(rung).length === 0) continue;
      hyperband[String(epoch)] = Object.fromEntries(Object.entries(rung).map(([i, v]) => [i, v === 'null' ? null : Number(v)]));
    }
  }
  const state: SweepState = {
    version: 1, config: meta.config, seed: meta.seed, started_at: meta.created_at, hyperband,
    trials: trials.map((t): TrialRecord => ({
      index: t.index, name: t.name as string, params: t.params as TrialParams, status: t.state as TrialStatus, value: t.value, epochs: t.epochs,
      started_at: t.started_at ?? '', ended_at: t.ended_at, pid: null, error: t.error,
    })),
  };
  writeFileAtomic(join(dir, 'sweep.json'), Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
  return trials.length;
}
