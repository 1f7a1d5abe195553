// The threads test's dedicated worker: it owns tensorkit's worker pool (Web Workers nested in it, over
// the shared memory when the page is cross-origin isolated), trains net000 and posts the result back.
import * as tk from 'tensorkit';
import { trainNet000 } from './net-run.js';

interface Scope { onmessage: ((event: { data: { steps: number } }) => void) | null; postMessage(message: unknown): void; crossOriginIsolated?: boolean }
const scope = globalThis as unknown as Scope;

scope.onmessage = async (event) => {
  try {
    const compiled = await tk.ready();
    const result = trainNet000(tk, event.data.steps);
    scope.postMessage({ ok: true, compiledAsync: compiled.compiledAsync, isolated: scope.crossOriginIsolated === true, result });
  } catch (error) {
    scope.postMessage({ ok: false, error: (error as Error).stack ?? String(error) });
  }
};
