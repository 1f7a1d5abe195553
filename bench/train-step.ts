// Training and inference throughput of the four assignment networks (issue 7), images/s from the
// median of repeated steps after warm-up, on each gemm backend (WASM SIMD and the TypeScript kernel)
// side by side in one run. One training step = zero grads, forward, cross-entropy, backward,
// optimizer step (Sequential.trainStep); inference = forward in eval mode on one batch.
// Writes bench/results/train-step.json.
// Usage: npx tsx bench/train-step.ts [--quick] [--filter net000] [--backend wasm|ts]
import { setGemmBackend, type GemmBackend } from '../src/tensor/gemm.js';
import { wasmGemmVariant } from '../src/tensor/gemm-wasm.js';
import { argValue, header, QUICK, Table, time, writeResults } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch } from './lib/networks.js';
import { getThreads } from '../src/tensor/threads.js';

interface Row {
  readonly net: string;
  readonly batch: number;
  readonly backend: string;
  readonly mode: 'train' | 'infer';
  readonly medianMs: number;
  readonly minMs: number;
  readonly imagesPerSecond: number;
  readonly samples: number;
}

const filter = argValue('--filter');
const only = argValue('--backend');
const backends: GemmBackend[] = wasmGemmVariant() === null ? ['ts'] : ['wasm', 'ts'];
const headerLine = header(`${getThreads()} gemm thread${getThreads() === 1 ? '' : 's'}`);
console.log(headerLine);
const table = new Table([
  ['network', 8, 'l'], ['batch', 5, 'r'], ['gemm', 5, 'l'], ['mode', 6, 'l'],
  ['median ms', 10, 'r'], ['min ms', 10, 'r'], ['img/s', 9, 'r'],
]);
const rows: Row[] = [];
for (const spec of NETWORKS) {
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  for (const backend of backends) {
    if (only !== undefined && backend !== only) continue;
    setGemmBackend(backend);
    // A fresh model per backend, so both start from the same weights and optimizer state.
    const model = buildModel(spec);
    const { x, y } = randomBatch(spec);
    // The TypeScript kernel is ~10× slower: fewer samples keep the run short.
    const slow = backend === 'ts';
    const options = { warmup: 3, minSamples: slow ? 5 : 12, budgetMs: (QUICK ? 100 : slow ? 300 : 600) };
    const train = await time(() => model.trainStep(x, y), options);
    const infer = await time(() => model.forward(x), options);
    for (const [mode, t] of [['train', train], ['infer', infer]] as const) {
      const imagesPerSecond = (spec.batch * 1000) / t.medianMs;
      rows.push({ net: spec.name, batch: spec.batch, backend, mode, ...t, imagesPerSecond });
      table.row([
        spec.name, String(spec.batch), backend, mode, t.medianMs.toFixed(3), t.minMs.toFixed(3), imagesPerSecond.toFixed(0),
      ]);
    }
  }
}
setGemmBackend('auto');
writeResults('train-step', headerLine, { networks: NETWORKS.map((n) => ({ name: n.name, description: n.description })), rows });
