// Shared benchmark plumbing: the header line (Node version, CPU model, cores, commit, gemm backend),
// timing one case on mitata after explicit warm-up, table rows and the JSON file in bench/results/.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { measure } from 'mitata';
import { gemm } from '../../src/tensor/gemm.js';
import { wasmGemmVariant } from '../../src/runtime/tasks.js';
import { getThreads, setThreads } from '../../src/runtime/workers.js';

/** Value following `flag` on the command line, if any. */
export function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Whether `--quick` was passed (smaller time budgets). */
export const QUICK = process.argv.includes('--quick');

/** The short commit hash of the checkout, or `unknown` outside git. */
export function commit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** CPU model as /proc/cpuinfo (via os.cpus) names it. */
export function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

/** One-line description of the machine and build, printed first by every benchmark. */
export function header(extra = ''): string {
  return `node ${process.version}, ${cpuModel()}, ${os.cpus().length} cores, commit ${commit()}, ` +
    `wasm gemm: ${wasmGemmVariant() ?? 'unavailable'}${extra === '' ? '' : `, ${extra}`}`;
}

/**
 * The machine's speed right now: GFLOP/s of a 512³ gemm (the default backend) on 1 thread, median of 9
 * calls after 2 warm-up calls, about 0.1 s. The development VM's speed changes from minute to minute
 * (the same gemm at 28–45 GFLOP/s within an hour, bench/RESULTS.md), so the long benchmarks print it
 * before and after their measurements: a slow window then shows as such instead of as a regression.
 */
export function gauge(): number {
  const n = 512;
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = a.slice().reverse();
  const out = new Float32Array(n * n);
  const threads = getThreads();
  setThreads(1);
  try {
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      gemm(out, a, b, n, n, n);
      if (i >= 2) times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    return (2 * n * n * n) / (times[times.length >> 1] * 1e6);
  } finally {
    setThreads(threads);
  }
}

/** Median and minimum of one timed case, in milliseconds, and the number of samples. */
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly samples: number;
}

/** Options of {@link time}. */
export interface TimeOptions {
  /** Untimed calls first (JIT, buffers sized on first use). Default 3. */
  readonly warmup?: number;
  /** mitata's CPU-time budget in ms. Default 400 (100 with --quick). */
  readonly budgetMs?: number;
  /** At least this many timed samples. Default 12 (mitata's). */
  readonly minSamples?: number;
  /** At most this many timed samples. */
  readonly maxSamples?: number;
}

/**
 * Times `fn` on mitata after `warmup` discarded calls (mitata itself only warms up calls under
 * 0.5 ms, and a training step is longer): median (p50) and minimum per call.
 */
export async function time(fn: () => unknown, options: TimeOptions = {}): Promise<Timing> {
  const warmup = options.warmup ?? 3;
  for (let i = 0; i < warmup; i++) fn();
  const budget = (options.budgetMs ?? (QUICK ? 100 : 400)) * 1e6;
  const stats = await measure(fn, {
    min_cpu_time: budget,
    min_samples: options.minSamples ?? 12,
    ...(options.maxSamples === undefined ? {} : { max_samples: options.maxSamples }),
  });
  return { medianMs: stats.p50 / 1e6, minMs: stats.min / 1e6, samples: stats.samples.length };
}

/** A fixed-width table printer: `columns` are [title, width, align]; numbers formatted by the caller. */
export class Table {
  private readonly columns: readonly (readonly [string, number, 'l' | 'r'])[];

  constructor(columns: readonly (readonly [string, number, 'l' | 'r'])[]) {
    this.columns = columns;
    console.log(this.format(columns.map((c) => c[0])));
  }

  /** Prints one row (cells in column order). */
  row(cells: readonly string[]): void {
    console.log(this.format(cells));
  }

  private format(cells: readonly string[]): string {
    return this.columns.map(([, w, align], i) => (align === 'l' ? cells[i].padEnd(w) : cells[i].padStart(w))).join(' ');
  }
}

/** Writes `{ header, date, quick, ...body }` to bench/results/<name>.json and says where. */
export function writeResults(name: string, headerLine: string, body: Record<string, unknown>): void {
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  writeFileSync(file, `${JSON.stringify({ header: headerLine, date: new Date().toISOString(), quick: QUICK, ...body }, null, 1)}\n`);
  console.log(`wrote ${file.pathname}`);
}
