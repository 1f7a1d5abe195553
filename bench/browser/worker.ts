// The benchmark's dedicated worker: runs the one case it is sent (bench/browser/engines.ts) and posts
// the result. One fresh worker per case keeps the engines' state (backends, pools) apart.
import { runCase, type BenchCase } from './engines.js';

interface Scope { onmessage: ((event: { data: BenchCase }) => void) | null; postMessage(message: unknown): void }
const scope = globalThis as unknown as Scope;
scope.onmessage = async (event) => {
  try {
    scope.postMessage({ ok: true, result: await runCase(event.data) });
  } catch (error) {
    scope.postMessage({ ok: false, error: (error as Error).stack ?? String(error) });
  }
};
