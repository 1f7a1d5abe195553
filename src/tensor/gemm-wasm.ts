// The WebAssembly SIMD gemm backend: compiles the module embedded in sgemm-wasm.generated.ts (built
// from sgemm.wat) on first use, owns the layout of its memory, and runs the cache-block loop nest
// over the module's pack_a / pack_b / macro exports. `gemm` in gemm.ts decides when to call it.

import { SGEMM_RELAXED_WASM, SGEMM_SIMD_WASM } from './sgemm-wasm.generated.js';

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

/** Which module variant runs: `relaxed-simd` (multiply-adds may fuse) or plain `simd`. */
export type WasmGemmVariant = 'relaxed-simd' | 'simd';

// The tsconfig lib (ES2022, no DOM) has no WebAssembly types: declare the little used here.
interface WasmModule { readonly __wasmModule?: never }
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
};

interface SgemmExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  ensure(pages: number): number;
  pack_a(dst: number, src: number, rs: number, cs: number, mc: number, kc: number): void;
  pack_b(dst: number, src: number, rs: number, cs: number, nc: number, kc: number): void;
  macro(kc: number, mc: number, nc: number, pa: number, pb: number, c: number, ldc: number, overwrite: number): void;
}

// Memory layout (bytes): [0, 256) reserved by the module (edge tile), then the packed A block, the
// packed B panel, and the operand regions C, A, B of the current call (C first, at a fixed address,
// so the copy-out views can be cached by length).
const RESERVED = 256;
const PACK_A = RESERVED;
const PACK_B = PACK_A + WASM_GEMM_MC * WASM_GEMM_KC * 4;
const C_BASE = PACK_B + WASM_GEMM_KC * WASM_GEMM_NC * 4;
const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 2 ** 32;
/** Copy-out views kept per distinct m·n before the cache is reset (bounds its size). */
const MAX_CACHED_VIEWS = 64;

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

/** One instance of the module, with its float view of memory and cached copy-out views. */
class WasmSgemm {
  readonly variant: WasmGemmVariant;
  private readonly exports: SgemmExports;
  private heap: Float32Array;
  private readonly outViews: Map<number, Float32Array>;

  constructor(module: WasmModule, variant: WasmGemmVariant) {
    this.variant = variant;
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as SgemmExports;
    this.heap = new Float32Array(this.exports.memory.buffer);
    this.outViews = new Map();
  }

  /** Grows the module's memory to hold `bytes`; throws when wasm32 cannot. */
  private reserve(bytes: number, m: number, n: number, k: number): void {
    if (bytes > MAX_BYTES || this.exports.ensure(Math.ceil(bytes / PAGE)) === 0) {
      throw new Error(`gemm (wasm): cannot grow WebAssembly memory to ${bytes} bytes for m=${m}, n=${n}, k=${k}`);
    }
    if (this.heap.buffer !== this.exports.memory.buffer) {
      // Growing detaches the old buffer: rebuild the view and drop the cached ones.
      this.heap = new Float32Array(this.exports.memory.buffer);
      this.outViews.clear();
    }
  }

  /** The heap view of the C region for an m·n result (cached: steady state allocates nothing). */
  private outView(size: number): Float32Array {
    let view = this.outViews.get(size);
    if (view === undefined) {
      if (this.outViews.size >= MAX_CACHED_VIEWS) this.outViews.clear();
      view = this.heap.subarray(C_BASE >> 2, (C_BASE >> 2) + size);
      this.outViews.set(size, view);
    }
    return view;
  }

  /** See {@link sgemmWasm}. */
  run(
    out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    const sizeC = m * n;
    const sizeA = m * k;
    const sizeB = k * n;
    const aBase = C_BASE + align16(sizeC * 4);
    const bBase = aBase + align16(sizeA * 4);
    this.reserve(bBase + sizeB * 4, m, n, k);
    const heap = this.heap;
    // One copy of each operand in its stored layout; the packers apply the transposes.
    heap.set(a.length === sizeA ? a : a.subarray(0, sizeA), aBase >> 2);
    heap.set(b.length === sizeB ? b : b.subarray(0, sizeB), bBase >> 2);
    if (accumulate) heap.set(out.length === sizeC ? out : out.subarray(0, sizeC), C_BASE >> 2);
    // op(a)[i, p] at a + 4·(i·aRs + p·aCs); op(b)[p, j] at b + 4·(p·bRs + j·bCs).
    const aRs = transA ? 1 : k;
    const aCs = transA ? m : 1;
    const bRs = transB ? 1 : n;
    const bCs = transB ? k : 1;
    const wasm = this.exports;
    for (let jc = 0; jc < n; jc += WASM_GEMM_NC) {
      const nc = Math.min(WASM_GEMM_NC, n - jc);
      for (let pc = 0; pc < k; pc += WASM_GEMM_KC) {
        const kc = Math.min(WASM_GEMM_KC, k - pc);
        // The first depth block overwrites C unless accumulating; later ones add to it.
        const overwrite = pc === 0 && !accumulate ? 1 : 0;
        wasm.pack_b(PACK_B, bBase + 4 * (pc * bRs + jc * bCs), bRs, bCs, nc, kc);
        for (let ic = 0; ic < m; ic += WASM_GEMM_MC) {
          const mc = Math.min(WASM_GEMM_MC, m - ic);
          wasm.pack_a(PACK_A, aBase + 4 * (ic * aRs + pc * aCs), aRs, aCs, mc, kc);
          wasm.macro(kc, mc, nc, PACK_A, PACK_B, C_BASE + 4 * (ic * n + jc), n, overwrite);
        }
      }
    }
    out.set(this.outView(sizeC));
  }
}

// undefined: not tried yet; null: WebAssembly SIMD is not available here.
let instance: WasmSgemm | null | undefined;

function load(): WasmSgemm | null {
  if (instance !== undefined) return instance;
  instance = null;
  if (typeof WebAssembly !== 'object') return instance;
  const relaxed = decodeBase64(SGEMM_RELAXED_WASM);
  if (WebAssembly.validate(relaxed)) {
    instance = new WasmSgemm(new WebAssembly.Module(relaxed), 'relaxed-simd');
    return instance;
  }
  const simd = decodeBase64(SGEMM_SIMD_WASM);
  if (WebAssembly.validate(simd)) instance = new WasmSgemm(new WebAssembly.Module(simd), 'simd');
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
 * The WASM kernel itself: `out[m×n] (+)= op(a)[m×k] · op(b)[k×n]`, contract as `gemm`. It does not
 * check its arguments (`gemm` does: sizes, aliasing, m, n, k > 0) and throws if WebAssembly SIMD is
 * unavailable. Copies a, b (and out when accumulating) into the module's memory once, packs and
 * multiplies there, and copies the m·n result back. The memory grows to the largest call seen
 * (≈ 1.4 MB of panels + 4·(mn + mk + kn) bytes) and is kept. Each output element is a float32 sum over each
 * KC-deep block in increasing p, added to out between blocks: fixed order, bit-reproducible.
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
