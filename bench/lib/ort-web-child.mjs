// onnxruntime-web's WebAssembly backend timing one thread count, run as a child process of bench/compare.ts:
// ort.env.wasm.numThreads is fixed once the wasm runtime starts, so each thread count gets its own process.
// Reads {threads, budgetMs, batch, models: [{net, path, inputShape}]} as JSON from argv[2]; prints one JSON
// object {version, threads, rows: [{net, batch, mode: 'infer', medianMs, minMs, samples}]} on stdout.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { timeAsync } from './time-async.mjs';

const job = JSON.parse(process.argv[2]);
ort.env.wasm.numThreads = job.threads;
// The wasm binaries ship in the package; point the runtime at them so nothing is fetched.
ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
const rows = [];
for (const { net, path, inputShape } of job.models) {
  const session = await ort.InferenceSession.create(readFileSync(path), { executionProviders: ['wasm'] });
  const size = job.batch * inputShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = ((i * 7919) % 1000) / 1000;
  const feeds = { input: new ort.Tensor('float32', data, [job.batch, ...inputShape]) };
  const t = await timeAsync(() => session.run(feeds), job.budgetMs);
  rows.push({ net, batch: job.batch, mode: 'infer', ...t });
  await session.release();
}
process.stdout.write(`${JSON.stringify({ version: ort.env.versions.web ?? ort.env.versions.common, threads: ort.env.wasm.numThreads, rows })}\n`);
// Worker threads of the threaded wasm build keep the event loop alive.
process.exit(0);
