// heap-tasks.ts: work that the gemm pool's threads share, as plain functions over one heap of memory,
// so the same code runs on the calling thread and, over the WebAssembly module's shared memory, on
// the worker threads (threads.ts embeds their source text in the worker's code): the per-chunk work
// of Conv2D's stride-1 "wide" path (see src/layers/conv2d.ts; a chunk = `group` images) and
// elementwise kernels split by ranges (ReLU, optimizer updates, tanh, sigmoid, Conv2D's dW partial
// sums, 2×2 max pooling by planes). Each task writes only its own range's outputs and its own
// thread's scratch, so any split over threads gives the same bits.
//
// The hot loops run as SIMD exports of the WebAssembly module (sgemm.wat; `X`, see HeapElementwise):
// the optimizer updates, ReLU, tanh, sigmoid, max pooling, the partial sums and the conv tasks'
// bias/ReLU store and masked dy load. The TypeScript kernels here are what runs on arrays outside the
// heap (and the specification the SIMD ones are tested against, bit for bit).
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
 * (max(v, 0) with +0 for v ≤ 0 and NaN, the bits of reluKernel). Descriptor at byte `desc` (int32 words, see D):
 * geometry, x / y / w / bias addresses (bias 0 = none), and the thread scratch at
 * scratch + slot·scratchStride with the float offsets xp, region and yWide inside it.
 */
export function convForwardTask(
  f32: Float32Array, _f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  slot: number, work: number, gemmAt: HeapGemm, copyAt: HeapCopy, K: RangeKernels, X?: HeapElementwise,
): void {
  const d = desc >> 2;
  const C = i32[d], H = i32[d + 1], W = i32[d + 2], kH = i32[d + 3], kW = i32[d + 4];
  const padH = i32[d + 5], padW = i32[d + 6], outH = i32[d + 7], outW = i32[d + 8], F = i32[d + 9], G = i32[d + 10];
  const hp = i32[d + 11], wp = i32[d + 12];
  const xF = i32[d + 15] >> 2, yF = i32[d + 16] >> 2, wA = i32[d + 17], biasA = i32[d + 18];
  const base = (i32[d + 24] + slot * i32[d + 25]) >> 2;
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
        const bo = biasA === 0 ? 0 : f32[(biasA >> 2) + o];
        let dst = yF + ((b0 + gi) * F + o) * ohw;
        let from = yWide + o * wideN + gi * wideLen;
        if (X !== undefined) {
          X.biasRows(dst << 2, from << 2, wp, outH, outW, bo, fuseRelu ? 1 : 0);
        } else if (fuseRelu) {
          for (let oh = 0; oh < outH; oh++, from += wp) {
            for (let ow = 0; ow < outW; ow++) {
              const v = f32[from + ow] + bo;
              f32[dst++] = v > 0 ? v : 0;
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
 * Backward of chunks [lo, hi): for each chunk, copies dy — masked by y > 0 when the forward fused a
 * ReLU (word `relu`), the bits of reluBackwardKernel — into the wide layout (dyWide; junk columns
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
  slot: number, work: number, gemmAt: HeapGemm, copyAt: HeapCopy, K: RangeKernels, X?: HeapElementwise,
): void {
  const d = desc >> 2;
  const C = i32[d], H = i32[d + 1], W = i32[d + 2], kH = i32[d + 3], kW = i32[d + 4];
  const padH = i32[d + 5], padW = i32[d + 6], outH = i32[d + 7], outW = i32[d + 8], F = i32[d + 9], G = i32[d + 10];
  const hp = i32[d + 11], wp = i32[d + 12], hq = i32[d + 13], wq = i32[d + 14];
  const xF = i32[d + 15] >> 2, yF = i32[d + 16] >> 2, dyF = i32[d + 19] >> 2, dxA = i32[d + 20], wFlipA = i32[d + 21];
  const fuseRelu = i32[d + 32] === 1;
  const dWPartA = i32[d + 22], biasPartA = i32[d + 23];
  const base = (i32[d + 24] + slot * i32[d + 25]) >> 2;
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
  const dxF = dxA >> 2;
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
                const v = f32[yAt] > 0 ? f32[src] : 0;
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
      if (biasPartA !== 0) f64[(biasPartA >> 3) + chunk * F + o] = sum;
    }
    // The chunk's input, padded and unfolded as in forward.
    K.convColumns(copyAt, xF + b0 * inSize, G, C, H, W, hp, wp, padH, padW, kH, kW, xp, region);
    // dWPart[chunk][F × ckk] = dy_wide[F × GL] · col[ckk × GL]ᵀ
    gemmAt(F, ckk, wideN, dyWide << 2, wideN, 1, region << 2, 1, wideN, dWPartA + 4 * chunk * F * ckk, ckk, 0, work);
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

/** Task id of {@link rangeTask}. */
export const RANGE_TASK = 3;
/** Kernels of {@link rangeTask} (descriptor word 0). */
export const RANGE_RELU = 1;
export const RANGE_RELU_BACKWARD = 2;
export const RANGE_SGD = 3;
export const RANGE_MOMENTUM = 4;
export const RANGE_ADAM = 5;
export const RANGE_MAXPOOL2 = 6;
export const RANGE_MAXPOOL2_BACKWARD = 7;
export const RANGE_TANH = 8;
export const RANGE_ADD_PARTS = 9;
export const RANGE_NAG = 10;
export const RANGE_RMSPROP = 11;
export const RANGE_NADAM = 12;
export const RANGE_DECAY = 13;
export const RANGE_SHRINK = 14;
export const RANGE_SIGMOID = 15;

// Elementwise kernels over [off, off + n) of their arrays: called directly by the library (on any
// arrays) and by rangeTask (on the heap's views). Self-contained, like the tasks.

/** ReLU, bit-exact and branch-free: o = x where x > 0, else +0 (o and xi are int32 views of the output and input). */
export function reluKernel(o: Int32Array, oOff: number, x: Float32Array, xi: Int32Array, xOff: number, n: number): void {
  for (let i = 0; i < n; i++) o[oOff + i] = xi[xOff + i] & -(x[xOff + i] > 0);
}

/** ReLU backward: dx = dy where x > 0, else +0 (int32 views of dx and dy; x the forward input or output). */
export function reluBackwardKernel(o: Int32Array, oOff: number, g: Int32Array, gOff: number, x: Float32Array, xOff: number, n: number): void {
  for (let i = 0; i < n; i++) o[oOff + i] = g[gOff + i] & -(x[xOff + i] > 0);
}

// The optimizer kernels compute in float32, each operation rounded (Math.fround) in the order
// written, like PyTorch's float32 updates and exactly like the module's SIMD kernels (sgemm.wat),
// which replace them on arrays in the heap (wasmRangeKernels): the same bits either way.

/** SGD: p ← p − lr·g (float32). */
export function sgdKernel(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, lr: number): void {
  const f = Math.fround;
  const l = f(lr);
  for (let i = 0; i < n; i++) p[pOff + i] = p[pOff + i] - f(l * g[gOff + i]);
}

/** Heavy-ball momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·b (float32). */
export function momentumKernel(
  p: Float32Array, pOff: number, g: Float32Array, gOff: number, b: Float32Array, bOff: number, n: number, lr: number, mu: number,
): void {
  const f = Math.fround;
  const l = f(lr);
  const u = f(mu);
  for (let i = 0; i < n; i++) {
    const bi = f(f(u * b[bOff + i]) + g[gOff + i]);
    b[bOff + i] = bi;
    p[pOff + i] = p[pOff + i] - f(l * bi);
  }
}

/**
 * Adam (float32): m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (stepSize·m) / (√v·invSqrtBc2 + ε),
 * with c1 = 1 − β1 and c2 = 1 − β2 rounded to float32.
 */
export function adamKernel(
  p: Float32Array, pOff: number, g: Float32Array, gOff: number, m: Float32Array, mOff: number, v: Float32Array, vOff: number,
  n: number, b1: number, b2: number, eps: number, stepSize: number, invSqrtBc2: number,
): void {
  const f = Math.fround;
  const B1 = f(b1), B2 = f(b2), C1 = f(1 - b1), C2 = f(1 - b2), E = f(eps), S = f(stepSize), I = f(invSqrtBc2);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const mi = f(f(B1 * m[mOff + i]) + f(C1 * gi));
    const vi = f(f(B2 * v[vOff + i]) + f(f(C2 * gi) * gi));
    m[mOff + i] = mi;
    v[vOff + i] = vi;
    p[pOff + i] = p[pOff + i] - f(f(S * mi) / f(f(f(Math.sqrt(vi)) * I) + E));
  }
}

/** Nesterov momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·(μ·b + g) (float32). */
export function nagKernel(
  p: Float32Array, pOff: number, g: Float32Array, gOff: number, b: Float32Array, bOff: number, n: number, lr: number, mu: number,
): void {
  const f = Math.fround;
  const l = f(lr);
  const u = f(mu);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const bi = f(f(u * b[bOff + i]) + gi);
    b[bOff + i] = bi;
    p[pOff + i] = p[pOff + i] - f(l * f(f(u * bi) + gi));
  }
}

/**
 * RMSProp (float32): v ← β·v + (c·g)·g with c = 1 − β; then, without momentum (b = null),
 * p ← p − (lr·g) / (√v + ε); with momentum μ, b ← μ·b + g / (√v + ε) and p ← p − lr·b.
 */
export function rmspropKernel(
  p: Float32Array, pOff: number, g: Float32Array, gOff: number, v: Float32Array, vOff: number, b: Float32Array | null, bOff: number,
  n: number, lr: number, beta: number, eps: number, mu: number,
): void {
  const f = Math.fround;
  const l = f(lr), B = f(beta), C = f(1 - beta), E = f(eps), u = f(mu);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const vi = f(f(B * v[vOff + i]) + f(f(C * gi) * gi));
    v[vOff + i] = vi;
    const d = f(f(Math.sqrt(vi)) + E);
    if (b === null) {
      p[pOff + i] = p[pOff + i] - f(f(l * gi) / d);
    } else {
      const bi = f(f(u * b[bOff + i]) + f(gi / d));
      b[bOff + i] = bi;
      p[pOff + i] = p[pOff + i] - f(l * bi);
    }
  }
}

/**
 * NAdam (float32): m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (cg·g + cm·m) / (√v·invSqrtBc2 + ε),
 * with c1 = 1 − β1 and c2 = 1 − β2.
 */
export function nadamKernel(
  p: Float32Array, pOff: number, g: Float32Array, gOff: number, m: Float32Array, mOff: number, v: Float32Array, vOff: number,
  n: number, b1: number, b2: number, eps: number, invSqrtBc2: number, cg: number, cm: number,
): void {
  const f = Math.fround;
  const B1 = f(b1), B2 = f(b2), C1 = f(1 - b1), C2 = f(1 - b2), E = f(eps), I = f(invSqrtBc2), CG = f(cg), CM = f(cm);
  for (let i = 0; i < n; i++) {
    const gi = g[gOff + i];
    const mi = f(f(B1 * m[mOff + i]) + f(C1 * gi));
    const vi = f(f(B2 * v[vOff + i]) + f(f(C2 * gi) * gi));
    m[mOff + i] = mi;
    v[vOff + i] = vi;
    p[pOff + i] = p[pOff + i] - f(f(f(CG * gi) + f(CM * mi)) / f(f(f(Math.sqrt(vi)) * I) + E));
  }
}

/** Coupled weight decay: d ← g + decay·p (float32). */
export function decayKernel(d: Float32Array, dOff: number, g: Float32Array, gOff: number, p: Float32Array, pOff: number, n: number, decay: number): void {
  const c = Math.fround(decay);
  for (let i = 0; i < n; i++) d[dOff + i] = g[gOff + i] + Math.fround(c * p[pOff + i]);
}

/** Decoupled weight decay: p ← p·shrink (float32). */
export function shrinkKernel(p: Float32Array, pOff: number, n: number, shrink: number): void {
  const s = Math.fround(shrink);
  for (let i = 0; i < n; i++) p[pOff + i] = p[pOff + i] * s;
}

/**
 * Sigmoid 1 / (1 + e^(−x)), from e = e^(−|x|) ≤ 1 (never overflows): the numerator s + (1 − s)·e is
 * exactly 1 (x ≥ 0) or e (x < 0), without a branch that would mispredict on mixed signs.
 */
export function sigmoidKernel(y: Float32Array, yOff: number, x: Float32Array, xOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    const e = Math.exp(-Math.abs(v));
    const s = +(v >= 0);
    y[yOff + i] = (s + (1 - s) * e) / (1 + e);
  }
}

/**
 * tanh x = u / (u + 2) with u = e^(2x) − 1 (Math.expm1, Math.tanh's own core without its case
 * analysis), rounded to float32: equal to Math.tanh's float32 value (checked on a dense sweep of
 * [−12, 12]). Above x = 20, u overflows and tanh x rounds to 1.
 */
export function tanhKernel(y: Float32Array, yOff: number, x: Float32Array, xOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    if (v > 20) {
      y[yOff + i] = 1;
    } else {
      const u = Math.expm1(2 * v);
      y[yOff + i] = u / (u + 2);
    }
  }
}

/**
 * 2×2, stride 2, unpadded max pooling of planes [p0, p1) (plane = one image's channel): out and argmax
 * at outOff / amOff + p·outH·outW, x at xOff + p·H·W; argmax holds the flat index of each window's
 * winner counted from xOff. Branch-free tournament (the comparisons become 0/1 numbers that pick
 * indices arithmetically; the top pair wins ties against the bottom pair, as it comes first in scan
 * order); a window holding a NaN (its sum is NaN) is scanned in order, the last NaN winning, as in
 * PyTorch. Odd last rows and columns belong to no window (floor mode).
 */
export function maxPool2x2Kernel(
  out: Float32Array, outOff: number, am: Int32Array, amOff: number, x: Float32Array, xOff: number,
  p0: number, p1: number, H: number, W: number, outH: number, outW: number,
): void {
  const hw = H * W;
  const ohw = outH * outW;
  for (let p = p0; p < p1; p++) {
    const xp = xOff + p * hw;
    const op = p * ohw;
    for (let oh = 0; oh < outH; oh++) {
      const row = xp + 2 * oh * W;
      const orow = op + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const i = row + 2 * ow;
        const j = i + W;
        const a = x[i];
        const b = x[i + 1];
        const c = x[j];
        const d = x[j + 1];
        const top = i + +(b > a);
        const bottom = j + +(d > c);
        let best = top + (bottom - top) * +(x[bottom] > x[top]);
        if (a + b + c + d !== a + b + c + d) {
          // In scan order: strict > keeps the first max on ties, v !== v lets a NaN through.
          let max = -Infinity;
          best = i;
          for (let k = 0; k < 4; k++) {
            const at = k < 2 ? i + k : j + k - 2;
            const v = x[at];
            if (v > max || v !== v) {
              max = v;
              best = at;
            }
          }
        }
        out[outOff + orow + ow] = x[best];
        am[amOff + orow + ow] = best - xOff;
      }
    }
  }
}

/**
 * Backward of {@link maxPool2x2Kernel} for planes [p0, p1): writes every dx element of those planes
 * once — the window's gradient at its argmax, zero elsewhere (odd last rows and columns too) — with
 * no separate zero fill. Offsets as in the forward; argmax counted from dxOff's plane origin.
 */
export function maxPool2x2BackwardKernel(
  dx: Float32Array, dxOff: number, dy: Float32Array, dyOff: number, am: Int32Array, amOff: number,
  p0: number, p1: number, H: number, W: number, outH: number, outW: number,
): void {
  const hw = H * W;
  const ohw = outH * outW;
  for (let p = p0; p < p1; p++) {
    const xp = dxOff + p * hw;
    const op = p * ohw;
    for (let oh = 0; oh < outH; oh++) {
      const row = xp + 2 * oh * W;
      for (let ow = 0; ow < outW; ow++) {
        const i = row + 2 * ow;
        dx[i] = 0;
        dx[i + 1] = 0;
        dx[i + W] = 0;
        dx[i + W + 1] = 0;
      }
      // 0 + dy, as the general path adds dy onto a zero: a -0 gradient becomes +0 there too.
      for (let ow = 0; ow < outW; ow++) dx[dxOff + am[amOff + op + oh * outW + ow]] = 0 + dy[dyOff + op + oh * outW + ow];
      if (2 * outW < W) {
        dx[row + W - 1] = 0;
        dx[row + 2 * W - 1] = 0;
      }
    }
    for (let k = 2 * outH * W; k < hw; k++) dx[xp + k] = 0;
  }
}

/**
 * The TypeScript kernels the tasks call by name (the workers build the same object from their
 * source); the elementwise ones run as the module's SIMD exports there (HeapElementwise).
 */
export interface RangeKernels {
  readonly convColumns: typeof convColumnsKernel;
}
export const RANGE_KERNELS: RangeKernels = { convColumns: convColumnsKernel };

/**
 * The module's elementwise exports (sgemm.wat), byte addresses and float32 scalars: the optimizer
 * updates, ReLU, tanh, sigmoid and 2×2 max pooling (the bits of the TypeScript kernels above), and Conv2D's per-chunk store and
 * masked load (the bits of the tasks' TypeScript loops, except that maskRows sums each row in its
 * own fixed order; the TypeScript loops only run with the TypeScript gemm, whose bits differ anyway).
 */
export interface HeapElementwise {
  sgd(p: number, g: number, n: number, lr: number): void;
  momentum(p: number, g: number, b: number, n: number, lr: number, mu: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, b1: number, b2: number, c1: number, c2: number, eps: number, step: number, inv: number): void;
  tanh(y: number, x: number, n: number): void;
  biasRows(dst: number, src: number, stride: number, rows: number, cols: number, bias: number, relu: number): void;
  maskRows(dst: number, stride: number, src: number, y: number, rows: number, cols: number, mask: number): number;
  maxPool2(out: number, am: number, x: number, p0: number, p1: number, H: number, W: number, outH: number, outW: number): void;
  maxPool2Backward(dx: number, dy: number, am: number, p0: number, p1: number, H: number, W: number, outH: number, outW: number): void;
  addParts(dst: number, parts: number, n: number, count: number, stride: number): void;
  nag(p: number, g: number, b: number, n: number, lr: number, mu: number): void;
  rmsprop(p: number, g: number, v: number, n: number, lr: number, beta: number, c: number, eps: number): void;
  rmspropMomentum(p: number, g: number, v: number, b: number, n: number, lr: number, beta: number, c: number, eps: number, mu: number): void;
  nadam(p: number, g: number, m: number, v: number, n: number, b1: number, b2: number, c1: number, c2: number, eps: number, inv: number, cg: number, cm: number): void;
  decay(d: number, g: number, p: number, n: number, decay: number): void;
  shrink(p: number, n: number, shrink: number): void;
  sigmoid(y: number, x: number, n: number): void;
  relu(out: number, x: number, n: number): void;
  reluBackward(dx: number, dy: number, x: number, n: number): void;
}

/**
 * Elementwise work split in chunks: chunks [lo, hi) of the descriptor at `desc` — int32 words: 0 the
 * kernel (RANGE_*), 1 the element count n (planes for the pooling kernels), 2 the elements per chunk, 3–6 the addresses of up to four
 * arrays; float64 scalars from byte desc + 32. Each element is computed by exactly one thread.
 */
export function rangeTask(
  f32: Float32Array, f64: Float64Array, i32: Int32Array, desc: number, lo: number, hi: number,
  _slot: number, _work: number, _gemmAt: HeapGemm, _copyAt: HeapCopy, _K: RangeKernels, X: HeapElementwise,
): void {
  const d = desc >> 2;
  const kind = i32[d], n = i32[d + 1], chunk = i32[d + 2];
  const a = i32[d + 3] >> 2, b = i32[d + 4] >> 2, c = i32[d + 5] >> 2, e = i32[d + 6] >> 2;
  const s = (desc + 32) >> 3;
  const start = lo * chunk;
  const len = Math.min(n, hi * chunk) - start;
  if (len <= 0) return;
  if (kind === 1) X.relu((a + start) << 2, (b + start) << 2, len);
  else if (kind === 2) X.reluBackward((a + start) << 2, (b + start) << 2, (c + start) << 2, len);
  // The optimizer updates and tanh run the module's SIMD exports (byte addresses; same bits as K's).
  else if (kind === 3) X.sgd((a + start) << 2, (b + start) << 2, len, f64[s]);
  else if (kind === 4) X.momentum((a + start) << 2, (b + start) << 2, (c + start) << 2, len, f64[s], f64[s + 1]);
  else if (kind === 5) {
    X.adam((a + start) << 2, (b + start) << 2, (c + start) << 2, (e + start) << 2, len,
      f64[s], f64[s + 1], 1 - f64[s], 1 - f64[s + 1], f64[s + 2], f64[s + 3], f64[s + 4]);
  } else if (kind === 6) {
    // Elements are planes here: out a, argmax b (int32), x c; H, W, outH, outW in the scalars.
    X.maxPool2(a << 2, b << 2, c << 2, start, start + len, f64[s], f64[s + 1], f64[s + 2], f64[s + 3]);
  } else if (kind === 7) {
    // dx a, dy b, argmax c (int32).
    X.maxPool2Backward(a << 2, b << 2, c << 2, start, start + len, f64[s], f64[s + 1], f64[s + 2], f64[s + 3]);
  } else if (kind === 8) X.tanh((a + start) << 2, (b + start) << 2, len);
  // dst a += partials b (scalars: count, stride in floats), chunk by chunk in order.
  else if (kind === 9) X.addParts((a + start) << 2, (b + start) << 2, len, f64[s], f64[s + 1]);
  else if (kind === 10) X.nag((a + start) << 2, (b + start) << 2, (c + start) << 2, len, f64[s], f64[s + 1]);
  else if (kind === 11) {
    // p a, g b, v c, momentum buffer e (0 = none); lr, β, ε, μ.
    if (e === 0) X.rmsprop((a + start) << 2, (b + start) << 2, (c + start) << 2, len, f64[s], f64[s + 1], 1 - f64[s + 1], f64[s + 2]);
    else X.rmspropMomentum((a + start) << 2, (b + start) << 2, (c + start) << 2, (e + start) << 2, len, f64[s], f64[s + 1], 1 - f64[s + 1], f64[s + 2], f64[s + 3]);
  } else if (kind === 12) {
    X.nadam((a + start) << 2, (b + start) << 2, (c + start) << 2, (e + start) << 2, len,
      f64[s], f64[s + 1], 1 - f64[s], 1 - f64[s + 1], f64[s + 2], f64[s + 3], f64[s + 4], f64[s + 5]);
  } else if (kind === 13) X.decay((a + start) << 2, (b + start) << 2, (c + start) << 2, len, f64[s]);
  else if (kind === 14) X.shrink((a + start) << 2, len, f64[s]);
  else if (kind === 15) X.sigmoid((a + start) << 2, (b + start) << 2, len);
  else throw new Error(`rangeTask: unknown kernel ${kind}`);
}
