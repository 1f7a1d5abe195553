// Conv2D: 2-D convolution over NCHW images as im2col + gemm, with PyTorch Conv2d's layout and default init.
import { checkKeys, readBoolean, readChoice, readNumber, readPair } from '../config.js';
import { computeFans, type InitializerSpec } from '../init/index.js';
import { BatchBuffer, WideConv, checkGrad, checkInput, col2im, convGeometry, copySpec, gemm, heapFloat32, im2col, requireBuilt, resolveInit, sharedConvHeap, unbuiltParam, type ConvGeometry, type ResolvedInit } from '../plugin/index.js';
import { ThinConv, isThinConv } from '../tensor/conv2d-engine.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import { DEFAULT_BIAS_INIT, DEFAULT_WEIGHT_INIT } from './dense.js';
import type { Layer } from './layer.js';

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

/** Batch sizes whose stride-1 state a Conv2D keeps at once (see Conv2D.wideFor). */
const WIDE_CACHE = 3;


/**
 * A 2-D convolution layer, `torch.nn.Conv2d`'s equivalent (dilation 1, groups 1).
 *
 * Shapes: input `[batch, inC, H, W]`, output `[batch, filters, outH, outW]` with
 * outH = ⌊(H + 2·padH − kH) / strideH⌋ + 1 (likewise outW), `weight` `[filters, inC, kH, kW]`,
 * `bias` `[filters]`.
 *
 * Stride 1 with padding ≤ kernel − 1 (every assignment network) runs the "wide" im2col: each image
 * is copied once into a zero-padded buffer xp[inC, Hp, Wp] (Hp = H + 2·padH, Wp = W + 2·padW), and
 * the output is computed on a grid of outH × Wp positions, the last Wp − outW columns of each row
 * being junk that is discarded. On that grid the column row of kernel tap (c, i, j) is one contiguous
 * run of xp, starting at (c·Hp + i)·Wp + j and outH·Wp long, so im2col is one memory.copy per tap and
 * image. Images are grouped in chunks (see {@link CONV_COLUMN_BUDGET}) so one gemm covers a chunk:
 * y_wide[filters, G·outH·Wp] = W · col, then the valid columns go to NCHW with the bias added.
 * Backward gathers dy into the same wide layout (junk columns stay 0, so they add nothing), writes the
 * chunk's dW partial = dy_wide · colᵀ and db partial = Σ dy, and computes dx as the full correlation
 * of the padded dy with the flipped kernels (one more gemm on an H × Wq grid). The junk columns cost
 * Wp/outW − 1 extra gemm work (8% for 3×3 on 26 or 28 wide images).
 *
 * The per-chunk work is the tasks of runtime/conv-tasks.ts on data the layer keeps in the WASM
 * kernel's shared heap (WideConv, tensor/conv2d-engine.ts), so the chunks of a batch run on all gemm threads (each
 * chunk's gemm on one thread); the partials are then summed in chunk order, so results are the same
 * bits for any thread count. A ReLU that follows in a Sequential is fused in ({@link forwardRelu}).
 * Without a shared heap (or with the TypeScript gemm selected) the same tasks run on the calling
 * thread over a heap of the layer's own.
 *
 * Thin convolutions on that stride-1 domain (by default the measured rule of isThinConv: ≤ 3 input
 * channels and, in training, 1 filter or 2 filters of a 3×3 kernel; in an eval-mode forward up to 3–8
 * filters by kernel size and padding, as in pruned layers) run a direct SIMD convolution instead ({@link ThinConv}, tensor/conv2d-engine.ts). Same fused ReLU, bits independent of the thread count; the wide path
 * stays the reference its tests compare against.
 *
 * Other strides and paddings use the classic per-image path: im2col x_b → col[inC·kH·kW, outH·outW],
 * gemm, and in backward dW += dy_b · colᵀ, dcol = Wᵀ · dy_b, col2im(dcol) → dx_b.
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
  /** Stride-1 path: one {@link WideConv} per recent batch size, most recently used first. */
  private wide: WideConv[];
  /** The WideConv of the last forward (null: another path ran). */
  private lastWide: WideConv | null;
  /** Thin path: one {@link ThinConv} per recent batch size, most recently used first. */
  private thin: ThinConv[];
  /** The ThinConv of the last forward (null: another path ran). */
  private lastThin: ThinConv | null;
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
    this.wide = [];
    this.lastWide = null;
    this.thin = [];
    this.lastThin = null;
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
    // Parameters and gradients in the shared heap (when there is one): the conv tasks read the
    // weights and the optimizers update them in place, and the dW partials are summed into the
    // gradient on all threads.
    const weight = new Tensor(heapFloat32(this.filters * channels * kH * kW), [this.filters, channels, kH, kW]);
    const fans = computeFans(weight.shape);
    this.weightInit.init(weight, fans, rng);
    this.weightParam = { name: 'weight', value: weight, grad: new Tensor(heapFloat32(weight.size), weight.shape) };
    this.paramList = [this.weightParam];
    if (this.useBias) {
      const bias = new Tensor(heapFloat32(this.filters), [this.filters]);
      this.biasInit.init(bias, fans, rng);
      this.biasParam = { name: 'bias', value: bias, grad: new Tensor(heapFloat32(this.filters), [this.filters]) };
      this.paramList.push(this.biasParam);
    }
    this.col = this.isWide(g) ? new Float32Array(0) : new Float32Array(channels * kH * kW * g.outH * g.outW);
    for (const w of this.wide) w.release();
    this.wide = [];
    this.lastWide = null;
    this.thin = [];
    this.lastThin = null;
    this.out = new BatchBuffer([this.filters, g.outH, g.outW]);
    this.dx = new BatchBuffer(this.inShape);
    this.input = null;
    this.output = null;
    return [this.filters, g.outH, g.outW];
  }

  /** y[batch, filters, outH, outW] = conv(x[batch, inC, H, W], W) + b, into a layer-owned buffer. */
  forward(x: Tensor, training: boolean): Tensor {
    return this.forwardImpl(x, false, training);
  }

  /** Whether {@link forwardRelu} fuses the ReLU into the convolution (the stride-1 path). */
  get fusesRelu(): boolean {
    return this.geom !== null && this.isWide(this.geom);
  }

  /**
   * relu(conv(x) + b) in one pass, for a ReLU layer that follows (Sequential pairs them; see
   * Activation.passThrough). The next {@link backward} then expects dL/d(relu output) and applies the
   * ReLU's mask itself. Bit-identical to forward followed by ReLU. Only where {@link fusesRelu}.
   */
  forwardRelu(x: Tensor, training: boolean): Tensor {
    if (!this.fusesRelu) throw new Error('Conv2D: forwardRelu needs the stride-1 path (stride 1, padding ≤ kernel − 1)');
    return this.forwardImpl(x, true, training);
  }

  /** Fusion hook: a following ReLU is fused in on the stride-1 path (see {@link forwardRelu}). */
  fuses(next: Layer): boolean {
    return next.kind === 'relu' && this.fusesRelu;
  }

  /** Fusion hook: {@link forwardRelu} for the ReLU that {@link fuses} accepted. */
  forwardFused(x: Tensor, training: boolean, _next: Layer): Tensor {
    return this.forwardRelu(x, training);
  }

  private forwardImpl(x: Tensor, relu: boolean, training: boolean): Tensor {
    requireBuilt('Conv2D', this.geom !== null, 'forward');
    checkInput('Conv2D', x, this.inShape);
    const g = this.geom as ConvGeometry;
    let y: Tensor;
    this.lastThin = null;
    // The thin rule depends on the mode: an eval-mode forward takes the direct kernel for more filters.
    if (isThinConv(g, this.filters, training)) {
      const thin = this.thinFor(x.shape[0], g);
      y = thin.forward(x.data, this.weightParam.value.data, this.useBias ? this.biasParam.value.data : null, relu);
      this.lastThin = thin;
      this.lastWide = null;
    } else if (this.isWide(g)) {
      const wide = this.wideFor(x.shape[0], g);
      y = wide.forward(x.data, this.weightParam.value.data, this.useBias ? this.biasParam.value.data : null, relu);
      this.lastWide = wide;
    } else {
      y = this.out.get(x.shape[0]);
      this.forwardPerImage(y.data, x.data, x.shape[0], g);
      this.lastWide = null;
    }
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
    if (this.lastThin !== null) {
      const w = this.weightParam;
      const dx = this.lastThin.backward(dy.data, w.value.data, w.grad.data, this.useBias ? this.biasParam.grad.data : null, needInputGrad);
      return dx ?? this.dx.get(batch);
    }
    if (this.lastWide !== null) {
      const dx = this.lastWide.backward(dy.data, this.weightParam.grad.data, this.useBias ? this.biasParam.grad.data : null, needInputGrad);
      // Without an input gradient the caller ignores the result; keep the contract of returning a tensor.
      return dx ?? this.dx.get(batch);
    }
    const dx = this.dx.get(batch);
    this.addBiasGrad(dy.data, batch, g.outH * g.outW);
    this.backwardPerImage(dx.data, dy.data, x.data, batch, g, needInputGrad);
    return dx;
  }

  /** Whether the geometry runs the stride-1 wide path: stride 1 and padding ≤ kernel − 1 (else per image). */
  private isWide(g: ConvGeometry): boolean {
    return g.strideH === 1 && g.strideW === 1 && g.padH <= g.kH - 1 && g.padW <= g.kW - 1;
  }

  /**
   * The stride-1 state for `batch`: kept for the {@link WIDE_CACHE} most recent batch sizes (training,
   * evaluation and a last partial batch alternate without reallocating), and rebuilt when the gemm
   * backend switches between the shared WASM heap and the TypeScript kernel.
   */
  private wideFor(batch: number, g: ConvGeometry): WideConv {
    const heap = sharedConvHeap();
    const list = this.wide;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (w.batch !== batch) continue;
      if (w.shared !== (heap !== null)) {
        w.release();
        list.splice(i, 1);
        break;
      }
      if (i > 0) {
        list.splice(i, 1);
        list.unshift(w);
      }
      return w;
    }
    const made = new WideConv(batch, this.filters, this.useBias, g, heap);
    list.unshift(made);
    while (list.length > WIDE_CACHE) (list.pop() as WideConv).release();
    return made;
  }

  /** The thin-path state for `batch`, kept for the {@link WIDE_CACHE} most recent batch sizes. */
  private thinFor(batch: number, g: ConvGeometry): ThinConv {
    const list = this.thin;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t.batch !== batch) continue;
      if (i > 0) {
        list.splice(i, 1);
        list.unshift(t);
      }
      return t;
    }
    const made = new ThinConv(batch, this.filters, g);
    list.unshift(made);
    if (list.length > WIDE_CACHE) list.pop();
    return made;
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

