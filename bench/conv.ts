// Conv2D forward and backward per layer shape of the assignment networks (whole batch, the layer as
// training uses it), GFLOP/s from 2·batch·filters·inC·kH·kW·outH·outW per pass (backward = 2 passes:
// dW and dx). Writes bench/results/conv.json.
// Usage: npx tsx bench/conv.ts [--quick] [--filter net004]
import { Conv2D } from '../src/layers/conv2d.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import '../src/init/index.js';
import { argValue, header, Table, time, writeResults } from './lib/harness.js';
import { getThreads } from '../src/runtime/workers.js';

interface Case { readonly name: string; readonly batch: number; readonly inC: number; readonly size: number; readonly filters: number; readonly padding: number }
const CASES: readonly Case[] = [
  { name: 'net000 conv1', batch: 32, inC: 1, size: 28, filters: 16, padding: 0 },
  { name: 'net000 conv2', batch: 32, inC: 16, size: 26, filters: 16, padding: 0 },
  { name: 'net004 conv1', batch: 64, inC: 1, size: 28, filters: 32, padding: 1 },
  { name: 'net004 conv2', batch: 64, inC: 32, size: 28, filters: 64, padding: 1 },
  { name: 'net003 conv1', batch: 100, inC: 1, size: 28, filters: 16, padding: 1 },
  { name: 'net003 conv2', batch: 100, inC: 16, size: 14, filters: 4, padding: 1 },
];

const filter = argValue('--filter');
const headerLine = header(`${getThreads()} gemm thread${getThreads() === 1 ? '' : 's'}`);
console.log(headerLine);
const table = new Table([['case', 14, 'l'], ['shape', 26, 'l'], ['pass', 8, 'l'], ['median ms', 10, 'r'], ['min ms', 10, 'r'], ['GFLOP/s', 8, 'r']]);
const rows: Record<string, unknown>[] = [];
for (const c of CASES) {
  if (filter !== undefined && !c.name.includes(filter)) continue;
  const layer = new Conv2D({ filters: c.filters, kernelSize: 3, padding: c.padding });
  const [, outH, outW] = layer.build([c.inC, c.size, c.size], new Rng(1));
  const rng = new Rng(2);
  const x = new Tensor(new Float32Array(c.batch * c.inC * c.size * c.size).map(() => rng.uniform(-1, 1)), [c.batch, c.inC, c.size, c.size]);
  const y = layer.forward(x, true);
  const dy = new Tensor(new Float32Array(y.size).map(() => rng.uniform(-1, 1)), y.shape);
  const flop = 2 * c.batch * c.filters * c.inC * 9 * outH * outW;
  const shape = `${c.batch}×${c.inC}×${c.size}² → ${c.filters}×${outH}²`;
  const fwd = await time(() => layer.forward(x, true));
  // backward after a forward, as in training (it may reuse forward's columns)
  const bwd = await time(() => { layer.forward(x, true); layer.backward(dy); });
  const bwdOnly = { medianMs: bwd.medianMs - fwd.medianMs, minMs: bwd.minMs - fwd.minMs };
  for (const [pass, t, f] of [['forward', fwd, flop], ['backward', bwdOnly, 2 * flop]] as const) {
    const gflops = f / (t.medianMs * 1e6);
    rows.push({ case: c.name, shape, pass, medianMs: t.medianMs, minMs: t.minMs, gflops });
    table.row([c.name, shape, pass, t.medianMs.toFixed(3), t.minMs.toFixed(3), gflops.toFixed(2)]);
  }
}
writeResults('conv', headerLine, { note: 'backward = (forward + backward) − forward medians', rows });
