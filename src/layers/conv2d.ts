// Conv2D: 2-D convolution over NCHW images as im2col + gemm, with PyTorch Conv2d's layout and default init.
import { checkKeys, readBoolean, readChoice, readNumber, readPair } from '../config.js';
import { computeFans, type InitializerSpec } from '../init/index.js';
import {
  CONV_BACKWARD_TASK, CONV_DESC_WORDS, CONV_FORWARD_TASK, D, RANGE_ADD_PARTS, RANGE_KERNELS, convBackwardTask, convForwardTask,
  type HeapCopy, type HeapGemm,
} from '../tensor/heap-tasks.js';
import { gemm, getGemmBackend } from '../tensor/gemm.js';
import { copyFloat32, heapFloat32, sharedHeap, type SharedHeap } from '../tensor/gemm-wasm.js';
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

/** Batch sizes whose stride-1 state a Conv2D keeps at once (see Conv2D.wideFor). */
const WIDE_CACHE = 3;

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
 * The per-chunk work is the tasks of tensor/heap-tasks.ts on data the layer keeps in the WASM
 * kernel's shared heap ({@link WideConv}), so the chunks of a batch run on all gemm threads (each
 * chunk's gemm on one thread); the partials are then summed in chunk order, so results are the same
 * bits for any thread count. A ReLU that follows in a Sequential is fused in ({@link forwardRelu}).
 * Without a shared heap (or with the TypeScript gemm selected) the same tasks run on the calling
 * thread over a heap of the layer's own.
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
  /** The WideConv of the last forward (null: the per-image path ran). */
  private lastWide: WideConv | null;
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
    this.out = new BatchBuffer([this.filters, g.outH, g.outW]);
    this.dx = new BatchBuffer(this.inShape);
    this.input = null;
    this.output = null;
    return [this.filters, g.outH, g.outW];
  }

  /** y[batch, filters, outH, outW] = conv(x[batch, inC, H, W], W) + b, into a layer-owned buffer. */
  forward(x: Tensor, _training: boolean): Tensor {
    return this.forwardImpl(x, false);
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
  forwardRelu(x: Tensor, _training: boolean): Tensor {
    if (!this.fusesRelu) throw new Error('Conv2D: forwardRelu needs the stride-1 path (stride 1, padding ≤ kernel − 1)');
    return this.forwardImpl(x, true);
  }

  private forwardImpl(x: Tensor, relu: boolean): Tensor {
    requireBuilt('Conv2D', this.geom !== null, 'forward');
    checkInput('Conv2D', x, this.inShape);
    const g = this.geom as ConvGeometry;
    let y: Tensor;
    if (this.isWide(g)) {
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

/** Rounds a byte count up to a multiple of 64 (regions start on cache lines; float64 parts need 8). */
function align64(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Whether the byte range [at, at + bytes) of the heap overlaps the view `a`. */
function overlaps(at: number, bytes: number, a: Float32Array): boolean {
  return at < a.byteOffset + a.byteLength && a.byteOffset < at + bytes;
}

/** Where a {@link WideConv} keeps its data and runs its tasks: SharedHeap (gemm-wasm.ts) or a {@link PrivateHeap}. */
interface ConvHeap {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Number of thread scratch areas needed (threads that can run tasks). */
  readonly slots: number;
  alloc(bytes: number, owner?: object): number;
  free(address: number, owner?: object): void;
  runTasks(op: number, desc: number, chunks: number): void;
  /** The byte address of `array` when it lives in this heap (then the tasks read it in place), else −1. */
  addressOf(array: Float32Array): number;
}

// gemm flags of the private heap's adapter, by (transB, accumulate).
const HEAP_GEMM_FLAGS = [{}, { accumulate: true }, { transB: true }, { transB: true, accumulate: true }] as const;

/**
 * A heap of one layer's own, used where the WASM kernel has no shared memory (or the TypeScript gemm
 * is selected): one ArrayBuffer laid out like the shared heap, tasks run on the calling thread, and
 * the task's gemm goes through `gemm` (so it honours setGemmBackend). Bump allocation, sized up front.
 */
class PrivateHeap implements ConvHeap {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly slots = 1;
  private top: number;
  private readonly gemmAt: HeapGemm;
  private readonly copyAt: HeapCopy;

  constructor(bytes: number) {
    const buffer = new ArrayBuffer(align64(bytes) + 64);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.top = 64; // address 0 means "none" in a descriptor
    const f32 = this.f32;
    this.gemmAt = (m, n, k, a, aRs, aCs, b, _bRs, bCs, c, _ldc, acc) => {
      // The conv tasks only use op(a) = a and ldc = n; op(b) is b or bᵀ.
      void aRs; void aCs;
      gemm(f32.subarray(c >> 2, (c >> 2) + m * n), f32.subarray(a >> 2, (a >> 2) + m * k),
        f32.subarray(b >> 2, (b >> 2) + k * n), m, n, k, HEAP_GEMM_FLAGS[(bCs !== 1 ? 2 : 0) + acc]);
    };
    // A plain buffer: copyWithin is a native memmove here.
    this.copyAt = (dst, src, bytes) => { f32.copyWithin(dst >> 2, src >> 2, (src + bytes) >> 2); };
  }

  alloc(bytes: number): number {
    const address = this.top;
    this.top += align64(bytes);
    if (this.top > this.f32.byteLength) throw new Error(`Conv2D: internal error, private heap of ${this.f32.byteLength} bytes is too small`);
    return address;
  }

  free(): void {
    // The whole heap goes with its layer scratch.
  }

  addressOf(): number {
    return -1; // only the layer's own copies live here
  }

  runTasks(op: number, desc: number, chunks: number): void {
    const task = op === CONV_FORWARD_TASK ? convForwardTask : convBackwardTask;
    task(this.f32, this.f64, this.i32, desc, 0, chunks, 0, 0, this.gemmAt, this.copyAt, RANGE_KERNELS);
  }
}

/** The WASM kernel's shared heap (one scratch slot per core), or null (TypeScript gemm selected, or no shared memory). */
function sharedConvHeap(): ConvHeap | null {
  return getGemmBackend() === 'ts' ? null : sharedHeap();
}

/**
 * Conv2D's stride-1 path for one batch size (see the Conv2D TSDoc): its data lives in a heap (the
 * WASM kernel's shared memory, so that the per-chunk work of heap-tasks.ts runs on all gemm threads,
 * or a private heap), described by a descriptor the tasks read. Forward block: descriptor, x copy,
 * y, weights, bias, and one scratch area per thread slot — xp[G, inC, Hp, Wp] (+ kW − 1 slack),
 * dyp[G, filters, Hq, Wq] (+ kW − 1 slack), the column region (col[inC·kH·kW, G·outH·Wp] or
 * dycol[filters·kH·kW, G·H·Wq]), y_wide, dy_wide and dx_wide. Backward block (allocated by the first
 * backward): dy copy, dx, flipped kernels, per-chunk dW partials and float64 bias partials.
 * Heap memory is zero-filled when allocated and the borders, slack and junk columns are never
 * written, so they stay 0.
 */
class WideConv {
  readonly batch: number;
  /** Whether the data is in the shared heap (false: a private heap). */
  readonly shared: boolean;
  /** Images per chunk (one gemm per chunk and pass). */
  readonly group: number;
  readonly chunks: number;
  private readonly heap: ConvHeap;
  private readonly g: ConvGeometry;
  private readonly filters: number;
  private readonly inSize: number;
  private readonly outSize: number;
  private readonly ckk: number;
  private readonly forwardBlock: number;
  private backwardBlock: number;
  private readonly desc: number;
  private readonly xAddr: number;
  private readonly wAddr: number;
  private readonly biasAddr: number;
  /** Output y[batch, filters, outH, outW] (a view of the heap). */
  readonly y: Tensor;
  /** Heap views of the input copy, the weights and the bias (shared heap views stay valid as it grows). */
  private readonly xView: Float32Array;
  private readonly wView: Float32Array;
  private readonly biasView: Float32Array;
  private dyView: Float32Array;
  /** Input gradient dx[batch, inC, H, W] (a view of the heap; null before the first backward). */
  private dxTensor: Tensor | null;
  private dyAddr: number;
  private dxAddr: number;
  private wFlipAddr: number;
  private dWPartAddr: number;
  private dWPartView: Float32Array;
  private biasPartAddr: number;

  constructor(batch: number, filters: number, useBias: boolean, g: ConvGeometry, heap: ConvHeap | null) {
    const { channels, height, width, kH, kW, outH, outW, padH, padW } = g;
    this.batch = batch;
    this.g = g;
    this.filters = filters;
    this.inSize = channels * height * width;
    this.outSize = filters * outH * outW;
    this.ckk = channels * kH * kW;
    const hp = height + 2 * padH;
    const wp = width + 2 * padW;
    const hq = outH + 2 * (kH - 1 - padH);
    const wq = outW + 2 * (kW - 1 - padW);
    const wideLen = outH * wp;
    const fullLen = height * wq;
    const fkk = filters * kH * kW;
    const perImage = Math.max(this.ckk * wideLen, fkk * fullLen);
    this.group = largestDivisor(batch, Math.floor(CONV_COLUMN_BUDGET / perImage));
    this.chunks = batch / this.group;
    const G = this.group;
    // Per-slot scratch, float offsets.
    const xpOff = 0;
    const dypOff = xpOff + G * channels * hp * wp + kW - 1;
    const regionOff = dypOff + G * filters * hq * wq + kW - 1;
    const yWideOff = regionOff + Math.max(this.ckk * G * wideLen, fkk * G * fullLen);
    const dyWideOff = yWideOff + filters * G * wideLen;
    const dxWideOff = dyWideOff + filters * G * wideLen;
    const slotBytes = align64(4 * (dxWideOff + channels * G * fullLen));
    const fwd = [4 * CONV_DESC_WORDS, 4 * batch * this.inSize, 4 * batch * this.outSize, 4 * filters * this.ckk, 4 * filters];
    const fwdBytes = fwd.reduce((sum, b) => sum + align64(b), 0);
    const bwdBytes = this.backwardSizes().reduce((sum, b) => sum + align64(b), 0);
    this.heap = heap ?? new PrivateHeap(fwdBytes + slotBytes + bwdBytes + 64);
    this.shared = heap !== null;
    const slots = this.heap.slots;
    this.forwardBlock = this.heap.alloc(fwdBytes + slots * slotBytes, this);
    let at = this.forwardBlock;
    const take = (bytes: number): number => { const a = at; at += align64(bytes); return a; };
    this.desc = take(fwd[0]);
    this.xAddr = take(fwd[1]);
    const yAddr = take(fwd[2]);
    this.wAddr = take(fwd[3]);
    this.biasAddr = take(fwd[4]);
    const scratch = at;
    this.backwardBlock = 0;
    this.dyAddr = 0;
    this.dxAddr = 0;
    this.wFlipAddr = 0;
    this.dWPartAddr = 0;
    this.dWPartView = new Float32Array(0);
    this.biasPartAddr = 0;
    this.dxTensor = null;
    const i32 = this.heap.i32;
    const d = this.desc >> 2;
    const words: [number, number][] = [
      [D.channels, channels], [D.height, height], [D.width, width], [D.kH, kH], [D.kW, kW], [D.padH, padH],
      [D.padW, padW], [D.outH, outH], [D.outW, outW], [D.filters, filters], [D.group, G], [D.hp, hp],
      [D.wp, wp], [D.hq, hq], [D.wq, wq], [D.x, this.xAddr], [D.y, yAddr], [D.w, this.wAddr],
      [D.bias, useBias ? this.biasAddr : 0], [D.scratch, scratch], [D.scratchStride, slotBytes], [D.xp, xpOff],
      [D.dyp, dypOff], [D.region, regionOff], [D.yWide, yWideOff], [D.dyWide, dyWideOff], [D.dxWide, dxWideOff],
    ];
    for (const [word, value] of words) i32[d + word] = value;
    const f32 = this.heap.f32;
    this.y = new Tensor(f32.subarray(yAddr >> 2, (yAddr >> 2) + batch * this.outSize), [batch, filters, outH, outW]);
    this.xView = f32.subarray(this.xAddr >> 2, (this.xAddr >> 2) + batch * this.inSize);
    this.wView = f32.subarray(this.wAddr >> 2, (this.wAddr >> 2) + filters * this.ckk);
    this.biasView = f32.subarray(this.biasAddr >> 2, (this.biasAddr >> 2) + filters);
    this.dyView = this.biasView.subarray(0, 0);
  }

  /** Bytes of the backward block's regions: dy, dx, flipped kernels, dW partials, bias partials. */
  private backwardSizes(): number[] {
    const { channels, kH, kW } = this.g;
    const chunks = this.chunks;
    return [4 * this.batch * this.outSize, 4 * this.batch * this.inSize, 4 * channels * this.filters * kH * kW,
      4 * chunks * this.filters * this.ckk, 8 * chunks * this.filters];
  }

  /** y = conv(x) + bias (through a ReLU if `relu`; backward then masks dy) for the whole batch; returns {@link y}. */
  forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean): Tensor {
    const i32 = this.heap.i32;
    const d = this.desc >> 2;
    i32[d + D.relu] = relu ? 1 : 0;
    // x, w and bias that live in the heap (a previous layer's output, the layer's own parameters)
    // are read in place; others are copied into the layer's block first.
    i32[d + D.x] = this.inPlace(x, this.xView, this.xAddr);
    i32[d + D.w] = this.inPlace(w, this.wView, this.wAddr);
    i32[d + D.bias] = bias === null ? 0 : this.inPlace(bias, this.biasView, this.biasAddr);
    this.heap.runTasks(CONV_FORWARD_TASK, this.desc, this.chunks);
    return this.y;
  }

  /**
   * The heap address of `array` (its first view.length floats), copying it into `view` (at
   * `address`) unless it lives in the heap outside this layer's own outputs (y, dx), which the tasks write.
   */
  private inPlace(array: Float32Array, view: Float32Array, address: number): number {
    const at = this.heap.addressOf(array);
    const bytes = 4 * view.length;
    if (at >= 0 && !overlaps(at, bytes, this.y.data) && (this.dxTensor === null || !overlaps(at, bytes, this.dxTensor.data))) return at;
    copyFloat32(view, array.length === view.length ? array : array.subarray(0, view.length));
    return address;
  }

  /**
   * Adds dW (and db) of the last forward's input and weights, given dy; returns dx, or null when
   * `needInputGrad` is false.
   */
  backward(dy: Float32Array, gradW: Float32Array, gradB: Float32Array | null, needInputGrad: boolean): Tensor | null {
    if (this.backwardBlock === 0) this.allocBackward();
    const heap = this.heap;
    const f32 = heap.f32;
    const i32 = heap.i32;
    const d = this.desc >> 2;
    i32[d + D.dy] = this.inPlace(dy, this.dyView, this.dyAddr);
    i32[d + D.dx] = needInputGrad ? this.dxAddr : 0;
    i32[d + D.biasPart] = gradB !== null ? this.biasPartAddr : 0;
    if (needInputGrad) {
      // wFlip[c, (o·kH + i)·kW + j] = W[o, c, kH−1−i, kW−1−j], from the W forward read.
      const { channels, kH, kW } = this.g;
      const kk = kH * kW;
      const rowLen = this.filters * kk;
      const wF = i32[d + D.w] >> 2;
      const flipF = this.wFlipAddr >> 2;
      for (let o = 0; o < this.filters; o++) {
        for (let c = 0; c < channels; c++) {
          const src = wF + (o * channels + c) * kk;
          const dst = flipF + c * rowLen + o * kk;
          for (let t = 0; t < kk; t++) f32[dst + t] = f32[src + kk - 1 - t];
        }
      }
    }
    heap.runTasks(CONV_BACKWARD_TASK, this.desc, this.chunks);
    // Sum the per-chunk partials in chunk order: the same bits whichever threads ran the chunks. On
    // the shared heap the module's addParts does it, split over the threads by ranges of dW.
    const size = this.filters * this.ckk;
    const rangeSize = Math.max(256, 4 * Math.ceil(size / 32)); // about 8 ranges
    if (!this.shared || !(this.heap as SharedHeap).runRange(RANGE_ADD_PARTS, size, rangeSize, gradW, this.dWPartView, null, null, this.chunks, size, 0, 0, 0)) {
      const partF = this.dWPartAddr >> 2;
      for (let chunk = 0; chunk < this.chunks; chunk++) {
        const base = partF + chunk * size;
        for (let i = 0; i < size; i++) gradW[i] += f32[base + i];
      }
    }
    if (gradB !== null) {
      const f64 = heap.f64;
      const partD = this.biasPartAddr >> 3;
      for (let o = 0; o < this.filters; o++) {
        let sum = 0;
        for (let chunk = 0; chunk < this.chunks; chunk++) sum += f64[partD + chunk * this.filters + o];
        gradB[o] += sum;
      }
    }
    return needInputGrad ? this.dxTensor : null;
  }

  private allocBackward(): void {
    const sizes = this.backwardSizes();
    this.backwardBlock = this.heap.alloc(sizes.reduce((sum, b) => sum + align64(b), 0), this);
    let at = this.backwardBlock;
    const take = (bytes: number): number => { const a = at; at += align64(bytes); return a; };
    this.dyAddr = take(sizes[0]);
    this.dyView = this.heap.f32.subarray(this.dyAddr >> 2, (this.dyAddr >> 2) + this.batch * this.outSize);
    this.dxAddr = take(sizes[1]);
    this.wFlipAddr = take(sizes[2]);
    this.dWPartAddr = take(sizes[3]);
    this.dWPartView = this.heap.f32.subarray(this.dWPartAddr >> 2, (this.dWPartAddr >> 2) + this.chunks * this.filters * this.ckk);
    this.biasPartAddr = take(sizes[4]);
    const i32 = this.heap.i32;
    const d = this.desc >> 2;
    i32[d + D.wFlip] = this.wFlipAddr;
    i32[d + D.dWPart] = this.dWPartAddr;
    const { channels, height, width } = this.g;
    this.dxTensor = new Tensor(this.heap.f32.subarray(this.dxAddr >> 2, (this.dxAddr >> 2) + this.batch * this.inSize), [this.batch, channels, height, width]);
  }

  /** Returns the heap blocks (the tensors {@link y} and dx must not be used afterwards). */
  release(): void {
    this.heap.free(this.forwardBlock, this);
    if (this.backwardBlock !== 0) this.heap.free(this.backwardBlock);
  }
}
