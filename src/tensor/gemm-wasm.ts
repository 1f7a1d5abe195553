// The WebAssembly SIMD gemm backend: compiles the module embedded in sgemm-wasm.generated.ts (built
// from sgemm.wat) on first use, owns the layout of its (shared) memory, splits large products into
// per-thread shares of whole register tiles, and runs them on the calling thread and the worker pool
// of threads.ts. `gemm` in gemm.ts decides when to call it.

import {
  SGEMM_RELAXED_UNSHARED_WASM, SGEMM_RELAXED_WASM, SGEMM_SIMD_UNSHARED_WASM, SGEMM_SIMD_WASM,
} from './sgemm-wasm.generated.js';
import {
  RANGE_KERNELS, RANGE_TASK, convBackwardTask, convForwardTask, rangeTask, type HeapCopy, type HeapElementwise, type HeapGemm,
} from './heap-tasks.js';
import { MAX_SHARES, SHARE_ARGS, SHARE_OP, WorkerPool, availableCores, getThreads, type LocalGemm, type LocalTask } from './threads.js';

/** Rows of the WASM register tile (fixed by sgemm.wat). */
export const WASM_GEMM_MR = 4;
/** Columns of the WASM register tile (fixed by sgemm.wat). */
export const WASM_GEMM_NR = 8;
/**
 * Cache blocks of the WASM kernel: an MC×KC block of op(a) (96·256·4 B = 96 KiB, in L2) and a KC×NC
 * panel of op(b) (1 MiB) are packed per step; each KC×NR micro-panel of b (8 KiB) stays in L1.
 * MC is a multiple of {@link WASM_GEMM_MR}, NC of {@link WASM_GEMM_NR}. Picked with bench/gemm.ts over
 * MC ∈ {64, 96, 128, 192}, KC ∈ {128, 256, 512}, NC ∈ {512, 1024, 2048}: all within ~5% on 512³, 1024³
 * and the net004 / dense shapes (the 4×8 micro-kernel dominates), so KC also bounds the float32 sums.
 */
export const WASM_GEMM_MC = 96;
/** Depth of a packed block; also the length of each float32 partial sum (see {@link WASM_GEMM_MC}). */
export const WASM_GEMM_KC = 256;
/** Width of a packed panel of op(b) (see {@link WASM_GEMM_MC}). */
export const WASM_GEMM_NC = 1024;

/**
 * With more than one thread (see setThreads in threads.ts), a gemm is split into at most one share
 * per WASM_THREAD_MIN_VOLUME of m·n·k: below 2× this it stays on the calling thread, where waking a
 * worker and the redundant packing cost more than the split saves. Measured with bench/gemm.ts
 * (the `wasm×2` rows), see the note in gemm.ts.
 */
export const WASM_THREAD_MIN_VOLUME = 100_000;
/**
 * Shares per thread of a large gemm, when each can keep {@link WASM_SHARE_MIN_SPAN} rows or columns.
 * The threads claim shares as they come free (threads.ts), so several per thread let a thread that
 * is descheduled (a busy machine) fall behind by one small share instead of half the product. Each
 * share re-packs the operand it does not split, hence the span floor. Measured with bench/gemm.ts,
 * see the note in gemm.ts.
 */
export const WASM_SHARES_PER_THREAD = 4;
/** Rows or columns of C a share must keep before a product gets more shares than threads. */
export const WASM_SHARE_MIN_SPAN = 64;

/**
 * Products with a small C and a long depth (Dense forward on a large flattened input: 32×100×9216)
 * are split along k instead of along C, whose few rows and columns would leave each share re-packing
 * all of one operand: part s multiplies its own run of KC-deep blocks into its own partial C, and the
 * partials are summed in part order. The parts depend on (m, n, k) alone, never on the thread count
 * (one thread runs the same parts one after another), so the bits do not change with setThreads.
 * See {@link depthParts}.
 */
export const WASM_DEPTH_SPLIT_MIN_K = 2048;
/** Largest m·n of a product split along k (the partials are summed on the calling thread). */
export const WASM_DEPTH_SPLIT_MAX_MN = 16384;
/** Most parts of a depth split. */
export const WASM_DEPTH_SPLIT_MAX_PARTS = 8;

/**
 * Parts of the depth split of an m×n×k product (1 = not split): one per WASM_DEPTH_SPLIT_MIN_K of
 * depth, at most WASM_DEPTH_SPLIT_MAX_PARTS, when that makes at least two (k ≥ 2·WASM_DEPTH_SPLIT_MIN_K),
 * m·n ≤ WASM_DEPTH_SPLIT_MAX_MN and k ≥ 8·max(m, n).
 */
export function depthParts(m: number, n: number, k: number): number {
  if (k < 2 * WASM_DEPTH_SPLIT_MIN_K || m * n > WASM_DEPTH_SPLIT_MAX_MN || k < 8 * Math.max(m, n)) return 1;
  return Math.min(WASM_DEPTH_SPLIT_MAX_PARTS, Math.floor(k / WASM_DEPTH_SPLIT_MIN_K));
}

/** Which module variant runs: `relaxed-simd` (multiply-adds may fuse) or plain `simd`. */
export type WasmGemmVariant = 'relaxed-simd' | 'simd';

// The tsconfig lib (ES2022, no DOM) has no WebAssembly types: declare the little used here.
interface WasmModule { readonly __wasmModule?: never }
interface WasmMemory { readonly buffer: ArrayBufferLike }
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

interface SgemmExports extends HeapElementwise {
  readonly MC: { readonly value: number };
  readonly KC: { readonly value: number };
  readonly NC: { readonly value: number };
  ensure(pages: number): number;
  gemm: LocalGemm;
  copy(dst: number, src: number, bytes: number): void;
  fill(dst: number, bits: number, count: number): void;
}

// Memory layout (bytes): [0, 256) unused, then one workspace per possible thread (slot 0 for the
// calling thread, slot s for worker s; availableCores() slots), then the arena of blocks that layers
// keep in the heap (SharedHeap.alloc: Conv2D's activations and scratch, which worker threads read and
// write), then the operand regions C, A, B of the current gemm call (C first, at the arena's top, so
// the copy-out views can be cached by length while the arena does not change).
const WORK_BASE = 256;
/** One thread's workspace: the 4×8 edge tile (128 B, padded to 256), packed A block, packed B panel. */
const WORKSPACE_BYTES = 256 + 4 * WASM_GEMM_MC * WASM_GEMM_KC + 4 * WASM_GEMM_KC * WASM_GEMM_NC;
const PAGE = 65536;
/** The memory's declared maximum (sgemm.wat): 65536 pages, all of wasm32's 4 GiB. */
const MAX_PAGES = 65536;
const MAX_BYTES = MAX_PAGES * PAGE;
/** Copy-out views kept per distinct m·n before the cache is reset (bounds its size). */
const MAX_CACHED_VIEWS = 64;
/** A worker share that takes longer than this plus 1 ms per 1e5 flop (0.1 GFLOP/s) is deemed hung. */
const SHARE_TIMEOUT_MS = 10_000;
/** A job of conv tasks whose worker shares take longer than this is deemed hung. */
const TASK_TIMEOUT_MS = 120_000;
/** Arena blocks start on 64-byte (cache-line) boundaries. */
const BLOCK_ALIGN = 64;
/** The float written by fillArray, and its bits. */
const FILL_BITS_F32 = new Float32Array(1);
const FILL_BITS_I32 = new Int32Array(FILL_BITS_F32.buffer);
/** The task functions by id (heap-tasks.ts), as the workers index them too. */
const TASKS = [null, convForwardTask, convBackwardTask, rangeTask] as const;
/** Elements per chunk of an elementwise job (see runRange). */
const RANGE_CHUNK = 16384;
/** Elementwise work below this many elements stays on the calling thread. */
export const RANGE_MIN_PARALLEL = 65536;

/** Rounds a byte count up to a multiple of 16 (keeps operand regions vector-aligned). */
function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

function decodeBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * One instance of the module over its memory, with its float view of the memory, cached copy-out
 * views, and (over a shared memory, once a call is large enough) the worker pool.
 */
class WasmSgemm {
  readonly variant: WasmGemmVariant;
  /** Whether the memory is shared, i.e. whether shares can run on worker threads. */
  readonly shared: boolean;
  private readonly module: WasmModule;
  private readonly memory: WasmMemory;
  private readonly exports: SgemmExports;
  private heap: Float32Array;
  /** Every buffer object the memory has had (a shared memory's buffer is replaced, not detached, when it grows). */
  private readonly buffers: WeakSet<ArrayBufferLike>;
  private heap64: Float64Array;
  private heap32: Int32Array;
  private readonly outViews: Map<number, Float32Array>;
  /** The address the cached copy-out views were made for. */
  private outViewsBase: number;
  /** Thread workspaces laid out in memory (one per core): the slots a task may run in. The arena starts after them. */
  readonly slots: number;
  /** End of the arena (its blocks and free gaps); the gemm operand regions start here. */
  private arenaTop: number;
  /** Allocated arena blocks: address → bytes. */
  private readonly blocks: Map<number, number>;
  /** Free gaps below arenaTop, sorted by address: [address, bytes] pairs. */
  private readonly gaps: [number, number][];
  /** Frees the blocks of owners that were garbage-collected without releasing them. */
  private readonly registry: FinalizationRegistry<number[]>;
  /** Calls of {@link alloc} so far. */
  allocations = 0;
  /** The descriptor block of elementwise jobs (0 until the first). */
  private rangeDesc = 0;
  /** Runs a task share on the calling thread (bound once: a step allocates no closures). */
  private readonly localTask: LocalTask;
  private pool: WorkerPool | null;
  /** Arguments of each share (SHARE_ARGS int32s per share), reused by every call. */
  private readonly shareArgs: Int32Array;

  constructor(module: WasmModule, variant: WasmGemmVariant, shared: boolean) {
    this.variant = variant;
    this.shared = shared;
    this.module = module;
    this.slots = shared ? availableCores() : 1;
    this.arenaTop = WORK_BASE + this.slots * WORKSPACE_BYTES;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.arenaTop / PAGE), maximum: MAX_PAGES, shared });
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as SgemmExports;
    const { MC, KC, NC } = this.exports;
    if (MC.value !== WASM_GEMM_MC || KC.value !== WASM_GEMM_KC || NC.value !== WASM_GEMM_NC) {
      throw new Error(
        `gemm (wasm): the module's blocks MC=${MC.value}, KC=${KC.value}, NC=${NC.value} differ from gemm-wasm.ts ` +
        `(${WASM_GEMM_MC}, ${WASM_GEMM_KC}, ${WASM_GEMM_NC}); rerun npm run build:wasm`,
      );
    }
    this.heap = new Float32Array(this.memory.buffer);
    this.heap64 = new Float64Array(this.memory.buffer);
    this.heap32 = new Int32Array(this.memory.buffer);
    this.buffers = new WeakSet([this.memory.buffer]);
    this.outViews = new Map();
    this.outViewsBase = -1;
    this.pool = null;
    this.shareArgs = new Int32Array(SHARE_ARGS * MAX_SHARES);
    this.blocks = new Map();
    this.gaps = [];
    this.registry = new FinalizationRegistry((addresses) => { for (const a of addresses) this.free(a); });
    this.localTask = (op, args, o) => {
      (TASKS[op] as NonNullable<(typeof TASKS)[number]>)(
        this.heap, this.heap64, this.heap32, args[o], args[o + 1], args[o + 2], 0, WORK_BASE, this.exports.gemm, this.exports.copy, RANGE_KERNELS, this.exports,
      );
    };
  }

  /** The heap as float32 / float64 / int32 views (rebuilt when the memory grows). */
  get f32(): Float32Array { return this.heap; }
  get f64(): Float64Array { return this.heap64; }
  get i32(): Int32Array { return this.heap32; }
  /** The module's gemm export (addresses in bytes), for single-thread products on heap data. */
  get gemm(): HeapGemm { return this.exports.gemm; }
  /** The module's copy export: memmove of `bytes` bytes on the heap. */
  get copy(): HeapCopy { return this.exports.copy; }

  /** Fills `array` with `value`: a view of this memory through the module (fast), else TypedArray fill. */
  fillArray(array: Float32Array, value: number): void {
    if (array.length === 0) return;
    if (!this.inHeap(array)) {
      array.fill(value);
      return;
    }
    FILL_BITS_F32[0] = value;
    this.exports.fill(array.byteOffset, FILL_BITS_I32[0], array.length);
  }

  /** dst.set(src) (same length), through the module's memory.copy when both are views of this memory. */
  copyArray(dst: Float32Array, src: Float32Array): void {
    if (this.inHeap(dst) && this.inHeap(src)) this.exports.copy(dst.byteOffset, src.byteOffset, src.length << 2);
    else dst.set(src);
  }

  /**
   * Allocates a zero-filled arena block of at least `bytes` bytes (64-byte aligned) and returns its
   * address; it stays put until freed (growing the memory never moves it). With `owner`, the block is
   * freed when the owner is garbage-collected, unless {@link free}d first.
   */
  alloc(bytes: number, owner?: object): number {
    const size = Math.ceil(Math.max(bytes, 1) / BLOCK_ALIGN) * BLOCK_ALIGN;
    let address = -1;
    for (let g = 0; g < this.gaps.length; g++) {
      const [start, length] = this.gaps[g];
      if (length < size) continue;
      address = start;
      if (length === size) this.gaps.splice(g, 1);
      else this.gaps[g] = [start + size, length - size];
      break;
    }
    if (address < 0) {
      address = this.arenaTop;
      this.reserve(address + size, 0, 0, 0, `an arena block of ${bytes} bytes`);
      this.arenaTop = address + size;
    }
    this.blocks.set(address, size);
    this.allocations++;
    this.exports.fill(address, 0, size >> 2);
    if (owner !== undefined) this.registry.register(owner, [address], owner);
    return address;
  }

  /** Arena accounting: blocks allocated so far (calls), bytes in live blocks, bytes of the arena (blocks and gaps). */
  stats(): HeapStats {
    let live = 0;
    for (const size of this.blocks.values()) live += size;
    return { allocations: this.allocations, liveBytes: live, arenaBytes: this.arenaTop - (WORK_BASE + this.slots * WORKSPACE_BYTES) };
  }

  /** Frees the block at `address` when `owner` is garbage-collected. */
  freeWith(owner: object, address: number): void {
    this.registry.register(owner, [address]);
  }

  /** Frees blocks of {@link alloc} (unknown addresses are ignored); `owner` cancels its GC hook. */
  free(address: number, owner?: object): void {
    if (owner !== undefined) this.registry.unregister(owner);
    const size = this.blocks.get(address);
    if (size === undefined) return;
    this.blocks.delete(address);
    let g = 0;
    while (g < this.gaps.length && this.gaps[g][0] < address) g++;
    this.gaps.splice(g, 0, [address, size]);
    // Merge with the neighbours, then give a gap at the top back to the operand region.
    if (g + 1 < this.gaps.length && this.gaps[g][0] + this.gaps[g][1] === this.gaps[g + 1][0]) {
      this.gaps[g][1] += this.gaps[g + 1][1];
      this.gaps.splice(g + 1, 1);
    }
    if (g > 0 && this.gaps[g - 1][0] + this.gaps[g - 1][1] === this.gaps[g][0]) {
      this.gaps[g - 1][1] += this.gaps[g][1];
      this.gaps.splice(g, 1);
      g--;
    }
    const last = this.gaps[this.gaps.length - 1];
    if (last !== undefined && last[0] + last[1] === this.arenaTop) {
      this.arenaTop = last[0];
      this.gaps.pop();
    }
  }

  /**
   * Runs task `op` (heap-tasks.ts) over chunks [0, chunks) of the descriptor at `desc`: on the
   * calling thread alone with one thread, else in up to WASM_SHARES_PER_THREAD contiguous ranges per
   * thread on the pool. The tasks write disjoint memory per chunk, so the split does not change bits.
   */
  runTasks(op: number, desc: number, chunks: number): void {
    const threads = this.shared ? getThreads() : 1;
    const shares = Math.min(chunks, threads * WASM_SHARES_PER_THREAD, MAX_SHARES);
    if (threads === 1 || shares === 1) {
      (TASKS[op] as NonNullable<(typeof TASKS)[number]>)(this.heap, this.heap64, this.heap32, desc, 0, chunks, 0, WORK_BASE, this.exports.gemm, this.exports.copy, RANGE_KERNELS, this.exports);
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

  /** Grows the memory to hold `bytes`; throws when wasm32 cannot. */
  private reserve(bytes: number, m: number, n: number, k: number, what?: string): void {
    if (bytes > MAX_BYTES || this.exports.ensure(Math.ceil(bytes / PAGE)) === 0) {
      throw new Error(`gemm (wasm): cannot grow WebAssembly memory to ${bytes} bytes for ${what ?? `m=${m}, n=${n}, k=${k}`}`);
    }
    if (this.heap.byteLength !== this.memory.buffer.byteLength) {
      // Grown: the old view is detached (unshared) or too short (shared). Rebuild it, drop the cached ones.
      this.heap = new Float32Array(this.memory.buffer);
      this.heap64 = new Float64Array(this.memory.buffer);
      this.heap32 = new Int32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
      this.outViews.clear();
    }
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
      view = this.heap.subarray(cBase >> 2, (cBase >> 2) + size);
      this.outViews.set(size, view);
    }
    return view;
  }

  /**
   * How many shares a product gets: one per thread, or up to WASM_SHARES_PER_THREAD per thread while
   * each keeps WASM_SHARE_MIN_SPAN rows (columns) of the side it splits; never more than one per
   * register tile along that side or per WASM_THREAD_MIN_VOLUME of m·n·k. 1 on one thread, below
   * two, or without a shared memory.
   */
  planShares(m: number, n: number, k: number): number {
    if (!this.shared) return 1;
    const byVolume = Math.floor((m * n * k) / WASM_THREAD_MIN_VOLUME);
    if (byVolume < 2) return 1;
    const threads = getThreads();
    if (threads === 1) return 1;
    const extent = Math.max(m, n); // the split side (see runShared)
    const tiles = n >= m ? Math.ceil(n / WASM_GEMM_NR) : Math.ceil(m / WASM_GEMM_MR);
    const wanted = Math.max(threads, Math.min(threads * WASM_SHARES_PER_THREAD, Math.floor(extent / WASM_SHARE_MIN_SPAN)));
    return Math.min(wanted, byVolume, tiles, MAX_SHARES);
  }

  /** The pool for `threads` threads (calling thread + threads − 1 workers), started if needed. */
  private poolFor(threads: number): WorkerPool {
    if (this.pool === null || this.pool.closed || this.pool.size !== threads - 1) {
      this.pool?.close();
      const workspaces: number[] = [];
      for (let w = 1; w < threads; w++) workspaces.push(WORK_BASE + w * WORKSPACE_BYTES);
      this.pool = new WorkerPool(this.module, this.memory, workspaces);
    }
    return this.pool;
  }

  /** See {@link sgemmWasm}. */
  run(
    out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    const shares = this.planShares(m, n, k);
    const threads = shares === 1 ? 1 : getThreads();
    const sizeC = m * n;
    const sizeA = m * k;
    const sizeB = k * n;
    // Operands that already live in this memory (arena blocks) are used in place; the others get
    // one copy each, in their stored layout, in the operand regions (the packers apply the transposes).
    const cHere = this.inHeap(out);
    const aHere = this.inHeap(a);
    const bHere = this.inHeap(b);
    let top = this.arenaTop;
    const cBase = cHere ? out.byteOffset : top;
    if (!cHere) top += align16(sizeC * 4);
    const aBase = aHere ? a.byteOffset : top;
    if (!aHere) top += align16(sizeA * 4);
    const bBase = bHere ? b.byteOffset : top;
    if (!bHere) top += sizeB * 4;
    this.reserve(top, m, n, k);
    const heap = this.heap;
    if (!aHere) heap.set(a.length === sizeA ? a : a.subarray(0, sizeA), aBase >> 2);
    if (!bHere) heap.set(b.length === sizeB ? b : b.subarray(0, sizeB), bBase >> 2);
    if (accumulate && !cHere) heap.set(out.length === sizeC ? out : out.subarray(0, sizeC), cBase >> 2);
    // op(a)[i, p] at a + 4·(i·aRs + p·aCs); op(b)[p, j] at b + 4·(p·bRs + j·bCs).
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const acc = accumulate ? 1 : 0;
    const parts = depthParts(m, n, k);
    if (parts > 1) {
      this.runDepthSplit(parts, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, accumulate, align16(top));
    } else if (shares === 1) {
      this.exports.gemm(m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, n, acc, WORK_BASE);
    } else {
      this.runShared(shares, threads, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, acc);
    }
    if (!cHere) out.set(this.outView(cBase, sizeC));
  }

  /**
   * Runs elementwise kernel `kind` (RANGE_* of heap-tasks.ts) over n elements of arrays a–d (views of
   * this memory, or null) with scalars s0–s4, in chunks of `chunk` elements split over the threads
   * (one chunk, or one thread: all on the calling thread), with the module's SIMD kernels where it
   * has them; returns false, doing nothing, when an array is not in this memory — the caller then
   * runs the TypeScript kernel itself. (Whether the work is big enough to split is the caller's call.)
   */
  runRange(
    kind: number, n: number, chunk: number, a: HeapArray, b: HeapArray | null, c: HeapArray | null, d: HeapArray | null,
    s0: number, s1: number, s2: number, s3: number, s4: number, s5 = 0,
  ): boolean {
    if (!this.shared) return false;
    if (!this.inHeap(a) || (b !== null && !this.inHeap(b)) || (c !== null && !this.inHeap(c)) || (d !== null && !this.inHeap(d))) return false;
    if (this.rangeDesc === 0) this.rangeDesc = this.alloc(128);
    const i32 = this.heap32;
    const f64 = this.heap64;
    const w = this.rangeDesc >> 2;
    i32[w] = kind;
    i32[w + 1] = n;
    i32[w + 2] = chunk;
    i32[w + 3] = a.byteOffset;
    i32[w + 4] = b === null ? 0 : b.byteOffset;
    i32[w + 5] = c === null ? 0 : c.byteOffset;
    i32[w + 6] = d === null ? 0 : d.byteOffset;
    const s = (this.rangeDesc + 32) >> 3;
    f64[s] = s0;
    f64[s + 1] = s1;
    f64[s + 2] = s2;
    f64[s + 3] = s3;
    f64[s + 4] = s4;
    f64[s + 5] = s5;
    this.runTasks(RANGE_TASK, this.rangeDesc, Math.ceil(n / chunk));
    return true;
  }

  /** The byte address of `array` when it is a view of this memory, else −1. */
  addressOf(array: HeapArray): number {
    return this.inHeap(array) ? array.byteOffset : -1;
  }

  /** Whether `array` is a view of this memory (an arena block), so a gemm can use it in place. */
  private inHeap(array: HeapArray): boolean {
    const buffer = array.buffer;
    return this.shared && (buffer === this.heap.buffer || this.buffers.has(buffer));
  }

  /**
   * Splits C into `shares` blocks of whole register tiles along its longer side (rows in units of
   * MR, columns in units of NR) and runs them on the pool of `threads` threads. Each element is computed by exactly one
   * thread by the same loop nest over k (sgemm.wat), so the bits do not depend on the split. The
   * longer side is split because every thread packs all of the other operand: op(a) (m·k) for a
   * column split, op(b) (k·n) for a row split.
   */
  /**
   * The depth split (see {@link depthParts}): part s runs KC-deep blocks [⌊s·B/P⌋, ⌊(s+1)·B/P⌋) of
   * the B = ⌈k/KC⌉ blocks into its own m×n partial at `scratch` (one share each, on the pool when
   * there are threads, else one after another here); then C = (C +) ((P₀ + P₁) + …), in part order.
   */
  private runDepthSplit(
    parts: number, m: number, n: number, k: number, aBase: number, aRs: number, aCs: number,
    bBase: number, bRs: number, bCs: number, cBase: number, accumulate: boolean, scratch: number,
  ): void {
    const size = m * n;
    this.reserve(scratch + 4 * parts * size, m, n, k);
    const blocks = Math.ceil(k / WASM_GEMM_KC);
    const args = this.shareArgs;
    for (let s = 0; s < parts; s++) {
      const p0 = Math.floor((s * blocks) / parts) * WASM_GEMM_KC;
      const p1 = Math.min(k, Math.floor(((s + 1) * blocks) / parts) * WASM_GEMM_KC);
      const o = s * SHARE_ARGS;
      args[o] = m;
      args[o + 1] = n;
      args[o + 2] = p1 - p0;
      args[o + 3] = aBase + 4 * p0 * aCs;
      args[o + 4] = aRs;
      args[o + 5] = aCs;
      args[o + 6] = bBase + 4 * p0 * bRs;
      args[o + 7] = bRs;
      args[o + 8] = bCs;
      args[o + 9] = scratch + 4 * s * size;
      args[o + 10] = n;
      args[o + 11] = 0;
      args[o + 12] = WORK_BASE;
      args[o + SHARE_OP] = 0;
    }
    const threads = this.shared ? getThreads() : 1;
    if (threads === 1) {
      for (let s = 0; s < parts; s++) {
        const o = s * SHARE_ARGS;
        this.exports.gemm(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4], args[o + 5], args[o + 6],
          args[o + 7], args[o + 8], args[o + 9], args[o + 10], 0, WORK_BASE);
      }
    } else {
      this.runOnPool(threads, parts, SHARE_TIMEOUT_MS + (2 * m * n * k) / 1e5 / parts);
    }
    const f32 = this.heap;
    const c = cBase >> 2;
    const p = scratch >> 2;
    for (let i = 0; i < size; i++) {
      let sum = f32[p + i];
      for (let s = 1; s < parts; s++) sum = Math.fround(sum + f32[p + s * size + i]);
      f32[c + i] = accumulate ? f32[c + i] + sum : sum;
    }
  }

  private runShared(
    shares: number, threads: number, m: number, n: number, k: number, aBase: number, aRs: number, aCs: number,
    bBase: number, bRs: number, bCs: number, cBase: number, acc: number,
  ): void {
    const byColumns = n >= m;
    const tile = byColumns ? WASM_GEMM_NR : WASM_GEMM_MR;
    const extent = byColumns ? n : m;
    const tiles = Math.ceil(extent / tile);
    const args = this.shareArgs;
    for (let s = 0; s < shares; s++) {
      const lo = Math.floor((s * tiles) / shares) * tile;
      const hi = Math.min(extent, Math.floor(((s + 1) * tiles) / shares) * tile);
      const o = s * SHARE_ARGS;
      // (m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate, work): the sub-product of the share.
      args[o] = byColumns ? m : hi - lo;
      args[o + 1] = byColumns ? hi - lo : n;
      args[o + 2] = k;
      args[o + 3] = byColumns ? aBase : aBase + 4 * lo * aRs;
      args[o + 4] = aRs;
      args[o + 5] = aCs;
      args[o + 6] = byColumns ? bBase + 4 * lo * bCs : bBase;
      args[o + 7] = bRs;
      args[o + 8] = bCs;
      args[o + 9] = byColumns ? cBase + 4 * lo : cBase + 4 * lo * n;
      args[o + 10] = n;
      args[o + 11] = acc;
      args[o + 12] = WORK_BASE; // the calling thread's workspace; each worker uses its own
    }
    this.runOnPool(threads, shares, SHARE_TIMEOUT_MS + (2 * m * n * k) / 1e5 / shares);
  }
}

// undefined: not tried yet; null: WebAssembly SIMD is not available here.
let instance: WasmSgemm | null | undefined;

/** The first of the candidate modules (relaxed before plain SIMD) that validates. */
function pickModule(relaxedBytes: string, simdBytes: string): [Uint8Array, WasmGemmVariant] | null {
  const relaxed = decodeBase64(relaxedBytes);
  if (WebAssembly.validate(relaxed)) return [relaxed, 'relaxed-simd'];
  const simd = decodeBase64(simdBytes);
  if (WebAssembly.validate(simd)) return [simd, 'simd'];
  return null;
}

function load(): WasmSgemm | null {
  if (instance !== undefined) return instance;
  instance = null;
  if (typeof WebAssembly !== 'object') return instance;
  // A shared memory needs SharedArrayBuffer (browsers: cross-origin isolation); else one thread.
  if (typeof SharedArrayBuffer === 'function') {
    const picked = pickModule(SGEMM_RELAXED_WASM, SGEMM_SIMD_WASM);
    if (picked !== null) {
      try {
        instance = new WasmSgemm(new WebAssembly.Module(picked[0]), picked[1], true);
        return instance;
      } catch {
        // An engine that validates the module but refuses a shared memory: use the unshared one.
      }
    }
  }
  const picked = pickModule(SGEMM_RELAXED_UNSHARED_WASM, SGEMM_SIMD_UNSHARED_WASM);
  if (picked !== null) instance = new WasmSgemm(new WebAssembly.Module(picked[0]), picked[1], false);
  return instance;
}

/**
 * The variant of the WASM kernel this engine runs, or `null` when it validates neither (no
 * WebAssembly SIMD). The module is compiled synchronously on the first call (a few KiB, < 1 ms).
 * Relaxed SIMD is preferred when it validates (Node ≥ 22; Node 20 only with
 * `--experimental-wasm-relaxed-simd`); its multiply-adds may round once (fused) or twice depending
 * on the CPU, so its results are reproducible on one machine but may differ from the `simd` variant.
 */
export function wasmGemmVariant(): WasmGemmVariant | null {
  const kernel = load();
  return kernel === null ? null : kernel.variant;
}

/**
 * How many shares the WASM kernel splits an m×n×k product into under the current thread count: the
 * parts of a depth split ({@link depthParts}) on more than one thread, else the shares of C (1 …
 * getThreads()·WASM_SHARES_PER_THREAD; 1 below 2·{@link WASM_THREAD_MIN_VOLUME}, without a shared
 * memory, or without WebAssembly SIMD). For tests and benchmarks.
 */
export function wasmGemmShares(m: number, n: number, k: number): number {
  const kernel = load();
  if (kernel === null) return 1;
  const parts = depthParts(m, n, k);
  return parts > 1 && kernel.shared && getThreads() > 1 ? parts : kernel.planShares(m, n, k);
}

/**
 * The WASM kernel itself: `out[m×n] (+)= op(a)[m×k] · op(b)[k×n]`, contract as `gemm`. It does not
 * check its arguments (`gemm` does: sizes, aliasing, m, n, k > 0) and throws if WebAssembly SIMD is
 * unavailable. Copies a, b (and out when accumulating) into the module's memory once, packs and
 * multiplies there (split across getThreads() threads when m·n·k ≥ 2·{@link WASM_THREAD_MIN_VOLUME}),
 * and copies the m·n result back. The memory grows to the largest call seen (≈ 1.1 MB of panels per
 * thread + 4·(mn + mk + kn) bytes) and is kept. Each output element is a float32 sum over each KC-deep
 * block in increasing p, added to out between blocks, on exactly one thread: fixed order,
 * bit-reproducible for any thread count. Throws if a worker thread fails or hangs (see threads.ts).
 */
export function sgemmWasm(
  out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): Float32Array {
  const kernel = load();
  if (kernel === null) throw new Error('gemm (wasm): WebAssembly SIMD is not available in this engine');
  kernel.run(out, a, b, m, n, k, transA, transB, accumulate);
  return out;
}

/**
 * The heap of the WASM kernel when it is backed by a shared memory (so worker threads can run tasks
 * on data kept there), or null (no WebAssembly SIMD, no SharedArrayBuffer). Layers keep blocks of it
 * (`alloc` / `free`), lay out their data there, and run the tasks of heap-tasks.ts on it with
 * `runTasks`; `f32`, `f64` and `i32` are views of the whole memory, replaced when it grows (read
 * them again after an `alloc`).
 */
export interface SharedHeap {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly gemm: HeapGemm;
  readonly copy: HeapCopy;
  /** Thread slots (one per core): a task runs in slot 0 (the caller) … slots − 1, each with its own scratch. */
  readonly slots: number;
  alloc(bytes: number, owner?: object): number;
  free(address: number, owner?: object): void;
  runTasks(op: number, desc: number, chunks: number): void;
  /** The byte address of `array` when it is a view of the heap, else −1. */
  addressOf(array: HeapArray): number;
  runRange(
    kind: number, n: number, chunk: number, a: HeapArray, b: HeapArray | null, c: HeapArray | null, d: HeapArray | null,
    s0: number, s1: number, s2: number, s3: number, s4: number, s5?: number,
  ): boolean;
}

/** A typed array that may be a view of the heap (only its buffer and offset matter). */
export type HeapArray = Float32Array | Int32Array;

/** See {@link SharedHeap}. */
export function sharedHeap(): SharedHeap | null {
  const kernel = load();
  return kernel !== null && kernel.shared ? kernel : null;
}

/**
 * A zero-filled Float32Array of `length` floats that lives in the shared heap when there is one, so
 * gemm uses it in place (no copy in or out) and worker threads can work on it; its block is freed
 * when the array is garbage-collected. Falls back to an ordinary Float32Array without a shared heap
 * or when the heap cannot grow (wasm32 caps it at 4 GiB). Keep the returned array referenced while
 * any view of it (subarray) is in use: the block is freed when this object goes, not its views.
 */
export function heapFloat32(length: number): Float32Array {
  const heap = sharedHeap();
  if (heap === null || length === 0) return new Float32Array(length);
  let address: number;
  try {
    address = heap.alloc(4 * length);
  } catch {
    return new Float32Array(length);
  }
  const view = heap.f32.subarray(address >> 2, (address >> 2) + length);
  (heap as WasmSgemm).freeWith(view, address);
  return view;
}

/**
 * Runs elementwise kernel `kind` of heap-tasks.ts over n elements when every array lives in the
 * shared heap (see {@link heapFloat32}): with the module's SIMD kernel where it has one (the
 * optimizer updates, tanh), split over all gemm threads when n is large enough to pay. Returns false
 * otherwise, and the caller runs the TypeScript kernel on its own thread. Same bits either way.
 */
export function parallelRange(
  kind: number, n: number, a: HeapArray, b: HeapArray | null, c: HeapArray | null, d: HeapArray | null,
  s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0,
): boolean {
  if (n === 0) return true;
  const heap = sharedHeap();
  const chunk = n < RANGE_MIN_PARALLEL ? n : RANGE_CHUNK;
  return heap !== null && heap.runRange(kind, n, chunk, a, b, c, d, s0, s1, s2, s3, s4, s5);
}

/**
 * Like {@link parallelRange} for kernels over planes of `planeSize` elements (the pooling kernels,
 * SIMD in the module): n = planes, chunks of whole planes (about RANGE_CHUNK elements each), split
 * only when the planes hold at least RANGE_MIN_PARALLEL elements in all.
 */
export function parallelPlanes(
  kind: number, planes: number, planeSize: number, a: HeapArray, b: HeapArray, c: HeapArray,
  s0: number, s1: number, s2: number, s3: number,
): boolean {
  if (planes === 0) return true;
  const heap = sharedHeap();
  const chunk = planes * planeSize < RANGE_MIN_PARALLEL ? planes : Math.max(1, Math.round(RANGE_CHUNK / planeSize));
  return heap !== null && heap.runRange(kind, planes, chunk, a, b, c, null, s0, s1, s2, s3, 0);
}

/**
 * A zero-filled Int32Array of `length` values in the shared heap (see {@link heapFloat32}, same
 * fallback and lifetime rule).
 */
export function heapInt32(length: number): Int32Array {
  const floats = heapFloat32(length);
  const view = new Int32Array(floats.buffer, floats.byteOffset, length);
  // The block is freed with the float view: keep it reachable from the int view.
  HEAP_INT_OWNERS.set(view, floats);
  return view;
}
/** Int views of heap blocks → the float views that own the blocks. */
const HEAP_INT_OWNERS = new WeakMap<Int32Array, Float32Array>();

/** See {@link heapStats}. */
export interface HeapStats {
  /** Arena blocks allocated so far (alloc calls, including freed blocks). */
  readonly allocations: number;
  /** Bytes in live blocks. */
  readonly liveBytes: number;
  /** Bytes the arena spans (live blocks and free gaps). */
  readonly arenaBytes: number;
}

/** Arena accounting of the shared heap (zeros without one): steady-state training allocates no blocks. */
export function heapStats(): HeapStats {
  const kernel = load();
  return kernel !== null && kernel.shared ? kernel.stats() : { allocations: 0, liveBytes: 0, arenaBytes: 0 };
}

/**
 * `array.fill(value)`, but through the WASM module when the array lives in the shared heap: engines
 * fill a shared buffer element by element with atomic stores (measured 25× slower than a plain one).
 */
export function fillFloat32(array: Float32Array, value: number): void {
  const kernel = load();
  if (kernel !== null && kernel.shared) kernel.fillArray(array, value);
  else array.fill(value);
}

/** `dst.set(src)` (src no longer than dst), through memory.copy when both live in the shared heap. */
export function copyFloat32(dst: Float32Array, src: Float32Array): void {
  const kernel = load();
  if (kernel !== null && kernel.shared && src.length <= dst.length) kernel.copyArray(dst, src);
  else dst.set(src);
}
