// Winograd vs im2col on the assignment networks' 3×3 stride-1 layers: forward and forward+backward
// (dx by the chosen algorithm; dW by the im2col gemm, or by Winograd in the "+dW" rows, see
// setWinogradWeightGrad) of a Conv2D with its ReLU fused, for im2col, F(2×2,3×3), F(4×4,3×3) and
// 'auto' (without / with the Winograd dW; "calls": the α² gemms as separate gemm calls rather than one
// pool job, setWinogradGemmJobs), on 1 and 2 threads, interleaved in one run (ratios are what
// count on a loaded machine; they use min times over rounds that run the algorithms in turn, see
// interleavedMins: process CPU time on 1 thread, wall time on 2). GFLOP/s-equivalent =
// direct-convolution flops / that min time. Writes
// bench/results/winograd.json. Usage: npx tsx bench/winograd.ts [--quick] [--filter net004]
import { Conv2D } from '../src/layers/conv2d.js';
import { ReLU } from '../src/layers/activations.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { setConvAlgorithm, setWinogradGemmJobs, setWinogradWeightGrad, type ConvAlgorithm, type WinogradWeightGrad } from '../src/tensor/winograd.js';
import { getThreads, setThreads } from '../src/runtime/workers.js';
import '../src/init/index.js';
import { argValue, header, QUICK, Table, writeResults } from './lib/harness.js';
import { readFileSync } from 'node:fs';
import { buildModel, NETWORKS, randomBatch } from './lib/networks.js';

interface Case { readonly name: string; readonly batch: number; readonly inC: number; readonly size: number; readonly filters: number; readonly padding: number }
const CASES: readonly Case[] = [
  { name: 'net000 conv1', batch: 32, inC: 1, size: 28, filters: 16, padding: 0 },
  { name: 'net000 conv2', batch: 32, inC: 16, size: 26, filters: 16, padding: 0 },
  { name: 'net004 conv1', batch: 64, inC: 1, size: 28, filters: 32, padding: 1 },
  { name: 'net004 conv2', batch: 64, inC: 32, size: 28, filters: 64, padding: 1 },
  { name: 'net003 conv1', batch: 100, inC: 1, size: 28, filters: 16, padding: 1 },
  { name: 'net003 conv2', batch: 100, inC: 16, size: 14, filters: 4, padding: 1 },
];
/** An algorithm choice; `calls`: the α² gemms as separate gemm calls rather than one pool job (setWinogradGemmJobs). */
interface Variant { readonly name: string; readonly alg: ConvAlgorithm; readonly dW: WinogradWeightGrad; readonly calls?: boolean }
const ALGORITHMS: readonly Variant[] = [
  { name: 'im2col', alg: 'im2col', dW: 'never' },
  { name: 'winograd2', alg: 'winograd2', dW: 'never' },
  { name: 'winograd2+dW', alg: 'winograd2', dW: 'always' },
  { name: 'winograd4', alg: 'winograd4', dW: 'never' },
  { name: 'winograd4+dW', alg: 'winograd4', dW: 'always' },
  { name: 'auto-dW', alg: 'auto', dW: 'never' },
  { name: 'auto+dW', alg: 'auto', dW: 'always' },
  { name: 'auto+dW calls', alg: 'auto', dW: 'always', calls: true },
];
const use = (v: Variant): void => { setConvAlgorithm(v.alg); setWinogradWeightGrad(v.dW); setWinogradGemmJobs(v.calls !== true); };
const THREADS = [1, 2];

const filter = argValue('--filter');
const threadsBefore = getThreads();
const headerLine = header(`threads 1 and 2 interleaved; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(headerLine);
const table = new Table([['case', 13, 'l'], ['thr', 3, 'r'], ['algorithm', 13, 'l'], ['fwd min ms', 10, 'r'], ['GF/s', 6, 'r'], ['fwd ×', 6, 'r'],
  ['f+b min ms', 10, 'r'], ['GF/s', 6, 'r'], ['f+b ×', 6, 'r'], ['bwd ms', 7, 'r'], ['bwd ×', 6, 'r']]);
const rows: Record<string, unknown>[] = [];
/**
 * Min ms of each function over `rounds` rounds that run them in turn (A B C A B C …), after one
 * warm-up round: on a machine shared with other jobs every algorithm then sees the same load, and the
 * min is the run the load disturbed least. (Interleaving calls rather than mitata's per-case budget.)
 */
function interleavedMins(fns: readonly (() => unknown)[], rounds: number): { wall: number[]; cpu: number[] } {
  const wall = fns.map(() => Number.POSITIVE_INFINITY);
  const cpu = fns.map(() => Number.POSITIVE_INFINITY);
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fns[i]();
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      if (r < 0) continue;
      wall[i] = Math.min(wall[i], ms);
      cpu[i] = Math.min(cpu[i], (c1.user + c1.system) / 1000);
    }
  }
  return { wall, cpu };
}

const ROUNDS = QUICK ? 5 : 25;
for (const c of CASES) {
  if (filter !== undefined && !c.name.includes(filter)) continue;
  const layer = new Conv2D({ filters: c.filters, kernelSize: 3, padding: c.padding });
  const [, outH, outW] = layer.build([c.inC, c.size, c.size], new Rng(1));
  const relu = new ReLU();
  const rng = new Rng(2);
  const x = new Tensor(new Float32Array(c.batch * c.inC * c.size * c.size).map(() => rng.uniform(-1, 1)), [c.batch, c.inC, c.size, c.size]);
  const dy = new Tensor(new Float32Array(c.batch * c.filters * outH * outW).map(() => rng.uniform(-1, 1)), [c.batch, c.filters, outH, outW]);
  const flop = 2 * c.batch * c.filters * c.inC * 9 * outH * outW;
  for (const threads of THREADS) {
    setThreads(threads);
    const fwd = ALGORITHMS.map((v) => () => { use(v); layer.forwardFused(x, true, relu); });
    const both = ALGORITHMS.map((v) => () => { use(v); layer.forwardFused(x, true, relu); layer.backward(dy); });
    // On 1 thread the process CPU time (all threads) is the compute itself, which load does not stretch:
    // the ratios use it there; on 2 threads they use wall time.
    const f = interleavedMins(fwd, ROUNDS);
    const b = interleavedMins(both, ROUNDS);
    const fwdMs = threads === 1 ? f.cpu : f.wall;
    const bothMs = threads === 1 ? b.cpu : b.wall;
    ALGORITHMS.forEach((v, i) => {
      // backward = (forward + backward) − forward, each a min: an estimate (the mins come from different rounds).
      const bwd = (k: number): number => bothMs[k] - fwdMs[k];
      const row = {
        case: c.name, threads, algorithm: v.name, bwdMs: bwd(i), bwdRatio: bwd(0) / bwd(i), clock: threads === 1 ? 'cpu' : 'wall', fwdWallMinMs: f.wall[i], bothWallMinMs: b.wall[i], fwdMinMs: fwdMs[i], fwdGflops: flop / (fwdMs[i] * 1e6), fwdRatio: fwdMs[0] / fwdMs[i],
        bothMinMs: bothMs[i], bothGflops: 3 * flop / (bothMs[i] * 1e6), bothRatio: bothMs[0] / bothMs[i],
      };
      rows.push(row);
      table.row([c.name, String(threads), v.name, row.fwdMinMs.toFixed(3), row.fwdGflops.toFixed(1), row.fwdRatio.toFixed(2),
        row.bothMinMs.toFixed(3), row.bothGflops.toFixed(1), row.bothRatio.toFixed(2), row.bwdMs.toFixed(3), row.bwdRatio.toFixed(2)]);
    });
  }
}
// Training steps of net000 and net004 (Sequential.trainStep: forward, loss, backward, optimizer step):
// im2col, 'auto' with the im2col dW ('auto-dW') and 'auto' with the Winograd dW wherever the forward
// runs Winograd ('auto+dW'); models stepping in turn from the same weights (same clocks as above).
const trainTable = new Table([['network', 8, 'l'], ['thr', 3, 'r'], ['conv', 13, 'l'], ['step min ms', 11, 'r'], ['img/s', 8, 'r'], ['vs im2col', 9, 'r']]);
const trainRows: Record<string, unknown>[] = [];
const TRAIN_CONVS: readonly Variant[] = [ALGORITHMS[0], ...ALGORITHMS.filter((v) => v.alg === 'auto')];
for (const spec of NETWORKS) {
  if (spec.name !== 'net000' && spec.name !== 'net004') continue;
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  const { x, y } = randomBatch(spec);
  const models = TRAIN_CONVS.map(() => buildModel(spec));
  for (const threads of THREADS) {
    setThreads(threads);
    const steps = TRAIN_CONVS.map((v, i) => () => { use(v); models[i].trainStep(x, y); });
    const t = interleavedMins(steps, QUICK ? 3 : 12);
    const ms = threads === 1 ? t.cpu : t.wall;
    TRAIN_CONVS.forEach((v, i) => {
      const row = { net: spec.name, threads, conv: v.name, clock: threads === 1 ? 'cpu' : 'wall', stepMinMs: ms[i], wallMinMs: t.wall[i], imagesPerSecond: spec.batch * 1000 / ms[i], ratio: ms[0] / ms[i] };
      trainRows.push(row);
      trainTable.row([spec.name, String(threads), v.name, ms[i].toFixed(2), row.imagesPerSecond.toFixed(0), i > 0 ? row.ratio.toFixed(2) : '']);
    });
  }
}

setConvAlgorithm('auto');
setWinogradWeightGrad('auto');
setWinogradGemmJobs(true);
setThreads(threadsBefore);
writeResults('winograd', headerLine, { training: trainRows, note: 'times: min over interleaved rounds, process CPU time on 1 thread, wall time on 2; ratio × = im2col min / this min (same case and thread count); f+b = forward + backward with dx, 3 passes of flops', rows });
