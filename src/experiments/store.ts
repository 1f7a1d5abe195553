// Reading runs back: find run folders under a root, load their params, summary, env and metric lines,
// flatten them into table columns, and export them as CSV / JSON.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { toCsv } from '../train/csv.js';
import { ownerAlive, type MetricLine } from './run.js';

/** A run as read from disk. `metrics` is summary.json (final / best values and timings). */
export interface RunRecord {
  /** Path relative to the root (`sweep/runs/hl_3_bs_16`), '/'-separated. */
  readonly name: string;
  readonly dir: string;
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly env: Record<string, unknown>;
}

function readJsonFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    // A file being replaced is renamed atomically; an unreadable one is a foreign file, shown as empty.
    return {};
  }
}

/**
 * The status a reader should show: summary.json's `status`, except that a `running` run whose owning
 * process (`owner_pid` on `owner_host`, same start time) no longer exists is `crashed` when it
 * recorded an `error` and `killed` otherwise. Runs of other hosts keep `running` (they cannot be checked).
 */
export function effectiveStatus(summary: Record<string, unknown>): unknown {
  if (summary.status !== 'running') return summary.status;
  if (ownerAlive({ pid: summary.owner_pid, host: summary.owner_host, start: summary.owner_start })) return 'running';
  return typeof summary.error === 'string' && summary.error !== '' ? 'crashed' : 'killed';
}

/**
 * Reads one run folder (params.json, summary.json, env.json; missing files read as `{}`). The
 * summary's `status` is the {@link effectiveStatus}; a corrected one keeps the written value as `recorded_status`.
 */
export function readRun(dir: string, root = dir): RunRecord {
  const metrics = readJsonFile(join(dir, 'summary.json'));
  const status = effectiveStatus(metrics);
  if (status !== metrics.status) {
    metrics.recorded_status = metrics.status;
    metrics.status = status;
  }
  return {
    name: relative(root, dir).split('\\').join('/') || '.',
    dir,
    params: readJsonFile(join(dir, 'params.json')),
    metrics,
    env: readJsonFile(join(dir, 'env.json')),
  };
}

/**
 * Every run under `root` (a folder with params.json and summary.json or metrics.jsonl), searched up
 * to `maxDepth` levels deep, sorted by name. Run folders are not searched further.
 */
export function listRuns(root: string, maxDepth = 5): RunRecord[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`runs: ${root} is not a folder`);
  const found: RunRecord[] = [];
  const walk = (dir: string, depth: number) => {
    if (existsSync(join(dir, 'params.json')) && (existsSync(join(dir, 'summary.json')) || existsSync(join(dir, 'metrics.jsonl')))) {
      found.push(readRun(dir, root));
      return;
    }
    if (depth >= maxDepth) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'artifacts' && entry.name !== 'node_modules') walk(join(dir, entry.name), depth + 1);
    }
  };
  walk(root, 0);
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The lines of a run's metrics.jsonl. A partial last line (a writer mid-append) and lines that are
 * not JSON objects are skipped, so this is safe while the run is training.
 */
export function readMetrics(dir: string): MetricLine[] {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n');
  const lines: MetricLine[] = [];
  for (const line of text.slice(0, end + 1).split('\n')) {
    if (line === '') continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) lines.push(v as MetricLine);
    } catch {
      // Not a metric line; skip it.
    }
  }
  return lines;
}

/** Epoch lines of a run as columns: `{ epoch: [1, 2, …], val_accuracy: [...], … }` (missing values NaN). */
export function epochSeries(dir: string): Record<string, number[]> {
  const epochs = readMetrics(dir).filter((l) => l.type === 'epoch') as Record<string, unknown>[];
  const keys = new Set<string>();
  for (const e of epochs) for (const k of Object.keys(e)) if (k !== 'type') keys.add(k);
  const out: Record<string, number[]> = {};
  for (const k of keys) out[k] = epochs.map((e) => (typeof e[k] === 'number' ? (e[k] as number) : NaN));
  return out;
}

/** Value at a dotted path (`params.optimizer`, `metrics.val_accuracy`, `params.resolved.optimizer.name`); undefined if absent. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Scalar leaves of `obj` as dotted keys under `prefix` (lists become JSON text). */
export function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, string | number | boolean | null> = {}, maxDepth = 3): Record<string, string | number | boolean | null> {
  for (const [k, v] of Object.entries(obj)) {
    const key = `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && maxDepth > 1) flatten(v as Record<string, unknown>, key, out, maxDepth - 1);
    else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (v !== undefined) out[key] = JSON.stringify(v);
  }
  return out;
}

/** One flat row per run: `name`, then `params.*` and `metrics.*` columns (env left out). */
export function runRow(run: RunRecord): Record<string, string | number | boolean | null> {
  const row: Record<string, string | number | boolean | null> = { name: run.name };
  flatten(run.params, 'params', row);
  flatten(run.metrics, 'metrics', row);
  return row;
}

/** Union of the rows' columns in first-seen order. */
export function columnsOf(rows: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** Runs as CSV: a header of `name`, `params.*`, `metrics.*` columns (or `columns`), one row per run. */
export function runsToCsv(runs: readonly RunRecord[], columns?: readonly string[]): string {
  const rows = runs.map(runRow);
  const cols = columns ?? columnsOf(rows);
  return toCsv(cols, rows.map((r) => cols.map((c) => r[c] ?? '')));
}

/** Runs as JSON text: `[{ name, params, metrics, env }]`. */
export function runsToJson(runs: readonly RunRecord[]): string {
  return `${JSON.stringify(runs.map((r) => ({ name: r.name, params: r.params, metrics: r.metrics, env: r.env })), null, 2)}\n`;
}
