// Optimizer step cost in ns per parameter per step, for every built-in optimizer on 1M parameters
// (one [1000, 1000] weight), gradients fixed, with the parameters, gradients and slots in ordinary
// arrays (the TypeScript kernels, one thread) and in the shared WebAssembly heap, where the built-in
// layers keep them (sgd, momentum and adam then run the module's SIMD kernels on all gemm threads).
// Writes bench/results/optimizers.json.
// Usage: npx tsx bench/optimizers.ts [--quick]
import { createOptimizer } from '../src/optimizers/index.js';
import { heapFloat32 } from '../src/runtime/heap.js';
import type { Param } from '../src/tensor/param.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { header, Table, time, writeResults } from './lib/harness.js';
import { getThreads } from '../src/runtime/workers.js';

const SIZE = 1_000_000;
const OPTIMIZERS: readonly [string, Record<string, unknown>][] = [
  ['sgd', {}], ['momentum', {}], ['nag', {}], ['rmsprop', {}], ['adam', {}], ['nadam', {}],
  ['adam', { weightDecay: 1e-4 }], ['adam', { weightDecay: 1e-4, decoupledWeightDecay: true }],
];
const headerLine = header(`${getThreads()} gemm thread${getThreads() === 1 ? '' : 's'}`);
console.log(headerLine);
const table = new Table([
  ['optimizer', 34, 'l'], ['arrays', 6, 'l'], ['params', 9, 'r'], ['median ms', 10, 'r'], ['min ms', 10, 'r'], ['ns/param', 9, 'r'],
]);
const rows: Record<string, unknown>[] = [];
const rng = new Rng(3);
const gradValues = new Float32Array(SIZE).map(() => rng.uniform(-1e-3, 1e-3));
for (const [name, config] of OPTIMIZERS) {
  const values = new Float32Array(SIZE).map(() => rng.uniform(-1, 1));
  for (const where of ['plain', 'heap'] as const) {
    const make = (from: Float32Array): Float32Array => {
      const array = where === 'heap' ? heapFloat32(SIZE) : new Float32Array(SIZE);
      array.set(from);
      return array;
    };
    const params: Param[] = [{ name: 'w', value: new Tensor(make(values), [1000, 1000]), grad: new Tensor(make(gradValues), [1000, 1000]) }];
    const optimizer = createOptimizer(name, { lr: 1e-6, ...config });
    const t = await time(() => optimizer.step(params));
    const label = Object.keys(config).length === 0 ? name : `${name} ${JSON.stringify(config)}`;
    const nsPerParam = (t.medianMs * 1e6) / SIZE;
    rows.push({ optimizer: label, arrays: where, params: SIZE, medianMs: t.medianMs, minMs: t.minMs, nsPerParam });
    table.row([label, where, String(SIZE), t.medianMs.toFixed(3), t.minMs.toFixed(3), nsPerParam.toFixed(2)]);
  }
}
writeResults('optimizers', headerLine, { rows });
