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
 * A 2-D convolution layer, `torch.nn.Conv2d`'s equivalent (dilation 1, groups 1).
 *
 * Shapes: input `[batch, inC, H, W]`, output `[batch, filters, outH, outW]` with
 * outH = ⌊(H + 2·padH − kH) / strideH⌋ + 1 (likewise outW), `weight` `[filters, inC, kH, kW]`,
 * `bias` `[filters]`.
 *
 * Forward, per image: im2col x_b[inC, H, W] → col[inC·kH·kW, outH·outW], then one gemm
 * y_b[filters, outH·outW] = W[filters, inC·kH·kW] · col (+ b). Backward, per image: dW += dy_b · colᵀ,
 * db += Σ dy_b, dcol = Wᵀ · dy_b, col2im(dcol) → dx_b.
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
    this.col = new Float32Array(channels * kH * kW * g.outH * g.outW);
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
    const batch = x.shape[0];
    const outC = this.filters;
    const ohw = g.outH * g.outW;
    const ckk = g.channels * g.kH * g.kW;
    const inSize = g.channels * g.height * g.width;
    const outSize = outC * ohw;
    const y = this.out.get(batch);
    const w = this.weightParam.value.data;
    const bias = this.biasParam.value.data;
    const col = this.col;
    for (let b = 0; b < batch; b++) {
      const yb = y.data.subarray(b * outSize, (b + 1) * outSize);
      im2col(col, x.data.subarray(b * inSize, (b + 1) * inSize), g);
      if (this.useBias) {
        // y_b[o, p] lives at o*ohw + p: start each output channel at its bias, then accumulate W·col.
        for (let o = 0; o < outC; o++) yb.fill(bias[o], o * ohw, (o + 1) * ohw);
        gemm(yb, w, col, outC, ohw, ckk, FORWARD_ACC);
      } else {
        gemm(yb, w, col, outC, ohw, ckk, FORWARD);
      }
    }
    this.input = x;
    this.output = y;
    return y;
  }

  /** Accumulates dW and db from dy[batch, filters, outH, outW]; returns dx[batch, inC, H, W] (layer-owned). */
  backward(dy: Tensor): Tensor {
    checkGrad('Conv2D', dy, this.output);
    const g = this.geom as ConvGeometry;
    const x = this.input as Tensor;
    const batch = dy.shape[0];
    const outC = this.filters;
    const ohw = g.outH * g.outW;
    const ckk = g.channels * g.kH * g.kW;
    const inSize = g.channels * g.height * g.width;
    const outSize = outC * ohw;
    const dyData = dy.data;
    if (this.useBias) {
      const gb = this.biasParam.grad.data;
      // dy[b, o, p] lives at b*outSize + o*ohw + p: sum over batch and positions, in doubles.
      for (let o = 0; o < outC; o++) {
        let s = 0;
        for (let b = 0; b < batch; b++) {
          const base = b * outSize + o * ohw;
          for (let p = 0; p < ohw; p++) s += dyData[base + p];
        }
        gb[o] += s;
      }
    }
    const dx = this.dx.get(batch);
    const w = this.weightParam.value.data;
    const gw = this.weightParam.grad.data;
    const col = this.col;
    for (let b = 0; b < batch; b++) {
      const dyb = dyData.subarray(b * outSize, (b + 1) * outSize);
      im2col(col, x.data.subarray(b * inSize, (b + 1) * inSize), g);
      gemm(gw, dyb, col, outC, ckk, ohw, GRAD_WEIGHT);
      // col is no longer needed for this image: reuse it for dcol.
      gemm(col, w, dyb, ckk, ohw, outC, GRAD_COL);
      col2im(dx.data.subarray(b * inSize, (b + 1) * inSize), col, g);
    }
    return dx;
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
