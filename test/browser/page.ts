// The test page's script: imports the library by its package names, as an application would, runs the
// shared MLP training and shows the result (status, loss, gemm variant, checksum) and exposes it.
import * as tk from 'tensorkit';
import * as plugin from 'tensorkit/plugin';
import { trainMlpModel, type MlpRunResult } from './mlp-run.js';

declare const document: { getElementById(id: string): { textContent: string | null; className: string } | null };
declare const CompressionStream: new (format: 'gzip') => TransformStream<Uint8Array, Uint8Array>;
const view = globalThis as unknown as { tensorkitResult?: MlpRunResult; tensorkitFiles?: string[]; tensorkitError?: string };

/** The files-from-bytes part of the core in the page: a model file round trip and a gzipped IDX. */
async function checkFiles(model: tk.Sequential): Promise<string[]> {
  const x = tk.randn([4, 8], new tk.Rng(3));
  const before = Array.from(model.predict(x).data);
  const { model: loaded } = tk.decodeModel(tk.encodeModel(model));
  const after = Array.from(loaded.predict(x).data);
  if (before.join() !== after.join()) throw new Error(`model file round trip changed the predictions: ${before} vs ${after}`);
  const weights = tk.decodeSafetensors(tk.encodeSafetensors(model.stateDict())).tensors;
  if (Object.keys(weights).join() !== '0.weight,0.bias,2.weight,2.bias') throw new Error(`safetensors keys: ${Object.keys(weights)}`);
  // An IDX file (uint8, [2, 3]) gzipped by the browser itself, decoded by decodeIdxAsync.
  const raw = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 9, 8, 7, 6, 5, 4]);
  const gz = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
  const decoded = await tk.decodeIdxAsync(gz, 'page.idx.gz');
  if (decoded.shape.join() !== '2,3' || Array.from(decoded.data).join() !== '9,8,7,6,5,4') throw new Error(`decodeIdxAsync: ${JSON.stringify(decoded)}`);
  return [`model file round trip: ${tk.encodeModel(model).length} bytes, same predictions`, `gzipped IDX decoded: shape [${decoded.shape.join(', ')}]`];
}

const status = document.getElementById('status')!;
const details = document.getElementById('details')!;
try {
  const { result, model } = trainMlpModel(tk, plugin);
  const files = await checkFiles(model);
  view.tensorkitFiles = files;
  view.tensorkitResult = result;
  const ok = result.lastLoss < result.firstLoss;
  status.textContent = ok ? 'tensorkit trained in the browser: loss fell' : 'tensorkit ran, but the loss did not fall';
  status.className = ok ? 'ok' : 'bad';
  details.textContent = [
    `loss: ${result.firstLoss.toFixed(4)} → ${result.lastLoss.toFixed(4)} (50 Adam steps)`,
    `wasm gemm variant: ${result.variant ?? 'none (TypeScript kernels)'}`,
    `threads: ${result.threads}`,
    `weights checksum: ${result.checksum}`,
    `Σw²: ${result.weightSumSquares.toFixed(6)}`,
    ...files,
  ].join('\n');
} catch (err) {
  view.tensorkitError = (err as Error).stack ?? String(err);
  status.textContent = 'tensorkit failed';
  status.className = 'bad';
  details.textContent = view.tensorkitError;
}
