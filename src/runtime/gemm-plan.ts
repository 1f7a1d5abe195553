// gemm-plan.ts: how a WebAssembly gemm is laid out and split: the module's register tile and cache
// blocks, the per-thread workspace they need, and the plans that cut a product into shares of C (by
// whole register tiles along its longer side) or into parts along its depth, written as the argument
// lists the pool's threads run. Pure planning: tasks.ts runs the plans.
import { MAX_SHARES, SHARE_ARGS, SHARE_OP } from './workers.js';

/** Rows of the WASM register tile (fixed by kernels.wat). */
export const WASM_GEMM_MR = 4;
/** Columns of the WASM register tile (fixed by kernels.wat). */
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

/** One thread's workspace: the 4×8 edge tile (128 B, padded to 256), packed A block, packed B panel. */
export const WORKSPACE_BYTES = 256 + 4 * WASM_GEMM_MC * WASM_GEMM_KC + 4 * WASM_GEMM_KC * WASM_GEMM_NC;
/** Byte address of thread slot 0's workspace ([0, 256) of the memory is unused). */
export const WORK_BASE = 256;

/**
 * With more than one thread, a gemm is split into at most one share per WASM_THREAD_MIN_VOLUME of
 * m·n·k: below 2× this it stays on the calling thread, where waking a worker and the redundant
 * packing cost more than the split saves. Measured with bench/gemm.ts (the `wasm×2` rows).
 */
export const WASM_THREAD_MIN_VOLUME = 100_000;
/**
 * Shares per thread of a large gemm, when each can keep {@link WASM_SHARE_MIN_SPAN} rows or columns.
 * The threads claim shares as they come free (workers.ts), so several per thread let a thread that
 * is descheduled (a busy machine) fall behind by one small share instead of half the product. Each
 * share re-packs the operand it does not split, hence the span floor. Measured with bench/gemm.ts.
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

/**
 * How many shares of C an m×n×k product gets on `threads` threads: one per thread, or up to
 * WASM_SHARES_PER_THREAD per thread while each keeps WASM_SHARE_MIN_SPAN rows (columns) of the side
 * it splits; never more than one per register tile along that side, per WASM_THREAD_MIN_VOLUME of
 * m·n·k, or than `maxShares`. 1 on one thread or below two.
 */
export function planShares(threads: number, m: number, n: number, k: number, maxShares: number): number {
  const byVolume = Math.floor((m * n * k) / WASM_THREAD_MIN_VOLUME);
  if (byVolume < 2 || threads === 1) return 1;
  const extent = Math.max(m, n); // the split side (see planSharesOfC)
  const tiles = n >= m ? Math.ceil(n / WASM_GEMM_NR) : Math.ceil(m / WASM_GEMM_MR);
  const wanted = Math.max(threads, Math.min(threads * WASM_SHARES_PER_THREAD, Math.floor(extent / WASM_SHARE_MIN_SPAN)));
  return Math.min(wanted, byVolume, tiles, maxShares);
}

/**
 * Writes the argument lists of `shares` shares of C into `args` (SHARE_ARGS words each: the module
 * gemm's (m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate, work)): C is cut into blocks of
 * whole register tiles along its longer side (rows in units of MR, columns in units of NR). Each
 * element is computed by exactly one share by the same loop nest over k, so the bits do not depend on
 * the split. The longer side is split because every share packs all of the other operand.
 */
export function planSharesOfC(
  args: Int32Array, shares: number, m: number, n: number, k: number, aBase: number, aRs: number, aCs: number,
  bBase: number, bRs: number, bCs: number, cBase: number, acc: number,
): void {
  const byColumns = n >= m;
  const tile = byColumns ? WASM_GEMM_NR : WASM_GEMM_MR;
  const extent = byColumns ? n : m;
  const tiles = Math.ceil(extent / tile);
  for (let s = 0; s < shares; s++) {
    const lo = Math.floor((s * tiles) / shares) * tile;
    const hi = Math.min(extent, Math.floor(((s + 1) * tiles) / shares) * tile);
    const o = s * SHARE_ARGS;
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
    args[o + SHARE_OP] = 0;
  }
}

/**
 * Writes the argument lists of the depth split's `parts` parts into `args`: part s runs KC-deep
 * blocks [⌊s·B/P⌋, ⌊(s+1)·B/P⌋) of the B = ⌈k/KC⌉ blocks into its own m×n partial at
 * `scratch + 4·s·m·n` (see {@link depthParts}).
 */
export function planDepthParts(
  args: Int32Array, parts: number, m: number, n: number, k: number, aBase: number, aRs: number, aCs: number,
  bBase: number, bRs: number, bCs: number, scratch: number,
): void {
  const size = m * n;
  const blocks = Math.ceil(k / WASM_GEMM_KC);
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
}

/**
 * Shares of a batch of `count` m×n×k products on `threads` threads (see Runtime.gemmBatch in tasks.ts):
 * one product per share when all of them together reach 2·WASM_THREAD_MIN_VOLUME and either each is
 * too small to be split by itself or there are at least 2 per thread (then whole products balance the
 * threads, each packs its operands once, and the batch costs one dispatch instead of `count`); else 1
 * (the products run one by one, each with its own plan). Never for a depth-split shape.
 */
export function planBatchShares(threads: number, count: number, m: number, n: number, k: number): number {
  if (threads === 1 || count < 2 || depthParts(m, n, k) > 1 || count * m * n * k < 2 * WASM_THREAD_MIN_VOLUME) return 1;
  if (count < 2 * threads && planShares(threads, m, n, k, MAX_SHARES) > 1) return 1;
  return Math.min(count, MAX_SHARES);
}
