// twins.ts: the TypeScript twins of the module's elementwise SIMD kernels (kernels.wat), one per entry
// of the kernel table (kernel-table.ts), with the exports' exact signatures: the arrays, then the
// element count n (or the plane range lo, hi), then the scalars. They run on arrays outside the
// shared heap and are the specification the SIMD kernels are tested against, bit for bit.
//
// The optimizer twins compute in float32, each operation rounded (Math.fround) in the order written,
// like PyTorch's float32 updates and exactly like the SIMD kernels.

// Integer views of float arrays, keyed by the array, so the bit-mask twins allocate a view only the
// first time they meet an array (layer-owned buffers are reused, so steady state allocates nothing).
const intViews = new WeakMap<Float32Array, Int32Array>();

/** An `Int32Array` over the same memory as `x` (its IEEE-754 bit patterns), cached per array. */
export function int32View(x: Float32Array): Int32Array {
  let v = intViews.get(x);
  if (v === undefined) {
    v = new Int32Array(x.buffer, x.byteOffset, x.length);
    intViews.set(x, v);
  }
  return v;
}

/**
 * ReLU: out = +0 where x ≤ 0, else x — a NaN passes through with its bits (torch.relu is
 * clamp_min(x, 0), which keeps NaN), −0 becomes +0. Bit for bit and branch-free: the comparison
 * becomes an all-ones / all-zeros mask cleared from the float's bits (a ternary mispredicts on
 * coin-flip signs).
 */
export function reluTwin(out: Float32Array, x: Float32Array, n: number): void {
  const o = int32View(out);
  const xi = int32View(x);
  for (let i = 0; i < n; i++) o[i] = xi[i] & (-(x[i] <= 0) ^ -1);
}

/**
 * ReLU backward: dx = +0 where x ≤ 0, else dy (x the forward input or output), bit for bit. This is
 * torch's threshold_backward(dy, x, 0) = x ≤ 0 ? 0 : dy exactly, so a NaN x passes dy through.
 */
export function reluBackwardTwin(dx: Float32Array, dy: Float32Array, x: Float32Array, n: number): void {
  const o = int32View(dx);
  const g = int32View(dy);
  for (let i = 0; i < n; i++) o[i] = g[i] & (-(x[i] <= 0) ^ -1);
}

/** SGD: p ← p − lr·g (float32). */
export function sgdTwin(p: Float32Array, g: Float32Array, n: number, lr: number): void {
  const f = Math.fround;
  const l = f(lr);
  for (let i = 0; i < n; i++) p[i] = p[i] - f(l * g[i]);
}

/** Heavy-ball momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·b (float32). */
export function momentumTwin(p: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, mu: number): void {
  const f = Math.fround;
  const l = f(lr);
  const u = f(mu);
  for (let i = 0; i < n; i++) {
    const bi = f(f(u * b[i]) + g[i]);
    b[i] = bi;
    p[i] = p[i] - f(l * bi);
  }
}

/** Nesterov momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·(μ·b + g) (float32). */
export function nagTwin(p: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, mu: number): void {
  const f = Math.fround;
  const l = f(lr);
  const u = f(mu);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const bi = f(f(u * b[i]) + gi);
    b[i] = bi;
    p[i] = p[i] - f(l * f(f(u * bi) + gi));
  }
}

/**
 * Adam (float32): m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (stepSize·m) / (√v·invSqrtBc2 + ε),
 * with c1 = 1 − β1 and c2 = 1 − β2 given by the caller (rounded to float32 here, as the export does).
 */
export function adamTwin(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
  b1: number, b2: number, c1: number, c2: number, eps: number, stepSize: number, invSqrtBc2: number,
): void {
  const f = Math.fround;
  const B1 = f(b1), B2 = f(b2), C1 = f(c1), C2 = f(c2), E = f(eps), S = f(stepSize), I = f(invSqrtBc2);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(f(B1 * m[i]) + f(C1 * gi));
    const vi = f(f(B2 * v[i]) + f(f(C2 * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - f(f(S * mi) / f(f(f(Math.sqrt(vi)) * I) + E));
  }
}

/** RMSProp without momentum (float32): v ← β·v + (c·g)·g with c = 1 − β; p ← p − (lr·g) / (√v + ε). */
export function rmspropTwin(p: Float32Array, g: Float32Array, v: Float32Array, n: number, lr: number, beta: number, c: number, eps: number): void {
  const f = Math.fround;
  const l = f(lr), B = f(beta), C = f(c), E = f(eps);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const vi = f(f(B * v[i]) + f(f(C * gi) * gi));
    v[i] = vi;
    p[i] = p[i] - f(f(l * gi) / f(f(Math.sqrt(vi)) + E));
  }
}

/** RMSProp with momentum μ (float32): v as {@link rmspropTwin}; b ← μ·b + g / (√v + ε); p ← p − lr·b. */
export function rmspropMomentumTwin(
  p: Float32Array, g: Float32Array, v: Float32Array, b: Float32Array, n: number, lr: number, beta: number, c: number, eps: number, mu: number,
): void {
  const f = Math.fround;
  const l = f(lr), B = f(beta), C = f(c), E = f(eps), u = f(mu);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const vi = f(f(B * v[i]) + f(f(C * gi) * gi));
    v[i] = vi;
    const bi = f(f(u * b[i]) + f(gi / f(f(Math.sqrt(vi)) + E)));
    b[i] = bi;
    p[i] = p[i] - f(l * bi);
  }
}

/**
 * NAdam (float32): m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (cg·g + cm·m) / (√v·invSqrtBc2 + ε),
 * with c1 = 1 − β1 and c2 = 1 − β2 given by the caller.
 */
export function nadamTwin(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
  b1: number, b2: number, c1: number, c2: number, eps: number, invSqrtBc2: number, cg: number, cm: number,
): void {
  const f = Math.fround;
  const B1 = f(b1), B2 = f(b2), C1 = f(c1), C2 = f(c2), E = f(eps), I = f(invSqrtBc2), CG = f(cg), CM = f(cm);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(f(B1 * m[i]) + f(C1 * gi));
    const vi = f(f(B2 * v[i]) + f(f(C2 * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - f(f(f(CG * gi) + f(CM * mi)) / f(f(f(Math.sqrt(vi)) * I) + E));
  }
}

/** Coupled weight decay: d ← g + decay·p (float32). */
export function decayTwin(d: Float32Array, g: Float32Array, p: Float32Array, n: number, decay: number): void {
  const c = Math.fround(decay);
  for (let i = 0; i < n; i++) d[i] = g[i] + Math.fround(c * p[i]);
}

/** Decoupled weight decay: p ← p·shrink (float32). */
export function shrinkTwin(p: Float32Array, n: number, shrink: number): void {
  const s = Math.fround(shrink);
  for (let i = 0; i < n; i++) p[i] = p[i] * s;
}

/**
 * Sigmoid 1 / (1 + e^(−x)), from e = e^(−|x|) ≤ 1 (never overflows): the numerator s + (1 − s)·e is
 * exactly 1 (x ≥ 0) or e (x < 0), without a branch that would mispredict on mixed signs.
 */
export function sigmoidTwin(y: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const e = Math.exp(-Math.abs(v));
    const s = +(v >= 0);
    y[i] = (s + (1 - s) * e) / (1 + e);
  }
}

/**
 * tanh x = u / (u + 2) with u = e^(2x) − 1 (Math.expm1, Math.tanh's own core without its case
 * analysis), rounded to float32: equal to Math.tanh's float32 value (checked on a dense sweep of
 * [−12, 12]). Above x = 20, u overflows and tanh x rounds to 1.
 */
export function tanhTwin(y: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v > 20) {
      y[i] = 1;
    } else {
      const u = Math.expm1(2 * v);
      y[i] = u / (u + 2);
    }
  }
}

/** dst[i] += parts[s·stride + i] for s = 0 … count − 1, in that order (float32 sums): Conv2D's dW partials. */
export function addPartsTwin(dst: Float32Array, parts: Float32Array, n: number, count: number, stride: number): void {
  for (let s = 0; s < count; s++) {
    const o = s * stride;
    for (let i = 0; i < n; i++) dst[i] = dst[i] + parts[o + i];
  }
}

/**
 * 2×2, stride 2, unpadded max pooling of planes [p0, p1) (plane = one image's channel): out and argmax
 * at p·outH·outW, x at p·H·W; argmax holds the flat index of each window's winner in x. Branch-free
 * tournament (the comparisons become 0/1 numbers that pick indices arithmetically; the top pair wins
 * ties against the bottom pair, as it comes first in scan order); a window holding a NaN (its sum is
 * NaN) is scanned in order, the last NaN winning, as in PyTorch. Odd last rows and columns belong to
 * no window (floor mode).
 */
export function maxPool2Twin(
  out: Float32Array, am: Int32Array, x: Float32Array, p0: number, p1: number, H: number, W: number, outH: number, outW: number,
): void {
  const hw = H * W;
  const ohw = outH * outW;
  for (let p = p0; p < p1; p++) {
    const xp = p * hw;
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
        out[orow + ow] = x[best];
        am[orow + ow] = best;
      }
    }
  }
}

/**
 * Backward of {@link maxPool2Twin} for planes [p0, p1): writes every dx element of those planes
 * once — the window's gradient at its argmax, zero elsewhere (odd last rows and columns too) — with
 * no separate zero fill. Layout as in the forward.
 */
export function maxPool2BackwardTwin(
  dx: Float32Array, dy: Float32Array, am: Int32Array, p0: number, p1: number, H: number, W: number, outH: number, outW: number,
): void {
  const hw = H * W;
  const ohw = outH * outW;
  for (let p = p0; p < p1; p++) {
    const xp = p * hw;
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
      for (let ow = 0; ow < outW; ow++) dx[am[op + oh * outW + ow]] = 0 + dy[op + oh * outW + ow];
      if (2 * outW < W) {
        dx[row + W - 1] = 0;
        dx[row + 2 * W - 1] = 0;
      }
    }
    for (let k = 2 * outH * W; k < hw; k++) dx[xp + k] = 0;
  }
}

/**
 * One output of the thin convolution (see {@link thinConvTwin}): Σ over the taps (c, i, j) in order
 * of x[xAt + (c·H + ih)·W + iw]·w[wAt + (c·kH + i)·kW + j], ih = oh + i − padH, iw = ow + j − padW,
 * every product and sum rounded to float32; rows outside the image are skipped, columns outside read
 * as 0 (zero padding; the SIMD lanes of border quads read 0 there too).
 */
function thinPoint(
  x: Float32Array, xAt: number, w: Float32Array, wAt: number, oh: number, ow: number,
  C: number, H: number, W: number, kH: number, kW: number, padH: number, padW: number,
): number {
  const f = Math.fround;
  let acc = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kH; i++) {
      const ih = oh + i - padH;
      if (ih < 0 || ih >= H) continue;
      const row = xAt + (c * H + ih) * W;
      const wRow = wAt + (c * kH + i) * kW;
      for (let j = 0; j < kW; j++) {
        const iw = ow + j - padW;
        acc = f(acc + f((iw < 0 || iw >= W ? 0 : x[row + iw]) * w[wRow + j]));
      }
    }
  }
  return acc;
}

/**
 * Thin convolution (Conv2D with few input channels, stride 1), planes p = b·⌈F/4⌉ + blk in [p0, p1),
 * a plane being image b's filters 4·blk … min(F, 4·blk + 4) − 1: y[b, o] = conv(x[b], w[o]) + bias[o],
 * then +0 where ≤ 0 when `relu` is 1 (a NaN passes). x is [batch, C, H, W], w [F, C, kH, kW], bias [F]
 * (zeros for none), y [batch, F, outH, outW]. Each output's sum runs over the taps in (c, i, j)
 * order (rows outside the image skipped, columns outside read as 0): the SIMD export thinConv does exactly these float32
 * operations per output, lane by lane.
 */
export function thinConvTwin(
  y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, p0: number, p1: number,
  C: number, H: number, W: number, kH: number, kW: number, padH: number, padW: number,
  outH: number, outW: number, F: number, relu: number,
): void {
  const f = Math.fround;
  const blocks = Math.ceil(F / 4);
  for (let p = p0; p < p1; p++) {
    const blk = p % blocks;
    const b = (p - blk) / blocks;
    const xAt = b * C * H * W;
    for (let o = 4 * blk; o < Math.min(F, 4 * blk + 4); o++) {
      const wAt = o * C * kH * kW;
      const bo = bias[o];
      let at = (b * F + o) * outH * outW;
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const v = f(thinPoint(x, xAt, w, wAt, oh, ow, C, H, W, kH, kW, padH, padW) + bo);
          y[at++] = relu === 1 && v <= 0 ? 0 : v;
        }
      }
    }
  }
}

/**
 * Weight and bias gradient partials of the thin convolution, planes p = chunk·F + o in [p0, p1), the
 * chunk being images [chunk·G, min(batch, chunk·G + G)): dW[p·C·kH·kW + (c·kH + i)·kW + j] = Σ over
 * the chunk's images, rows and the columns whose tap is inside of dy[b, o, oh, ow]·x[b, c, oh + i − padH,
 * ow + j − padW]; db[p] = Σ dy[b, o] over the chunk. Float32 sums in four lanes (columns in runs of
 * four from the first valid one; for db, the plane's elements in runs of four) plus a tail for the
 * columns left, combined as ((l0 + l1) + (l2 + l3)) + tail: the bits of the SIMD export thinConvGrad.
 */
export function thinConvGradTwin(
  dW: Float32Array, db: Float32Array, dy: Float32Array, x: Float32Array, p0: number, p1: number,
  C: number, H: number, W: number, kH: number, kW: number, padH: number, padW: number,
  outH: number, outW: number, F: number, batch: number, G: number,
): void {
  const f = Math.fround;
  const n = outH * outW;
  for (let p = p0; p < p1; p++) {
    const o = p % F;
    const b0 = ((p - o) / F) * G;
    const b1 = Math.min(batch, b0 + G);
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0, tail = 0;
    for (let b = b0; b < b1; b++) {
      const at = (b * F + o) * n;
      let k = 0;
      for (; k + 4 <= n; k += 4) {
        l0 = f(l0 + dy[at + k]); l1 = f(l1 + dy[at + k + 1]); l2 = f(l2 + dy[at + k + 2]); l3 = f(l3 + dy[at + k + 3]);
      }
      for (; k < n; k++) tail = f(tail + dy[at + k]);
    }
    db[p] = f(f(f(l0 + l1) + f(l2 + l3)) + tail);
    let dWAt = p * C * kH * kW;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kH; i++) {
        const ohLo = Math.max(0, padH - i);
        const ohHi = Math.min(outH, H + padH - i);
        for (let j = 0; j < kW; j++) {
          const owLo = Math.max(0, padW - j);
          const owHi = Math.min(outW, W + padW - j);
          l0 = 0; l1 = 0; l2 = 0; l3 = 0; tail = 0;
          for (let b = b0; b < b1; b++) {
            for (let oh = ohLo; oh < ohHi; oh++) {
              const dyRow = ((b * F + o) * outH + oh) * outW;
              const xRow = ((b * C + c) * H + oh + i - padH) * W + j - padW;
              let ow = owLo;
              for (; ow + 4 <= owHi; ow += 4) {
                l0 = f(l0 + f(dy[dyRow + ow] * x[xRow + ow]));
                l1 = f(l1 + f(dy[dyRow + ow + 1] * x[xRow + ow + 1]));
                l2 = f(l2 + f(dy[dyRow + ow + 2] * x[xRow + ow + 2]));
                l3 = f(l3 + f(dy[dyRow + ow + 3] * x[xRow + ow + 3]));
              }
              for (; ow < owHi; ow++) tail = f(tail + f(dy[dyRow + ow] * x[xRow + ow]));
            }
          }
          dW[dWAt++] = f(f(f(l0 + l1) + f(l2 + l3)) + tail);
        }
      }
    }
  }
}
