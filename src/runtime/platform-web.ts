// platform-web.ts: the worker pool's platform in a browser: Web Workers started from a blob URL, over
// the runtime's shared WebAssembly.Memory. Only where the pool's caller may block (a dedicated worker:
// browsers forbid Atomics.wait on the main thread) and memory can be shared (a cross-origin isolated
// page); anywhere else tensorkit runs on one thread with the same SIMD kernels.
import type { PoolWorker, WorkerPlatform } from './platform.js';

// The tsconfig lib (ES2022, no DOM) has no Web Worker types: declare the little used here.
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'error', listener: (event: { message?: string; preventDefault(): void }) => void): void;
}
interface WebGlobals {
  crossOriginIsolated?: boolean;
  Worker?: new (url: string, options: { name: string }) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string };
  navigator?: { hardwareConcurrency?: number };
  WorkerGlobalScope?: abstract new () => unknown;
  document?: unknown;
}

/**
 * Why this context cannot run the pool on Web Workers, or null when it can: the missing piece
 * (cross-origin isolation, SharedArrayBuffer, a nestable Worker, or a thread allowed to block).
 */
export function webThreadsUnavailable(): string | null {
  const g = globalThis as unknown as WebGlobals;
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') {
    return 'no Web Worker constructor here';
  }
  if (g.crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  // Atomics.wait throws on a window's thread: only a worker may be the pool's caller.
  const inWorker = typeof g.WorkerGlobalScope === 'function' && globalThis instanceof g.WorkerGlobalScope;
  if (!inWorker || g.document !== undefined) return 'this is the page\'s main thread, which may not block (train inside a dedicated worker)';
  return null;
}

// One blob URL per distinct worker script, kept for the page's life: a worker may fetch its script
// after `new Worker` returns, so the URL cannot be revoked then, and the pool's script rarely changes.
const scriptUrls = new Map<string, string>();

/**
 * Web Workers as a {@link WorkerPlatform}, or null where {@link webThreadsUnavailable} names a
 * missing piece. Each worker is a classic worker from a blob URL running the pool's script, which
 * gets its startup data (the compiled module, the shared memory, the control buffer) in its only
 * message.
 */
export function webPlatform(): WorkerPlatform | null {
  if (webThreadsUnavailable() !== null) return null;
  const g = globalThis as unknown as Required<WebGlobals>;
  const MakeWorker = g.Worker;
  return {
    cores: Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
    env: () => undefined,
    spawn(source, name, data) {
      // The pool's script runs when the startup data arrives (later ones come through shared memory).
      const script = `self.onmessage = (event) => { self.onmessage = null; (() => {\n${source('event.data')}\n})(); };`;
      let url = scriptUrls.get(script);
      if (url === undefined) {
        url = g.URL.createObjectURL(new g.Blob([script], { type: 'text/javascript' }));
        scriptUrls.set(script, url);
      }
      const web = new MakeWorker(url, { name });
      web.postMessage(data);
      const worker: PoolWorker = {
        unref() {},
        terminate() { web.terminate(); },
        on(event: 'error' | 'exit', listener: ((error: Error) => void) | ((code: number) => void)) {
          // A Web Worker has no exit event; an uncaught error is reported (and kept from the console).
          if (event === 'error') {
            web.addEventListener('error', (e) => {
              e.preventDefault();
              (listener as (error: Error) => void)(new Error(e.message ?? 'uncaught error in a Web Worker'));
            });
          }
        },
      };
      return worker;
    },
    startsAsync: true,
  };
}
