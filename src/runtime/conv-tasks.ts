// conv-tasks.ts: the per-chunk work of Conv2D's stride-1 "wide" engine (src/tensor/conv2d-engine.ts;
// a chunk = `group` images) as plain functions over one heap of memory, so the same code runs on the
// calling thread and, over the WebAssembly module's shared memory, on the worker threads (tasks.ts
// hands their source text to the pool). Each task writes only its own chunk's outputs and its own
// thread's scratch, so any split over threads gives the same bits. The bias/ReLU store and the masked
// dy load run as SIMD exports of the module (kernels.wat; `X`, see ConvExports) where it is loaded.
//
// The functions must stay self-contained: no imports, no module-level names, no closures or nested
// functions (their `toString()` is evaluated in a worker). Addresses are byte offsets into the heap.
// Bulk copies go through `copyAt` (the module's memory.copy), never TypedArray copyWithin / set /
// fill on the heap: on a shared buffer engines run those element by element (18–25× slower).

/** Multiplies on the heap: C[m×n] (+)= op(A)·op(B), op(A)[i,p] at a + 4(i·aRs + p·aCs), likewise B; the WASM `gemm` export's signature. */
export type HeapGemm = (
  m: number, n: number, k: number, a: number, aRs: number, aCs: number, b: number, bRs: number,
  bCs: number, c: number, ldc: number, accumulate: number, work: number,
) => void;

/** Copies `bytes` bytes from src to dst on the heap (memmove): the WASM `copy` export (memory.copy). */
export type HeapCopy = (dst: number, src: number, bytes: number) => void;

/**
 * Pads G images (float index `src`, each C×H×W) into xp[G, C, Hp, Wp] (float index `xp`; the border
 * is never written, so it stays 0) and unfolds them into col[C·kH·kW, G·outH·Wp] at float index
 * `region`: col[(c·kH + i)·kW + j, gi·L + p] = xp[gi, c][i·Wp + j + p], p < L = outH·Wp — one
 * contiguous run per kernel tap and image, copied with copyAt.
 */
export function convColumnsKernel(
  copyAt: HeapCopy, src: number, G: number, C: number, H: number, W: number, hp: number, wp: number,
  padH: number, padW: number, kH: number, kW: number, xp: number, region: number,
): void {
  const imageLen = C * hp * wp;
  const wideLen = (hp - kH + 1) * wp;
  for (let gi = 0; gi < G; gi++) {
    for (let c = 0; c < C; c++) {
      let dst = xp + gi * imageLen + (c * hp + padH) * wp + padW;
      for (let h = 0; h < H; h++, dst += wp, src += W) copyAt(dst << 2, src << 2, W << 2);
    }
  }
  let row = region;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        for (let gi = 0; gi < G; gi++, row += wideLen) {
          copyAt(row << 2, (xp + gi * imageLen + (c * hp + i) * wp + j) << 2, wideLen << 2);
        }
      }
    }
  }
}

/** Task ids (word 13 of a pool share; 0 is a plain gemm share). */
export const CONV_FORWARD_TASK = 1;
export const CONV_BACKWARD_TASK = 2;

/** Int32 words of a conv task descriptor. */
export const CONV_DESC_WORDS = 40;
/** Descriptor word offsets (see {@link convForwardTask}). */
export const D = {
  channels: 0, height: 1, width: 2, kH: 3, kW: 4, padH: 5, padW: 6, outH: 7, outW: 8, filters: 9, group: 10,
  hp: 11, wp: 12, hq: 13, wq: 14,
  x: 15, y: 16, w: 17, bias: 18, dy: 19, dx: 20, wFlip: 21, dWPart: 22, biasPart: 23,
  scratch: 24, scratchStride: 25, xp: 26, dyp: 27, region: 28, yWide: 29, dyWide: 30, dxWide: 31, relu: 32,
} as const;

/**
 * Forward of chunks [lo, hi): for each chunk of G images, pads them into the thread's xp, unfolds
 * one contiguous run per kernel tap into col (the region), y_wide = W · col (one gemm), and writes
 * the valid columns plus the bias into y in NCHW, through a ReLU when descriptor word `relu` is 1
 * (+0 for v ≤ 0, v elsewhere so a NaN passes, the bits of the relu kernel). Descriptor at byte `desc` (int32 words, see D):
 * geometry, x / y / w / bias addresses (bias 0 = none), and the thread scratch at
 * scratch + slot·scratchStride with the float offsets xp, region and yWide inside it.
 */
export function convForwardTask(
  f32: Float32Array, _f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  slot: number, work: number, gemmAt: HeapGemm, copyAt: HeapCopy, K: TaskHelpers, X?: ConvExports,
): void {
  const d = desc >>> 2;
  const C = i32[d], H = i32[d + 1], W = i32[d + 2], kH = i32[d + 3], kW = i32[d + 4];
  const padH = i32[d + 5], padW = i32[d + 6], outH = i32[d + 7], outW = i32[d + 8], F = i32[d + 9], G = i32[d + 10];
  const hp = i32[d + 11], wp = i32[d + 12];
  const xF = i32[d + 15] >>> 2, yF = i32[d + 16] >>> 2, wA = i32[d + 17], biasA = i32[d + 18];
  const base = (i32[d + 24] + slot * i32[d + 25]) >>> 2;
  const xp = base + i32[d + 26], region = base + i32[d + 28], yWide = base + i32[d + 29];
  const fuseRelu = i32[d + 32] === 1;
  const wideLen = outH * wp;
  const wideN = G * wideLen;
  const ckk = C * kH * kW;
  const inSize = C * H * W;
  const ohw = outH * outW;
  for (let chunk = lo; chunk < hi; chunk++) {
    const b0 = chunk * G;
    K.convColumns(copyAt, xF + b0 * inSize, G, C, H, W, hp, wp, padH, padW, kH, kW, xp, region);
    gemmAt(F, wideN, ckk, wA, ckk, 1, region << 2, wideN, 1, yWide << 2, wideN, 0, work);
    // y[b0 + gi, o, oh, ow] = y_wide[o, gi·L + oh·Wp + ow] + bias[o]
    for (let gi = 0; gi < G; gi++) {
      for (let o = 0; o < F; o++) {
        const bo = biasA === 0 ? 0 : f32[(biasA >>> 2) + o];
        let dst = yF + ((b0 + gi) * F + o) * ohw;
        let from = yWide + o * wideN + gi * wideLen;
        if (X !== undefined) {
          X.biasRows(dst << 2, from << 2, wp, outH, outW, bo, fuseRelu ? 1 : 0);
        } else if (fuseRelu) {
          for (let oh = 0; oh < outH; oh++, from += wp) {
            for (let ow = 0; ow < outW; ow++) {
              const v = f32[from + ow] + bo;
              f32[dst++] = v <= 0 ? 0 : v;
            }
          }
        } else {
          for (let oh = 0; oh < outH; oh++, from += wp) {
            for (let ow = 0; ow < outW; ow++) f32[dst++] = f32[from + ow] + bo;
          }
        }
      }
    }
  }
}

/**
 * Backward of chunks [lo, hi): for each chunk, copies dy — zeroed where y ≤ 0 when the forward fused a
 * ReLU (word `relu`; a NaN y passes dy), the bits of the reluBackward kernel — into the wide layout (dyWide; junk columns
 * stay 0) and, when dx is wanted, into the padded dyp (border stays 0), sums each channel into the chunk's float64 bias
 * partial (biasPart[chunk·F + o], when bias ≠ 0; with the module's exports X, its maskRows does the
 * load and sums each image's rows in its fixed order), re-unfolds the chunk's input into col, writes the
 * chunk's weight-gradient partial dWPart[chunk] = dy_wide · colᵀ, and, when dx ≠ 0, computes dx as
 * the full correlation of dyp with the flipped kernels (wFlip[C, F·kH·kW]): one unfold of dyp per tap
 * (dycol, in the region), one gemm onto the H × Wq grid (dxWide), and the valid columns into dx.
 * The caller sums the partials over chunks in chunk order, so the result does not depend on which
 * thread ran which chunk.
 */
export function convBackwardTask(
  f32: Float32Array, f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  slot: number, work: number, gemmAt: HeapGemm, copyAt: HeapCopy, K: TaskHelpers, X?: ConvExports,
): void {
  const d = desc >>> 2;
  const C = i32[d], H = i32[d + 1], W = i32[d + 2], kH = i32[d + 3], kW = i32[d + 4];
  const padH = i32[d + 5], padW = i32[d + 6], outH = i32[d + 7], outW = i32[d + 8], F = i32[d + 9], G = i32[d + 10];
  const hp = i32[d + 11], wp = i32[d + 12], hq = i32[d + 13], wq = i32[d + 14];
  const xF = i32[d + 15] >>> 2, yF = i32[d + 16] >>> 2, dyF = i32[d + 19] >>> 2, dxA = i32[d + 20], wFlipA = i32[d + 21];
  const fuseRelu = i32[d + 32] === 1;
  const dWPartA = i32[d + 22], biasPartA = i32[d + 23];
  const base = (i32[d + 24] + slot * i32[d + 25]) >>> 2;
  const xp = base + i32[d + 26], dyp = base + i32[d + 27], region = base + i32[d + 28];
  const dyWide = base + i32[d + 30], dxWide = base + i32[d + 31];
  const gradImageLen = F * hq * wq;
  const wideLen = outH * wp;
  const wideN = G * wideLen;
  const fullLen = H * wq;
  const fullN = G * fullLen;
  const ckk = C * kH * kW;
  const fkk = F * kH * kW;
  const inSize = C * H * W;
  const ohw = outH * outW;
  const dxF = dxA >>> 2;
  for (let chunk = lo; chunk < hi; chunk++) {
    const b0 = chunk * G;
    // dy → dyWide[o, gi·L + oh·Wp + ow] and dyp[gi, o, oh + kH−1−padH, ow + kW−1−padW]; per-channel sums.
    for (let o = 0; o < F; o++) {
      let sum = 0;
      for (let gi = 0; gi < G; gi++) {
        const at = ((b0 + gi) * F + o) * ohw;
        let src = dyF + at;
        let yAt = yF + at;
        let dst = dyWide + o * wideN + gi * wideLen;
        if (X !== undefined) {
          sum += X.maskRows(dst << 2, wp, src << 2, yAt << 2, outH, outW, fuseRelu ? 1 : 0);
        } else {
          for (let oh = 0; oh < outH; oh++, dst += wp) {
            if (fuseRelu) {
              for (let ow = 0; ow < outW; ow++, src++, yAt++) {
                const v = f32[yAt] <= 0 ? 0 : f32[src];
                f32[dst + ow] = v;
                sum += v;
              }
            } else {
              for (let ow = 0; ow < outW; ow++) {
                const v = f32[src++];
                f32[dst + ow] = v;
                sum += v;
              }
            }
          }
        }
        if (dxA !== 0) {
          // dyp gets the (masked) rows just written to dyWide.
          let from = dyWide + o * wideN + gi * wideLen;
          let pad = dyp + gi * gradImageLen + (o * hq + kH - 1 - padH) * wq + kW - 1 - padW;
          for (let oh = 0; oh < outH; oh++, from += wp, pad += wq) copyAt(pad << 2, from << 2, outW << 2);
        }
      }
      if (biasPartA !== 0) f64[(biasPartA >>> 3) + chunk * F + o] = sum;
    }
    if (dWPartA !== 0) {
      // The chunk's input, padded and unfolded as in forward (dWPart = 0: dW is done elsewhere, by Winograd).
      K.convColumns(copyAt, xF + b0 * inSize, G, C, H, W, hp, wp, padH, padW, kH, kW, xp, region);
      // dWPart[chunk][F × ckk] = dy_wide[F × GL] · col[ckk × GL]ᵀ
      gemmAt(F, ckk, wideN, dyWide << 2, wideN, 1, region << 2, 1, wideN, dWPartA + 4 * chunk * F * ckk, ckk, 0, work);
    }
    if (dxA === 0) continue;
    let row: number;
    // dycol[(o·kH + i)·kW + j, gi·H·Wq + p] = dyp[gi, o][i·Wq + j + p]: one run per tap (overwrites col).
    row = region;
    for (let o = 0; o < F; o++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          for (let gi = 0; gi < G; gi++, row += fullLen) {
            copyAt(row << 2, (dyp + gi * gradImageLen + (o * hq + i) * wq + j) << 2, fullLen << 2);
          }
        }
      }
    }
    gemmAt(C, fullN, fkk, wFlipA, fkk, 1, region << 2, fullN, 1, dxWide << 2, fullN, 0, work);
    // dx[b0 + gi, c, h, w] = dxWide[c, gi·H·Wq + h·Wq + w]
    let dst = dxF + b0 * inSize;
    for (let gi = 0; gi < G; gi++) {
      for (let c = 0; c < C; c++) {
        let from = dxWide + c * fullN + gi * fullLen;
        for (let h = 0; h < H; h++, from += wq, dst += W) copyAt(dst << 2, from << 2, W << 2);
      }
    }
  }
}

/** Int32 words of a {@link winogradGemmTask} descriptor. */
export const WINOGRAD_GEMM_DESC_WORDS = 16;

/**
 * The α² products of a Winograd group (tensor/winograd.ts) as one job: chunk t in [lo, hi) computes
 * C_t (+)= op(A_t)·op(B_t), m×n×k, whole, on the running thread (its workspace `work`), where X_t
 * starts at byte X + t·xStep. Descriptor int32 words: 0 m, 1 n, 2 k, 3 a, 4 aRs, 5 aCs, 6 aStep,
 * 7 b, 8 bRs, 9 bCs, 10 bStep, 11 c, 12 ldc, 13 cStep, 14 accumulate (addresses and steps in bytes,
 * strides in floats). Each product is one gemm call on one thread, so the bits do not depend on the
 * thread count (the pool splits the chunks, never a product).
 */
export function winogradGemmTask(
  _f32: Float32Array, _f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  _slot: number, work: number, gemmAt: HeapGemm,
): void {
  const d = desc >>> 2;
  const m = i32[d], n = i32[d + 1], k = i32[d + 2];
  const a = i32[d + 3], aRs = i32[d + 4], aCs = i32[d + 5], aStep = i32[d + 6];
  const b = i32[d + 7], bRs = i32[d + 8], bCs = i32[d + 9], bStep = i32[d + 10];
  const c = i32[d + 11], ldc = i32[d + 12], cStep = i32[d + 13], acc = i32[d + 14];
  for (let t = lo; t < hi; t++) gemmAt(m, n, k, a + t * aStep, aRs, aCs, b + t * bStep, bRs, bCs, c + t * cStep, ldc, acc, work);
}

/**
 * What every task gets as its `K` argument, on the calling thread and in the workers (which build the
 * same object from source): the unfold helper, and the kernel table's entries by id as the running
 * thread has loaded them (see tasks.ts).
 */
export interface TaskHelpers {
  readonly convColumns: typeof convColumnsKernel;
  /** Kernel id → [function, arrays, scalars, planes (1) or elements (0)]; filled in as kernels load. */
  readonly kernels: (readonly [(...args: number[]) => void, number, number, number] | undefined)[];
  /** A reusable argument list for the kernel calls. */
  readonly args: number[];
  /** Loads kernels posted to this thread since the last call (workers only; a no-op on the calling thread). */
  sync(): void;
}

/** The module's exports the conv tasks call (kernels.wat): the bias(+ReLU) store and the masked dy load. */
export interface ConvExports {
  biasRows(dst: number, src: number, stride: number, rows: number, cols: number, bias: number, relu: number): void;
  maskRows(dst: number, stride: number, src: number, y: number, rows: number, cols: number, mask: number): number;
}
