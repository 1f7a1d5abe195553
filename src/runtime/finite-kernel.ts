// finite-kernel.ts: the step guard's kernel. One pass over a float32 array that finds NaN and ±Infinity
// (and, when asked, copies the array on the way), split into planes of FINITE_PLANE elements that the
// threads share: the snapshot before an optimizer step and the check of the updated weights after it
// run at memory speed on every thread instead of in a loop on the calling one.
//
// Per plane p it writes four floats flags[4p … 4p + 3]: lane j holds Σ x·0 over the plane's elements at
// positions ≡ j (mod 4) of its whole quads, and lane 0 also the sum over the plane's last n mod 4
// elements. x·0 is ±0 for a finite x and NaN for NaN or ±∞, and the sums start at +0, so a lane is +0
// exactly when its elements are all finite, and NaN otherwise. The copy moves bits unchanged (loads and
// stores never touch a NaN's payload). The module is built here with the project's encoder, like the
// elementwise kernels, and its twin computes the same flags and copy in TypeScript.
import { defineKernel, type Kernel } from './kernel-table.js';
import { BLOCK_EMPTY, ByteWriter, encodeModule, OP, SIMD, TYPE } from './wasm-encoder.js';

/** Elements per plane (2¹²: a 16 KB slice; the kernel table hands four planes to a task). */
export const FINITE_PLANE = 4096;
const PLANE_LOG2 = 12;

const OP_IF = 0x04;

// Parameters: dst, src, flags (byte addresses), lo, hi (planes), n (elements), copy (1 or 0).
const DST = 0, SRC = 1, FLAGS = 2, LO = 3, HI = 4, N = 5, COPY = 6;
// Locals after them.
const P = 7, I = 8, END = 9, ADDR = 10, ACC = 11, V = 12, ZERO = 13, T = 14, X = 15;

function moduleCode(): Uint8Array {
  const w = new ByteWriter();
  const get = (l: number): ByteWriter => w.op(OP.localGet).u32(l);
  const set = (l: number): ByteWriter => w.op(OP.localSet).u32(l);
  const i32 = (v: number): ByteWriter => w.op(OP.i32Const).s32(v);
  /** Pushes base + 4·index. */
  const address = (base: number, index: number): void => {
    get(base); get(index); i32(2); w.op(OP.i32Shl); w.op(OP.i32Add);
  };
  i32(0); w.simd(SIMD.i32x4Splat); set(ZERO); // all-zero bits: four +0.0f
  get(LO); set(P);
  w.op(OP.block).byte(BLOCK_EMPTY);
  w.op(OP.loop).byte(BLOCK_EMPTY);
  get(P); get(HI); w.op(OP.i32GeU); w.op(OP.brIf).u32(1);
  // i = p · plane; end = min(n, i + plane)
  get(P); i32(PLANE_LOG2); w.op(OP.i32Shl); set(I);
  get(N); get(I); i32(FINITE_PLANE); w.op(OP.i32Add); w.op(OP.localTee).u32(END);
  get(END); get(N); w.op(OP.i32GeU); w.op(OP.select); set(END);
  get(ZERO); set(ACC);
  w.op(OP.f32Const).f32(0); set(T);
  // whole quads
  w.op(OP.block).byte(BLOCK_EMPTY);
  w.op(OP.loop).byte(BLOCK_EMPTY);
  get(END); get(I); i32(4); w.op(OP.i32Add); w.op(OP.i32GeU); w.op(OP.i32Eqz); w.op(OP.brIf).u32(1);
  address(SRC, I); w.simd(SIMD.v128Load).memarg(0, 0); set(V);
  get(COPY); w.op(OP_IF).byte(BLOCK_EMPTY);
  address(DST, I); get(V); w.simd(SIMD.v128Store).memarg(0, 0);
  w.op(OP.end);
  get(ACC); get(V); get(ZERO); w.simd(SIMD.f32x4Mul); w.simd(SIMD.f32x4Add); set(ACC);
  get(I); i32(4); w.op(OP.i32Add); set(I);
  w.op(OP.br).u32(0);
  w.op(OP.end);
  w.op(OP.end);
  // the last n mod 4 elements (only in the last plane)
  w.op(OP.block).byte(BLOCK_EMPTY);
  w.op(OP.loop).byte(BLOCK_EMPTY);
  get(I); get(END); w.op(OP.i32GeU); w.op(OP.brIf).u32(1);
  address(SRC, I); w.op(OP.f32Load).memarg(2, 0); set(X);
  get(COPY); w.op(OP_IF).byte(BLOCK_EMPTY);
  address(DST, I); get(X); w.op(OP.f32Store).memarg(2, 0);
  w.op(OP.end);
  get(T); get(X); w.op(OP.f32Const).f32(0); w.op(OP.f32Mul); w.op(OP.f32Add); set(T);
  get(I); i32(1); w.op(OP.i32Add); set(I);
  w.op(OP.br).u32(0);
  w.op(OP.end);
  w.op(OP.end);
  // flags[4p … 4p + 3] = acc; flags[4p] += t
  get(FLAGS); get(P); i32(4); w.op(OP.i32Shl); w.op(OP.i32Add); w.op(OP.localTee).u32(ADDR);
  get(ACC); w.simd(SIMD.v128Store).memarg(0, 0);
  get(ADDR); get(ADDR); w.op(OP.f32Load).memarg(2, 0); get(T); w.op(OP.f32Add); w.op(OP.f32Store).memarg(2, 0);
  get(P); i32(1); w.op(OP.i32Add); set(P);
  w.op(OP.br).u32(0);
  w.op(OP.end);
  w.op(OP.end);
  return w.finish();
}

/** The twin: the same flags and copy over planes [lo, hi) of ordinary arrays. */
export function finitePassTwin(dst: Float32Array, src: Float32Array, flags: Float32Array, lo: number, hi: number, n: number, copy: number): void {
  for (let p = lo; p < hi; p++) {
    const start = p * FINITE_PLANE;
    const end = Math.min(n, start + FINITE_PLANE);
    const quads = end - ((end - start) & 3);
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let i = start;
    for (; i < quads; i += 4) {
      a0 = Math.fround(a0 + src[i] * 0);
      a1 = Math.fround(a1 + src[i + 1] * 0);
      a2 = Math.fround(a2 + src[i + 2] * 0);
      a3 = Math.fround(a3 + src[i + 3] * 0);
    }
    let t = 0;
    for (; i < end; i++) t = Math.fround(t + src[i] * 0);
    if (copy !== 0) dst.set(src.subarray(start, end), start);
    flags[4 * p] = a0 + t;
    flags[4 * p + 1] = a1;
    flags[4 * p + 2] = a2;
    flags[4 * p + 3] = a3;
  }
}

function finiteModule(shared: boolean): Uint8Array {
  return encodeModule({
    params: [TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32],
    locals: [TYPE.i32, TYPE.i32, TYPE.i32, TYPE.i32, TYPE.v128, TYPE.v128, TYPE.v128, TYPE.f32, TYPE.f32],
    code: moduleCode(),
    exportName: 'run',
    shared,
  });
}

/**
 * `finitePass(dst, src, flags, n, copy)` over planes of {@link FINITE_PLANE}: see the file's header.
 * Run it as `FINITE_PASS.runPlanes(finitePlanes(n), FINITE_PLANE, dst, src, flags, n, copy)`; `flags`
 * needs 4 floats per plane, `dst` (written only when `copy` is 1) at least n.
 */
export const FINITE_PASS: Kernel = defineKernel({
  name: 'finite-pass', arrays: 3, scalars: 2, planes: true,
  twin: finitePassTwin as (...args: never[]) => void,
  wasmModule: finiteModule,
});

/** Planes of an n-element array. */
export function finitePlanes(n: number): number {
  return Math.ceil(n / FINITE_PLANE);
}
