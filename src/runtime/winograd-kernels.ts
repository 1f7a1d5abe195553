// winograd-kernels.ts: the kernel-table entries of the Winograd convolution F(m×m, 3×3), m = 2 or 4
// (tensor/winograd.ts): input packing, input / filter / output transforms (kernels.wat, f32x4 over 4
// channels) and their TypeScript twins, which hold the same bits (every operation rounded to float32 in the same order).
import { defineKernel } from './kernel-table.js';

const f = Math.fround;

// The float32 constants of the F(4,3) filter transform (Lavin & Gray's G), as kernels.wat writes them.
const C4 = f(0.25);
const C6 = f(1 / 6);
const CN6 = f(-1 / 6);
const C12 = f(1 / 12);
const C24 = f(1 / 24);

/** Bᵀd of F(2,3) on a[s + i·ss] → a[d + i·ds] (loads all, then stores: may run in place). */
function bt4(src: Float32Array, s: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const d0 = src[s], d1 = src[s + ss], d2 = src[s + 2 * ss], d3 = src[s + 3 * ss];
  dst[d] = f(d0 - d2);
  dst[d + ds] = f(d1 + d2);
  dst[d + 2 * ds] = f(d2 - d1);
  dst[d + 3 * ds] = f(d1 - d3);
}

/** Bᵀd of F(4,3), 6 → 6. */
function bt6(src: Float32Array, s: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const d0 = src[s], d1 = src[s + ss], d2 = src[s + 2 * ss], d3 = src[s + 3 * ss], d4 = src[s + 4 * ss], d5 = src[s + 5 * ss];
  dst[d] = f(f(f(d0 * 4) - f(d2 * 5)) + d4);
  dst[d + ds] = f(f(d3 + d4) - f(f(d1 + d2) * 4));
  dst[d + 2 * ds] = f(f(d4 - d3) + f(f(d1 - d2) * 4));
  const a = f(d4 - d2);
  const b = f(f(d3 - d1) * 2);
  dst[d + 3 * ds] = f(a + b);
  dst[d + 4 * ds] = f(a - b);
  dst[d + 5 * ds] = f(f(f(d1 * 4) - f(d3 * 5)) + d5);
}

/** Gg of F(2,3), 3 → 4. */
function g4(a: Float32Array, s: number, ss: number, d: number, ds: number): void {
  const g0 = a[s], g1 = a[s + ss], g2 = a[s + 2 * ss];
  const t = f(g0 + g2);
  a[d] = g0;
  a[d + ds] = f(f(t + g1) * 0.5);
  a[d + 2 * ds] = f(f(t - g1) * 0.5);
  a[d + 3 * ds] = g2;
}

/** Gg of F(4,3), 3 → 6. */
function g6(a: Float32Array, s: number, ss: number, d: number, ds: number): void {
  const g0 = a[s], g1 = a[s + ss], g2 = a[s + 2 * ss];
  const t = f(g0 + g2);
  const c = f(f(g0 * C24) + f(g2 * C6));
  const e = f(g1 * C12);
  a[d] = f(g0 * C4);
  a[d + ds] = f(f(t + g1) * CN6);
  a[d + 2 * ds] = f(f(t - g1) * CN6);
  a[d + 3 * ds] = f(c + e);
  a[d + 4 * ds] = f(c - e);
  a[d + 5 * ds] = g2;
}

/** Aᵀm of F(2,3), 4 → 2. */
function at4(src: Float32Array, s: number, ss: number, a: Float32Array, d: number, ds: number): void {
  const m0 = src[s], m1 = src[s + ss], m2 = src[s + 2 * ss], m3 = src[s + 3 * ss];
  a[d] = f(f(m0 + m1) + m2);
  a[d + ds] = f(f(m1 - m2) - m3);
}

/** Aᵀm of F(4,3), 6 → 4. */
function at6(src: Float32Array, s: number, ss: number, a: Float32Array, d: number, ds: number): void {
  const m0 = src[s], m1 = src[s + ss], m2 = src[s + 2 * ss], m3 = src[s + 3 * ss], m4 = src[s + 4 * ss], m5 = src[s + 5 * ss];
  const s12 = f(m1 + m2), d12 = f(m1 - m2), s34 = f(m3 + m4), d34 = f(m3 - m4);
  a[d] = f(f(m0 + s12) + s34);
  a[d + ds] = f(d12 + f(d34 * 2));
  a[d + 2 * ds] = f(s12 + f(s34 * 4));
  a[d + 3 * ds] = f(f(d12 + f(d34 * 8)) + m5);
}

/** A·v of F(2,3) (the adjoint of Aᵀ), 2 → 4 (loads all, then stores: may run in place). */
function a4(src: Float32Array, s: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const v0 = src[s], v1 = src[s + ss];
  dst[d] = v0;
  dst[d + ds] = f(v0 + v1);
  dst[d + 2 * ds] = f(v0 - v1);
  dst[d + 3 * ds] = -v1;
}

/** A·v of F(4,3), 4 → 6. */
function a6(src: Float32Array, s: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const v0 = src[s], v1 = src[s + ss], v2 = src[s + 2 * ss], v3 = src[s + 3 * ss];
  const e = f(v0 + v2), o = f(v1 + v3);
  const e4 = f(v0 + f(v2 * 4)), o4 = f(f(v1 + f(v3 * 4)) * 2);
  dst[d] = v0;
  dst[d + ds] = f(e + o);
  dst[d + 2 * ds] = f(e - o);
  dst[d + 3 * ds] = f(e4 + o4);
  dst[d + 4 * ds] = f(e4 - o4);
  dst[d + 5 * ds] = v3;
}

/** Gᵀu of F(2,3) (the adjoint of G), 4 → 3, in place. */
function gt4(a: Float32Array, s: number, ss: number): void {
  const u0 = a[s], u1 = a[s + ss], u2 = a[s + 2 * ss], u3 = a[s + 3 * ss];
  const h = f(f(u1 + u2) * 0.5);
  a[s] = f(u0 + h);
  a[s + ss] = f(f(u1 - u2) * 0.5);
  a[s + 2 * ss] = f(h + u3);
}

/** Gᵀu of F(4,3), 6 → 3, in place. */
function gt6(a: Float32Array, s: number, ss: number): void {
  const u0 = a[s], u1 = a[s + ss], u2 = a[s + 2 * ss], u3 = a[s + 3 * ss], u4 = a[s + 4 * ss], u5 = a[s + 5 * ss];
  const s12 = f(u1 + u2), d12 = f(u1 - u2), s34 = f(u3 + u4), d34 = f(u3 - u4);
  a[s] = f(f(u0 * C4) + f(f(s34 * C24) - f(s12 * C6)));
  a[s + ss] = f(f(d34 * C12) - f(d12 * C6));
  a[s + 2 * ss] = f(f(f(s34 - s12) * C6) + u5);
}

/** Twin of kernels.wat `winogradPack` (see {@link WINOGRAD_PACK}). */
export function winogradPackTwin(
  xb: Float32Array, x: Float32Array, p0: number, p1: number, C: number, H: number, W: number,
  padH: number, padW: number, Hp: number, Wp: number, b0: number,
): void {
  const blocks = Math.ceil(C / 4);
  for (let p = p0; p < p1; p++) {
    const cb = p % blocks;
    const gi = (p - cb) / blocks;
    const cEnd = Math.min(C, 4 * cb + 4);
    for (let c = 4 * cb; c < cEnd; c++) {
      // x[b, c, h, w] at ((b·C + c)·H + h)·W + w; xb[p, h, w, l] at ((p·Hp + h)·Wp + w)·4 + l
      let src = ((b0 + gi) * C + c) * H * W;
      let dst = ((p * Hp + padH) * Wp + padW) * 4 + (c & 3);
      for (let h = 0; h < H; h++, dst += 4 * Wp) {
        for (let w = 0; w < W; w++) xb[dst + 4 * w] = x[src++];
      }
    }
  }
}

/** Twin of kernels.wat `winogradInput` (see {@link WINOGRAD_INPUT}). */
export function winogradInputTwin(
  V: Float32Array, xb: Float32Array, S: Float32Array, p0: number, p1: number, m: number, blocks: number,
  tilesH: number, tilesW: number, Hp: number, Wp: number, slot: number, C4: number,
): void {
  const a = m + 2;
  const bt = m === 2 ? bt4 : bt6;
  for (let p = p0; p < p1; p++) {
    const th = p % tilesH;
    const gi = (p - th) / tilesH;
    const sp = p * a * a * 4;
    for (let tw = 0; tw < tilesW; tw++) {
      for (let cb = 0; cb < blocks; cb++) {
        // xb[gi, cb, h, w, l] at (((gi·blocks + cb)·Hp + h)·Wp + w)·4 + l
        const src = (((gi * blocks + cb) * Hp + th * m) * Wp + tw * m) * 4;
        const dst = (p * tilesW + tw) * C4 + 4 * cb;
        for (let l = 0; l < 4; l++) {
          for (let s = 0; s < a; s++) bt(xb, src + 4 * s + l, 4 * Wp, S, sp + 4 * s + l, 4 * a);
          for (let k = 0; k < a; k++) bt(S, sp + 4 * a * k + l, 4, V, dst + k * a * slot + l, slot);
        }
      }
    }
  }
}

/** Twin of kernels.wat `winogradFilter` (see {@link WINOGRAD_FILTER}). */
export function winogradFilterTwin(
  U: Float32Array, w: Float32Array, p0: number, p1: number, m: number, C: number, O: number,
  sO: number, sC: number, flip: number, slot: number, O4: number,
): void {
  void C;
  const a = m + 2;
  const g = m === 2 ? g4 : g6;
  const blocks = Math.ceil(O / 4);
  for (let p = p0; p < p1; p++) {
    const ob = p % blocks;
    const c = (p - ob) / blocks;
    const o0 = 4 * ob;
    const dst = c * O4 + o0;
    for (let l = 0; l < 4; l++) {
      const o = o0 + l;
      for (let r = 0; r < 9; r++) {
        const tap = flip === 1 ? 8 - r : r;
        U[dst + slot * (Math.floor(r / 3) * a + (r % 3)) + l] = o < O ? w[o * sO + c * sC + tap] : 0;
      }
      for (let s = 0; s < 3; s++) g(U, dst + s * slot + l, a * slot, dst + s * slot + l, a * slot);
      for (let k = 0; k < a; k++) g(U, dst + k * a * slot + l, slot, dst + k * a * slot + l, slot);
    }
  }
}

/** Twin of kernels.wat `winogradOutput` (see {@link WINOGRAD_OUTPUT}). */
export function winogradOutputTwin(
  y: Float32Array, M: Float32Array, bias: Float32Array, S: Float32Array, p0: number, p1: number, m: number, O: number,
  tilesH: number, tilesW: number, outH: number, outW: number, slot: number, O4: number, relu: number, b0: number,
): void {
  const a = m + 2;
  const at = m === 2 ? at4 : at6;
  const blocks = Math.ceil(O / 4);
  const plane = outH * outW;
  for (let p = p0; p < p1; p++) {
    const th = p % tilesH;
    const gi = (p - th) / tilesH;
    const sp = p * a * a * 4;
    const kEnd = Math.min(m, outH - th * m);
    for (let tw = 0; tw < tilesW; tw++) {
      const lEnd = Math.min(m, outW - tw * m);
      for (let ob = 0; ob < blocks; ob++) {
        const o0 = 4 * ob;
        const lanes = Math.min(4, O - o0);
        const src = (p * tilesW + tw) * O4 + o0;
        for (let q = 0; q < 4; q++) {
          for (let s = 0; s < a; s++) at(M, src + s * slot + q, a * slot, S, sp + 4 * s + q, 4 * a);
          for (let k = 0; k < kEnd; k++) at(S, sp + 4 * a * k + q, 4, S, sp + 4 * a * k + q, 4);
          if (q >= lanes) continue;
          const bo = bias[o0 + q];
          // y[b, o, h, w] at ((b·O + o)·outH + h)·outW + w
          const yAt = ((b0 + gi) * O + o0 + q) * plane + th * m * outW + tw * m;
          for (let k = 0; k < kEnd; k++) {
            for (let l = 0; l < lEnd; l++) {
              const v = f(S[sp + 4 * (a * k + l) + q] + bo);
              y[yAt + k * outW + l] = relu === 1 && v <= 0 ? 0 : v;
            }
          }
        }
      }
    }
  }
}

/** Twin of kernels.wat `winogradOutputGrad` (see {@link WINOGRAD_OUTPUT_GRAD}). */
export function winogradOutputGradTwin(
  M: Float32Array, dy: Float32Array, S: Float32Array, p0: number, p1: number, m: number, O: number,
  tilesH: number, tilesW: number, outH: number, outW: number, slot: number, O4: number, b0: number,
): void {
  const a = m + 2;
  const av = m === 2 ? a4 : a6;
  const blocks = Math.ceil(O / 4);
  const plane = outH * outW;
  for (let p = p0; p < p1; p++) {
    const th = p % tilesH;
    const gi = (p - th) / tilesH;
    const sp = p * a * a * 4;
    const kEnd = Math.min(m, outH - th * m);
    for (let tw = 0; tw < tilesW; tw++) {
      const lEnd = Math.min(m, outW - tw * m);
      for (let ob = 0; ob < blocks; ob++) {
        const o0 = 4 * ob;
        const lanes = Math.min(4, O - o0);
        // dy[b, o, h, w] at ((b·O + o)·outH + h)·outW + w
        const yAt = ((b0 + gi) * O + o0) * plane + th * m * outW + tw * m;
        const dst = (p * tilesW + tw) * O4 + o0;
        for (let q = 0; q < 4; q++) {
          for (let k = 0; k < m; k++) {
            for (let l = 0; l < m; l++) {
              S[sp + 4 * (a * k + l) + q] = q < lanes && k < kEnd && l < lEnd ? dy[yAt + q * plane + k * outW + l] : 0;
            }
          }
          for (let l = 0; l < m; l++) av(S, sp + 4 * l + q, 4 * a, S, sp + 4 * l + q, 4 * a);
          for (let k = 0; k < a; k++) av(S, sp + 4 * a * k + q, 4, M, dst + k * a * slot + q, slot);
        }
      }
    }
  }
}

/** Twin of kernels.wat `winogradFilterGrad` (see {@link WINOGRAD_FILTER_GRAD}). */
export function winogradFilterGradTwin(
  dW: Float32Array, dU: Float32Array, p0: number, p1: number, m: number, C: number, O: number, slot: number, O4: number,
): void {
  const a = m + 2;
  const gt = m === 2 ? gt4 : gt6;
  const blocks = Math.ceil(O / 4);
  for (let p = p0; p < p1; p++) {
    const ob = p % blocks;
    const c = (p - ob) / blocks;
    const o0 = 4 * ob;
    const src = c * O4 + o0;
    for (let q = 0; q < 4; q++) {
      for (let j = 0; j < a; j++) gt(dU, src + j * slot + q, a * slot);
      for (let i = 0; i < 3; i++) gt(dU, src + i * a * slot + q, slot);
      if (o0 + q >= O) continue;
      // dW[o, c, i, j] at (o·C + c)·9 + i·3 + j
      const wAt = ((o0 + q) * C + c) * 9;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) dW[wAt + i * 3 + j] = f(dW[wAt + i * 3 + j] + dU[src + (i * a + j) * slot + q]);
      }
    }
  }
}

/**
 * winogradPack(xb, x, lo, hi, C, H, W, padH, padW, Hp, Wp, b0): planes (image gi, block of 4 channels)
 * [lo, hi): xb[gi, cb, h + padH, w + padW, l] = x[b0 + gi, 4·cb + l, h, w]; nothing else of xb is
 * written (its zero border and missing channels stay 0).
 */
export const WINOGRAD_PACK = defineKernel({ name: 'winograd-pack', arrays: 2, scalars: 8, planes: true, twin: winogradPackTwin, wasmExport: 'winogradPack' });
/**
 * winogradInput(V, xb, S, lo, hi, m, blocks, tilesH, tilesW, Hp, Wp, slot, C4): planes (image, tile row)
 * [lo, hi): V[t·slot + tile·C4 + 4·cb + l] = (Bᵀ d B)[t] of each tile's α×α patch of xb (α = m + 2);
 * S is scratch, α²·4 floats per plane.
 */
export const WINOGRAD_INPUT = defineKernel({ name: 'winograd-input', arrays: 3, scalars: 8, planes: true, twin: winogradInputTwin, wasmExport: 'winogradInput' });
/**
 * winogradFilter(U, w, lo, hi, m, C, O, sO, sC, flip, slot, O4): planes (c, block of 4 filters) [lo, hi):
 * U[t·slot + c·O4 + o] = (G g Gᵀ)[t] of the 3×3 filter w[o·sO + c·sC + tap] (tap flipped when flip = 1).
 */
export const WINOGRAD_FILTER = defineKernel({ name: 'winograd-filter', arrays: 2, scalars: 8, planes: true, twin: winogradFilterTwin, wasmExport: 'winogradFilter' });
/**
 * winogradOutput(y, M, bias, S, lo, hi, m, O, tilesH, tilesW, outH, outW, slot, O4, relu, b0): planes
 * (image, tile row) [lo, hi): y = Aᵀ M A + bias (ReLU when relu = 1) in NCHW, edge tiles cut to
 * outH × outW; S is scratch, α²·4 floats per plane.
 */
export const WINOGRAD_OUTPUT = defineKernel({ name: 'winograd-output', arrays: 4, scalars: 10, planes: true, twin: winogradOutputTwin, wasmExport: 'winogradOutput' });
/**
 * winogradOutputGrad(M, dy, S, lo, hi, m, O, tilesH, tilesW, outH, outW, slot, O4, b0): planes (image,
 * tile row) [lo, hi): the adjoint of {@link WINOGRAD_OUTPUT}'s transform, M[t·slot + tile·O4 + o] =
 * (A dY Aᵀ)[t] of each tile's m×m block of dy[b0 + image, o] (zero outside outH × outW and for o ≥ O);
 * S is scratch, α²·4 floats per plane.
 */
export const WINOGRAD_OUTPUT_GRAD = defineKernel({ name: 'winograd-output-grad', arrays: 3, scalars: 9, planes: true, twin: winogradOutputGradTwin, wasmExport: 'winogradOutputGrad' });
/**
 * winogradFilterGrad(dW, dU, lo, hi, m, C, O, slot, O4): planes (c, block of 4 filters) [lo, hi): the
 * adjoint of {@link WINOGRAD_FILTER}'s transform, dW[o, c, i, j] += (Gᵀ dU G)[i, j] of
 * dU[t·slot + c·O4 + o] (dU is overwritten: the transform runs in place).
 */
export const WINOGRAD_FILTER_GRAD = defineKernel({ name: 'winograd-filter-grad', arrays: 2, scalars: 5, planes: true, twin: winogradFilterGradTwin, wasmExport: 'winogradFilterGrad' });
