// Training and inference throughput of the four assignment networks (issue 7), images/s from the
// median of repeated steps after warm-up, side by side in one run: the WASM SIMD gemm on 1 thread
// and on all cores (the thread count switched with setThreads, the two models stepping alternately,
// so both see the same machine load), and the TypeScript kernel on 1 thread. One training step =
// zero grads, forward, cross-entropy, backward, optimizer step (Sequential.trainStep); inference =
// forward in eval mode on one batch. Prints (and records) the machine gauge of lib/harness.ts before and
// after: the VM's speed drifts, so a run is only comparable with runs at a similar gauge.
// Writes bench/results/train-step.json.
// `--conv im2col,auto` also alternates the convolution algorithm of 3×3 stride-1 layers (setConvAlgorithm).
// Usage: npx tsx bench/train-step.ts [--quick] [--filter net000] [--backend wasm|ts] [--threads N] [--conv im2col,auto]
import { setGemmBackend, type GemmBackend } from '../src/tensor/gemm.js';
import { setConvAlgorithm, type ConvAlgorithm } from '../src/tensor/winograd.js';
import { wasmGemmVariant } from '../src/runtime/tasks.js';
import { argValue, gauge, header, QUICK, Table, time, writeResults } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch } from './lib/networks.js';
import { availableCores, setThreads } from '../src/runtime/workers.js';

interface Row {
  readonly net: string;
  readonly batch: number;
  readonly backend: string;
  readonly threads: number;
  readonly conv: ConvAlgorithm;
  readonly mode: 'train' | 'infer';
  readonly medianMs: number;
  readonly minMs: number;
  readonly imagesPerSecond: number;
  readonly samples: number;
}

const filter = argValue('--filter');
const only = argValue('--backend');
const convs = (argValue('--conv') ?? 'auto').split(',') as ConvAlgorithm[];
const backends: GemmBackend[] = wasmGemmVariant() === null ? ['ts'] : ['wasm', 'ts'];
const many = Math.min(Number(argValue('--threads') ?? availableCores()), availableCores());
const headerLine = header(`WASM gemm on 1 and ${many} threads, TypeScript gemm on 1`);
console.log(headerLine);
const gaugeBefore = gauge();
console.log(`gauge before: 512³ gemm on 1 thread at ${gaugeBefore.toFixed(1)} GFLOP/s`);
const table = new Table([
  ['network', 8, 'l'], ['batch', 5, 'r'], ['gemm', 5, 'l'], ['threads', 7, 'r'], ['conv', 9, 'l'], ['mode', 6, 'l'],
  ['median ms', 10, 'r'], ['min ms', 10, 'r'], ['img/s', 9, 'r'],
]);
const rows: Row[] = [];
const configs: { backend: GemmBackend; threads: number; conv: ConvAlgorithm }[] = [];
for (const backend of backends) {
  if (only !== undefined && backend !== only) continue;
  for (const conv of convs) {
    if (backend === 'wasm') {
      configs.push({ backend, threads: 1, conv });
      if (many > 1) configs.push({ backend, threads: many, conv });
    } else {
      configs.push({ backend, threads: 1, conv });
    }
  }
}
for (const spec of NETWORKS) {
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  const { x, y } = randomBatch(spec);
  // A fresh model per configuration (all start from the same weights and optimizer state); each
  // configuration is timed in turn, twice, and the better median of the two rounds is kept, so a
  // burst of load on the shared machine does not decide a comparison.
  const models = configs.map(() => buildModel(spec));
  const best = configs.map(() => ({ train: null as null | Awaited<ReturnType<typeof time>>, infer: null as null | Awaited<ReturnType<typeof time>> }));
  for (let round = 0; round < 2; round++) {
    for (let c = 0; c < configs.length; c++) {
      const { backend, threads, conv } = configs[c];
      setGemmBackend(backend);
      setThreads(threads);
      setConvAlgorithm(conv);
      const model = models[c];
      // The TypeScript kernel is ~10× slower: fewer samples keep the run short.
      const slow = backend === 'ts';
      const options = { warmup: 3, minSamples: slow ? 5 : 12, budgetMs: (QUICK ? 100 : slow ? 300 : 600) };
      const train = await time(() => model.trainStep(x, y), options);
      const infer = await time(() => model.forward(x), options);
      const b = best[c];
      if (b.train === null || train.medianMs < b.train.medianMs) b.train = train;
      if (b.infer === null || infer.medianMs < b.infer.medianMs) b.infer = infer;
    }
  }
  for (let c = 0; c < configs.length; c++) {
    const { backend, threads, conv } = configs[c];
    for (const mode of ['train', 'infer'] as const) {
      const t = best[c][mode] as Awaited<ReturnType<typeof time>>;
      const imagesPerSecond = (spec.batch * 1000) / t.medianMs;
      rows.push({ net: spec.name, batch: spec.batch, backend, threads, conv, mode, ...t, imagesPerSecond });
      table.row([
        spec.name, String(spec.batch), backend, String(threads), conv, mode, t.medianMs.toFixed(3), t.minMs.toFixed(3), imagesPerSecond.toFixed(0),
      ]);
    }
  }
}
setGemmBackend('auto');
setConvAlgorithm('auto');
const gaugeAfter = gauge();
console.log(`gauge after: 512³ gemm on 1 thread at ${gaugeAfter.toFixed(1)} GFLOP/s`);
writeResults('train-step', headerLine, {
  gauge: { gflopsBefore: gaugeBefore, gflopsAfter: gaugeAfter },
  networks: NETWORKS.map((n) => ({ name: n.name, description: n.description })), rows,
});
