// One full Fashion-MNIST epoch of net000 (batch 32, SGD momentum, shuffled), data loading included:
// the wall time from reading the vendored IDX files to the end of Sequential.fit (issue 7 target ≤ 20 s;
// PyTorch ≈ 19.7 s), with the machine gauge of lib/harness.ts before and after (the VM's speed drifts).
// Writes bench/results/epoch.json.
// Usage: npx tsx bench/epoch.ts [--quick]   (--quick: the first 6,000 images)
import { loadFashionMnist } from '../src/data/datasets.js';
import { getThreads } from '../src/runtime/workers.js';
import { gauge, header, QUICK, writeResults } from './lib/harness.js';
import { buildModel, network } from './lib/networks.js';

const headerLine = header(`${getThreads()} gemm thread${getThreads() === 1 ? '' : 's'}`);
console.log(headerLine);
const gaugeBefore = gauge();
const spec = network('net000');
const t0 = performance.now();
const data = loadFashionMnist(QUICK ? { trainLimit: 6000, testLimit: 100 } : {});
const loadSeconds = (performance.now() - t0) / 1000;
const model = buildModel(spec);
const t1 = performance.now();
const history = await model.fit(data.train.images, data.train.labels, { epochs: 1, batchSize: spec.batch, seed: 1, verbose: false });
const trainSeconds = (performance.now() - t1) / 1000;
const totalSeconds = (performance.now() - t0) / 1000;
const images = data.train.images.shape[0];
console.log(`net000, ${images} images, batch ${spec.batch}: load ${loadSeconds.toFixed(2)} s, train ${trainSeconds.toFixed(2)} s, ` +
  `total ${totalSeconds.toFixed(2)} s (${(images / trainSeconds).toFixed(0)} img/s), loss ${history.epoch.loss[0].toFixed(4)}, ` +
  `accuracy ${history.epoch.accuracy[0].toFixed(4)}`);
const gaugeAfter = gauge();
console.log(`gauge: 512³ gemm on 1 thread at ${gaugeBefore.toFixed(1)} GFLOP/s before, ${gaugeAfter.toFixed(1)} after`);
writeResults('epoch', headerLine, {
  net: 'net000', images, batch: spec.batch, loadSeconds, trainSeconds, totalSeconds,
  gauge: { gflopsBefore: gaugeBefore, gflopsAfter: gaugeAfter },
});
