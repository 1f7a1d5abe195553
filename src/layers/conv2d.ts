// Conv2D: 2-D convolution over NCHW images as im2col + gemm, with PyTorch Conv2d's layout and default init.
import { checkKeys, readBoolean, readChoice, readNumber, readPair } from '../config.js';
import { computeFans, type InitializerSpec } from '../init/index.js';
import { gemm } from '../tensor/gemm.js';
import { col2im, convGeometry, im2col, type ConvGeometry } from '../tensor/im2col.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import { DEFAULT_BIAS_INIT, DEFAULT_WEIGHT_INIT } from './dense.js';
import type { Layer } from './layer.js';
import { BatchBuffer, checkGrad, checkInput, copySpec, requireBuilt, resolveInit, unbuiltParam, type ResolvedInit } from './util.js';

/** A size given once for both axes or as `[h, w]`. */
export type Size2 = number | readonly [number, number];

/** Options of {@link Conv2D}. */
export interface Conv2DOptions {
  /** Output channels (required, integer ≥ 1). */
  readonly filters: number;
  /** Kernel size `k` or `[kH, kW]` (required). */
  readonly kernelSize: Size2;
  /** Stride (default 1). */
  readonly stride?: Size2;
  /**
   * Zero padding on each side (default 0), or `'valid'` (= 0), or `'same'` (output size = input size;
   * stride 1 and odd kernel sizes only, since even kernels would need PyTorch's asymmetric padding).
   */
  readonly padding?: Size2 | 'same' | 'valid';
  /** Add a per-channel bias (default true). */
  readonly useBias?: boolean;
  /** Weight initializer (default PyTorch's: kaiming-uniform with a = √5). */
  readonly weightInit?: InitializerSpec;
  /** Bias initializer, given the weight's fans (default PyTorch's: fan-in-uniform). */
  readonly biasInit?: InitializerSpec;
}

const CONV_KEYS = ['filters', 'kernelSize', 'stride', 'padding', 'useBias', 'weightInit', 'biasInit'];

// gemm flags, hoisted so a training step creates no option objects.
const FORWARD = {} as const; //                                   y_b  = W · col_b
const FORWARD_ACC = { accumulate: true } as const; //              y_b += W · col_b (y_b pre-filled with b)
const GRAD_WEIGHT = { transB: true, accumulate: true } as const; // dW  += dy_b · col_bᵀ
const GRAD_COL = { transA: true } as const; //                     dcol = Wᵀ · dy_b

/**
 * Float budget of the stride-1 path's column matrix, which spans a group of images: the group is the
 * largest divisor of the batch whose columns fit (at least one image). Bigger groups mean fewer,
 * larger gemm calls, and with the whole batch in one group, backward reuses forward's columns.
 * Picked with bench/conv.ts (see {@link Conv2D}).
 */
export const CONV_COLUMN_BUDGET = 1 << 17;

/**
 * A 2-D convolution layer, `torch.nn.Conv2d`'s equivalent (dilation 1, groups 1).
 *
 * Shapes: input `[batch, inC, H, W]`, output `[batch, filters, outH, outW]` with
 * outH = ⌊(H + 2·padH − kH) / strideH⌋ + 1 (likewise outW), `weight` `[filters, inC, kH, kW]`,
 * `bias` `[filters]`.
 *
 * Stride 1 (every assignment network) runs the "wide" im2col: each image is copied once into a
 * zero-padded buffer xp[inC, Hp, Wp] (Hp = H + 2·padH, Wp = W + 2·padW), and the output is computed on
 * a grid of outH × Wp positions, the last Wp − outW columns of each row being junk that is discarded.
 * On that grid the column row of kernel tap (c, i, j) is one contiguous run of xp, starting at
 * (c·Hp + i)·Wp + j and outH·Wp long, so im2col is one native `copyWithin` per tap and image instead
 * of a JS loop per pixel (net000's 16×26×26 conv: ~10× faster im2col). Images are grouped (see
 * {@link CONV_COLUMN_BUDGET}) so one gemm covers a group: y_wide[filters, G·outH·Wp] = W · col,
 * then the valid columns are scattered into NCHW with the bias added. Backward gathers dy into the
 * same wide layout (junk columns stay 0, so they add nothing), dW += dy_wide · colᵀ, db += Σ dy,
 * dcol = Wᵀ · dy_wide, and col2im is one contiguous add per tap and image into xp.
 * The junk columns cost Wp/outW − 1 extra gemm work (8% for 3×3 on 26 or 28 wide images).
 *
 * Other strides use the classic per-image path: im2col x_b → col[inC·kH·kW, outH·outW], gemm, and in
 * backward dW += dy_b · colᵀ, dcol = Wᵀ · dy_b, col2im(dcol) → dx_b.
 *
 * The input of the last forward is kept by reference for backward and must not change in between.
 */
export class Conv2D implements Layer {
  readonly kind = 'conv2d';
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  /** `'same'` or the explicit `[padH, padW]` (`'valid'` is stored as `[0, 0]`). */
  readonly padding: 'same' | readonly [number, number];
  readonly useBias: boolean;
  private readonly padH: number;
  private readonly padW: number;
  private readonly weightInit: ResolvedInit;
  private readonly biasInit: ResolvedInit;
  private geom: ConvGeometry | null;
  private inShape: number[];
  private weightParam: Param;
  private biasParam: Param;
  private paramList: Param[];
  /**
   * One image's im2col matrix [inC·kH·kW, outH·outW], reused for every image and, in backward, for dcol.
   * Backward re-runs im2col rather than keeping every image's col from forward: a per-batch col costs
   * batch·inC·kH·kW·outH·outW floats (≈58 MB for a 32→64 3×3 conv on 28×28 at batch 64, and unbounded
   * for a large inference batch), while im2col is only ~1/filters of the gemm work it feeds.
   */
  private col: Float32Array;
  /** Stride-1 path (null otherwise): scratch, views and group size, sized for {@link wideBatch}. */
  private wide: WideScratch | null;
  private out: BatchBuffer;
  private dx: BatchBuffer;
  private input: Tensor | null;
  private output: Tensor | null;

  constructor(options: Conv2DOptions) {
    const owner = 'Conv2D';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, CONV_KEYS);
    this.filters = readNumber(owner, config, 'filters', Number.NaN, { min: 1, integer: true });
    this.kernelSize = readPair(owner, config, 'kernelSize', undefined);
    this.stride = readPair(owner, config, 'stride', 1);
    const rawPadding = config.padding;
    if (typeof rawPadding === 'string') {
      const mode = readChoice(owner, config, 'padding', 'valid', ['same', 'valid']);
      if (mode === 'same') {
        const [kH, kW] = this.kernelSize;
        if (this.stride[0] !== 1 || this.stride[1] !== 1) {
          throw new Error(`Conv2D: padding 'same' needs stride 1, got stride ${formatShape(this.stride)}`);
        }
        if (kH % 2 === 0 || kW % 2 === 0) {
          throw new Error(`Conv2D: padding 'same' needs odd kernel sizes, got kernelSize ${formatShape(this.kernelSize)}`);
        }
        this.padding = 'same';
        this.padH = (kH - 1) / 2;
        this.padW = (kW - 1) / 2;
      } else {
        this.padding = [0, 0];
        this.padH = 0;
        this.padW = 0;
      }
    } else {
      const pad = readPair(owner, config, 'padding', 0, { min: 0, integer: true });
      this.padding = pad;
      this.padH = pad[0];
      this.padW = pad[1];
    }
    this.useBias = readBoolean(owner, config, 'useBias', true);
    this.weightInit = resolveInit(owner, 'weightInit', config.weightInit, DEFAULT_WEIGHT_INIT);
    this.biasInit = resolveInit(owner, 'biasInit', config.biasInit, DEFAULT_BIAS_INIT);
    this.geom = null;
    this.inShape = [];
    this.weightParam = unbuiltParam('weight');
    this.biasParam = unbuiltParam('bias');
    this.paramList = [];
    this.col = new Float32Array(0);
    this.wide = null;
    this.out = new BatchBuffer([0]);
    this.dx = new BatchBuffer([0]);
    this.input = null;
    this.output = null;
  }

  /** The convolution geometry (null before build). */
  get geometry(): ConvGeometry | null {
    return this.geom;
  }

  /** Allocates and initializes the parameters for a per-sample input `[inC, H, W]`; returns `[filters, outH, outW]`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`Conv2D: expected a per-sample input shape [channels, height, width], got ${formatShape(inputShape)}`);
    }
    const [channels, height, width] = inputShape;
    const [kH, kW] = this.kernelSize;
    let g: ConvGeometry;
    try {
      g = convGeometry(channels, height, width, kH, kW, this.stride[0], this.stride[1], this.padH, this.padW);
    } catch (e) {
      throw new Error(`Conv2D: ${(e as Error).message} (input ${formatShape(inputShape)})`);
    }
    this.geom = g;
    this.inShape = [channels, height, width];
    const weight = new Tensor(new Float32Array(this.filters * channels * kH * kW), [this.filters, channels, kH, kW]);
    const fans = computeFans(weight.shape);
    this.weightInit.init(weight, fans, rng);
    this.weightParam = { name: 'weight', value: weight, grad: new Tensor(new Float32Array(weight.size), weight.shape) };
    this.paramList = [this.weightParam];
    if (this.useBias) {
      const bias = new Tensor(new Float32Array(this.filters), [this.filters]);
      this.biasInit.init(bias, fans, rng);
      this.biasParam = { name: 'bias', value: bias, grad: new Tensor(new Float32Array(this.filters), [this.filters]) };
      this.paramList.push(this.biasParam);
    }
    this.col = g.strideH === 1 && g.strideW === 1 ? new Float32Array(0) : new Float32Array(channels * kH * kW * g.outH * g.outW);
    this.wide = null;
    this.out = new BatchBuffer([this.filters, g.outH, g.outW]);
    this.dx = new BatchBuffer(this.inShape);
    this.input = null;
    this.output = null;
    return [this.filters, g.outH, g.outW];
  }

  /** y[batch, filters, outH, outW] = conv(x[batch, inC, H, W], W) + b, into a layer-owned buffer. */
  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('Conv2D', this.geom !== null, 'forward');
    checkInput('Conv2D', x, this.inShape);
    const g = this.geom as ConvGeometry;
    const y = this.out.get(x.shape[0]);
    if (g.strideH === 1 && g.strideW === 1) this.forwardWide(y.data, x.data, x.shape[0], g);
    else this.forwardPerImage(y.data, x.data, x.shape[0], g);
    this.input = x;
    this.output = y;
    return y;
  }

  /** Accumulates dW and db from dy[batch, filters, outH, outW]; returns dx[batch, inC, H, W] (layer-owned). */
  backward(dy: Tensor, needInputGrad = true): Tensor {
    checkGrad('Conv2D', dy, this.output);
    const g = this.geom as ConvGeometry;
    const x = this.input as Tensor;
    const batch = dy.shape[0];
    const dx = this.dx.get(batch);
    if (g.strideH === 1 && g.strideW === 1) {
      this.backwardWide(dx.data, dy.data, x.data, batch, g, needInputGrad);
    } else {
      this.addBiasGrad(dy.data, batch, g.outH * g.outW);
      this.backwardPerImage(dx.data, dy.data, x.data, batch, g, needInputGrad);
    }
    return dx;
  }

  /** The stride-1 scratch for `batch`, (re)allocated when the batch size changes. */
  private wideFor(batch: number, g: ConvGeometry): WideScratch {
    if (this.wide === null || this.wide.batch !== batch) this.wide = new WideScratch(batch, this.filters, g);
    return this.wide;
  }

  /** Stride-1 forward over the groups of the batch (see the class TSDoc). */
  private forwardWide(y: Float32Array, x: Float32Array, batch: number, g: ConvGeometry): void {
    const s = this.wideFor(batch, g);
    const w = this.weightParam.value.data;
    for (let b0 = 0; b0 < batch; b0 += s.group) {
      s.loadColumns(x, b0);
      gemm(s.yWide, w, s.colView, this.filters, s.group * s.wideLen, s.ckk, FORWARD);
      s.storeOutput(y, b0, this.useBias ? this.biasParam.value.data : null);
    }
  }

  /** Stride-1 backward, groups in reverse so the last group's columns from forward are reused. */
  private backwardWide(dx: Float32Array, dy: Float32Array, x: Float32Array, batch: number, g: ConvGeometry, needInputGrad: boolean): void {
    const s = this.wideFor(batch, g);
    const outC = this.filters;
    const w = this.weightParam.value.data;
    s.biasSum.fill(0);
    if (needInputGrad) s.flipWeights(w);
    for (let b0 = batch - s.group; b0 >= 0; b0 -= s.group) {
      s.loadGrad(dy, b0);
      if (s.columnsOf !== b0) s.loadColumns(x, b0);
      gemm(this.weightParam.grad.data, s.dyWide, s.colView, outC, s.ckk, s.group * s.wideLen, GRAD_WEIGHT);
      if (needInputGrad) s.inputGrad(dx, b0, w);
    }
    if (this.useBias) {
      const gb = this.biasParam.grad.data;
      for (let o = 0; o < outC; o++) gb[o] += s.biasSum[o];
    }
  }

  /** db += Σ over batch and positions of dy[batch, filters, ohw], in doubles. */
  private addBiasGrad(dy: Float32Array, batch: number, ohw: number): void {
    if (!this.useBias) return;
    const outC = this.filters;
    const outSize = outC * ohw;
    const gb = this.biasParam.grad.data;
    for (let o = 0; o < outC; o++) {
      let s = 0;
      for (let b = 0; b < batch; b++) {
        const base = b * outSize + o * ohw;
        for (let p = 0; p < ohw; p++) s += dy[base + p];
      }
      gb[o] += s;
    }
  }

  /** General-stride forward: per image, im2col then one gemm onto the bias. */
  private forwardPerImage(y: Float32Array, x: Float32Array, batch: number, g: ConvGeometry): void {
    const outC = this.filters;
    const ohw = g.outH * g.outW;
    const ckk = g.channels * g.kH * g.kW;
    const inSize = g.channels * g.height * g.width;
    const outSize = outC * ohw;
    const w = this.weightParam.value.data;
    const bias = this.biasParam.value.data;
    const col = this.col;
    for (let b = 0; b < batch; b++) {
      const yb = y.subarray(b * outSize, (b + 1) * outSize);
      im2col(col, x.subarray(b * inSize, (b + 1) * inSize), g);
      if (this.useBias) {
        // y_b[o, p] lives at o*ohw + p: start each output channel at its bias, then accumulate W·col.
        for (let o = 0; o < outC; o++) yb.fill(bias[o], o * ohw, (o + 1) * ohw);
        gemm(yb, w, col, outC, ohw, ckk, FORWARD_ACC);
      } else {
        gemm(yb, w, col, outC, ohw, ckk, FORWARD);
      }
    }
  }

  /** General-stride backward (weight and input gradients; the bias is done by the caller). */
  private backwardPerImage(dx: Float32Array, dy: Float32Array, x: Float32Array, batch: number, g: ConvGeometry, needInputGrad: boolean): void {
    const outC = this.filters;
    const ohw = g.outH * g.outW;
    const ckk = g.channels * g.kH * g.kW;
    const inSize = g.channels * g.height * g.width;
    const outSize = outC * ohw;
    const w = this.weightParam.value.data;
    const gw = this.weightParam.grad.data;
    const col = this.col;
    for (let b = 0; b < batch; b++) {
      const dyb = dy.subarray(b * outSize, (b + 1) * outSize);
      im2col(col, x.subarray(b * inSize, (b + 1) * inSize), g);
      gemm(gw, dyb, col, outC, ckk, ohw, GRAD_WEIGHT);
      if (!needInputGrad) continue;
      // col is no longer needed for this image: reuse it for dcol.
      gemm(col, w, dyb, ckk, ohw, outC, GRAD_COL);
      col2im(dx.subarray(b * inSize, (b + 1) * inSize), col, g);
    }
  }

  /** `weight` then (if `useBias`) `bias`, with local names; throws before build. */
  params(): readonly Param[] {
    requireBuilt('Conv2D', this.geom !== null, 'params');
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelSize: [this.kernelSize[0], this.kernelSize[1]],
      stride: [this.stride[0], this.stride[1]],
      padding: this.padding === 'same' ? 'same' : [this.padding[0], this.padding[1]],
      useBias: this.useBias,
      weightInit: copySpec(this.weightInit.spec),
      biasInit: copySpec(this.biasInit.spec),
    };
  }
}

/** Largest divisor of `batch` that is at most `cap` (at least 1). */
function largestDivisor(batch: number, cap: number): number {
  for (let d = Math.max(1, Math.min(batch, cap)); d > 1; d--) if (batch % d === 0) return d;
  return 1;
}

/**
 * Scratch of Conv2D's stride-1 path for one batch size and group of G images (G divides the batch, so
 * every gemm sees exact-size views and nothing is allocated per step). One Float32Array holds
 *   xp[G, inC, Hp, Wp]            padded input images (+ kW − 1 slack floats that the last run reads),
 *   dyp[G, filters, Hq, Wq]       padded upstream gradients, Hq = outH + 2·(kH − 1 − padH), likewise Wq
 *                                 (+ kW − 1 slack),
 *   region                        col[inC·kH·kW, G·outH·Wp] in forward and for dW, then
 *                                 dycol[filters·kH·kW, G·H·Wq] for dx,
 * so both unfoldings are native `copyWithin`s inside one buffer. dx is the full correlation of dy
 * with the flipped kernels, dx[c, h, w] = Σ_{o,i,j} W[o, c, kH−1−i, kW−1−j] · dyp[o, h+i, w+j], one gemm
 * on the same wide grid (H × Wq): cheaper than col2im's scattered adds (net004: ~3× on that pass).
 * If padding exceeds kernel − 1 (dyp would need negative padding) dx falls back to col2im on the wide
 * dcol = Wᵀ · dy_wide.
 */
class WideScratch {
  readonly batch: number;
  /** Images per gemm. */
  readonly group: number;
  /** inC·kH·kW: rows of col. */
  readonly ckk: number;
  /** outH·Wp: wide columns per image in forward. */
  readonly wideLen: number;
  /** First image of the group whose columns col holds now, or −1. */
  columnsOf: number;
  private readonly g: ConvGeometry;
  private readonly filters: number;
  private readonly hp: number;
  private readonly wp: number;
  private readonly imageLen: number;
  /** Whether dx goes through the flipped-kernel gemm (false: col2im fallback). */
  private readonly fullConv: boolean;
  private readonly hq: number;
  private readonly wq: number;
  /** H·Wq: wide columns per image of dx. */
  private readonly fullLen: number;
  private readonly gradImageLen: number;
  private readonly dypStart: number;
  private readonly regionStart: number;
  private readonly buffer: Float32Array;
  /** The padded-images part of the buffer. */
  private readonly xpView: Float32Array;
  /** col[ckk, G·wideLen] (start of the region). */
  readonly colView: Float32Array;
  /** dycol[filters·kH·kW, G·fullLen] (start of the region). */
  private readonly dycolView: Float32Array;
  /** Forward product y_wide[filters, G·wideLen]. */
  readonly yWide: Float32Array;
  /** Upstream gradient in the forward wide layout; junk columns are 0 forever. */
  readonly dyWide: Float32Array;
  /** Flipped, transposed kernels wFlip[inC, filters·kH·kW]. */
  private readonly wFlip: Float32Array;
  /** dx on the wide grid, dxWide[inC, G·fullLen]. */
  private readonly dxWide: Float32Array;
  /** Per-channel dy sums of one backward (doubles). */
  readonly biasSum: Float64Array;
  /** Whether xp holds col2im sums (its padding border must be cleared before the next load). */
  private xpDirty: boolean;

  constructor(batch: number, filters: number, g: ConvGeometry) {
    const { channels, height, kH, kW } = g;
    this.batch = batch;
    this.g = g;
    this.filters = filters;
    this.ckk = channels * kH * kW;
    this.hp = height + 2 * g.padH;
    this.wp = g.width + 2 * g.padW;
    this.wideLen = g.outH * this.wp;
    this.imageLen = channels * this.hp * this.wp;
    this.fullConv = g.padH <= kH - 1 && g.padW <= kW - 1;
    this.hq = this.fullConv ? g.outH + 2 * (kH - 1 - g.padH) : 0;
    this.wq = this.fullConv ? g.outW + 2 * (kW - 1 - g.padW) : 0;
    this.fullLen = height * this.wq;
    this.gradImageLen = filters * this.hq * this.wq;
    const perImage = Math.max(this.ckk * this.wideLen, filters * kH * kW * this.fullLen);
    this.group = largestDivisor(batch, Math.floor(CONV_COLUMN_BUDGET / perImage));
    const group = this.group;
    this.columnsOf = -1;
    this.xpDirty = false;
    const colLen = this.ckk * group * this.wideLen;
    const dycolLen = filters * kH * kW * group * this.fullLen;
    this.dypStart = group * this.imageLen + kW - 1;
    this.regionStart = this.dypStart + (this.fullConv ? group * this.gradImageLen + kW - 1 : 0);
    this.buffer = new Float32Array(this.regionStart + Math.max(colLen, dycolLen));
    this.xpView = this.buffer.subarray(0, this.dypStart);
    this.colView = this.buffer.subarray(this.regionStart, this.regionStart + colLen);
    this.dycolView = this.buffer.subarray(this.regionStart, this.regionStart + dycolLen);
    this.yWide = new Float32Array(filters * group * this.wideLen);
    this.dyWide = new Float32Array(filters * group * this.wideLen);
    this.wFlip = new Float32Array(this.fullConv ? channels * filters * kH * kW : 0);
    this.dxWide = new Float32Array(this.fullConv ? channels * group * this.fullLen : 0);
    this.biasSum = new Float64Array(filters);
  }

  /** Pads images b0 … b0+G−1 of x[batch, inC, H, W] into xp and unfolds them into col. */
  loadColumns(x: Float32Array, b0: number): void {
    const { channels, height, width, padH, padW, kH, kW } = this.g;
    const wp = this.wp;
    const xp = this.xpView;
    const group = this.group;
    // The padding border must read 0, and col2im leaves sums there. (Without padding every float but
    // the slack is overwritten, and the slack only feeds junk columns.)
    if (this.xpDirty && (padH > 0 || padW > 0)) xp.fill(0);
    this.xpDirty = false;
    // x[b, c, h, w] at ((b·C + c)·H + h)·W + w  →  xp[gi, c, h + padH, w + padW].
    let src = b0 * channels * height * width;
    for (let gi = 0; gi < group; gi++) {
      for (let c = 0; c < channels; c++) {
        let dst = gi * this.imageLen + (c * this.hp + padH) * wp + padW;
        for (let h = 0; h < height; h++, dst += wp) {
          for (let w = 0; w < width; w++) xp[dst + w] = x[src++];
        }
      }
    }
    // col[(c·kH + i)·kW + j, gi·L + p] = xp[gi, c][i·Wp + j + p], p < L: one contiguous run per tap.
    const len = this.wideLen;
    const buf = this.buffer;
    let row = this.regionStart;
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          for (let gi = 0; gi < group; gi++, row += len) {
            const from = gi * this.imageLen + (c * this.hp + i) * wp + j;
            buf.copyWithin(row, from, from + len);
          }
        }
      }
    }
    this.columnsOf = b0;
  }

  /** y[b0 + gi, o, oh, ow] = y_wide[o, gi·L + oh·Wp + ow] + bias[o]: the valid columns, in NCHW. */
  storeOutput(y: Float32Array, b0: number, bias: Float32Array | null): void {
    const { outH, outW } = this.g;
    const outC = this.filters;
    const ohw = outH * outW;
    const wideN = this.group * this.wideLen;
    const yw = this.yWide;
    for (let gi = 0; gi < this.group; gi++) {
      for (let o = 0; o < outC; o++) {
        const bo = bias === null ? 0 : bias[o];
        let dst = ((b0 + gi) * outC + o) * ohw;
        let src = o * wideN + gi * this.wideLen;
        for (let oh = 0; oh < outH; oh++, src += this.wp) {
          for (let ow = 0; ow < outW; ow++) y[dst++] = yw[src + ow] + bo;
        }
      }
    }
  }

  /**
   * Copies dy[b0 … b0+G−1] into the wide layout (for dW) and, on the full-conv path, into dyp (for dx),
   * adding each channel's sum into {@link biasSum}. Junk columns and dyp's border are never written,
   * so they stay 0.
   */
  loadGrad(dy: Float32Array, b0: number): void {
    const { outH, outW, kH, kW, padH, padW } = this.g;
    const outC = this.filters;
    const ohw = outH * outW;
    const wideN = this.group * this.wideLen;
    const dyw = this.dyWide;
    const buf = this.buffer;
    const wq = this.wq;
    for (let gi = 0; gi < this.group; gi++) {
      for (let o = 0; o < outC; o++) {
        let src = ((b0 + gi) * outC + o) * ohw;
        let dst = o * wideN + gi * this.wideLen;
        // dyp[gi, o, oh + kH−1−padH, ow + kW−1−padW]
        let pad = this.dypStart + gi * this.gradImageLen + (o * this.hq + kH - 1 - padH) * wq + kW - 1 - padW;
        let sum = 0;
        for (let oh = 0; oh < outH; oh++, dst += this.wp, pad += wq) {
          for (let ow = 0; ow < outW; ow++) {
            const v = dy[src++];
            dyw[dst + ow] = v;
            if (this.fullConv) buf[pad + ow] = v;
            sum += v;
          }
        }
        this.biasSum[o] += sum;
      }
    }
  }

  /** wFlip[c, (o·kH + i)·kW + j] = W[o, c, kH−1−i, kW−1−j] (once per backward; W is [filters, inC, kH, kW]). */
  flipWeights(w: Float32Array): void {
    if (!this.fullConv) return;
    const { channels, kH, kW } = this.g;
    const kk = kH * kW;
    const rowLen = this.filters * kk;
    for (let o = 0; o < this.filters; o++) {
      for (let c = 0; c < channels; c++) {
        const src = (o * channels + c) * kk;
        const dst = c * rowLen + o * kk;
        for (let t = 0; t < kk; t++) this.wFlip[dst + t] = w[src + kk - 1 - t];
      }
    }
  }

  /** dx[b0 … b0+G−1] from the group's gradient (loaded by {@link loadGrad}); overwrites col. */
  inputGrad(dx: Float32Array, b0: number, w: Float32Array): void {
    this.columnsOf = -1;
    if (!this.fullConv) {
      gemm(this.colView, w, this.dyWide, this.ckk, this.group * this.wideLen, this.filters, GRAD_COL);
      this.scatterColumns(dx, b0);
      return;
    }
    const { channels, height, width, kH, kW } = this.g;
    const len = this.fullLen;
    const wq = this.wq;
    const buf = this.buffer;
    // dycol[(o·kH + i)·kW + j, gi·H·Wq + p] = dyp[gi, o][i·Wq + j + p]: one run per tap.
    let row = this.regionStart;
    for (let o = 0; o < this.filters; o++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          for (let gi = 0; gi < this.group; gi++, row += len) {
            const from = this.dypStart + gi * this.gradImageLen + (o * this.hq + i) * wq + j;
            buf.copyWithin(row, from, from + len);
          }
        }
      }
    }
    const wideN = this.group * len;
    gemm(this.dxWide, this.wFlip, this.dycolView, channels, wideN, this.filters * kH * kW, FORWARD);
    // dx[b0 + gi, c, h, w] = dxWide[c, gi·H·Wq + h·Wq + w]
    const dxw = this.dxWide;
    let dst = b0 * channels * height * width;
    for (let gi = 0; gi < this.group; gi++) {
      for (let c = 0; c < channels; c++) {
        let src = c * wideN + gi * len;
        for (let h = 0; h < height; h++, src += wq) {
          for (let x = 0; x < width; x++) dx[dst++] = dxw[src + x];
        }
      }
    }
  }

  /** col2im fallback: sums the wide dcol (in col) back into xp, then copies the interior into dx. */
  private scatterColumns(dx: Float32Array, b0: number): void {
    const { channels, height, width, padH, padW, kH, kW } = this.g;
    const wp = this.wp;
    const xp = this.xpView;
    const buf = this.buffer;
    const len = this.wideLen;
    xp.fill(0);
    let row = this.regionStart;
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          for (let gi = 0; gi < this.group; gi++, row += len) {
            const to = gi * this.imageLen + (c * this.hp + i) * wp + j;
            for (let p = 0; p < len; p++) xp[to + p] += buf[row + p];
          }
        }
      }
    }
    let dst = b0 * channels * height * width;
    for (let gi = 0; gi < this.group; gi++) {
      for (let c = 0; c < channels; c++) {
        let src = gi * this.imageLen + (c * this.hp + padH) * wp + padW;
        for (let h = 0; h < height; h++, src += wp) {
          for (let x = 0; x < width; x++) dx[dst++] = xp[src + x];
        }
      }
    }
    this.xpDirty = true;
  }
}
