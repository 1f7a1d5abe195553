// The WebAssembly SIMD gemm backend: compiles the module embedded in sgemm-wasm.generated.ts (built
// from sgemm.wat) on first use, owns the layout of its (shared) memory, splits large products into
// per-thread shares of whole register tiles, and runs them on the calling thread and the worker pool
// of threads.ts. `gemm` in gemm.ts decides when to call it.

import {
  SGEMM_RELAXED_UNSHARED_WASM, SGEMM_RELAXED_WASM, SGEMM_SIMD_UNSHARED_WASM, SGEMM_SIMD_WASM,
} from './sgemm-wasm.generated.js';
import { GEMM_SHARE_ARGS, MAX_SHARES, WorkerPool, getThreads, type LocalGemm } from './threads.js';

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

interface SgemmExports {
  readonly MC: { readonly value: number };
  readonly KC: { readonly value: number };
  readonly NC: { readonly value: number };
  ensure(pages: number): number;
  gemm: LocalGemm;
}

// Memory layout (bytes): [0, 256) unused, then one workspace per thread (slot 0 for the calling
// thread, slot s for worker s), then the operand regions C, A, B of the current call (C first, at an
// address fixed while the slot count is, so the copy-out views can be cached by length).
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
  private readonly outViews: Map<number, Float32Array>;
  /** Thread workspaces laid out in memory; the operand regions start after them. */
  private slots: number;
  private pool: WorkerPool | null;
  /** Arguments of each share (GEMM_SHARE_ARGS int32s per share), reused by every call. */
  private readonly shareArgs: Int32Array;

  constructor(module: WasmModule, variant: WasmGemmVariant, shared: boolean) {
    this.variant = variant;
    this.shared = shared;
    this.module = module;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((WORK_BASE + WORKSPACE_BYTES) / PAGE), maximum: MAX_PAGES, shared });
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as SgemmExports;
    const { MC, KC, NC } = this.exports;
    if (MC.value !== WASM_GEMM_MC || KC.value !== WASM_GEMM_KC || NC.value !== WASM_GEMM_NC) {
      throw new Error(
        `gemm (wasm): the module's blocks MC=${MC.value}, KC=${KC.value}, NC=${NC.value} differ from gemm-wasm.ts ` +
        `(${WASM_GEMM_MC}, ${WASM_GEMM_KC}, ${WASM_GEMM_NC}); rerun npm run build:wasm`,
      );
    }
    this.heap = new Float32Array(this.memory.buffer);
    this.outViews = new Map();
    this.slots = 1;
    this.pool = null;
    this.shareArgs = new Int32Array(GEMM_SHARE_ARGS * MAX_SHARES);
  }

  /** Grows the memory to hold `bytes`; throws when wasm32 cannot. */
  private reserve(bytes: number, m: number, n: number, k: number): void {
    if (bytes > MAX_BYTES || this.exports.ensure(Math.ceil(bytes / PAGE)) === 0) {
      throw new Error(`gemm (wasm): cannot grow WebAssembly memory to ${bytes} bytes for m=${m}, n=${n}, k=${k}`);
    }
    if (this.heap.byteLength !== this.memory.buffer.byteLength) {
      // Grown: the old view is detached (unshared) or too short (shared). Rebuild it, drop the cached ones.
      this.heap = new Float32Array(this.memory.buffer);
      this.outViews.clear();
    }
  }

  /** The heap view of the C region (at cBase) for an m·n result (cached: steady state allocates nothing). */
  private outView(cBase: number, size: number): Float32Array {
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
    if (threads > this.slots) {
      // More workspaces move the operand regions: the cached views point at the old place.
      this.slots = threads;
      this.outViews.clear();
    }
    const sizeC = m * n;
    const sizeA = m * k;
    const sizeB = k * n;
    const cBase = WORK_BASE + this.slots * WORKSPACE_BYTES;
    const aBase = cBase + align16(sizeC * 4);
    const bBase = aBase + align16(sizeA * 4);
    this.reserve(bBase + sizeB * 4, m, n, k);
    const heap = this.heap;
    // One copy of each operand in its stored layout; the packers apply the transposes.
    heap.set(a.length === sizeA ? a : a.subarray(0, sizeA), aBase >> 2);
    heap.set(b.length === sizeB ? b : b.subarray(0, sizeB), bBase >> 2);
    if (accumulate) heap.set(out.length === sizeC ? out : out.subarray(0, sizeC), cBase >> 2);
    // op(a)[i, p] at a + 4·(i·aRs + p·aCs); op(b)[p, j] at b + 4·(p·bRs + j·bCs).
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const acc = accumulate ? 1 : 0;
    if (shares === 1) {
      this.exports.gemm(m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, n, acc, WORK_BASE);
    } else {
      this.runShared(shares, threads, m, n, k, aBase, aRs, aCs, bBase, bRs, bCs, cBase, acc);
    }
    out.set(this.outView(cBase, sizeC));
  }

  /**
   * Splits C into `shares` blocks of whole register tiles along its longer side (rows in units of
   * MR, columns in units of NR) and runs them on the pool of `threads` threads. Each element is computed by exactly one
   * thread by the same loop nest over k (sgemm.wat), so the bits do not depend on the split. The
   * longer side is split because every thread packs all of the other operand: op(a) (m·k) for a
   * column split, op(b) (k·n) for a row split.
   */
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
      const o = s * GEMM_SHARE_ARGS;
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
    const pool = this.poolFor(threads);
    try {
      pool.run(args, shares, this.exports.gemm, SHARE_TIMEOUT_MS + (2 * m * n * k) / 1e5 / shares);
    } catch (error) {
      // A hung or dead worker may still write this memory: start over with a fresh module instance.
      if (pool.closed && instance === this) instance = undefined;
      throw error;
    }
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
 * How many threads the WASM kernel splits an m×n×k product across under the current thread count
 * (1 … getThreads(); 1 below 2·{@link WASM_THREAD_MIN_VOLUME}, without a shared memory, or without
 * WebAssembly SIMD). For tests and benchmarks.
 */
export function wasmGemmShares(m: number, n: number, k: number): number {
  const kernel = load();
  return kernel === null ? 1 : kernel.planShares(m, n, k);
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
