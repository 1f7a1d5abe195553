// The differentiable conv2d and maxPool2d ops (src/ops, forward + backward through the tape) beside the
// built-in Conv2D and MaxPool2D layers on the assignment networks' shapes, in one process, taking turns,
// ratios first (op / layer: 1.00 = parity). The op's stride-1 convolutions run the layer's WideConv engine; the
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

/**
 * Median and minimum ms of each of `fns` over `reps` rounds after 2 warm-up rounds; the functions take
 * turns within a round (so a slow minute of a shared machine hits them alike), with a GC and a tick
 * before each call.
 */
async function sample(fns: readonly (() => void)[], reps: number): Promise<{ medianMs: number; minMs: number }[]> {
  const times = fns.map(() => [] as number[]);
  for (let round = -2; round < reps; round++) {
    for (let f = 0; f < fns.length; f++) {
      gc?.();
      await tick();
      const t0 = performance.now();
      fns[f]();
      if (round >= 0) times[f].push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { medianMs: t[t.length >> 1], minMs: t[0] };
  });
}

const filter = argValue('--filter');
const reps = QUICK ? 5 : 15;
const headerLine = header(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}${gc === undefined ? ' (no --expose-gc)' : ''}`);
console.log(headerLine);
// Medians, and the ratios of medians and (in brackets) of minimums: on a loaded machine the minimums are the steadier.
const table = new Table([['case', 14, 'l'], ['what', 26, 'l'], ['layer ms', 9, 'r'], ['op ms', 9, 'r'], ['op/layer', 14, 'r'], ['im2col ms', 10, 'r'], ['im2col/layer', 14, 'r']]);
const ratio = (a: { medianMs: number; minMs: number }, b: { medianMs: number; minMs: number }): string => `${(a.medianMs / b.medianMs).toFixed(2)} (${(a.minMs / b.minMs).toFixed(2)})`;
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
  const im2colStep = (): void => {
    const previous = setWideConvOps(false);
    opStep();
    setWideConvOps(previous);
  };
  const [tLayer, tOp, tIm2col] = await sample([() => { layer.forward(x, true); layer.backward(dy); }, opStep, im2colStep], reps);
  const what = `conv fwd+bwd ${c.inC}→${c.filters} ${c.size}²`;
  rows.push({ case: c.name, what, layer: tLayer, op: tOp, im2col: tIm2col, opOverLayer: tOp.medianMs / tLayer.medianMs, im2colOverLayer: tIm2col.medianMs / tLayer.medianMs });
  table.row([c.name, what, tLayer.medianMs.toFixed(2), tOp.medianMs.toFixed(2), ratio(tOp, tLayer), tIm2col.medianMs.toFixed(2), ratio(tIm2col, tLayer)]);
  if (c.name !== 'net004 conv2') continue;
  // net004's max pool (2×2) after its second conv.
  const pool = new MaxPool2D({ poolSize: 2 });
  pool.build([c.filters, c.size, c.size], new Rng(1));
  const px = random([c.batch, c.filters, c.size, c.size]);
  const pdy = random(pool.forward(px, true).shape);
  const pv = new Variable(px, { requiresGrad: true });
  const [tPoolLayer, tPoolOp] = await sample([
    () => { pool.forward(px, true); pool.backward(pdy); },
    () => { ops.maxPool2d(pv, { kernelSize: 2 }).backward(pdy); pv.zeroGrad(); },
  ], reps);
  const pwhat = `maxPool 2×2 fwd+bwd ${c.filters}×${c.size}²`;
  rows.push({ case: c.name, what: pwhat, layer: tPoolLayer, op: tPoolOp, opOverLayer: tPoolOp.medianMs / tPoolLayer.medianMs });
  table.row([c.name, pwhat, tPoolLayer.medianMs.toFixed(2), tPoolOp.medianMs.toFixed(2), ratio(tPoolOp, tPoolLayer), '', '']);
}
writeResults('ops-nn', headerLine, { rows });
