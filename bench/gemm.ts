// gemm benchmark on mitata: the naive reference (small cases only), the TypeScript kernel and the
// WebAssembly SIMD kernel on 1 thread and on all threads (the worker pool, runtime/workers.ts) side by side
// in one run, on square sizes and on the per-image conv and dense shapes of the assignment networks.
// Prints one row per kernel and case (the `shares` column: threads the call actually used) and
// writes the rows as JSON to bench/results/gemm.json.
// Usage: npx tsx bench/gemm.ts [--quick] [--filter SUBSTRING]   (npm run bench:gemm)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { measure } from 'mitata';
import { gemmNaive, gemmTs, gemmWasm, type GemmOptions } from '../src/tensor/gemm.js';
import { wasmGemmShares, wasmGemmVariant } from '../src/runtime/tasks.js';
import { Rng } from '../src/tensor/rng.js';
import { availableCores, setThreads } from '../src/runtime/workers.js';

interface Case {
  readonly name: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly options: GemmOptions;
}

const tA = { transA: true } as const;
const tB = { transB: true } as const;
const plain = {} as const;

// Per-image conv gemms: forward W[outC×ckk]·col[ckk×ohw], dW += dy·colᵀ (tB), dcol = Wᵀ·dy (tA).
// The small squares locate the size where splitting across threads starts to pay (WASM_THREAD_MIN_VOLUME).
const CASES: readonly Case[] = [
  { name: 'square 48', m: 48, n: 48, k: 48, options: plain },
  { name: 'square 64', m: 64, n: 64, k: 64, options: plain },
  { name: 'square 96', m: 96, n: 96, k: 96, options: plain },
  { name: 'square 128', m: 128, n: 128, k: 128, options: plain },
  { name: 'square 256', m: 256, n: 256, k: 256, options: plain },
  { name: 'square 256 tA', m: 256, n: 256, k: 256, options: tA },
  { name: 'square 256 tB', m: 256, n: 256, k: 256, options: tB },
  { name: 'square 512', m: 512, n: 512, k: 512, options: plain },
  { name: 'square 1024', m: 1024, n: 1024, k: 1024, options: plain },
  { name: 'net000 conv1 fwd', m: 16, n: 676, k: 9, options: plain },
  { name: 'net000 conv2 fwd', m: 16, n: 576, k: 144, options: plain },
  { name: 'net000 conv2 dW', m: 16, n: 144, k: 576, options: tB },
  { name: 'net000 conv2 dcol', m: 144, n: 576, k: 16, options: tA },
  { name: 'net000 dense1 fwd', m: 32, n: 100, k: 9216, options: tB },
  { name: 'net000 dense1 dW', m: 100, n: 9216, k: 32, options: tA },
  { name: 'net000 dense1 dx', m: 32, n: 9216, k: 100, options: plain },
  { name: 'net004 conv1 fwd', m: 32, n: 784, k: 9, options: plain },
  { name: 'net004 conv2 fwd', m: 64, n: 784, k: 288, options: plain },
  { name: 'net004 conv2 dW', m: 64, n: 288, k: 784, options: tB },
  { name: 'net004 conv2 dcol', m: 288, n: 784, k: 64, options: tA },
  { name: 'net004 dense fwd', m: 64, n: 10, k: 12544, options: tB },
  { name: 'net001 dense1 fwd', m: 64, n: 128, k: 784, options: tB },
  { name: 'net001 dense1 dW', m: 128, n: 784, k: 64, options: tA },
  { name: 'net001 dense2 fwd', m: 64, n: 128, k: 128, options: tB },
  { name: 'net003 conv1 fwd', m: 16, n: 784, k: 9, options: plain },
  { name: 'net003 conv2 fwd', m: 4, n: 196, k: 144, options: plain },
];

/** The naive triple loop runs only up to this volume (m·n·k): beyond it, it only costs time. */
const NAIVE_MAX_VOLUME = 256 ** 3;

type Kernel = (out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number, o: GemmOptions) => Float32Array;

interface Row {
  readonly case: string;
  readonly kernel: string;
  /** Threads the call used (the pool splits only large enough products). */
  readonly shares: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly medianMs: number;
  readonly minMs: number;
  readonly gflops: number;
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const filter = argValue('--filter');
// mitata's budget per measurement, in ns of CPU time.
const budget = (quick ? 100 : 400) * 1e6;
const variant = wasmGemmVariant();
const cores = availableCores();
// [name, kernel, threads]: the TS kernel and the naive loop are single-threaded whatever the setting.
const kernels: [string, Kernel, number][] = [['naive', gemmNaive, 1], ['ts', gemmTs, 1]];
if (variant !== null) {
  kernels.push(['wasm', gemmWasm, 1]);
  if (cores > 1) kernels.push([`wasm×${cores}`, gemmWasm, cores]);
}

const header = `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores ` +
  `(${cores} available), wasm: ${variant ?? 'unavailable'}, threads: 1 and ${cores}`;
console.log(header);
console.log(
  `${'case'.padEnd(22)} ${'kernel'.padEnd(7)} ${'shares'.padStart(6)} ${'m×n×k'.padEnd(16)} ${'median ms'.padStart(10)} ` +
  `${'min ms'.padStart(10)} ${'GFLOP/s'.padStart(8)}`,
);

const rng = new Rng(7);
const rows: Row[] = [];
for (const c of CASES) {
  if (filter !== undefined && !c.name.includes(filter)) continue;
  const a = new Float32Array(c.m * c.k);
  const b = new Float32Array(c.k * c.n);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-1, 1);
  const out = new Float32Array(c.m * c.n);
  const shape = `${c.m}×${c.n}×${c.k}${c.options === tA ? ' tA' : c.options === tB ? ' tB' : ''}`;
  for (const [name, kernel, threads] of kernels) {
    if (name === 'naive' && c.m * c.n * c.k > NAIVE_MAX_VOLUME) continue;
    setThreads(threads);
    const shares = name.startsWith('wasm') ? wasmGemmShares(c.m, c.n, c.k) : 1;
    const stats = await measure(() => kernel(out, a, b, c.m, c.n, c.k, c.options), { min_cpu_time: budget });
    const medianMs = stats.p50 / 1e6;
    const minMs = stats.min / 1e6;
    const gflops = (2 * c.m * c.n * c.k) / (medianMs * 1e6);
    rows.push({
      case: c.name, kernel: name, shares, m: c.m, n: c.n, k: c.k,
      transA: c.options === tA, transB: c.options === tB, medianMs, minMs, gflops,
    });
    console.log(
      `${c.name.padEnd(22)} ${name.padEnd(7)} ${String(shares).padStart(6)} ${shape.padEnd(16)} ${medianMs.toFixed(4).padStart(10)} ` +
      `${minMs.toFixed(4).padStart(10)} ${gflops.toFixed(2).padStart(8)}`,
    );
  }
}

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL('gemm.json', dir);
writeFileSync(file, `${JSON.stringify({ header, date: new Date().toISOString(), quick, rows }, null, 1)}\n`);
console.log(`wrote ${file.pathname}`);
