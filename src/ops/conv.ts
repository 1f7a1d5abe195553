// conv.ts: the differentiable convolutions conv2d (NCHW) and conv1d (NCL, a conv2d of height 1): stride,
// zero padding per axis ('valid', 'same' or sizes), dilation and groups. Stride-1 convolutions run the
// Conv2D layer's engine (WideConv); the rest im2col + gemm per image and group, backward for the input
// (gemm + col2im), the weight (gemm) and the bias (channel sums).
import { WideConv, col2im, copyFloat32, gemm, heapFloat32, im2col, sharedConvHeap, type ConvGeometry } from '../plugin/index.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { addChannelSums, alloc, allocUninit, asOptionalVar, asVar, checkOptions, readSize1, readSize2, record, type Size2 } from './nn-common.js';
import type { OpInput, Variable } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

/** Options of {@link conv2d} (PyTorch's `F.conv2d` arguments; defaults as there). */
export interface Conv2dOptions {
  /** Step between output positions, `s` or `[sH, sW]` (default 1). */
  readonly stride?: Size2;
  /**
   * Zero padding on each side, `p` or `[pH, pW]` (default 0); `'valid'` (= 0); or `'same'` (output
   * size = input size, stride 1 only; when dilation·(k − 1) is odd the extra row/column goes at the
   * bottom/right, as PyTorch does).
   */
  readonly padding?: Size2 | 'valid' | 'same';
  /** Spacing between kernel taps, `d` or `[dH, dW]` (default 1). */
  readonly dilation?: Size2;
  /** Channel groups (default 1): input and output channels split into `groups` independent convolutions. */
  readonly groups?: number;
}

/** Options of {@link conv1d} (PyTorch's `F.conv1d` arguments; defaults as there). */
export interface Conv1dOptions {
  /** Step between output positions (default 1). */
  readonly stride?: number;
  /** Zero padding on each side (default 0), `'valid'` (= 0) or `'same'` (stride 1 only; an odd total pads one more on the right). */
  readonly padding?: number | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: number;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups'];

/** Everything a convolution call needs, fixed at the op's entry. */
interface ConvPlan {
  readonly batch: number;
  readonly inC: number;
  readonly height: number;
  readonly width: number;
  readonly outC: number;
  readonly groups: number;
  readonly kH: number;
  readonly kW: number;
  readonly dilH: number;
  readonly dilW: number;
  /** Per-group im2col geometry: channels = inC/groups, padH/padW = top/left padding. */
  readonly geom: ConvGeometry;
  /** Input channels per group. */
  readonly cg: number;
  /** Output channels per group. */
  readonly og: number;
  /** Rows of a group's column matrix: cg·kH·kW. */
  readonly ckk: number;
  /** Output positions per image: outH·outW. */
  readonly ohw: number;
  /** 1×1, stride 1, unpadded: the image itself is the column matrix (no im2col). */
  readonly direct: boolean;
}

/**
 * Checks shapes and options and fixes the geometry. `dims` names the op's layout in messages.
 * Padding may be asymmetric only through 'same' (top/left get ⌊total/2⌋).
 */
function planConv(
  op: string, xShape: readonly number[], wShape: readonly number[], shownX: readonly number[], shownW: readonly number[],
  stride: [number, number], padding: [number, number] | 'same', dilation: [number, number], groups: number,
): ConvPlan {
  const [batch, inC, height, width] = xShape;
  const [outC, wc, kH, kW] = wShape;
  // The shapes for error messages, built only when one is thrown (a string per call is garbage per step).
  const shapes = (): string => `(x ${formatShape(shownX)}, weight ${formatShape(shownW)})`;
  if (kH < 1 || kW < 1 || outC < 1 || wc < 1) throw new RangeError(`${op}: the weight must have ≥ 1 output channel, input channel and kernel tap per axis ${shapes()}`);
  if (inC % groups !== 0) throw new RangeError(`${op}: groups ${groups} must divide the input channels ${inC} ${shapes()}`);
  if (outC % groups !== 0) throw new RangeError(`${op}: groups ${groups} must divide the output channels ${outC} ${shapes()}`);
  if (wc * groups !== inC) {
    throw new Error(`${op}: the weight expects ${wc}${groups > 1 ? `·${groups} groups = ${wc * groups}` : ''} input channels but x has ${inC} ${shapes()}`);
  }
  const [dilH, dilW] = dilation;
  const spanH = dilH * (kH - 1) + 1;
  const spanW = dilW * (kW - 1) + 1;
  let padTop: number;
  let padLeft: number;
  let outH: number;
  let outW: number;
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new RangeError(`${op}: padding 'same' needs stride 1, got stride ${formatShape(stride)}`);
    padTop = Math.floor((spanH - 1) / 2);
    padLeft = Math.floor((spanW - 1) / 2);
    outH = height;
    outW = width;
  } else {
    [padTop, padLeft] = padding;
    outH = Math.floor((height + 2 * padTop - spanH) / stride[0]) + 1;
    outW = Math.floor((width + 2 * padLeft - spanW) / stride[1]) + 1;
  }
  if (outH < 1 || outW < 1 || height < 1 || width < 1) {
    const kernel = shownW.length === 3 ? `${kW}` : `${kH}×${kW}`;
    const dil = shownW.length === 3 ? `${dilW}` : `${dilH}×${dilW}`;
    const pad = padding === 'same' ? "'same'" : shownW.length === 3 ? `${padLeft}` : `${padTop}×${padLeft}`;
    const size = shownX.length === 3 ? `${width}` : `${height}×${width}`;
    throw new RangeError(`${op}: kernel ${kernel} (dilation ${dil}) with padding ${pad} does not fit input ${size} ${shapes()}`);
  }
  const cg = inC / groups;
  const geom: ConvGeometry = {
    channels: cg, height, width, kH, kW, strideH: stride[0], strideW: stride[1], padH: padTop, padW: padLeft, outH, outW,
  };
  const direct = kH === 1 && kW === 1 && stride[0] === 1 && stride[1] === 1 && padTop === 0 && padLeft === 0;
  return {
    batch, inC, height, width, outC, groups, kH, kW, dilH, dilW, geom, cg, og: outC / groups, ckk: cg * kH * kW, ohw: outH * outW, direct,
  };
}

// ---- Column matrices (im2col with dilation) ----

/** Smallest o ≥ 0 with o·stride ≥ lo, capped at n. */
function firstInside(lo: number, stride: number, n: number): number {
  return lo <= 0 ? 0 : Math.min(n, Math.ceil(lo / stride));
}

/** One past the largest o with o·stride ≤ hi, within [lo, n]. */
function endInside(hi: number, stride: number, n: number, lo: number): number {
  return hi < 0 ? lo : Math.max(lo, Math.min(n, Math.floor(hi / stride) + 1));
}

/**
 * im2col with dilation: `out[cg·kH·kW, outH·outW]`, row (c·kH + i)·kW + j holding
 * x[c, oh·sH − padH + i·dH, ow·sW − padW + j·dW] (0 outside the image). Dilation 1 is the kit's im2col.
 */
function unfold(out: Float32Array, x: Float32Array, p: ConvPlan): Float32Array {
  const g = p.geom;
  if (p.dilH === 1 && p.dilW === 1) return im2col(out, x, g);
  const { channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const ohw = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const xc = c * height * width;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row++) {
        const off = j * p.dilW - padW;
        // Output columns [owLo, owHi) read inside the image; the bounds are hoisted out of the pixel loop.
        const owLo = firstInside(-off, strideW, outW);
        const owHi = endInside(width - 1 - off, strideW, outW, owLo);
        const ro = row * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padH + i * p.dilH;
          const o = ro + oh * outW;
          if (h < 0 || h >= height) {
            out.fill(0, o, o + outW);
            continue;
          }
          // x[c, h, w] lives at xc + h·width + w, with w = ow·strideW + off.
          const xr = xc + h * width + off;
          for (let ow = 0; ow < owLo; ow++) out[o + ow] = 0;
          for (let ow = owLo; ow < owHi; ow++) out[o + ow] = x[xr + ow * strideW];
          for (let ow = owHi; ow < outW; ow++) out[o + ow] = 0;
        }
      }
    }
  }
  return out;
}

/** The adjoint of {@link unfold}: sums `col` back into the image `out` (overwritten). */
function fold(out: Float32Array, col: Float32Array, p: ConvPlan): Float32Array {
  const g = p.geom;
  if (p.dilH === 1 && p.dilW === 1) return col2im(out, col, g);
  const { channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  out.fill(0, 0, channels * height * width);
  const ohw = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const xc = c * height * width;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row++) {
        const off = j * p.dilW - padW;
        const owLo = firstInside(-off, strideW, outW);
        const owHi = endInside(width - 1 - off, strideW, outW, owLo);
        const ro = row * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padH + i * p.dilH;
          if (h < 0 || h >= height) continue;
          const o = ro + oh * outW;
          const xr = xc + h * width + off;
          for (let ow = owLo; ow < owHi; ow++) out[xr + ow * strideW] += col[o + ow];
        }
      }
    }
  }
  return out;
}

// Scratch column matrices, grown to the largest call and reused (ops run synchronously, one at a time).
let colScratch: Float32Array = new Float32Array(0);
let dcolScratch: Float32Array = new Float32Array(0);

function colBuffer(n: number): Float32Array {
  if (colScratch.length < n) colScratch = heapFloat32(n);
  return colScratch.length === n ? colScratch : colScratch.subarray(0, n);
}

function dcolBuffer(n: number): Float32Array {
  if (dcolScratch.length < n) dcolScratch = heapFloat32(n);
  return dcolScratch.length === n ? dcolScratch : dcolScratch.subarray(0, n);
}

// gemm flags, hoisted.
const ACCUMULATE = { accumulate: true } as const; //                     y_g += W_g · col (y pre-filled with the bias)
const GRAD_WEIGHT = { transB: true, accumulate: true } as const; //    dW_g += dy_g · colᵀ
const GRAD_COL = { transA: true } as const; //                         dcol  = W_gᵀ · dy_g

/** y[batch, outC, outH, outW] = conv(x, w) + bias, one gemm per image and group. */
function convForward(p: ConvPlan, x: Float32Array, w: Float32Array, bias: Float32Array | null): Float32Array {
  const { batch, inC, outC, groups, cg, og, ckk, ohw } = p;
  const hw = p.height * p.width;
  // Each group's block is overwritten by gemm or filled with the bias before an accumulating gemm.
  const y = allocUninit(batch * outC * ohw);
  const col = p.direct ? null : colBuffer(ckk * ohw);
  // x[b, c] starts at (b·inC + c)·hw; y[b, o] at (b·outC + o)·ohw; w[o] at o·ckk.
  for (let b = 0; b < batch; b++) {
    for (let gi = 0; gi < groups; gi++) {
      const xs = (b * inC + gi * cg) * hw;
      const xg = x.subarray(xs, xs + cg * hw);
      const ys = (b * outC + gi * og) * ohw;
      const yg = y.subarray(ys, ys + og * ohw);
      const wg = w.subarray(gi * og * ckk, (gi + 1) * og * ckk);
      const src = col === null ? xg : unfold(col, xg, p);
      if (bias === null) {
        gemm(yg, wg, src, og, ohw, ckk);
      } else {
        for (let o = 0; o < og; o++) yg.fill(bias[gi * og + o], o * ohw, (o + 1) * ohw);
        gemm(yg, wg, src, og, ohw, ckk, ACCUMULATE);
      }
    }
  }
  return y;
}

/** Gradients of {@link convForward} given dy: dx, dW and db, each null unless asked for (`needX`, `needW`, `needB`). */
function convBackward(
  p: ConvPlan, g: Float32Array, x: Float32Array, w: Float32Array, needX: boolean, needW: boolean, needB: boolean,
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const { batch, inC, outC, groups, cg, og, ckk, ohw } = p;
  const hw = p.height * p.width;
  const gx = needX ? alloc(batch * inC * hw) : null;
  const gw = needW ? alloc(outC * ckk) : null;
  const gb = needB ? alloc(outC) : null;
  const col = p.direct || !needW ? null : colBuffer(ckk * ohw);
  const dcol = p.direct || !needX ? null : dcolBuffer(ckk * ohw);
  for (let b = 0; b < batch; b++) {
    for (let gi = 0; gi < groups; gi++) {
      const xs = (b * inC + gi * cg) * hw;
      const ys = (b * outC + gi * og) * ohw;
      const dyg = g.subarray(ys, ys + og * ohw);
      const wg = w.subarray(gi * og * ckk, (gi + 1) * og * ckk);
      if (gw !== null) {
        const xg = x.subarray(xs, xs + cg * hw);
        const src = col === null ? xg : unfold(col, xg, p);
        // Summed over the batch in image order: the same bits for any thread count.
        gemm(gw.subarray(gi * og * ckk, (gi + 1) * og * ckk), dyg, src, og, ckk, ohw, GRAD_WEIGHT);
      }
      if (gx !== null) {
        const dxg = gx.subarray(xs, xs + cg * hw);
        if (dcol === null) {
          gemm(dxg, wg, dyg, ckk, ohw, og, GRAD_COL);
        } else {
          gemm(dcol, wg, dyg, ckk, ohw, og, GRAD_COL);
          fold(dxg, dcol, p);
        }
      }
    }
  }
  if (gb !== null) addChannelSums(gb, g, batch, outC, ohw);
  return [gx, gw, gb];
}

// ---- The stride-1 engine ----

let wideEnabled = true;

/**
 * Whether stride-1 convolutions run the WideConv engine (default true) or the im2col + gemm path that
 * every other convolution takes; returns the previous setting. For tests and benchmarks, which compare
 * the two paths: both give the same values to float32 rounding.
 */
export function setWideConvOps(enabled: boolean): boolean {
  const previous = wideEnabled;
  wideEnabled = enabled;
  return previous;
}

/**
 * The engine's domain, the Conv2D layer's stride-1 path: one group, no dilation, stride 1 and
 * symmetric padding ≤ kernel − 1 (so not 'same' with an even kernel), and at least one image.
 */
function isWide(p: ConvPlan): boolean {
  const g = p.geom;
  return wideEnabled && p.batch > 0 && p.groups === 1 && p.dilH === 1 && p.dilW === 1 && g.strideH === 1 && g.strideW === 1
    && g.padH <= g.kH - 1 && g.padW <= g.kW - 1
    && g.outH === g.height + 2 * g.padH - g.kH + 1 && g.outW === g.width + 2 * g.padW - g.kW + 1;
}

/**
 * Idle engines, oldest first, at most {@link WIDE_IDLE_MAX}. An engine holds a forward's state (its
 * input and weights) until that op's backward; it is idle otherwise. A training step takes one per
 * convolution in its forward and gives each back in backward, so steady state makes no new engines.
 */
const wideIdle: { key: string; wide: WideConv }[] = [];
const WIDE_IDLE_MAX = 16;
/** The op (a token) whose forward an engine last ran: its backward may use the engine's state only if it is still the last. */
const wideUser = new WeakMap<WideConv, object>();

function wideKey(p: ConvPlan, useBias: boolean, shared: boolean): string {
  const g = p.geom;
  return `${p.batch},${p.outC},${useBias},${g.channels},${g.height},${g.width},${g.kH},${g.kW},${g.padH},${g.padW},${shared}`;
}

/** An idle engine for `key`, else a new one; null when no engine fits in memory (the caller takes the im2col path). */
function takeWide(key: string, p: ConvPlan, useBias: boolean): WideConv | null {
  for (let i = wideIdle.length - 1; i >= 0; i--) {
    if (wideIdle[i].key === key) {
      const { wide } = wideIdle[i];
      for (let j = i + 1; j < wideIdle.length; j++) wideIdle[j - 1] = wideIdle[j]; // no array from splice
      wideIdle.length--;
      return wide;
    }
  }
  try {
    return new WideConv(p.batch, p.outC, useBias, p.geom, sharedConvHeap());
  } catch {
    // The heap could not grow for the engine's blocks; the im2col path needs only a column buffer.
    return null;
  }
}

function giveWide(key: string, wide: WideConv): void {
  for (const e of wideIdle) if (e.wide === wide) return;
  wideIdle.push({ key, wide });
  if (wideIdle.length > WIDE_IDLE_MAX) {
    const old = (wideIdle.shift() as { wide: WideConv }).wide;
    wideUser.delete(old);
    old.release();
  }
}

/**
 * {@link convolve} on the WideConv engine, which writes y and dx into the op's arrays (or they are
 * copied out of its own), so the engine can serve the next op.
 */
function convolveWide(op: string, p: ConvPlan, x: Variable, w: Variable, bias: Variable | null, outShape: readonly number[]): Variable {
  const useBias = bias !== null;
  const sharedAtForward = sharedConvHeap() !== null;
  const key = wideKey(p, useBias, sharedAtForward);
  const token = {};
  const first = takeWide(key, p, useBias);
  if (first === null) return convolveIm2col(op, p, x, w, bias, outShape);
  let wide = first;
  // The engine writes y straight into the op's result when it can (an array of its heap), else copies it out.
  const y = allocUninit(p.batch * p.outC * p.ohw);
  const b = useBias ? bias.data : null;
  if (!wide.forwardInto(y, x.data, w.data, b)) copyFloat32(y, wide.forward(x.data, w.data, b, false).data);
  wideUser.set(wide, token);
  const inputs = useBias ? [x, w, bias] : [x, w];
  const out = record(op, new Tensor(y, outShape), inputs, [x, w], () => {
    const needX = x.requiresGrad;
    const needB = useBias && bias.requiresGrad;
    return (g) => {
      // (The key differs from the forward's only when the gemm backend changed: compared without building it.)
      let backKey = key;
      if (wideUser.get(wide) !== token || (sharedConvHeap() !== null) !== sharedAtForward) {
        // A later op ran its forward on this engine (a second backward through a retained graph), or
        // the gemm backend changed: redo this op's forward on an engine of its own first.
        backKey = wideKey(p, useBias, sharedConvHeap() !== null);
        const again = takeWide(backKey, p, useBias);
        if (again === null) return convBackward(p, g, x.data, w.data, needX, w.requiresGrad, needB);
        wide = again;
        wide.forward(x.data, w.data, useBias ? bias.data : null, false);
        wideUser.set(wide, token);
      }
      // The engine adds into dW and db (zero-filled here); dW is computed even for a constant weight.
      const gw = alloc(w.size);
      const gb = needB ? alloc(p.outC) : null;
      let gx: Float32Array | null = null;
      if (!needX) {
        wide.backward(g, gw, gb, false);
      } else {
        gx = allocUninit(p.batch * p.inC * p.height * p.width); // written in full, by the engine or the copy
        if (!wide.backwardInto(gx, g, gw, gb)) copyFloat32(gx, (wide.backward(g, gw, gb, true) as Tensor).data);
      }
      giveWide(wide.shared === sharedAtForward ? backKey : wideKey(p, useBias, wide.shared), wide);
      return [gx, w.requiresGrad ? gw : null, gb];
    };
  });
  if (out.node === null) giveWide(key, wide);
  return out;
}

/** Records the convolution planned in `p` on x, w and an optional bias; `outShape` is the result's shape. */
function convolve(op: string, p: ConvPlan, x: Variable, w: Variable, bias: Variable | null, outShape: readonly number[]): Variable {
  return withAttrs(isWide(p) ? convolveWide(op, p, x, w, bias, outShape) : convolveIm2col(op, p, x, w, bias, outShape), attrsEnabled() ? convAttrs(p) : null);
}

/**
 * What a traced convolution records (2-D form; a conv1d has kernel height 1): kernel, stride,
 * dilation, groups and pads [top, left, bottom, right] (bottom/right differ only for 'same' padding).
 */
function convAttrs(p: ConvPlan): Record<string, unknown> {
  const g = p.geom;
  const after = (size: number, k: number, d: number, s: number, before: number, out: number): number =>
    (Math.floor((size + 2 * before - d * (k - 1) - 1) / s) + 1 === out ? before : d * (k - 1) - before);
  return {
    kernel: [p.kH, p.kW], stride: [g.strideH, g.strideW], dilation: [p.dilH, p.dilW], groups: p.groups,
    pads: [g.padH, g.padW, after(p.height, p.kH, p.dilH, g.strideH, g.padH, g.outH), after(p.width, p.kW, p.dilW, g.strideW, g.padW, g.outW)],
  };
}

/** {@link convolve} on the im2col + gemm path. */
function convolveIm2col(op: string, p: ConvPlan, x: Variable, w: Variable, bias: Variable | null, outShape: readonly number[]): Variable {
  const y = convForward(p, x.data, w.data, bias === null ? null : bias.data);
  const inputs = bias === null ? [x, w] : [x, w, bias];
  return record(op, new Tensor(y, outShape), inputs, [x, w], () => {
    const needX = x.requiresGrad;
    const needW = w.requiresGrad;
    const needB = bias !== null && bias.requiresGrad;
    return (g) => convBackward(p, g, x.data, w.data, needX, needW, needB);
  });
}

function readPadding2(op: string, options: Record<string, unknown>): [number, number] | 'same' {
  const raw = options.padding;
  if (raw === 'same') return 'same';
  if (raw === 'valid') return [0, 0];
  if (typeof raw === 'string') throw new RangeError(`${op}: padding must be 'valid', 'same', an integer ≥ 0 or a pair of them, got "${raw}"`);
  return readSize2(op, options, 'padding', [0, 0], 0);
}

function readGroups(op: string, options: Record<string, unknown>): number {
  const g = options.groups ?? 1;
  if (typeof g !== 'number' || !Number.isInteger(g) || g < 1) throw new RangeError(`${op}: groups must be an integer ≥ 1, got ${String(g)}`);
  return g;
}

function checkBias(op: string, bias: Variable | null, outC: number): void {
  if (bias !== null && (bias.shape.length !== 1 || bias.shape[0] !== outC)) {
    throw new Error(`${op}: bias must have shape [${outC}] (one per output channel), got ${formatShape(bias.shape)}`);
  }
}

/**
 * 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`):
 * `y[n, o, oh, ow] = bias[o] + Σ_{c, i, j} w[o, c, i, j] · x[n, g·C/G + c, oh·sH − pH + i·dH, ow·sW − pW + j·dW]`
 * for output channel o in group g = ⌊o / (O/G)⌋, zero outside the image.
 *
 * Shapes: `x [N, C, H, W]`, `weight [O, C/groups, kH, kW]`, `bias [O]` (optional), result
 * `[N, O, outH, outW]` with outH = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1 (likewise outW).
 * Backward gives the gradients of x, weight and bias (for those that require grad).
 *
 * Runs im2col (the kit's, or a dilated one) and one gemm per image and group; 1×1 stride-1 unpadded
 * convolutions skip im2col. Throws (naming shapes) on mismatched channels, groups that do not divide
 * the channels, a kernel that does not fit the padded input, or bad options.
 */
export function conv2d(xIn: OpInput, weightIn: OpInput, biasIn?: OpInput | null, options?: Conv2dOptions): Variable {
  const op = 'conv2d';
  const x = asVar(xIn, op, 'x');
  const w = asVar(weightIn, op, 'weight');
  const bias = asOptionalVar(biasIn, op, 'bias');
  const o = checkOptions(op, options, CONV_KEYS);
  if (x.shape.length !== 4) throw new Error(`${op}: x must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  if (w.shape.length !== 4) throw new Error(`${op}: weight must be 4-D [outC, inC/groups, kH, kW], got ${formatShape(w.shape)}`);
  const p = planConv(op, x.shape, w.shape, x.shape, w.shape, readSize2(op, o, 'stride', [1, 1], 1), readPadding2(op, o),
    readSize2(op, o, 'dilation', [1, 1], 1), readGroups(op, o));
  checkBias(op, bias, p.outC);
  return convolve(op, p, x, w, bias, [p.batch, p.outC, p.geom.outH, p.geom.outW]);
}

/**
 * 1-D convolution (as `torch.nn.functional.conv1d`): `x [N, C, L]`, `weight [O, C/groups, k]`,
 * `bias [O]` (optional) → `[N, O, outL]`, outL = ⌊(L + 2·p − d·(k − 1) − 1) / s⌋ + 1. It is
 * {@link conv2d} on `[N, C, 1, L]` with a `1×k` kernel (same data, no copy).
 */
export function conv1d(xIn: OpInput, weightIn: OpInput, biasIn?: OpInput | null, options?: Conv1dOptions): Variable {
  const op = 'conv1d';
  const x = asVar(xIn, op, 'x');
  const w = asVar(weightIn, op, 'weight');
  const bias = asOptionalVar(biasIn, op, 'bias');
  const o = checkOptions(op, options, CONV_KEYS);
  if (x.shape.length !== 3) throw new Error(`${op}: x must be 3-D [N, C, L], got ${formatShape(x.shape)}`);
  if (w.shape.length !== 3) throw new Error(`${op}: weight must be 3-D [outC, inC/groups, k], got ${formatShape(w.shape)}`);
  let padding: [number, number] | 'same';
  if (o.padding === 'same') padding = 'same';
  else if (o.padding === 'valid') padding = [0, 0];
  else if (typeof o.padding === 'string') throw new RangeError(`${op}: padding must be 'valid', 'same' or an integer ≥ 0, got "${o.padding}"`);
  else padding = [0, readSize1(op, o, 'padding', 0, 0)];
  const [n, c, l] = x.shape;
  const [oc, wc, k] = w.shape;
  const p = planConv(op, [n, c, 1, l], [oc, wc, 1, k], x.shape, w.shape, [1, readSize1(op, o, 'stride', 1, 1)], padding,
    [1, readSize1(op, o, 'dilation', 1, 1)], readGroups(op, o));
  checkBias(op, bias, p.outC);
  return convolve(op, p, x, w, bias, [p.batch, p.outC, p.geom.outW]);
}
