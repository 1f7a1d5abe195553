// Non-gemm layer costs at the assignment networks' shapes (issue 7): ReLU, Tanh and MaxPool2D forward
// and backward on seeded activations whose signs are mixed like real ones, as ms per call and ns per
// element; the input and dy in ordinary arrays (the TypeScript kernels, one thread) and in the shared
// WebAssembly heap, where the previous layer's output lives in a network (the module's SIMD kernels
// for tanh and max pooling, split over the gemm threads when large). Writes bench/results/layers.json.
// Usage: npx tsx bench/layers.ts [--quick]
import { ReLU, Tanh } from '../src/layers/activations.js';
import type { Layer } from '../src/layers/layer.js';
import { MaxPool2D } from '../src/layers/pooling.js';
import { heapFloat32 } from '../src/runtime/heap.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { header, Table, time, writeResults } from './lib/harness.js';
import { getThreads } from '../src/runtime/workers.js';

interface Case {
  readonly name: string;
  /** Input `[batch, ...sample]`. */
  readonly shape: readonly number[];
  make(): Layer;
}

const CASES: readonly Case[] = [
  { name: 'net004 relu (conv1 out)', shape: [64, 32, 28, 28], make: () => new ReLU() },
  { name: 'net003 relu (conv1 out)', shape: [100, 16, 28, 28], make: () => new ReLU() },
  { name: 'net000 relu (conv2 out)', shape: [32, 16, 24, 24], make: () => new ReLU() },
  { name: 'net001 tanh (dense out)', shape: [64, 128], make: () => new Tanh() },
  { name: 'net004 max-pool 2 (conv2 out)', shape: [64, 64, 28, 28], make: () => new MaxPool2D({ poolSize: 2 }) },
  { name: 'net003 max-pool 2 (relu1 out)', shape: [100, 16, 28, 28], make: () => new MaxPool2D({ poolSize: 2 }) },
];

const headerLine = header(`${getThreads()} gemm thread${getThreads() === 1 ? '' : 's'}`);
console.log(headerLine);
const table = new Table([
  ['case', 30, 'l'], ['shape', 16, 'l'], ['arrays', 6, 'l'], ['pass', 8, 'l'], ['median ms', 10, 'r'], ['min ms', 10, 'r'], ['ns/elem', 8, 'r'],
]);
const rows: Record<string, unknown>[] = [];
const rng = new Rng(4);
for (const c of CASES) {
  for (const where of ['plain', 'heap'] as const) {
    const array = (n: number): Float32Array => (where === 'heap' ? heapFloat32(n) : new Float32Array(n));
    const layer = c.make();
    layer.build(c.shape.slice(1), rng);
    const x = new Tensor(array(c.shape.reduce((a, b) => a * b, 1)), c.shape);
    for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
    const y = layer.forward(x, true);
    const dy = new Tensor(array(y.size), y.shape);
    for (let i = 0; i < dy.size; i++) dy.data[i] = rng.normal();
    for (const [pass, fn] of [['forward', () => layer.forward(x, true)], ['backward', () => layer.backward(dy)]] as const) {
      const t = await time(fn, { warmup: 5 });
      const nsPerElement = (t.medianMs * 1e6) / x.size;
      rows.push({ case: c.name, shape: c.shape, arrays: where, pass, medianMs: t.medianMs, minMs: t.minMs, nsPerElement });
      table.row([c.name, c.shape.join('×'), where, pass, t.medianMs.toFixed(3), t.minMs.toFixed(3), nsPerElement.toFixed(2)]);
    }
  }
}
writeResults('layers', headerLine, { rows });
