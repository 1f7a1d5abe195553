// platform.ts: the seam between the worker pool and the platform that runs threads. Node's
// worker_threads stands behind it by default (loaded without a static import, so the runtime still
// loads where there is no Node); in a browser, Web Workers (platform-web.ts) where they can share memory.
import { webPlatform } from './platform-web.js';

/** A worker as the pool needs it. */
export interface PoolWorker {
  unref(): void;
  terminate(): Promise<number> | void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
}

/** What the worker pool needs from the platform. */
export interface WorkerPlatform {
  /** Logical cores this process may use. */
  readonly cores: number;
  /** An environment variable (undefined where there is none). */
  env(name: string): string | undefined;
  /**
   * Starts a worker running the script `source(workerDataExpression)`, where the expression is the
   * JavaScript text that evaluates, inside the worker, to `data` (its module and memory shared, not
   * copied). The pool sends nothing else through the platform: everything after startup goes through
   * shared memory.
   */
  spawn(source: (workerDataExpression: string) => string, name: string, data: Record<string, unknown>): PoolWorker;
  /**
   * Whether a worker starts only once the thread that spawned it returns to its event loop (browsers:
   * a nested Web Worker cannot start while its parent blocks). The pool then never waits for its
   * workers to start: until they are ready, work runs on the calling thread alone (same bits), and
   * `ready()` waits for them asynchronously. Node's workers start on their own (false).
   */
  readonly startsAsync?: boolean;
}

// undefined: not looked up yet; null: no worker threads here, so one thread.
let current: WorkerPlatform | null | undefined;

/** Node's worker_threads as a {@link WorkerPlatform}, or null outside Node or without SharedArrayBuffer. */
function nodePlatform(): WorkerPlatform | null {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (proc === undefined || typeof proc.getBuiltinModule !== 'function' || typeof SharedArrayBuffer !== 'function') return null;
  const threads = proc.getBuiltinModule('node:worker_threads');
  const os = proc.getBuiltinModule('node:os');
  return {
    cores: os.availableParallelism(),
    env: (name) => proc.env[name],
    spawn(source, name, data) {
      const worker = new threads.Worker(source(`process.getBuiltinModule('node:worker_threads').workerData`), { eval: true, name, workerData: data });
      return worker as unknown as PoolWorker;
    },
  };
}

/**
 * The platform the pool runs on, or null when threads are unavailable: the one installed with
 * {@link setWorkerPlatform}, else Node's worker_threads, else a browser's Web Workers (in a dedicated
 * worker of a cross-origin isolated page; see platform-web.ts).
 */
export function platform(): WorkerPlatform | null {
  if (current === undefined) current = nodePlatform() ?? webPlatform();
  return current;
}

/**
 * Installs the platform the worker pool spawns threads with (e.g. Web Workers in a browser), or null
 * for one thread. Call it before the first threaded operation.
 */
export function setWorkerPlatform(seam: WorkerPlatform | null): void {
  current = seam;
}
