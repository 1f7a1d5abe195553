// The benchmark page: exposes benchRun(case), which runs one case (network × engine) in a fresh
// dedicated worker (engines.ts) and resolves with its result; run.ts drives it case by case and
// interleaves the Node runs it compares against. Each result is also shown on the page.
import type { BenchCase, BenchResult } from './engines.js';

declare const document: { getElementById(id: string): { textContent: string | null } | null };
declare const location: { href: string };
declare const Worker: new (url: string, options: { type: 'module' }) => {
  onmessage: ((event: { data: { ok: boolean; result?: BenchResult; error?: string } }) => void) | null;
  onerror: ((event: { message: string }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
};
const view = globalThis as unknown as {
  benchRun?: (c: Omit<BenchCase, 'wasmBase'>) => Promise<BenchResult>;
  crossOriginIsolated?: boolean;
};

function images(t: BenchResult['train'], batch: number): string {
  return 'error' in t ? `error: ${t.error}` : ((batch * 1000) / t.medianMs).toFixed(1);
}

const table = document.getElementById('table')!;
const lines = [`crossOriginIsolated: ${view.crossOriginIsolated === true}`];
table.textContent = lines.join('\n');
view.benchRun = (c) => {
  const worker = new Worker('./worker.js', { type: 'module' });
  return new Promise<BenchResult>((resolve, reject) => {
    worker.onmessage = (event) => (event.data.ok ? resolve(event.data.result!) : reject(new Error(event.data.error)));
    worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
    worker.postMessage({ ...c, wasmBase: new URL('./tfjs-wasm/', location.href).href });
  }).then((r) => {
    lines.push(`${r.net} ${r.engine} ×${r.threads}: train ${images(r.train, r.batch)} img/s, infer ${images(r.infer, r.batch)} img/s (${r.detail})`);
    table.textContent = lines.join('\n');
    return r;
  }).finally(() => worker.terminate());
};
