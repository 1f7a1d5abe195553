// workers.ts: the thread count (setThreads / getThreads / TENSORKIT_THREADS) and the worker-thread
// pool that runs shares of a WebAssembly gemm — and tasks (conv chunks, kernel-table ranges) — over a
// shared memory behind synchronous calls. gemm-plan.ts and tasks.ts decide the shares; this file only
// moves them to workers and waits for them. The task functions' source text is handed to the pool and
// embedded in the worker's code, so workers and the calling thread run the same functions. Spawning
// goes through the platform seam of platform.ts (Node's worker_threads, or Web Workers in a browser).
//
// Protocol (one Int32Array `control` over a SharedArrayBuffer, offsets below). A job is a list of
// shares (argument lists of the module's `gemm` export or of a task, each writing its own memory). The caller
// writes the arguments, opens the job's CLAIM word (generation tag · 256 + next share, share 0 kept
// for itself), bumps GEN and notifies the workers; it runs share 0, then claims and runs further
// shares like a worker would, and finally waits until DONE counts every share (Atomics.wait: the
// caller is Node's main thread or a worker, never a browser's main thread, which may not block).
// Workers wait on GEN: they spin for WORKER_SPIN_MS after each job
// (back-to-back gemms then cost no wake-up), then sleep in Atomics.wait; woken, they claim shares
// with compare-and-swap until none is left. Claiming instead of assigning keeps a descheduled worker
// (a busy machine) from stalling the caller: whoever is running takes the next share, and a worker
// that wakes after its job ended finds the tag changed and claims nothing. Who runs a share never
// changes its bits. After startup nothing travels as a platform message, only through shared
// memory, so the protocol needs no synchronous receipt (browsers have none): errors thrown in a
// worker are written as text into its slot of the control buffer, where the caller reads and throws
// them; messages to the workers (kernels to load, see post) are appended as JSON to a shared
// mailbox, POSTED counts them, and a worker reads those it has not handled before it claims a share
// of a job. A share that never finishes is caught by a deadline. Workers are unref'd, so an idle
// pool never keeps the process alive.

import type { HeapGemm } from './conv-tasks.js';
import { platform, type PoolWorker } from './platform.js';

/**
 * Int32 words of one share in a job's argument list. A share is either a gemm (word 13 = 0; words
 * 0–12 are the arguments of the module's `gemm` export, see kernels.wat) or a task (word 13 = the
 * task id of tasks.ts; words 0–2 = descriptor address, first and end chunk).
 */
export const SHARE_ARGS = 16;
/** Word of a share that holds its task id (0: gemm). */
export const SHARE_OP = 13;

// control[] offsets: the words threads spin on or contend for each get their own 64-byte line.
const GEN = 0; // job counter; workers wait on it
const CLAIM = 16; // (GEN & TAG_MASK) · 256 + index of the next unclaimed share of the current job
const DONE = 32; // shares of the current job finished (run or failed)
const SHARES = 48; // shares in the current job
const FAILED = 49; // shares of the current job (or worker startups) that threw
const READY = 50; // workers that have instantiated the module (or failed trying)
const POSTED = 51; // messages in the mailbox (kernel loads); see WorkerPool.post
const ARGS = 64; // share s's arguments at ARGS + s·ARG_STRIDE
const ARG_STRIDE = SHARE_ARGS;

/** Most shares one job can have: CLAIM keeps the share index in its low 8 bits (23 bits of GEN above). */
export const MAX_SHARES = 255;
const TAG_MASK = 0x7fffff;
// Worker w's error text at ERRORS + (w − 1)·ERROR_WORDS: word 0 its length, then one UTF-16 code per word.
const ERRORS = ARGS + MAX_SHARES * ARG_STRIDE;
const ERROR_WORDS = 1024;
/** Bytes of a pool's mailbox: an int32 count of UTF-16 units written, then the messages' JSON, each after its length (2 units). */
export const MAILBOX_BYTES = 1 << 20;

/** How long a worker spins on GEN after a job before it sleeps (ms): covers the gaps between the gemms of a training step. */
export const WORKER_SPIN_MS = 1;
/** How long the first threaded call waits for the workers to start (ms) before it throws. */
const STARTUP_TIMEOUT_MS = 20_000;

// The worker's code. An eval'd string, not a file: it then runs the same from the TypeScript source
// tree (vitest, tsx), from the compiled dist/ and from a bundle, with no path to resolve and no
// loader to register; and it stays tiny, because the loop nest lives in the WebAssembly module and
// a share is just one call of its `gemm` export. Workers inherit the parent's execArgv, so this is
// read as a script or, under --input-type=module, as a module: it uses neither `require` nor
// `import`. Everything that can throw during startup is caught and still counts the worker READY,
// so the caller reports the error at once instead of waiting for the startup deadline.
function workerSource(code: WorkerCode, workerData: string): string {
  return `'use strict';
let ctl, mailText, gemm, copy, work, slot, memory, f32, f64, i32, ready = false;
// onMessage: set by the setup code, handles one message of WorkerPool.post; handled counts them, read
// is where the next one starts in the mailbox.
let onMessage = () => {}, handled = 0, read = 0;
const TASKS = ${code.tasks};
const KERNELS = ${code.helpers};
let elementwise;
try {
  const workerData = ${workerData};
  ctl = new Int32Array(workerData.control);
  mailText = new Uint16Array(workerData.mailbox, 4);
  work = workerData.work;
  slot = workerData.slot;
  memory = workerData.memory;
  const exports = new WebAssembly.Instance(workerData.module, { env: { memory } }).exports;
  gemm = exports.gemm;
  copy = exports.copy;
  elementwise = exports;
  ${code.setup}
  ready = true;
  Atomics.add(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  serve();
} catch (error) {
  if (ctl !== undefined && !ready) {
    fail(error);
    Atomics.add(ctl, ${READY}, 1);
    Atomics.notify(ctl, ${READY});
  }
  throw error;
}
// Handles the messages posted so far (the seq-cst load of POSTED orders the mailbox's plain writes before it).
function drain() {
  const posted = Atomics.load(ctl, ${POSTED});
  while (handled < posted) {
    const length = mailText[read] * 65536 + mailText[read + 1];
    let text = '';
    for (let i = read + 2, end = read + 2 + length; i < end; i += 4096) {
      text += String.fromCharCode.apply(null, mailText.subarray(i, Math.min(end, i + 4096)));
    }
    read += 2 + length;
    handled++;
    onMessage(JSON.parse(text, (key, value) => (value !== null && typeof value === 'object' && typeof value.$bytes === 'string'
      ? Uint8Array.from(atob(value.$bytes), (c) => c.charCodeAt(0)) : value)));
  }
}
// Appends the error's text to this worker's slot of the control buffer (the caller reads it there).
function fail(error) {
  const text = error instanceof Error ? (error.stack || error.message) : String(error);
  if (slot !== undefined) {
    const at = ${ERRORS} + (slot - 1) * ${ERROR_WORDS};
    let length = ctl[at];
    if (length > 0 && length < ${ERROR_WORDS - 1}) ctl[at + 1 + length++] = 10;
    for (let i = 0; i < text.length && length < ${ERROR_WORDS - 1}; i++) ctl[at + 1 + length++] = text.charCodeAt(i);
    ctl[at] = length;
  }
  Atomics.add(ctl, ${FAILED}, 1);
}
function serve() {
  let seen = 0;
  for (;;) {
    let gen = Atomics.load(ctl, ${GEN});
    if (gen === seen) {
      const start = performance.now();
      for (let i = 1; gen === seen; i++) {
        if ((i & 1023) === 0 && performance.now() - start > ${WORKER_SPIN_MS}) break;
        gen = Atomics.load(ctl, ${GEN});
      }
      while (gen === seen) {
        Atomics.wait(ctl, ${GEN}, seen);
        gen = Atomics.load(ctl, ${GEN});
      }
    }
    seen = gen;
    // The kernels this job's shares may call were posted before it started.
    try {
      drain();
    } catch (error) {
      fail(error);
    }
    const tag = gen & ${TAG_MASK};
    for (;;) {
      const claim = Atomics.load(ctl, ${CLAIM});
      const share = claim & 255;
      // A new tag means this job is over (all shares done); then wait for the next one.
      if (claim >>> 8 !== tag || share >= Atomics.load(ctl, ${SHARES})) break;
      if (Atomics.compareExchange(ctl, ${CLAIM}, claim, claim + 1) !== claim) continue;
      const a = ${ARGS} + share * ${ARG_STRIDE};
      try {
        const op = ctl[a + ${SHARE_OP}];
        if (op === 0) {
          gemm(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6],
            ctl[a + 7], ctl[a + 8], ctl[a + 9], ctl[a + 10], ctl[a + 11], work);
        } else {
          // The memory may have grown since the views were made (a shared memory's old views stay valid but short).
          if (f32 === undefined || f32.buffer.byteLength !== memory.buffer.byteLength) {
            f32 = new Float32Array(memory.buffer);
            f64 = new Float64Array(memory.buffer, 0, memory.buffer.byteLength / 8);
            i32 = new Int32Array(memory.buffer);
          }
          TASKS[op](f32, f64, i32, ctl[a], ctl[a + 1], ctl[a + 2], slot, work, gemm, copy, KERNELS, elementwise);
        }
      } catch (error) {
        fail(error);
      }
      // The job cannot end before this share counts, so SHARES still holds its size here.
      if (Atomics.add(ctl, ${DONE}, 1) + 1 === Atomics.load(ctl, ${SHARES})) Atomics.notify(ctl, ${DONE});
    }
  }
}
`;
}

/**
 * The code a pool's workers run besides gemm shares, as JavaScript source text (the functions'
 * `toString()`): `tasks`, an array expression of task functions indexed by task id (entry 0 unused:
 * id 0 is a gemm share); `helpers`, an object expression passed to every task as its `K` argument;
 * `setup`, statements run once after the worker instantiated the module (they may read `exports`,
 * `workerData` and `KERNELS`, call `drain()` (handles the messages posted so far), and set
 * `onMessage`, the handler of each message of {@link WorkerPool.post}).
 */
export interface WorkerCode {
  readonly tasks: string;
  readonly helpers: string;
  readonly setup: string;
  /** Extra entries of the worker data (structured-cloneable: numbers, strings, compiled modules). */
  readonly data: Record<string, unknown>;
}

/** Logical cores this process may use (at most 255); 1 where the platform has no worker threads. */
export function availableCores(): number {
  const seam = platform();
  return seam === null ? 1 : Math.max(1, Math.min(seam.cores, MAX_SHARES));
}

// undefined until setThreads is called or TENSORKIT_THREADS / the default is read on first use.
let threadCount: number | undefined;

/**
 * Sets how many threads large gemms are split across: the calling thread plus `threads − 1` pool
 * workers. `threads` must be a positive integer; values above {@link availableCores} are clamped to
 * it (never more busy threads than cores). 1 turns the pool off. Results are bit-identical for every
 * thread count. Overrides `TENSORKIT_THREADS`. The pool is (re)started on the next threaded call.
 */
export function setThreads(threads: number): void {
  if (!(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`setThreads: threads must be a positive integer, got ${String(threads)}`);
  }
  threadCount = Math.min(threads, availableCores());
}

/**
 * The number of threads large gemms use (≥ 1, ≤ {@link availableCores}). Unless {@link setThreads}
 * was called, it is read once from the `TENSORKIT_THREADS` environment variable (a positive integer,
 * clamped to the cores; anything else throws, naming the value) or defaults to all cores.
 */
export function getThreads(): number {
  if (threadCount === undefined) {
    const seam = platform();
    const raw = seam === null ? undefined : seam.env('TENSORKIT_THREADS');
    if (raw === undefined || raw.trim() === '') {
      threadCount = availableCores();
    } else {
      const value = Number(raw);
      if (!/^\s*\d+\s*$/.test(raw) || value < 1) {
        throw new Error(`TENSORKIT_THREADS must be a positive integer, got "${raw}"`);
      }
      threadCount = Math.min(value, availableCores());
    }
  }
  return threadCount;
}

/** The calling thread's gemm share: the module's `gemm` export on the caller's own instance. */
export type LocalGemm = HeapGemm;
/** Runs a task share (id `op`, arguments at `args[offset …]`) on the calling thread. */
export type LocalTask = (op: number, args: Int32Array, offset: number) => void;

/** Runs the share at `args[o …]` on the calling thread. */
function runHere(args: Int32Array, o: number, local: LocalGemm, localTask: LocalTask | undefined): void {
  const op = args[o + SHARE_OP];
  if (op === 0) {
    local(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4], args[o + 5], args[o + 6],
      args[o + 7], args[o + 8], args[o + 9], args[o + 10], args[o + 11], args[o + 12]);
  } else if (localTask !== undefined) {
    localTask(op, args, o);
  } else {
    throw new Error(`WorkerPool.run: share with task id ${op} but no localTask to run it on this thread`);
  }
}

/**
 * A pool of worker threads, each instantiating `module` over the shared `memory`, that runs shares
 * of a gemm alongside the calling thread. The module must import `env.memory` and export `gemm`
 * taking 13 int32 arguments (kernels.wat), the last being the running thread's
 * workspace: worker w passes `workspaces[w]` there, whatever the share's own value (which the
 * calling thread uses). Shares must write disjoint memory; the pool adds no ordering between them,
 * and any thread may run any share. Not re-entrant (one job at a time, from the thread that made it).
 */
export class WorkerPool {
  /** Worker threads (the calling thread runs shares too). */
  readonly size: number;
  private readonly control: Int32Array;
  private readonly workers: PoolWorker[];
  /** The mailbox's header word (UTF-16 units written) and its text, after the header. */
  private readonly mailHead: Int32Array;
  private readonly mailText: Uint16Array;
  private started: boolean;
  /** Shares run by the workers (not the calling thread) since the pool started. */
  private sharesOnWorkers: number;
  /** Why the pool is unusable (closed, a missed deadline, a dead worker), or null. */
  private broken: string | null;

  /** `workspaces[w]`: worker w's workspace address; one worker per entry. `code`: the tasks workers run. */
  constructor(module: object, memory: object, workspaces: readonly number[], code: WorkerCode) {
    const seam = platform();
    if (seam === null) throw new Error('WorkerPool: worker threads and SharedArrayBuffer are not available here');
    const size = workspaces.length;
    if (!(size >= 1 && size < MAX_SHARES)) {
      throw new Error(`WorkerPool: needs 1 to ${MAX_SHARES - 1} workers (workspaces), got ${size}`);
    }
    this.size = size;
    this.control = new Int32Array(new SharedArrayBuffer(4 * (ERRORS + size * ERROR_WORDS)));
    this.workers = [];
    const mailbox = new SharedArrayBuffer(MAILBOX_BYTES);
    this.mailHead = new Int32Array(mailbox, 0, 1);
    this.mailText = new Uint16Array(mailbox, 4);
    this.started = false;
    this.sharesOnWorkers = 0;
    this.broken = null;
    for (let index = 0; index < size; index++) {
      const worker = seam.spawn(
        (workerData) => workerSource(code, workerData),
        `tensorkit-worker-${index + 1}`,
        { ...code.data, module, memory, control: this.control.buffer, mailbox, work: workspaces[index], slot: index + 1 },
      );
      // Reached only between jobs (the caller blocks during one); the next run() reports it.
      worker.on('error', (error) => { this.broken ??= `worker ${index + 1} crashed: ${error.message}`; });
      worker.on('exit', (code) => { this.broken ??= `worker ${index + 1} exited with code ${code}`; });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Shares the workers ran (rather than the calling thread) since the pool started: proof that threads did work. */
  get workerShares(): number {
    return this.sharesOnWorkers;
  }

  /** Whether every worker has started (run() no longer waits for them). */
  get isStarted(): boolean {
    return this.started;
  }

  /** Whether the pool was shut down (by {@link close}, a missed deadline or a dead worker). */
  get closed(): boolean {
    return this.broken !== null;
  }

  /**
   * Runs `shares` shares (1 ≤ shares ≤ 255) and returns when all are done: share s's arguments are
   * `args[s·SHARE_ARGS …]` (a gemm, or a task (tasks.ts) when word SHARE_OP is not 0, run here
   * through `localTask`). Share 0 runs on this thread through `local`, the others on whichever
   * thread claims them first (this one included, through `local`). Throws (after every share has
   * finished) if a share threw in a worker, naming the worker and its error; throws and shuts the
   * pool down if the shares do not all finish within `timeoutMs`. The first call waits for the
   * workers to start (and throws if one cannot).
   */
  run(args: Int32Array, shares: number, local: LocalGemm, timeoutMs: number, localTask?: LocalTask): void {
    if (this.broken !== null) throw new Error(`gemm thread pool is unusable: ${this.broken}`);
    if (!(Number.isInteger(shares) && shares >= 1 && shares <= MAX_SHARES)) {
      throw new Error(`WorkerPool.run: shares must be an integer in [1, ${MAX_SHARES}], got ${shares}`);
    }
    if (!this.started) this.start();
    const ctl = this.control;
    for (let s = 1; s < shares; s++) {
      ctl.set(args.subarray(s * SHARE_ARGS, (s + 1) * SHARE_ARGS), ARGS + s * ARG_STRIDE);
    }
    const gen = (ctl[GEN] + 1) | 0;
    const tag = (gen & TAG_MASK) << 8;
    ctl[SHARES] = shares;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAILED, 0);
    // Open the job (share 0 is ours), then wake the workers. These seq-cst writes publish the
    // plain writes above to any worker that observes them.
    Atomics.store(ctl, CLAIM, tag | 1);
    Atomics.store(ctl, GEN, gen);
    if (shares > 1) Atomics.notify(ctl, GEN, shares - 1);
    let ours = 1; // shares this thread has taken (run, running or thrown)
    try {
      runHere(args, 0, local, localTask);
      // Help: run the shares no worker has claimed yet (all of them if the workers are descheduled).
      for (;;) {
        const claim = Atomics.load(ctl, CLAIM);
        const share = claim & 255;
        if (share >= shares) break;
        if (Atomics.compareExchange(ctl, CLAIM, claim, claim + 1) !== claim) continue;
        ours++;
        runHere(args, share * SHARE_ARGS, local, localTask);
      }
    } finally {
      // Close the job to late claimers; shares never claimed (if ours threw) count as done. Then
      // wait for the workers' shares: even if ours threw, they still write the shared memory.
      const next = Atomics.exchange(ctl, CLAIM, tag | 255) & 255;
      Atomics.add(ctl, DONE, ours + Math.max(0, shares - next));
      this.waitFor(DONE, shares, timeoutMs, 'finish their gemm shares');
    }
    this.sharesOnWorkers += shares - ours;
    if (Atomics.load(ctl, FAILED) > 0) throw new Error(`gemm: ${this.drainErrors()}`);
  }

  /**
   * Posts `message` (JSON data; Uint8Arrays allowed) to every worker, handled there by the setup
   * code's `onMessage` before the worker takes part in the next job. Through the shared mailbox, not
   * the platform's messages, so a worker gets it without returning to its event loop. Returns false
   * (posting nothing) when the mailbox has no room left: then start a new pool.
   */
  post(message: unknown): boolean {
    const text = JSON.stringify(message, (_key, value: unknown) => (value instanceof Uint8Array ? { $bytes: toBase64(value) } : value));
    const at = this.mailHead[0];
    if (at + 2 + text.length > this.mailText.length) return false;
    const mail = this.mailText;
    mail[at] = Math.floor(text.length / 65536);
    mail[at + 1] = text.length % 65536;
    for (let i = 0; i < text.length; i++) mail[at + 2 + i] = text.charCodeAt(i);
    this.mailHead[0] = at + 2 + text.length;
    Atomics.add(this.control, POSTED, 1);
    return true;
  }

  /** Terminates the workers (asynchronously; they are idle between jobs). Idempotent. */
  close(): void {
    this.broken ??= 'closed';
    for (const worker of this.workers) void worker.terminate();
  }

  /**
   * Whether every worker has started (without waiting): then the pool is marked started, so run()
   * does not block on startup. Throws, like run() would, if a worker could not start.
   */
  startedNow(): boolean {
    if (this.started) return true;
    if (this.broken !== null) throw new Error(`gemm thread pool is unusable: ${this.broken}`);
    if (Atomics.load(this.control, READY) < this.size) return false;
    this.start();
    return true;
  }

  /**
   * Resolves once every worker has started, waiting asynchronously (the calling thread's event loop
   * keeps running, which a browser needs to start the workers); rejects if one could not start or
   * they did not within `timeoutMs`.
   */
  async whenStarted(timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
    const ctl = this.control;
    const deadline = performance.now() + timeoutMs;
    const waitAsync = (Atomics as unknown as {
      waitAsync?: (array: Int32Array, index: number, value: number, timeout: number) => { async: boolean; value: Promise<string> | string };
    }).waitAsync;
    while (!this.startedNow()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = `workers did not start within ${timeoutMs} ms`;
        this.close();
        throw new Error(`gemm thread pool: ${this.broken}; the pool was shut down`);
      }
      const value = Atomics.load(ctl, READY);
      if (value >= this.size) continue;
      // The timer also keeps Node's event loop alive (the workers are unref'd, a pending waitAsync is not a handle).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise((resolve) => { timer = setTimeout(resolve, Math.min(left, 20)); });
      const waited = waitAsync?.(ctl, READY, value, left);
      await (waited !== undefined && waited.async ? Promise.race([waited.value, tick]) : tick);
      clearTimeout(timer);
    }
  }

  /** Waits for every worker to instantiate the module; throws if one could not. */
  private start(): void {
    this.waitFor(READY, this.size, STARTUP_TIMEOUT_MS, 'start');
    this.started = true;
    if (Atomics.load(this.control, FAILED) > 0) {
      const message = this.drainErrors();
      this.close();
      throw new Error(`gemm thread pool could not start: ${message}`);
    }
  }

  /**
   * Blocks until control[index] (a counter that only grows) reaches `target`, spinning briefly
   * first. Past the deadline the pool is shut down and this throws.
   */
  private waitFor(index: number, target: number, timeoutMs: number, what: string): void {
    const ctl = this.control;
    let value = Atomics.load(ctl, index);
    // Shares are balanced, so the workers usually finish within microseconds of the caller.
    for (let i = 0; value < target && i < 2000; i++) value = Atomics.load(ctl, index);
    if (value >= target) return;
    const deadline = performance.now() + timeoutMs;
    while (value < target) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = `workers did not ${what} within ${timeoutMs} ms`;
        this.close();
        throw new Error(`gemm thread pool: ${this.broken}; the pool was shut down`);
      }
      Atomics.wait(ctl, index, value, left);
      value = Atomics.load(ctl, index);
    }
  }

  /** Reads (and clears) the errors the workers wrote into their slots, one line per failed worker. */
  private drainErrors(): string {
    const ctl = this.control;
    const lines: string[] = [];
    for (let w = 0; w < this.size; w++) {
      const at = ERRORS + w * ERROR_WORDS;
      const length = Atomics.load(ctl, at);
      if (length === 0) continue;
      let text = '';
      for (let i = 0; i < length; i++) text += String.fromCharCode(ctl[at + 1 + i]);
      Atomics.store(ctl, at, 0);
      lines.push(`worker thread ${w + 1} failed: ${text}`);
    }
    return lines.length > 0 ? lines.join('\n') : 'a worker thread failed (no message)';
  }
}

/** Base64 of `bytes` (btoa exists in Node ≥ 16 and in browsers). */
function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 4096)));
  return btoa(text);
}
