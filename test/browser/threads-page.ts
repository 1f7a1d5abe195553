// The threads test page's main thread: loads tensorkit with the asynchronous compile (the page's thread
// may not compile big modules synchronously or block), checks it runs there on one thread, then trains
// net000 in a dedicated worker (threads-worker.ts) and exposes both results for the test.
import * as tk from 'tensorkit';

declare const location: { search: string };
declare const Worker: new (url: string, options: { type: 'module' }) => {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message: string }) => void) | null;
  postMessage(message: unknown): void;
};
const view = globalThis as unknown as { threadsResult?: unknown; threadsError?: string; crossOriginIsolated?: boolean };

try {
  const info = await tk.ready();
  // A few training steps on the main thread, after the async load: one thread, nothing blocks.
  const rng = new tk.Rng(1);
  const x = tk.randn([16, 8], rng);
  const y = tk.tensor(Float32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
  const mlp = new tk.Sequential([new tk.Dense({ units: 32 }), new tk.ReLU(), new tk.Dense({ units: 3 })], { inputShape: [8], seed: 1 });
  mlp.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
  const losses = [mlp.trainStep(x, y).loss, mlp.trainStep(x, y).loss, mlp.trainStep(x, y).loss];
  const mainThread = { info: tk.runtimeInfo(), compiledAsyncAtReady: info.compiledAsync, losses };
  const worker = new Worker('./threads-worker.js', { type: 'module' });
  const fromWorker = await new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
    const query = new URLSearchParams(location.search);
    worker.postMessage({ steps: Number(query.get('steps') ?? 4), ready: query.get('ready') !== '0' });
  });
  view.threadsResult = { mainThread, isolated: view.crossOriginIsolated === true, worker: fromWorker };
} catch (error) {
  view.threadsError = (error as Error).stack ?? String(error);
}
