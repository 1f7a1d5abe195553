// tasks.ts: task running. The runtime instance (the loaded module, its heap, its thread slots and the
// worker pool), the task functions every thread can run (conv chunks, kernel-table ranges), and the
// synchronous calls that split a job over the calling thread and the pool: runTasks for tasks, and
// the WebAssembly gemm (gemm-plan.ts decides its shares). Bits never depend on the thread count. Each
// job is described to the observer of job-observer.ts when one is set.
import { Arena, type ArenaExports, type HeapArray } from './arena.js';
import {
  convBackwardTask, convColumnsKernel, convForwardTask, winogradGemmTask, type ConvExports, type HeapCopy, type HeapGemm, type TaskHelpers,
} from './conv-tasks.js';
import {
  WASM_GEMM_KC, WASM_GEMM_MC, WASM_GEMM_NC, WASM_SHARES_PER_THREAD, WORK_BASE, WORKSPACE_BYTES, depthParts, planBatchShares, planDepthParts,
  planShares, planSharesOfC,
} from './gemm-plan.js';
import { describeJob, jobObserver } from './job-observer.js';
import { platform } from './platform.js';
import { webThreadsUnavailable } from './platform-web.js';
import { loadKernelModule, loadKernelModuleAsync, instantiateOver, moduleBytes, PAGE_BYTES, type LoadedModule, type WasmModule, type WasmVariant } from './module.js';
import { MAX_SHARES, SHARE_ARGS, SHARE_OP, WorkerPool, availableCores, getThreads, type LocalTask, type WorkerCode } from './workers.js';

/** Task ids (word SHARE_OP of a pool share; 0 is a plain gemm share). */
export const CONV_FORWARD_TASK = 1;
export const CONV_BACKWARD_TASK = 2;
export const RANGE_TASK = 3;
/** The α² gemms of a Winograd group (winogradGemmTask in conv-tasks.ts). */
export const WINOGRAD_GEMM_TASK = 4;

/** A share that takes longer than this plus 1 ms per 1e5 flop (0.1 GFLOP/s) is deemed hung. */
const SHARE_TIMEOUT_MS = 10_000;
/** A job of tasks whose shares take longer than this is deemed hung. */
const TASK_TIMEOUT_MS = 120_000;
/** Copy-out views kept per distinct m·n before the cache is reset (bounds its size). */
const MAX_CACHED_VIEWS = 64;
/** Bytes of a range descriptor: 3 words, 8 array addresses, 12 float64 scalars from byte 48. */
export const RANGE_DESC_BYTES = 48 + 8 * 12;
/** Most arrays and scalars of a kernel-table kernel (what a range descriptor holds). */
export const MAX_KERNEL_ARRAYS = 8;
export const MAX_KERNEL_SCALARS = 12;

/**
 * Runs chunks [lo, hi) of the kernel-table job described at byte `desc`: int32 words 0 the kernel
 * id, 1 the count n (elements, or planes), 2 the count per chunk, 3–10 the byte addresses of the
 * kernel's arrays; float64 scalars from byte desc + 48. An elements kernel gets its arrays advanced
 * to the chunk's first element and the chunk's length; a planes kernel gets the arrays as they are and
 * the chunk's plane range. Each element is computed by exactly one thread.
 */
export function rangeTask(
  _f32: Float32Array, f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  _slot: number, _work: number, _gemmAt: HeapGemm, _copyAt: HeapCopy, K: TaskHelpers,
): void {
  const d = desc >>> 2;
  const id = i32[d], n = i32[d + 1], chunk = i32[d + 2];
  const start = lo * chunk;
  const len = Math.min(n, hi * chunk) - start;
  if (len <= 0) return;
  let entry = K.kernels[id];
  if (entry === undefined) {
    K.sync();
    entry = K.kernels[id];
    if (entry === undefined) throw new Error(`rangeTask: kernel ${id} is not loaded on this thread`);
  }
  const fn = entry[0], arrays = entry[1], scalars = entry[2], planes = entry[3] === 1;
  const args = K.args;
  let k = 0;
  for (let a = 0; a < arrays; a++) args[k++] = planes ? i32[d + 3 + a] : i32[d + 3 + a] + 4 * start;
  if (planes) {
    args[k++] = start;
    args[k++] = start + len;
  } else {
    args[k++] = len;
  }
  const s = (desc + 48) >>> 3;
  for (let j = 0; j < scalars; j++) args[k++] = f64[s + j];
  args.length = k;
  fn.apply(null, args);
}

/** The module's exports the runtime calls. */
export interface KernelExports extends ArenaExports, ConvExports {
  readonly MC: { readonly value: number };
  readonly KC: { readonly value: number };
  readonly NC: { readonly value: number };
  gemm: HeapGemm;
  [name: string]: unknown;
}

/**
 * A kernel as the threads load it: [id, export name or null, arrays, scalars, planes (1/0), compiled
 * module or null, its bytes or null]. A pool's startup data carries the compiled module; a message
 * posted to a running pool carries the bytes (messages travel through shared memory as JSON).
 */
type KernelLoad = readonly [number, string | null, number, number, number, WasmModule | null, Uint8Array | null];

// The worker-side code (see WorkerCode in workers.ts): the same task functions, and the kernel table
// loaded from the worker data, then from messages posted to the worker (the pool delivers them).
/** The task functions by id (index 0: a plain gemm share), on this thread; the workers get the same list as source. */
const TASKS = [null, convForwardTask, convBackwardTask, rangeTask, winogradGemmTask] as const;
type Task = NonNullable<(typeof TASKS)[number]>;
const TASK_SOURCE = `[${TASKS.map((task) => (task === null ? 'null' : task.toString())).join(', ')}]`;
const HELPER_SOURCE = `{ convColumns: ${convColumnsKernel.toString()}, kernels: [], args: [], sync: null }`;
// A worker handles every kernel posted before a job when the job starts (the pool sees to it);
// sync, for a kernel missing mid-job, handles any posted since.
const SETUP_SOURCE = `
  const loadKernel = (k) => {
    const module = k[5] !== null ? k[5] : k[6] !== null ? new WebAssembly.Module(k[6]) : null;
    const fn = module === null ? exports[k[1]] : new WebAssembly.Instance(module, { env: { memory } }).exports.run;
    KERNELS.kernels[k[0]] = [fn, k[2], k[3], k[4]];
  };
  for (const k of workerData.kernels) loadKernel(k);
  onMessage = loadKernel;
  KERNELS.sync = drain;`;

/**
 * One instance of the kernel module over its memory: the heap (arena), the thread slots laid out in
 * memory (one workspace per core), the worker pool (over a shared memory, started on the first
 * threaded call) and the kernels of the kernel table loaded on this thread.
 */
export class Runtime {
  readonly variant: WasmVariant;
  /** Whether the memory is shared, i.e. whether work can run on worker threads. */
  readonly shared: boolean;
  readonly arena: Arena;
  /** Thread workspaces laid out in memory: the slots a task may run in. */
  readonly slots: number;
  private readonly loaded: LoadedModule<KernelExports>;
  private readonly exports: KernelExports;
  private readonly outViews: Map<number, Float32Array>;
  /** The address the cached copy-out views were made for. */
  private outViewsBase: number;
  /** The descriptor block of kernel-table jobs (0 until the first). */
  private rangeDesc = 0;
  /** The current range job's kernel id, count and chunk (what a JobObserver is told). */
  private rangeKernel = -1;
  private rangeCount = 0;
  private rangeChunk = 0;
  /** What tasks get as K on this thread. */
  readonly helpers: TaskHelpers;
  /** Runs a task share on the calling thread (bound once: a step allocates no closures). */
  private readonly localTask: LocalTask;
  private pool: WorkerPool | null;
  /** Arguments of each share (SHARE_ARGS int32s per share), reused by every call. */
  private readonly shareArgs: Int32Array;
  /** Every kernel loaded so far, to hand to pools started later. */
  private readonly kernelLoads: KernelLoad[];
  /** Shares run on worker threads by pools closed so far (the live pool counts its own). */
  private closedPoolShares: number;
  /** Whether the module was compiled asynchronously (by {@link ready}). */
  readonly compiledAsync: boolean;

  constructor(loaded: LoadedModule<KernelExports>) {
    this.loaded = loaded;
    this.variant = loaded.variant;
    this.shared = loaded.shared;
    this.exports = loaded.exports;
    const { MC, KC, NC } = this.exports;
    if (MC.value !== WASM_GEMM_MC || KC.value !== WASM_GEMM_KC || NC.value !== WASM_GEMM_NC) {
      throw new Error(
        `tensorkit runtime: the module's blocks MC=${MC.value}, KC=${KC.value}, NC=${NC.value} differ from gemm-plan.ts ` +
        `(${WASM_GEMM_MC}, ${WASM_GEMM_KC}, ${WASM_GEMM_NC}); rerun npm run build:wasm`,
      );
    }
    this.slots = loaded.shared ? availableCores() : 1;
    this.arena = new Arena(loaded.memory, this.exports, loaded.shared, WORK_BASE + this.slots * WORKSPACE_BYTES);
    this.arena.reserve(this.arena.top, 'the thread workspaces');
    this.outViews = new Map();
    this.outViewsBase = -1;
    this.arena.onGrow = () => this.outViews.clear();
    this.pool = null;
    this.shareArgs = new Int32Array(SHARE_ARGS * MAX_SHARES);
    this.kernelLoads = [];
    this.closedPoolShares = 0;
    this.compiledAsync = loaded.compiledAsync;
    this.helpers = { convColumns: convColumnsKernel, kernels: [], args: [], sync: () => {} };
    this.localTask = (op, args, o) => {
      const a = this.arena;
      (TASKS[op] as Task)(
        a.f32, a.f64, a.i32, args[o], args[o + 1], args[o + 2], 0, WORK_BASE, this.exports.gemm, this.exports.copy, this.helpers, this.exports,
      );
    };
  }

  /** The module's gemm export (addresses in bytes), for single-thread products on heap data. */
  get gemmAt(): HeapGemm { return this.exports.gemm; }
  /** The module's copy export: memmove of `bytes` bytes on the heap. */
  get copyAt(): HeapCopy { return this.exports.copy; }

  /** Whether the module exports `name` (a kernel of kernels.wat). */
  hasExport(name: string): boolean {
    return typeof this.exports[name] === 'function';
  }

  /**
   * Loads kernel `id` on every thread: the module export `exportName`, or the function `run` of the
   * compiled `module` instantiated over this memory. Pools started later load it at startup.
   */
  loadKernel(id: number, exportName: string | null, module: WasmModule | null, arrays: number, scalars: number, planes: boolean): void {
    const fn = module === null
      ? this.exports[exportName as string] as (...args: number[]) => void
      : instantiateOver(module, this.loaded.memory).run as (...args: number[]) => void;
    if (typeof fn !== 'function') throw new Error(`tensorkit runtime: the kernel module has no export ${String(exportName)}`);
    this.helpers.kernels[id] = [fn, arrays, scalars, planes ? 1 : 0];
    const bytes = module === null ? null : moduleBytes(module);
    this.kernelLoads.push([id, exportName, arrays, scalars, planes ? 1 : 0, module, bytes]);
    if (this.pool !== null && !this.pool.closed) {
      // A running pool gets the bytes through its mailbox; a module not compiled by compileModule, or
      // a full mailbox, means a new pool (the next threaded call starts it with every kernel loaded).
      const posted = module !== null && bytes === null ? false : this.pool.post([id, exportName, arrays, scalars, planes ? 1 : 0, null, bytes]);
      if (!posted) {
        this.closedPoolShares += this.pool.workerShares;
        this.pool.close();
        this.pool = null;
      }
    }
  }

  /**
   * Runs task `op` over chunks [0, chunks) of the descriptor at `desc`: on the calling thread alone
   * with one thread, else in up to WASM_SHARES_PER_THREAD contiguous ranges per thread on the pool.
   * The tasks write disjoint memory per chunk, so the split does not change bits.
   */
  runTasks(op: number, desc: number, chunks: number): void {
    const threads = this.threadsNow();
    const shares = Math.min(chunks, threads * WASM_SHARES_PER_THREAD, MAX_SHARES);
    const observer = jobObserver();
    if (observer === null) {
      this.splitTasks(op, desc, chunks, threads, shares);
      return;
    }
    const range = op === RANGE_TASK;
    const job = describeJob(op === CONV_FORWARD_TASK ? 'conv-forward' : op === CONV_BACKWARD_TASK ? 'conv-backward' : 'range', 0, 0, 0, chunks,
      range ? this.rangeKernel : -1, range ? this.rangeCount : 0, range ? this.rangeChunk : 0, threads, threads === 1 ? 1 : shares);
    observer.begin(job);
    try {
      this.splitTasks(op, desc, chunks, threads, shares);
    } finally {
      observer.end(job);
    }
  }

  /** runTasks with its plan: `shares` shares on `threads` threads (the calling thread alone when either is 1). */
  private splitTasks(op: number, desc: number, chunks: number, threads: number, shares: number): void {
    if (threads === 1 || shares === 1) {
      const a = this.arena;
      (TASKS[op] as Task)(a.f32, a.f64, a.i32, desc, 0, chunks, 0, WORK_BASE, this.exports.gemm, this.exports.copy, this.helpers, this.exports);
      return;
    }
    const args = this.shareArgs;
    for (let s = 0; s < shares; s++) {
      const o = s * SHARE_ARGS;
      args[o] = desc;
      args[o + 1] = Math.floor((s * chunks) / shares);
      args[o + 2] = Math.floor(((s + 1) * chunks) / shares);
      args[o + SHARE_OP] = op;
    }
    try {
      this.runOnPool(threads, shares, TASK_TIMEOUT_MS, this.localTask);
    } finally {
      for (let s = 0; s < shares; s++) args[s * SHARE_ARGS + SHARE_OP] = 0;
    }
  }

  /**
   * Runs kernel-table kernel `id` over `n` elements (or planes) in chunks of `chunk`, with the byte
   * addresses `addresses[0 … arrays)` and the scalars `scalars[0 … count)`, split over the threads
   * (see {@link runTasks}).
   */
  runRange(id: number, n: number, chunk: number, addresses: Int32Array, arrays: number, scalars: Float64Array, count: number): void {
    if (this.rangeDesc === 0) this.rangeDesc = this.arena.alloc(RANGE_DESC_BYTES);
    this.rangeKernel = id;
    this.rangeCount = n;
    this.rangeChunk = chunk;
    const i32 = this.arena.i32;
    const f64 = this.arena.f64;
    const w = this.rangeDesc >>> 2;
    i32[w] = id;
    i32[w + 1] = n;
    i32[w + 2] = chunk;
    for (let a = 0; a < arrays; a++) i32[w + 3 + a] = addresses[a];
    const s = (this.rangeDesc + 48) >>> 3;
    for (let j = 0; j < count; j++) f64[s + j] = scalars[j];
    this.runTasks(RANGE_TASK, this.rangeDesc, Math.ceil(n / chunk));
  }

  /**
   * Runs the `shares` shares set up in shareArgs on the pool for `threads` threads (the caller takes
   * its part). A hung or dead worker may still write this memory: when the pool had to be shut down,
   * the next call starts over with a fresh module instance.
   */
  private runOnPool(threads: number, shares: number, timeoutMs: number, localTask?: LocalTask): void {
    const pool = this.poolFor(threads);
    try {
      pool.run(this.shareArgs, shares, this.exports.gemm, timeoutMs, localTask);
    } catch (error) {
      if (pool.closed && instance === this) instance = undefined;
      throw error;
    }
  }

  /** The pool for `threads` threads (calling thread + threads − 1 workers), started if needed. */
  private poolFor(threads: number): WorkerPool {
    if (this.pool === null || this.pool.closed || this.pool.size !== threads - 1) {
      if (this.pool !== null) {
        this.closedPoolShares += this.pool.workerShares;
        this.pool.close();
      }
      const workspaces: number[] = [];
      for (let w = 1; w < threads; w++) workspaces.push(WORK_BASE + w * WORKSPACE_BYTES);
      const code: WorkerCode = {
        tasks: TASK_SOURCE,
        helpers: HELPER_SOURCE,
        setup: SETUP_SOURCE,
        data: { kernels: this.kernelLoads.slice() },
      };
      this.pool = new WorkerPool(this.loaded.module, this.loaded.memory, workspaces, code);
    }
    return this.pool;
  }

  /**
   * The threads work splits over now: {@link getThreads} over a shared memory (else 1), except 1
   * while a pool whose workers start asynchronously (a browser's, see WorkerPlatform.startsAsync) is
   * still starting; asking starts it. Bits do not depend on it.
   */
  threadsNow(): number {
    if (!this.shared) return 1;
    const threads = getThreads();
    if (threads === 1 || platform()?.startsAsync !== true) return threads;
    return this.poolFor(threads).startedNow() ? threads : 1;
  }

  /** Starts the pool for the current thread count (if it has workers) and resolves once its workers run. */
  async startPool(): Promise<void> {
    const threads = this.shared ? getThreads() : 1;
    if (threads > 1) await this.poolFor(threads).whenStarted();
  }

  /** Shares run on worker threads since this instance was loaded (every pool it started). */
  get workerShares(): number {
    return this.closedPoolShares + (this.pool === null ? 0 : this.pool.workerShares);
  }

  /** Worker threads of the live pool once they run (0 before, with one thread, or after a failure). */
  get poolWorkers(): number {
    return this.pool === null || this.pool.closed || !this.pool.isStarted ? 0 : this.pool.size;
  }

  /** How many shares the gemm splits an m×n×k product into under the current thread count (see {@link wasmGemmShares}). */
  planShares(m: number, n: number, k: number): number {
    const threads = this.threadsNow();
    return threads > 1 ? planShares(threads, m, n, k, MAX_SHARES) : 1;
  }

  /** The heap view of the C region (at cBase) for an m·n result (cached: steady state allocates nothing). */
  private outView(cBase: number, size: number): Float32Array {
    if (cBase !== this.outViewsBase) {
      this.outViews.clear();
      this.outViewsBase = cBase;
    }
    let view = this.outViews.get(size);
    if (view === undefined) {
      if (this.outViews.size >= MAX_CACHED_VIEWS) this.outViews.clear();
      view = this.arena.f32.subarray(cBase >>> 2, (cBase >>> 2) + size);
      this.outViews.set(size, view);
    }
    return view;
  }

  /** See {@link sgemmWasm}. */
  gemm(
    out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    const shares = this.planShares(m, n, k);
    const threads = shares === 1 ? 1 : this.threadsNow();
    const sizeC = m * n;
    const sizeA = m * k;
    const sizeB = k * n;
    const arena = this.arena;
    // Operands that already live in this memory (arena blocks) are used in place; the others get
    // one copy each, in their stored layout, above the arena (the packers apply the transposes).
    const cHere = arena.inHeap(out);
    const aHere = arena.inHeap(a);
    const bHere = arena.inHeap(b);
    let top = arena.top;
    const cBase = cHere ? out.byteOffset : top;
    if (!cHere) top += align16(sizeC * 4);
    const aBase = aHere ? a.byteOffset : top;
    if (!aHere) top += align16(sizeA * 4);
    const bBase = bHere ? b.byteOffset : top;
    if (!bHere) top += sizeB * 4;
    arena.reserve(top, `a gemm with m=${m}, n=${n}, k=${k}`);
    const heap = arena.f32;
    if (!aHere) heap.set(a.length === sizeA ? a : a.subarray(0, sizeA), aBase >>> 2);
    if (!bHere) heap.set(b.length === sizeB ? b : b.subarray(0, sizeB), bBase >>> 2);
    if (accumulate && !cHere) heap.set(out.length === sizeC ? out : out.subarray(0, sizeC), cBase >>> 2);
    // op(a)[i, p] at a + 4·(i·aRs + p·aCs); op(b)[p, j] at b + 4·(p·bRs + j·bCs).
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const acc = accumulate ? 1 : 0;
    const parts = depthParts(m, n, k);
    const observer = jobObserver();
    const job = observer === null ? null
      : describeJob(parts > 1 ? 'gemm-depth' : 'gemm', m, n, k, 0, -1, 0, 0, this.threadsNow(), parts > 1 ? (this.threadsNow() > 1 ? parts : 1) : shares);
    if (observer !== null && job !== null) observer.begin(job);
    try {
      if (parts > 1) {
        this.runDepthSplit(parts, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, align16(top));
      } else if (shares === 1) {
        this.exports.gemm(m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, n, acc, WORK_BASE);
      } else {
        planSharesOfC(this.shareArgs, shares, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, acc);
        this.runOnPool(threads, shares, SHARE_TIMEOUT_MS + (2 * m * n * k) / 1e5 / shares);
      }
    } finally {
      // The copies in and out and the depth split's sum of partials run on this thread alone: outside the job.
      if (observer !== null && job !== null) observer.end(job);
    }
    if (parts > 1) this.sumDepthParts(parts, m * n, cBase, accumulate, align16(top));
    if (!cHere) out.set(this.outView(cBase, sizeC));
  }

  /**
   * `count` independent products of one shape and layout, out[i] (+)= op(a[i])·op(b[i]) (contract of
   * {@link gemm} each), as ONE job of the pool with one product per share when all of them are heap
   * arrays and the batch is worth it (see batchShares: the α² products of a Winograd convolution, say):
   * one dispatch instead of `count` calls, each of which would stay on this thread or be a job of its own. Each product is one
   * call of the module's gemm, as {@link gemm} runs it unsplit, so the bits are those of `count` gemm
   * calls for any thread count. Otherwise (one thread, products big enough to split, or an operand
   * outside the heap) it makes those `count` calls.
   */
  gemmBatch(
    outs: readonly Float32Array[], as: readonly Float32Array[], bs: readonly Float32Array[], count: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    const threads = this.threadsNow();
    // Batched on 2 threads or more (one thread runs the same products one by one, as one job of 1 share).
    let batched = planBatchShares(Math.max(2, threads), count, m, n, k) > 1;
    const arena = this.arena;
    for (let i = 0; batched && i < count; i++) {
      if (!arena.inHeap(outs[i]) || !arena.inHeap(as[i]) || !arena.inHeap(bs[i])) batched = false;
    }
    if (!batched) {
      for (let i = 0; i < count; i++) this.gemm(outs[i], as[i], bs[i], m, n, k, transA, transB, accumulate);
      return;
    }
    const shares = threads === 1 ? 1 : planBatchShares(threads, count, m, n, k);
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const acc = accumulate ? 1 : 0;
    const observer = jobObserver();
    const job = observer === null ? null : describeJob('gemm-batch', m, n, k, count, -1, 0, 0, threads, shares);
    if (observer !== null && job !== null) observer.begin(job);
    try {
      const args = this.shareArgs;
      for (let first = 0; first < count; first += MAX_SHARES) {
        const size = Math.min(MAX_SHARES, count - first);
        for (let s = 0; s < size; s++) {
          const o = s * SHARE_ARGS;
          args[o] = m;
          args[o + 1] = n;
          args[o + 2] = k;
          args[o + 3] = as[first + s].byteOffset;
          args[o + 4] = aRs;
          args[o + 5] = aCs;
          args[o + 6] = bs[first + s].byteOffset;
          args[o + 7] = bRs;
          args[o + 8] = bCs;
          args[o + 9] = outs[first + s].byteOffset;
          args[o + 10] = n;
          args[o + 11] = acc;
          args[o + 12] = WORK_BASE;
          args[o + SHARE_OP] = 0;
        }
        if (shares === 1 || size === 1) {
          // What gemm runs for each product on one thread (heap operands, unsplit).
          for (let s = 0; s < size; s++) {
            const o = s * SHARE_ARGS;
            this.exports.gemm(m, n, k, args[o + 3], aRs, aCs, args[o + 6], bRs, bCs, args[o + 9], n, acc, WORK_BASE);
          }
        } else {
          this.runOnPool(threads, size, SHARE_TIMEOUT_MS + (2 * m * n * k * size) / 1e5);
        }
      }
    } finally {
      if (observer !== null && job !== null) observer.end(job);
    }
  }

  /**
   * The depth split (see depthParts in gemm-plan.ts): part s into its own m×n partial at `scratch`
   * (one share each, on the pool when there are threads, else one after another here); then
   * {@link sumDepthParts} sums them into C.
   */
  private runDepthSplit(
    parts: number, m: number, n: number, k: number, aBase: number, aRs: number, aCs: number,
    bBase: number, bRs: number, bCs: number, scratch: number,
  ): void {
    const size = m * n;
    this.arena.reserve(scratch + 4 * parts * size, `a gemm with m=${m}, n=${n}, k=${k}`);
    const args = this.shareArgs;
    planDepthParts(args, parts, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, scratch);
    const threads = this.threadsNow();
    if (threads === 1) {
      for (let s = 0; s < parts; s++) {
        const o = s * SHARE_ARGS;
        this.exports.gemm(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4], args[o + 5], args[o + 6],
          args[o + 7], args[o + 8], args[o + 9], args[o + 10], 0, WORK_BASE);
      }
    } else {
      this.runOnPool(threads, parts, SHARE_TIMEOUT_MS + (2 * m * n * k) / 1e5 / parts);
    }
  }

  /** C = (C +) ((P₀ + P₁) + …): the depth split's `parts` partials of `size` floats at `scratch`, in part order. */
  private sumDepthParts(parts: number, size: number, cBase: number, accumulate: boolean, scratch: number): void {
    const f32 = this.arena.f32;
    const c = cBase >>> 2;
    const p = scratch >>> 2;
    for (let i = 0; i < size; i++) {
      let sum = f32[p + i];
      for (let s = 1; s < parts; s++) sum = Math.fround(sum + f32[p + s * size + i]);
      f32[c + i] = accumulate ? f32[c + i] + sum : sum;
    }
  }
}


/** Rounds a byte count up to a multiple of 16 (keeps operand regions vector-aligned). */
function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

// undefined: not tried yet; null: WebAssembly SIMD is not available here.
let instance: Runtime | null | undefined;
/** Called with each new instance (the kernel table loads its kernels into it). */
const onLoad: ((rt: Runtime) => void)[] = [];

/** Pages of the memory a new instance starts with: the thread workspaces. */
function initialPages(): number {
  const slots = typeof SharedArrayBuffer === 'function' ? availableCores() : 1;
  return Math.ceil((WORK_BASE + slots * WORKSPACE_BYTES) / PAGE_BYTES);
}

/** Makes `loaded` the runtime instance (null: no WebAssembly SIMD) and runs the load hooks. */
function install(loaded: LoadedModule<KernelExports> | null): Runtime | null {
  instance = loaded === null ? null : new Runtime(loaded);
  if (instance !== null) for (const hook of onLoad) hook(instance);
  return instance;
}

/** The runtime instance, loaded on first use; null when the engine has no WebAssembly SIMD. */
export function runtime(): Runtime | null {
  if (instance !== undefined) return instance;
  instance = null;
  return install(loadKernelModule<KernelExports>(initialPages()));
}

// The load ready() started (so concurrent calls share it).
let loading: Promise<Runtime | null> | undefined;

/** What {@link ready} and {@link runtimeInfo} report about the runtime. */
export interface RuntimeInfo {
  /** The WebAssembly kernels' variant, or null without WebAssembly SIMD (TypeScript kernels). */
  readonly variant: WasmVariant | null;
  /** Whether the module was compiled and instantiated asynchronously (by {@link ready}). */
  readonly compiledAsync: boolean;
  /** Whether its memory is shared, i.e. whether worker threads can join. */
  readonly sharedMemory: boolean;
  /** The threads work is split over: {@link getThreads} where the memory is shared, else 1. */
  readonly threads: number;
  /** Worker threads of the pool once they run (0 until the first threaded call, or in a browser until they have started). */
  readonly poolWorkers: number;
  /** Shares (gemm blocks, conv chunks, kernel ranges) that worker threads ran so far. */
  readonly workerShares: number;
  /** Why work runs on one thread (e.g. a page that is not cross-origin isolated), or null when it may use several. */
  readonly singleThreadReason: string | null;
}

/** See {@link RuntimeInfo.singleThreadReason}. */
function singleThreadReason(rt: Runtime | null): string | null {
  if (rt === null) return 'this engine has no WebAssembly SIMD';
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (in a browser: serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (platform() === null) return webThreadsUnavailable() ?? 'this platform has no worker threads';
  if (!rt.shared) return 'the engine refused a shared WebAssembly memory';
  if (availableCores() === 1) return 'one core';
  if (getThreads() === 1) return 'one thread requested (setThreads(1) or TENSORKIT_THREADS=1)';
  return null;
}

/**
 * Loads the runtime now, compiling its WebAssembly asynchronously, starts its worker pool when it has
 * more than one thread, and reports it. In a page's main thread, call `await ready()` before any
 * other tensorkit call (browsers may refuse to compile a module this size synchronously there); in a
 * browser worker, call it (again after a `setThreads` that changes the count) so the pool's Web
 * Workers are running before the synchronous calls (until they are, work runs on one thread, with
 * the same bits). Optional in Node. Idempotent: later calls return the same instance's info.
 */
export async function ready(): Promise<RuntimeInfo> {
  if (instance === undefined) {
    loading ??= loadKernelModuleAsync<KernelExports>(initialPages()).then((loaded) => {
      // A synchronous load may have won the race while this one compiled: keep the first instance.
      if (instance === undefined) install(loaded);
      return instance ?? null;
    });
    await loading;
  }
  // Where workers start only while this thread's event loop runs (browsers), start them now.
  await runtime()?.startPool();
  return runtimeInfo();
}

/**
 * The runtime as it stands: its variant, how it was compiled, its thread count and how many shares
 * worker threads have run. Loads the runtime (synchronously) if nothing did yet: on a page's main
 * thread, `await ready()` first.
 */
export function runtimeInfo(): RuntimeInfo {
  const rt = runtime();
  return {
    variant: rt === null ? null : rt.variant,
    compiledAsync: rt !== null && rt.compiledAsync,
    sharedMemory: rt !== null && rt.shared,
    threads: rt !== null && rt.shared ? getThreads() : 1,
    poolWorkers: rt === null ? 0 : rt.poolWorkers,
    workerShares: rt === null ? 0 : rt.workerShares,
    singleThreadReason: singleThreadReason(rt),
  };
}

/** Registers `hook` to run on every runtime instance (the current one, if loaded, and any later one). */
export function onRuntimeLoad(hook: (rt: Runtime) => void): void {
  onLoad.push(hook);
  if (instance) hook(instance);
}

/** The runtime when its memory is shared (so threads and heap-resident data work), else null. */
export function sharedRuntime(): Runtime | null {
  const rt = runtime();
  return rt !== null && rt.shared ? rt : null;
}

/** Whether `array` lives in the shared heap. */
export function inSharedHeap(array: HeapArray): boolean {
  const rt = sharedRuntime();
  return rt !== null && rt.arena.inHeap(array);
}

/**
 * The variant of the WASM kernels this engine runs, or `null` when it validates neither (no
 * WebAssembly SIMD). Relaxed SIMD is preferred when it validates (Node ≥ 22; Node 20 only with
 * `--experimental-wasm-relaxed-simd`); its multiply-adds may round once (fused) or twice depending
 * on the CPU, so its results are reproducible on one machine but may differ from the `simd` variant.
 */
export function wasmGemmVariant(): WasmVariant | null {
  const rt = runtime();
  return rt === null ? null : rt.variant;
}

/**
 * How many shares the WASM kernel splits an m×n×k product into under the current thread count: the
 * parts of a depth split on more than one thread, else the shares of C (1 below two, without a
 * shared memory, or without WebAssembly SIMD). For tests and benchmarks.
 */
export function wasmGemmShares(m: number, n: number, k: number): number {
  const rt = runtime();
  if (rt === null) return 1;
  const parts = depthParts(m, n, k);
  return parts > 1 && rt.threadsNow() > 1 ? parts : rt.planShares(m, n, k);
}

/**
 * `count` products on the WASM kernel (see {@link Runtime.gemmBatch}): `outs[i] (+)= op(as[i])·op(bs[i])`,
 * unchecked (`gemmBatch` of tensor/gemm.ts checks), with the bits of `count` {@link sgemmWasm} calls.
 */
export function sgemmBatchWasm(
  outs: readonly Float32Array[], as: readonly Float32Array[], bs: readonly Float32Array[], count: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean,
): void {
  const rt = runtime();
  if (rt === null) throw new Error('gemm (wasm): WebAssembly SIMD is not available in this engine');
  rt.gemmBatch(outs, as, bs, count, m, n, k, transA, transB, accumulate);
}

/**
 * The WASM kernel itself: `out[m×n] (+)= op(a)[m×k] · op(b)[k×n]`, contract as `gemm`. It does not
 * check its arguments (`gemm` does) and throws if WebAssembly SIMD is unavailable. Operands outside
 * the heap are copied in once, the result copied back; heap-resident ones are used in place. Each
 * output element is a float32 sum over each KC-deep block in increasing p, added to out between
 * blocks, on exactly one thread: fixed order, bit-reproducible for any thread count.
 */
export function sgemmWasm(
  out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): Float32Array {
  const rt = runtime();
  if (rt === null) throw new Error('gemm (wasm): WebAssembly SIMD is not available in this engine');
  rt.gemm(out, a, b, m, n, k, transA, transB, accumulate);
  return out;
}
