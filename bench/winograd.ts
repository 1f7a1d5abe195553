// Winograd vs im2col on the assignment networks' 3×3 stride-1 layers: forward and forward+backward
// (dW by the im2col gemm either way, dx by the chosen algorithm) of a Conv2D with its ReLU fused, for
// im2col, F(2×2,3×3) and F(4×4,3×3), on 1 and 2 threads, interleaved in one run (ratios are what
// count on a loaded machine; they use the min times, which a busy machine disturbs least).
// GFLOP/s-equivalent = direct-convolution flops / min time. Writes
// bench/results/winograd.json. Usage: npx tsx bench/winograd.ts [--quick] [--filter net004]
import { Conv2D } from '../src/layers/conv2d.js';
import { ReLU } from '../src/layers/activations.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { setConvAlgorithm, type ConvAlgorithm } from '../src/tensor/winograd.js';
import { getThreads, setThreads } from '../src/runtime/workers.js';
import '../src/init/index.js';
import { argValue, header, Table, time, writeResults } from './lib/harness.js';
import { readFileSync } from 'node:fs';

interface Case { readonly name: string; readonly batch: number; readonly inC: number; readonly size: number; readonly filters: number; readonly padding: number }
const CASES: readonly Case[] = [
  { name: 'net000 conv1', batch: 32, inC: 1, size: 28, filters: 16, padding: 0 },
  { name: 'net000 conv2', batch: 32, inC: 16, size: 26, filters: 16, padding: 0 },
  { name: 'net004 conv1', batch: 64, inC: 1, size: 28, filters: 32, padding: 1 },
  { name: 'net004 conv2', batch: 64, inC: 32, size: 28, filters: 64, padding: 1 },
  { name: 'net003 conv1', batch: 100, inC: 1, size: 28, filters: 16, padding: 1 },
  { name: 'net003 conv2', batch: 100, inC: 16, size: 14, filters: 4, padding: 1 },
];
const ALGORITHMS: readonly ConvAlgorithm[] = ['im2col', 'winograd2', 'winograd4'];
const THREADS = [1, 2];

const filter = argValue('--filter');
const threadsBefore = getThreads();
const headerLine = header(`threads 1 and 2 interleaved; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(headerLine);
const table = new Table([['case', 13, 'l'], ['thr', 3, 'r'], ['algorithm', 10, 'l'], ['fwd med', 8, 'r'], ['fwd min', 8, 'r'], ['GF/s', 6, 'r'], ['fwd ×', 6, 'r'],
  ['f+b med', 8, 'r'], ['f+b min', 8, 'r'], ['GF/s', 6, 'r'], ['f+b ×', 6, 'r']]);
const rows: Record<string, unknown>[] = [];
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
    let baseF = 0;
    let baseB = 0;
    for (const alg of ALGORITHMS) {
      setConvAlgorithm(alg);
      const fwd = await time(() => layer.forwardFused(x, true, relu));
      const both = await time(() => { layer.forwardFused(x, true, relu); layer.backward(dy); });
      if (alg === 'im2col') { baseF = fwd.minMs; baseB = both.minMs; }
      const row = {
        case: c.name, threads, algorithm: alg, fwdMedianMs: fwd.medianMs, fwdMinMs: fwd.minMs, fwdGflops: flop / (fwd.minMs * 1e6), fwdRatio: baseF / fwd.minMs,
        bothMedianMs: both.medianMs, bothMinMs: both.minMs, bothGflops: 3 * flop / (both.minMs * 1e6), bothRatio: baseB / both.minMs,
      };
      rows.push(row);
      table.row([c.name, String(threads), alg, row.fwdMedianMs.toFixed(3), row.fwdMinMs.toFixed(3), row.fwdGflops.toFixed(1), row.fwdRatio.toFixed(2),
        row.bothMedianMs.toFixed(3), row.bothMinMs.toFixed(3), row.bothGflops.toFixed(1), row.bothRatio.toFixed(2)]);
    }
  }
}
setConvAlgorithm('auto');
setThreads(threadsBefore);
writeResults('winograd', headerLine, { note: 'ratio × = im2col min / this min (same case and thread count); f+b = forward + backward with dx, 3 passes of flops', rows });
