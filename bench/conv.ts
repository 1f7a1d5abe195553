// Conv2D forward and backward per layer shape of the assignment networks (whole batch, the layer as
// training uses it), GFLOP/s from 2·batch·filters·inC·kH·kW·outH·outW per pass (backward = 2 passes:
// dW and dx). For the thin shapes (few input channels) the direct ThinConv and the im2col WideConv
// engines are also timed side by side in the same process (ratios = wide / thin). Writes
// bench/results/conv.json.
// Usage: npx tsx bench/conv.ts [--quick] [--filter net004] [--threads N]
import { Conv2D } from '../src/layers/conv2d.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import '../src/init/index.js';
import { argValue, header, Table, time, writeResults } from './lib/harness.js';
import { getThreads, setThreads } from '../src/runtime/workers.js';
import { ThinConv, WideConv, sharedConvHeap } from '../src/tensor/conv2d-engine.js';
import { convGeometry } from '../src/tensor/im2col.js';
import { heapFloat32 } from '../src/runtime/heap.js';

interface Case { readonly name: string; readonly batch: number; readonly inC: number; readonly size: number; readonly filters: number; readonly padding: number; readonly kernel?: number }
const CASES: readonly Case[] = [
  { name: 'net000 conv1', batch: 32, inC: 1, size: 28, filters: 16, padding: 0 },
  { name: 'net000 conv2', batch: 32, inC: 16, size: 26, filters: 16, padding: 0 },
  { name: 'net004 conv1', batch: 64, inC: 1, size: 28, filters: 32, padding: 1 },
  { name: 'net004 conv2', batch: 64, inC: 32, size: 28, filters: 64, padding: 1 },
  { name: 'net003 conv1', batch: 100, inC: 1, size: 28, filters: 16, padding: 1 },
  { name: 'net003 conv2', batch: 100, inC: 16, size: 14, filters: 4, padding: 1 },
];
/**
 * Thin shapes beyond the assignment networks' first convs, for the engine table only: the pruning
 * example's pruned layers (1 → 1 and 1 → 2 filters 3×3, 1 → 7 filters 5×5, inference batch 256) and
 * a 3-channel input to 1 and 4 filters: where the shape rule of isThinConv draws its line.
 */
const THIN_CASES: readonly Case[] = [
  { name: 'pruned c1 F1', batch: 256, inC: 1, size: 28, filters: 1, padding: 0 },
  { name: 'pruned c1 F2', batch: 256, inC: 1, size: 28, filters: 2, padding: 0 },
  { name: 'pruned c1 F3', batch: 256, inC: 1, size: 28, filters: 3, padding: 0 },
  { name: 'pruned c2 5×5', batch: 256, inC: 1, size: 26, filters: 7, padding: 0, kernel: 5 },
  { name: '5×5 F1 pad 2', batch: 64, inC: 1, size: 28, filters: 1, padding: 2, kernel: 5 },
  { name: 'rgb → 1', batch: 64, inC: 3, size: 28, filters: 1, padding: 1 },
  { name: 'rgb → 4', batch: 64, inC: 3, size: 28, filters: 4, padding: 1 },
];

const filter = argValue('--filter');
const threadsArg = argValue('--threads');
if (threadsArg !== undefined) setThreads(Number(threadsArg));
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

// Thin shapes: the two engines on the same data (x, weights, gradients in the shared heap, as Conv2D
// keeps them), forward with the fused ReLU and backward without dx (a first layer), then with dx.
const engineTable = new Table([['case', 14, 'l'], ['pass', 16, 'l'], ['wide ms', 9, 'r'], ['thin ms', 9, 'r'], ['wide/thin', 9, 'r'], ['thin GFLOP/s', 12, 'r']]);
const engineRows: Record<string, unknown>[] = [];
for (const c of [...CASES, ...THIN_CASES]) {
  if (c.inC > 3 || (filter !== undefined && !c.name.includes(filter))) continue;
  const k = c.kernel ?? 3;
  const g = convGeometry(c.inC, c.size, c.size, k, k, 1, 1, c.padding, c.padding);
  const rng = new Rng(3);
  const fill = (n: number): Float32Array => { const a = heapFloat32(n); for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1); return a; };
  const x = fill(c.batch * c.inC * c.size * c.size);
  const w = fill(c.filters * c.inC * k * k);
  const b = fill(c.filters);
  const dy = fill(c.batch * c.filters * g.outH * g.outW);
  const gw = heapFloat32(w.length);
  const gb = heapFloat32(b.length);
  const wide = new WideConv(c.batch, c.filters, true, g, sharedConvHeap());
  const thin = new ThinConv(c.batch, c.filters, g);
  const flop = 2 * c.batch * c.filters * c.inC * k * k * g.outH * g.outW;
  const passes: [string, number, () => unknown, () => unknown][] = [
    ['forward+relu', flop, () => wide.forward(x, w, b, true), () => thin.forward(x, w, b, true)],
    ['fwd+bwd (no dx)', 2 * flop, () => { wide.forward(x, w, b, true); wide.backward(dy, gw, gb, false); },
      () => { thin.forward(x, w, b, true); thin.backward(dy, w, gw, gb, false); }],
    ['fwd+bwd (dx)', 3 * flop, () => { wide.forward(x, w, b, true); wide.backward(dy, gw, gb, true); },
      () => { thin.forward(x, w, b, true); thin.backward(dy, w, gw, gb, true); }],
  ];
  for (const [pass, f, runWide, runThin] of passes) {
    const tw = await time(runWide);
    const tt = await time(runThin);
    const ratio = tw.medianMs / tt.medianMs;
    const gflops = f / (tt.medianMs * 1e6);
    engineRows.push({ case: c.name, pass, wideMs: tw.medianMs, thinMs: tt.medianMs, ratio, thinGflops: gflops });
    engineTable.row([c.name, pass, tw.medianMs.toFixed(3), tt.medianMs.toFixed(3), ratio.toFixed(2), gflops.toFixed(2)]);
  }
  wide.release();
}
writeResults('conv', headerLine, { note: 'backward = (forward + backward) − forward medians; engines: wide/thin = ratio of medians', rows, engines: engineRows });
