// gemm: the one hot primitive (Dense and Conv2D forward/backward all go through it). Dispatches to
// the WebAssembly SIMD kernel (runtime/tasks.ts, runtime/kernels.wat) or to the blocked, packed, register-tiled
// Float32Array kernel here (BLIS-style loop nest), and keeps the naive triple loop as the reference.
//
// Measured with bench/gemm.ts (Node 20.20, AMD EPYC Zen 5 VM, 1 thread), median ms, TS vs WASM:
//   512×512×512          56.2 vs 6.04  (4.8 vs 44.4 GFLOP/s); 128³ 5.3 vs 42.9 GFLOP/s
//   16×576×144 (conv2)   0.63 vs 0.071;  its dW (transB) 0.70 vs 0.086;  its dcol (transA) 0.59 vs 0.096
//   64×784×288 (net004)  6.45 vs 0.66;   32×100×9216 transB (dense fwd) 25 vs 1.9
// WASM wins from m·n·k ≈ 8 up (2×2×2: 0.17 vs 0.20 µs; 4×4×4: 0.18 vs 0.27 µs; 1×1×1 loses by 60 ns),
// hence GEMM_WASM_MIN_VOLUME. TS kernel: the 4×8 tile beat 2×4, 2×8, 3×8, 4×4, 6×4 and 8×4 by 5–25%;
// packing into Float64Array (no float→double conversion in the inner loop) gained only ~3%.
//
// Threads (runtime/gemm-plan.ts, runtime/workers.ts): the WASM kernel splits products of m·n·k ≥ 2·WASM_THREAD_MIN_VOLUME
// across the worker pool. On the 2-core VM shared with other jobs (load 1.6–4.8, so the worker often
// waits for a core), medians of calls interleaved with 1-thread calls in one process, 1 vs 2 threads:
//   512³  44 vs 79–86 GFLOP/s (p10 87);  64³ 36 vs 53 (when the second core is free; 31–33 when not)
//   100×9216×32 tA (dense dW) 38 vs 53–61;  16×576×144 (conv2) 34 vs 33–53 (p10 57)
//   48³ (below the threshold) unchanged; shapes whose worker finds no free core run at ~1-thread speed,
//   because the caller claims the shares nobody has taken (runtime/workers.ts) instead of waiting.
// Several shares per thread (WASM_SHARES_PER_THREAD) were measured at 1, 2, 4 per thread: fewer is
// best on a free core (no repeated packing), more when a core is contended; 4 with a 64-row/column floor.
// Later (commits d09d060 and 330b0b4, same VM idle, before/after in one session): packing op(a) = a and
// op(b) = bᵀ panels through 4×4 register transposes took the conv dW product 16×144×576 tB from 23.8
// to 35.2 GFLOP/s and the dense forward 32×100×9216 tB from 32 to 36 on 1 thread; splitting products
// with a small C and a long depth along k (runtime/gemm-plan.ts, depthParts) took that dense forward from 36 to
// 64 GFLOP/s on 2 threads (it had been split into 2 column shares that each re-packed all of op(a)).

import { sgemmBatchWasm, sgemmWasm, wasmGemmVariant } from '../runtime/tasks.js';

/** Options of {@link gemm}. */
export interface GemmOptions {
  /** `a` is stored as [k×m] and used transposed. */
  readonly transA?: boolean;
  /** `b` is stored as [n×k] and used transposed. */
  readonly transB?: boolean;
  /** Add into `out` instead of overwriting it. */
  readonly accumulate?: boolean;
}

/** Rows of the register tile (micro-kernel height). */
export const GEMM_MR = 4;
/** Columns of the register tile (micro-kernel width). */
export const GEMM_NR = 8;
/**
 * Cache-block sizes: a KC×NC panel of op(b) and an MC×KC block of op(a) are packed per step, so the
 * MC×KC block (64·256·4 B = 64 KiB) stays in L2 and each KC×NR micro-panel of b (8 KiB) in L1.
 * Picked by measurement (bench/gemm.ts, Node 20, AMD EPYC Zen 5, 1 thread) over MC ∈ {32, 64, 128},
 * KC ∈ {128, 256, 512}, NC ∈ {512, 1024, 4096}: the differences between the good settings are
 * within ~10%, these were best or tied on 256³ and the conv shapes.
 */
export const GEMM_MC = 64;
/** Depth of a packed block (see {@link GEMM_MC}). */
export const GEMM_KC = 256;
/** Width of a packed panel of op(b) (see {@link GEMM_MC}). */
export const GEMM_NC = 1024;

// Module-level packing buffers, grown on demand and reused by every call: steady state allocates nothing.
// packA: row panels of MR rows, element (i, p) of panel ip at ip·MR·kc + p·MR + i (zero-padded to MR).
// packB: column panels of NR columns, element (p, j) of panel jp at jp·NR·kc + p·NR + j (zero-padded to NR).
let packA = new Float32Array(0);
let packB = new Float32Array(0);
// Edge tiles (m or n not a multiple of the tile) are computed into this scratch, then the valid part is merged.
const edgeTile = new Float32Array(GEMM_MR * GEMM_NR);

/** Which kernel {@link gemm} runs: `wasm`, `ts`, or `auto` (WASM when available and big enough). */
export type GemmBackend = 'wasm' | 'ts' | 'auto';

const GEMM_BACKENDS: readonly GemmBackend[] = ['wasm', 'ts', 'auto'];

/**
 * With backend `auto`, {@link gemm} runs the WASM kernel when m·n·k reaches this (below it, copying
 * the operands into WebAssembly memory and the call overhead cost more than the faster kernel saves:
 * a few tens of ns). Measured with bench/gemm.ts; see the note at the top of this file.
 */
export const GEMM_WASM_MIN_VOLUME = 8;

let backend: GemmBackend = 'auto';
// Resolved on the first gemm call under `auto` (compiling the module is deferred until then).
let wasmAvailable: boolean | undefined;

/**
 * Chooses the kernel behind {@link gemm} for the whole process: `'wasm'` (the WebAssembly SIMD
 * kernel, runtime/tasks.ts; throws here if this engine has no WebAssembly SIMD), `'ts'` (the TypeScript
 * kernel, {@link gemmTs}), or `'auto'` (the default: WASM when available and m·n·k ≥
 * {@link GEMM_WASM_MIN_VOLUME}). For tests and benchmarks that compare the two.
 */
export function setGemmBackend(choice: GemmBackend): void {
  if (!GEMM_BACKENDS.includes(choice)) {
    throw new Error(`setGemmBackend: backend must be one of ${GEMM_BACKENDS.join(', ')}, got ${String(choice)}`);
  }
  if (choice === 'wasm' && wasmGemmVariant() === null) {
    throw new Error("setGemmBackend: 'wasm' needs WebAssembly SIMD, which this engine does not validate");
  }
  backend = choice;
}

/** The backend chosen with {@link setGemmBackend} (`'auto'` unless changed). */
export function getGemmBackend(): GemmBackend {
  return backend;
}

function useWasm(m: number, n: number, k: number): boolean {
  if (backend === 'ts') return false;
  if (backend === 'wasm') return true;
  if (m * n * k < GEMM_WASM_MIN_VOLUME) return false;
  if (wasmAvailable === undefined) wasmAvailable = wasmGemmVariant() !== null;
  return wasmAvailable;
}

/**
 * `out[m×n] (+)= op(a)[m×k] · op(b)[k×n]`, all row-major, where `op(a)` is `a[m×k]` or, with `transA`,
 * the transpose of `a[k×m]`; `op(b)` is `b[k×n]` or, with `transB`, the transpose of `b[n×k]`.
 * Overwrites `out` (zeros when `k` is 0) unless `accumulate`. `out` must not alias `a` or `b`.
 * Returns `out`. Allocates nothing once its buffers have grown to the largest call.
 *
 * Runs the WebAssembly SIMD kernel or the TypeScript one ({@link gemmTs}), see {@link setGemmBackend}.
 * Either way the summation order is fixed, so the same inputs give the same bits on one machine; the
 * two kernels agree to float32 rounding (WASM sums in float32, the TS kernel in doubles). Large
 * products on the WASM kernel are split across worker threads (setThreads in runtime/workers.ts; default all
 * cores), still synchronously and with the same bits for every thread count.
 */
export function gemm(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  const accumulate = options.accumulate === true;
  if (!needsProduct(out, a, b, m, n, k, accumulate)) return out;
  if (useWasm(m, n, k)) {
    return sgemmWasm(out, a, b, m, n, k, options.transA === true, options.transB === true, accumulate);
  }
  return gemmTsKernel(out, a, b, m, n, k, options.transA === true, options.transB === true, accumulate);
}

/**
 * `count` independent products of one shape and layout: `outs[i] (+)= op(as[i]) · op(bs[i])` for
 * i < count, each with the contract of {@link gemm} (shapes, options, no aliasing of its own
 * operands; the products must not write each other's operands). The same bits as `count` calls of
 * {@link gemm}, for any thread count, but when every array lives in the shared heap and the products
 * are too small to be split over the threads one by one or number at least 2 per thread (the α²
 * products of a Winograd convolution), they run as one job of the worker pool, one product per share,
 * instead of `count` calls that each stay on the calling thread or each cost a dispatch. Allocates nothing.
 */
export function gemmBatch(
  outs: readonly Float32Array[], as: readonly Float32Array[], bs: readonly Float32Array[], count: number,
  m: number, n: number, k: number, options: GemmOptions = {},
): void {
  if (!(Number.isInteger(count) && count >= 0)) throw new Error(`gemmBatch: count must be a non-negative integer, got ${String(count)}`);
  if (outs.length < count || as.length < count || bs.length < count) {
    throw new Error(`gemmBatch: count ${count} exceeds the arrays given (outs ${outs.length}, as ${as.length}, bs ${bs.length})`);
  }
  const accumulate = options.accumulate === true;
  let any = false;
  for (let i = 0; i < count; i++) if (needsProduct(outs[i], as[i], bs[i], m, n, k, accumulate)) any = true;
  if (!any) return;
  if (useWasm(m, n, k)) {
    sgemmBatchWasm(outs, as, bs, count, m, n, k, options.transA === true, options.transB === true, accumulate);
    return;
  }
  for (let i = 0; i < count; i++) gemmTsKernel(outs[i], as[i], bs[i], m, n, k, options.transA === true, options.transB === true, accumulate);
}

/**
 * {@link gemm} on the TypeScript kernel, whatever the backend: the blocked, packed, register-tiled
 * Float32Array kernel, fallback where WebAssembly SIMD is missing and reference for the WASM kernel.
 * Numerics: products are summed in doubles within each KC-deep block and rounded to float32 into
 * `out` between blocks, so results match {@link gemmNaive} to float32 rounding, not bit for bit.
 */
export function gemmTs(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  const accumulate = options.accumulate === true;
  if (!needsProduct(out, a, b, m, n, k, accumulate)) return out;
  return gemmTsKernel(out, a, b, m, n, k, options.transA === true, options.transB === true, accumulate);
}

/**
 * {@link gemm} on the WebAssembly SIMD kernel (runtime/tasks.ts), whatever the backend; throws if this
 * engine has no WebAssembly SIMD. Products are summed in float32 (see {@link sgemmWasm}).
 */
export function gemmWasm(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  const accumulate = options.accumulate === true;
  if (!needsProduct(out, a, b, m, n, k, accumulate)) return out;
  return sgemmWasm(out, a, b, m, n, k, options.transA === true, options.transB === true, accumulate);
}

/** Checks the arguments and handles the empty products; false when nothing is left to compute. */
function needsProduct(
  out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number, accumulate: boolean,
): boolean {
  checkGemmArgs(out, a, b, m, n, k);
  if (m === 0 || n === 0) return false;
  if (k === 0) {
    if (!accumulate) out.fill(0, 0, m * n);
    return false;
  }
  return true;
}

/** The TypeScript kernel proper, on checked arguments with m, n, k > 0. */
function gemmTsKernel(
  out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): Float32Array {
  const mcMax = Math.min(GEMM_MC, m);
  const kcMax = Math.min(GEMM_KC, k);
  const ncMax = Math.min(GEMM_NC, n);
  const needA = roundUp(mcMax, GEMM_MR) * kcMax;
  const needB = roundUp(ncMax, GEMM_NR) * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);

  for (let jc = 0; jc < n; jc += GEMM_NC) {
    const nc = Math.min(GEMM_NC, n - jc);
    for (let pc = 0; pc < k; pc += GEMM_KC) {
      const kc = Math.min(GEMM_KC, k - pc);
      // The first depth block overwrites `out` unless accumulating; later ones add to it.
      const overwrite = pc === 0 && !accumulate;
      if (transB) packBTrans(packB, b, k, pc, kc, jc, nc);
      else packBPlain(packB, b, n, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += GEMM_MC) {
        const mc = Math.min(GEMM_MC, m - ic);
        if (transA) packATrans(packA, a, m, pc, kc, ic, mc);
        else packAPlain(packA, a, k, pc, kc, ic, mc);
        for (let jr = 0; jr < nc; jr += GEMM_NR) {
          const nr = Math.min(GEMM_NR, nc - jr);
          const bOff = jr * kc;
          for (let ir = 0; ir < mc; ir += GEMM_MR) {
            const mr = Math.min(GEMM_MR, mc - ir);
            const aOff = ir * kc;
            const cOff = (ic + ir) * n + jc + jr;
            if (mr === GEMM_MR && nr === GEMM_NR) {
              microKernel(kc, packA, aOff, packB, bOff, out, cOff, n, overwrite);
            } else {
              microKernel(kc, packA, aOff, packB, bOff, edgeTile, 0, GEMM_NR, true);
              mergeEdge(out, cOff, n, mr, nr, overwrite);
            }
          }
        }
      }
    }
  }
  return out;
}

function roundUp(x: number, r: number): number {
  return Math.ceil(x / r) * r;
}

function checkGemmArgs(out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number): void {
  if (!(Number.isInteger(m) && Number.isInteger(n) && Number.isInteger(k) && m >= 0 && n >= 0 && k >= 0)) {
    throw new Error(`gemm: m, n, k must be non-negative integers, got m=${m}, n=${n}, k=${k}`);
  }
  if (out.length < m * n) throw new Error(`gemm: out has ${out.length} elements, needs m·n = ${m}·${n} = ${m * n}`);
  if (a.length < m * k) throw new Error(`gemm: a has ${a.length} elements, needs m·k = ${m}·${k} = ${m * k}`);
  if (b.length < k * n) throw new Error(`gemm: b has ${b.length} elements, needs k·n = ${k}·${n} = ${k * n}`);
  if (m * n > 0 && (overlaps(out, a) || overlaps(out, b))) {
    throw new Error('gemm: out must not alias a or b');
  }
}

/** Whether two views share any bytes of one buffer. */
function overlaps(x: Float32Array, y: Float32Array): boolean {
  if (x.buffer !== y.buffer) return false;
  const x0 = x.byteOffset;
  const y0 = y.byteOffset;
  return x0 < y0 + y.byteLength && y0 < x0 + x.byteLength;
}

// ---- packing ---------------------------------------------------------------------------------
// Each packer copies one block of op(x) into the micro-panel layout above; tails are zero-padded
// so the micro-kernel always runs a full tile.

/** op(a) = a[m×k]: a[i, p] at i·k + p. */
function packAPlain(dst: Float32Array, a: Float32Array, k: number, pc: number, kc: number, ic: number, mc: number): void {
  for (let ip = 0; ip < mc; ip += GEMM_MR) {
    const rows = Math.min(GEMM_MR, mc - ip);
    const panel = ip * kc;
    for (let i = 0; i < GEMM_MR; i++) {
      let d = panel + i;
      if (i >= rows) {
        for (let p = 0; p < kc; p++, d += GEMM_MR) dst[d] = 0;
        continue;
      }
      const src = (ic + ip + i) * k + pc;
      for (let p = 0; p < kc; p++, d += GEMM_MR) dst[d] = a[src + p];
    }
  }
}

/** op(a) = aᵀ with a stored [k×m]: op(a)[i, p] = a[p·m + i]. */
function packATrans(dst: Float32Array, a: Float32Array, m: number, pc: number, kc: number, ic: number, mc: number): void {
  for (let ip = 0; ip < mc; ip += GEMM_MR) {
    const rows = Math.min(GEMM_MR, mc - ip);
    let d = ip * kc;
    for (let p = 0; p < kc; p++, d += GEMM_MR) {
      const src = (pc + p) * m + ic + ip;
      if (rows === GEMM_MR) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        dst[d + 3] = a[src + 3];
      } else {
        for (let i = 0; i < GEMM_MR; i++) dst[d + i] = i < rows ? a[src + i] : 0;
      }
    }
  }
}

/** op(b) = b[k×n]: b[p, j] at p·n + j. */
function packBPlain(dst: Float32Array, b: Float32Array, n: number, pc: number, kc: number, jc: number, nc: number): void {
  for (let jp = 0; jp < nc; jp += GEMM_NR) {
    const cols = Math.min(GEMM_NR, nc - jp);
    let d = jp * kc;
    for (let p = 0; p < kc; p++, d += GEMM_NR) {
      const src = (pc + p) * n + jc + jp;
      if (cols === GEMM_NR) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        dst[d + 4] = b[src + 4];
        dst[d + 5] = b[src + 5];
        dst[d + 6] = b[src + 6];
        dst[d + 7] = b[src + 7];
      } else {
        for (let j = 0; j < GEMM_NR; j++) dst[d + j] = j < cols ? b[src + j] : 0;
      }
    }
  }
}

/** op(b) = bᵀ with b stored [n×k]: op(b)[p, j] = b[j·k + p]. */
function packBTrans(dst: Float32Array, b: Float32Array, k: number, pc: number, kc: number, jc: number, nc: number): void {
  for (let jp = 0; jp < nc; jp += GEMM_NR) {
    const cols = Math.min(GEMM_NR, nc - jp);
    const panel = jp * kc;
    for (let j = 0; j < GEMM_NR; j++) {
      let d = panel + j;
      if (j >= cols) {
        for (let p = 0; p < kc; p++, d += GEMM_NR) dst[d] = 0;
        continue;
      }
      const src = (jc + jp + j) * k + pc;
      for (let p = 0; p < kc; p++, d += GEMM_NR) dst[d] = b[src + p];
    }
  }
}

// ---- micro-kernel ----------------------------------------------------------------------------

/**
 * c[MR×NR tile at cOff, row stride ldc] (+)= packed A panel (MR×kc) · packed B panel (kc×NR).
 * The 4×8 tile lives in 32 local doubles; each step of p reads 4 values of A and 8 of B.
 */
function microKernel(
  kc: number, pa: Float32Array, aOff: number, pb: Float32Array, bOff: number,
  c: Float32Array, cOff: number, ldc: number, overwrite: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  let ai = aOff;
  let bi = bOff;
  for (let p = 0; p < kc; p++, ai += 4, bi += 8) {
    const a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
    const b0 = pb[bi], b1 = pb[bi + 1], b2 = pb[bi + 2], b3 = pb[bi + 3];
    const b4 = pb[bi + 4], b5 = pb[bi + 5], b6 = pb[bi + 6], b7 = pb[bi + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
  }
  let o = cOff;
  if (overwrite) {
    c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03;
    c[o + 4] = c04; c[o + 5] = c05; c[o + 6] = c06; c[o + 7] = c07;
    o += ldc;
    c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13;
    c[o + 4] = c14; c[o + 5] = c15; c[o + 6] = c16; c[o + 7] = c17;
    o += ldc;
    c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23;
    c[o + 4] = c24; c[o + 5] = c25; c[o + 6] = c26; c[o + 7] = c27;
    o += ldc;
    c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
    c[o + 4] = c34; c[o + 5] = c35; c[o + 6] = c36; c[o + 7] = c37;
  } else {
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03;
    c[o + 4] += c04; c[o + 5] += c05; c[o + 6] += c06; c[o + 7] += c07;
    o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13;
    c[o + 4] += c14; c[o + 5] += c15; c[o + 6] += c16; c[o + 7] += c17;
    o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23;
    c[o + 4] += c24; c[o + 5] += c25; c[o + 6] += c26; c[o + 7] += c27;
    o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    c[o + 4] += c34; c[o + 5] += c35; c[o + 6] += c36; c[o + 7] += c37;
  }
}

/** Copies (or adds) the valid mr×nr corner of {@link edgeTile} into out at cOff (row stride ldc). */
function mergeEdge(out: Float32Array, cOff: number, ldc: number, mr: number, nr: number, overwrite: boolean): void {
  for (let i = 0; i < mr; i++) {
    const o = cOff + i * ldc;
    const t = i * GEMM_NR;
    if (overwrite) for (let j = 0; j < nr; j++) out[o + j] = edgeTile[t + j];
    else for (let j = 0; j < nr; j++) out[o + j] += edgeTile[t + j];
  }
}

/**
 * The naive triple loop, kept as the reference the fast kernels are tested against: same contract
 * as {@link gemm}. Accumulates each dot product in a double and rounds once.
 */
export function gemmNaive(
  out: Float32Array, a: Float32Array, b: Float32Array,
  m: number, n: number, k: number, options: GemmOptions = {},
): Float32Array {
  const { transA = false, transB = false, accumulate = false } = options;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      out[i * n + j] = accumulate ? out[i * n + j] + s : s;
    }
  }
  return out;
}
