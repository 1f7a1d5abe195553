// The test page's script: imports the library by its package names, as an application would, runs the
// shared MLP training and shows the result (status, loss, gemm variant, checksum) and exposes it.
import * as tk from 'tensorkit';
import * as plugin from 'tensorkit/plugin';
import { trainMlp, type MlpRunResult } from './mlp-run.js';

declare const document: { getElementById(id: string): { textContent: string | null; className: string } | null };
const view = globalThis as unknown as { tensorkitResult?: MlpRunResult; tensorkitError?: string };

const status = document.getElementById('status')!;
const details = document.getElementById('details')!;
try {
  const result = trainMlp(tk, plugin);
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
  ].join('\n');
} catch (err) {
  view.tensorkitError = (err as Error).stack ?? String(err);
  status.textContent = 'tensorkit failed';
  status.className = 'bad';
  details.textContent = view.tensorkitError;
}
