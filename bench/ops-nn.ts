// The differentiable conv2d and maxPool2d ops (src/ops, forward + backward through the tape) beside the
// built-in Conv2D and MaxPool2D layers on the assignment networks' shapes, in one process, ratios first
// (op / layer: 1.00 = parity). The op's stride-1 convolutions run the layer's WideConv engine; the
// im2col + gemm path that strided, dilated and grouped convolutions take is timed on the same shapes.
// A tick of the event loop and a GC (with --expose-gc) before each sample let the heap blocks of the
// previous sample's results be freed, as between the batches of a training loop. Writes bench/results/ops-nn.json.
// Usage: node --expose-gc --import tsx bench/ops-nn.ts [--quick] [--filter net004]
import { readFileSync } from 'node:fs';
import { Conv2D } from '../src/layers/conv2d.js';
import { MaxPool2D } from '../src/layers/pooling.js';
import { setWideConvOps } from '../src/ops/conv.js';
import { Variable, ops } from '../src/ops/index.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import '../src/init/index.js';
import { QUICK, argValue, header, Table, writeResults } from './lib/harness.js';

interface Case { readonly name: string; readonly batch: number; readonly inC: number; readonly size: number; readonly filters: number; readonly padding: number }
const CASES: readonly Case[] = [
  { name: 'net000 conv1', batch: 32, inC: 1, size: 28, filters: 16, padding: 0 },
  { name: 'net000 conv2', batch: 32, inC: 16, size: 26, filters: 16, padding: 0 },
  { name: 'net004 conv1', batch: 64, inC: 1, size: 28, filters: 32, padding: 1 },
  { name: 'net004 conv2', batch: 64, inC: 32, size: 28, filters: 64, padding: 1 },
  { name: 'net003 conv2', batch: 100, inC: 16, size: 14, filters: 4, padding: 1 },
];

const gc = (globalThis as { gc?: () => void }).gc;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Median and minimum ms of `fn` over `reps` samples after 2 warm-ups, with a GC and a tick before each. */
async function sample(fn: () => void, reps: number): Promise<{ medianMs: number; minMs: number }> {
  for (let i = 0; i < 2; i++) {
    fn();
    await tick();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    gc?.();
    await tick();
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[times.length >> 1], minMs: times[0] };
}

const filter = argValue('--filter');
const reps = QUICK ? 5 : 15;
const headerLine = header(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}${gc === undefined ? ' (no --expose-gc)' : ''}`);
console.log(headerLine);
const table = new Table([['case', 14, 'l'], ['what', 22, 'l'], ['layer ms', 9, 'r'], ['op ms', 9, 'r'], ['op/layer', 9, 'r'], ['im2col ms', 10, 'r'], ['im2col/layer', 12, 'r']]);
const rows: Record<string, unknown>[] = [];
const rng = new Rng(2);
const random = (shape: number[]): Tensor => new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.uniform(-1, 1)), shape);
for (const c of CASES) {
  if (filter !== undefined && !c.name.includes(filter)) continue;
  const layer = new Conv2D({ filters: c.filters, kernelSize: 3, padding: c.padding });
  layer.build([c.inC, c.size, c.size], new Rng(1));
  const x = random([c.batch, c.inC, c.size, c.size]);
  const dy = random(layer.forward(x, true).shape);
  const [wp, bp] = layer.params();
  const leaves = [x, wp.value, bp.value].map((t) => new Variable(t, { requiresGrad: true }));
  const opStep = (): void => {
    ops.conv2d(leaves[0], leaves[1], leaves[2], { padding: c.padding }).backward(dy);
    for (const v of leaves) v.zeroGrad();
  };
  const tLayer = await sample(() => { layer.forward(x, true); layer.backward(dy); }, reps);
  const tOp = await sample(opStep, reps);
  const previous = setWideConvOps(false);
  const tIm2col = await sample(opStep, reps);
  setWideConvOps(previous);
  const what = `conv fwd+bwd ${c.inC}→${c.filters} ${c.size}²`;
  rows.push({ case: c.name, what, layer: tLayer, op: tOp, im2col: tIm2col, opOverLayer: tOp.medianMs / tLayer.medianMs, im2colOverLayer: tIm2col.medianMs / tLayer.medianMs });
  table.row([c.name, what, tLayer.medianMs.toFixed(2), tOp.medianMs.toFixed(2), (tOp.medianMs / tLayer.medianMs).toFixed(2),
    tIm2col.medianMs.toFixed(2), (tIm2col.medianMs / tLayer.medianMs).toFixed(2)]);
  if (c.name !== 'net004 conv2') continue;
  // net004's max pool (2×2) after its second conv.
  const pool = new MaxPool2D({ poolSize: 2 });
  pool.build([c.filters, c.size, c.size], new Rng(1));
  const px = random([c.batch, c.filters, c.size, c.size]);
  const pdy = random(pool.forward(px, true).shape);
  const pv = new Variable(px, { requiresGrad: true });
  const tPoolLayer = await sample(() => { pool.forward(px, true); pool.backward(pdy); }, reps);
  const tPoolOp = await sample(() => { ops.maxPool2d(pv, { kernelSize: 2 }).backward(pdy); pv.zeroGrad(); }, reps);
  const pwhat = `maxPool 2×2 fwd+bwd ${c.filters}×${c.size}²`;
  rows.push({ case: c.name, what: pwhat, layer: tPoolLayer, op: tPoolOp, opOverLayer: tPoolOp.medianMs / tPoolLayer.medianMs });
  table.row([c.name, pwhat, tPoolLayer.medianMs.toFixed(2), tPoolOp.medianMs.toFixed(2), (tPoolOp.medianMs / tPoolLayer.medianMs).toFixed(2), '', '']);
}
writeResults('ops-nn', headerLine, { rows });
