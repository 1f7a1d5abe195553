// The threads test's dedicated worker: it owns tensorkit's worker pool (Web Workers nested in it, over
// the shared memory when the page is cross-origin isolated), trains net000 and posts the result back.
import * as tk from 'tensorkit';
import * as plugin from 'tensorkit/plugin';
import { runLateKernel, trainNet000 } from './net-run.js';

interface Scope { onmessage: ((event: { data: { steps: number; ready: boolean } }) => void) | null; postMessage(message: unknown): void; crossOriginIsolated?: boolean }
const scope = globalThis as unknown as Scope;

scope.onmessage = async (event) => {
  try {
    // ready=false: no ready() first; the first steps then load the runtime synchronously and, the
    // pool's workers not having started, run on this thread; ready() midway lets them start.
    let beforeReady: tk.RuntimeInfo | null = null;
    if (event.data.ready) await tk.ready();
    const result = await trainNet000(tk, event.data.steps, event.data.ready ? undefined : async () => {
      beforeReady = tk.runtimeInfo();
      await tk.ready();
    });
    const lateKernel = runLateKernel(tk, plugin, 'threads-test-late');
    scope.postMessage({ ok: true, isolated: scope.crossOriginIsolated === true, beforeReady, result, lateKernel });
  } catch (error) {
    scope.postMessage({ ok: false, error: (error as Error).stack ?? String(error) });
  }
};
