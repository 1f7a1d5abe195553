// The four assignment networks trained in tensorkit and in TensorFlow.js (tfjs-core + tfjs-backend-cpu
// + tfjs-layers: the pure-JS CPU backend) in the same run, same batch and optimizer, printing training
// images/s and the tensorkit/tfjs ratio. tfjs-cpu is very slow (≈3 img/s on net000, < 1 on net004), so
// it gets 1 warm-up step and only --tfjs-steps timed steps (default 2): its medians are rough.
// tfjs runs channels-last ([28, 28, 1] inputs) since its CPU conv kernels are NHWC; the work is equal.
// Writes bench/results/compare-tfjs.json.
// Usage: npx tsx bench/compare-tfjs.ts [--quick] [--filter net001] [--tfjs-steps N]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { argValue, header, Table, time, writeResults } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch } from './lib/networks.js';
import { tfjsModel } from './lib/tfjs-networks.js';

interface Row {
  readonly net: string;
  readonly batch: number;
  readonly tensorkitMedianMs: number;
  readonly tensorkitImagesPerSecond: number;
  readonly tfjsMedianMs: number;
  readonly tfjsMinMs: number;
  readonly tfjsSteps: number;
  readonly tfjsImagesPerSecond: number;
  readonly ratio: number;
}

const filter = argValue('--filter');
const tfjsSteps = Number(argValue('--tfjs-steps') ?? 2);
await tf.setBackend('cpu');
const headerLine = header(`1 thread; tfjs ${tf.version_core} backend ${tf.getBackend()}, ${tfjsSteps} timed steps after 1 warm-up`);
console.log(headerLine);
const table = new Table([
  ['network', 8, 'l'], ['batch', 5, 'r'], ['tensorkit ms', 12, 'r'], ['img/s', 8, 'r'],
  ['tfjs ms', 10, 'r'], ['img/s', 7, 'r'], ['ratio', 7, 'r'],
]);
const rows: Row[] = [];
for (const spec of NETWORKS) {
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  const model = buildModel(spec);
  const { x, y } = randomBatch(spec);
  const tk = await time(() => model.trainStep(x, y), { warmup: 3 });

  const tfModel = tfjsModel(spec);
  // NCHW with one channel is NHWC with one channel: the same floats.
  const tx = tf.tensor4d(x.data, [spec.batch, 28, 28, 1]);
  const ty = tf.tensor1d(y.data, 'float32');
  await tfModel.trainOnBatch(tx, ty);
  const times: number[] = [];
  for (let i = 0; i < tfjsSteps; i++) {
    const t0 = performance.now();
    await tfModel.trainOnBatch(tx, ty);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const tfMedian = times[(times.length - 1) >> 1];
  tx.dispose();
  ty.dispose();
  const tkIps = (spec.batch * 1000) / tk.medianMs;
  const tfIps = (spec.batch * 1000) / tfMedian;
  rows.push({
    net: spec.name, batch: spec.batch, tensorkitMedianMs: tk.medianMs, tensorkitImagesPerSecond: tkIps,
    tfjsMedianMs: tfMedian, tfjsMinMs: times[0], tfjsSteps, tfjsImagesPerSecond: tfIps, ratio: tkIps / tfIps,
  });
  table.row([
    spec.name, String(spec.batch), tk.medianMs.toFixed(2), tkIps.toFixed(0), tfMedian.toFixed(1), tfIps.toFixed(1),
    `${(tkIps / tfIps).toFixed(0)}×`,
  ]);
}
writeResults('compare-tfjs', headerLine, { rows });
