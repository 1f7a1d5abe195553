// Times the blocked gemm against the naive reference at a few sizes, including the conv shapes of
// the seed assignments. Plain script, no harness dependency: `npx tsx bench/gemm.ts`.
import os from 'node:os';
import { gemm, gemmNaive, type GemmOptions } from '../src/tensor/gemm.js';
import { Rng } from '../src/tensor/rng.js';

type Kernel = typeof gemm;

interface Case {
  readonly name: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly options: GemmOptions;
}

const CASES: readonly Case[] = [
  { name: 'square 128', m: 128, n: 128, k: 128, options: {} },
  { name: 'square 256', m: 256, n: 256, k: 256, options: {} },
  { name: 'square 256 tA', m: 256, n: 256, k: 256, options: { transA: true } },
  { name: 'square 256 tB', m: 256, n: 256, k: 256, options: { transB: true } },
  { name: 'conv1 fwd 16×676×9', m: 16, n: 26 * 26, k: 9, options: {} },
  { name: 'conv2 fwd 16×576×144', m: 16, n: 24 * 24, k: 144, options: {} },
  { name: 'conv2 dW 16×144×576 tB', m: 16, n: 144, k: 24 * 24, options: { transB: true } },
  { name: 'conv2 dcol 144×576×16 tA', m: 144, n: 24 * 24, k: 16, options: { transA: true } },
  { name: 'dense 32×9216×100', m: 32, n: 9216, k: 100, options: {} },
  { name: 'dense fwd 32×100×9216 tB', m: 32, n: 100, k: 9216, options: { transB: true } },
];

/** Median and min wall time (ms) of `fn` over repeats after a warm-up, within a time budget. */
function time(fn: () => void, budgetMs = 400): { median: number; min: number } {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || (performance.now() - start < budgetMs && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { median: times[times.length >> 1], min: times[0] };
}

function row(label: string, c: Case, kernel: Kernel, a: Float32Array, b: Float32Array, out: Float32Array): number {
  const { median, min } = time(() => kernel(out, a, b, c.m, c.n, c.k, c.options));
  const gflops = (2 * c.m * c.n * c.k) / (median * 1e6);
  console.log(
    `${`${c.name} ${label}`.padEnd(34)} ${`${c.m}×${c.n}×${c.k}`.padEnd(14)} ` +
    `median ${median.toFixed(3).padStart(8)} ms  min ${min.toFixed(3).padStart(8)} ms  ${gflops.toFixed(2).padStart(6)} GFLOP/s`,
  );
  return median;
}

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, 1 thread`);
const rng = new Rng(7);
for (const c of CASES) {
  const a = new Float32Array(c.m * c.k);
  const b = new Float32Array(c.k * c.n);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-1, 1);
  const out = new Float32Array(c.m * c.n);
  const tb = row('blocked', c, gemm, a, b, out);
  const tn = row('naive', c, gemmNaive, a, b, out);
  console.log(`${''.padEnd(34)} speedup ×${(tn / tb).toFixed(1)}`);
}
