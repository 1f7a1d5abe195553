// platform.ts: the seam between the worker pool and the platform that runs threads. Node's
// worker_threads stands behind it by default (loaded without a static import, so the runtime still
// loads where there is no Node); a browser build can install Web Workers with `setWorkerPlatform`.

/** A worker as the pool needs it. */
export interface PoolWorker {
  unref(): void;
  terminate(): Promise<number> | void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
}

/** The caller's end of a worker's message channel. */
export interface PoolPort {
  unref(): void;
  close(): void;
  postMessage(message: unknown): void;
}

/** What the worker pool needs from the platform. */
export interface WorkerPlatform {
  /** Logical cores this process may use. */
  readonly cores: number;
  /** An environment variable (undefined where there is none). */
  env(name: string): string | undefined;
  /**
   * Starts a worker running the script `source(workerDataExpression)`, where the expression is the
   * JavaScript text that evaluates, inside the worker, to `data` plus a `port` (the worker's end of a
   * message channel whose other end is returned). The module and memory in `data` are shared, not copied.
   */
  spawn(source: (workerDataExpression: string) => string, name: string, data: Record<string, unknown>): { worker: PoolWorker; port: PoolPort };
  /** Reads the next message on `port` synchronously, or undefined when none is queued. */
  receive(port: PoolPort): { message: unknown } | undefined;
  /** JavaScript text of a function `(port) => { message } | undefined` that does the same inside a worker. */
  readonly workerReceiveSource: string;
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
      const { port1, port2 } = new threads.MessageChannel();
      const worker = new threads.Worker(source(`process.getBuiltinModule('node:worker_threads').workerData`), {
        eval: true,
        name,
        workerData: { ...data, port: port2 },
        transferList: [port2],
      });
      return { worker: worker as unknown as PoolWorker, port: port1 as unknown as PoolPort };
    },
    receive: (port) => threads.receiveMessageOnPort(port as unknown as import('node:worker_threads').MessagePort),
    workerReceiveSource: `process.getBuiltinModule('node:worker_threads').receiveMessageOnPort`,
  };
}

/** The platform the pool runs on (Node's by default), or null when threads are unavailable. */
export function platform(): WorkerPlatform | null {
  if (current === undefined) current = nodePlatform();
  return current;
}

/**
 * Installs the platform the worker pool spawns threads with (e.g. Web Workers in a browser), or null
 * for one thread. Call it before the first threaded operation.
 */
export function setWorkerPlatform(seam: WorkerPlatform | null): void {
  current = seam;
}
