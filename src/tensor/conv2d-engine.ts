// conv2d-engine.ts: the stride-1 "wide" convolution engine behind Conv2D (and any plugin layer that
// wants it): per batch size, its data laid out in the shared heap (or a private one), the chunk tasks
// of runtime/conv-tasks.ts run over all threads, and the partial sums reduced in chunk order; and the
// "thin" engine for few input channels: a direct SIMD convolution (kernel table: thin-conv, thin-conv-grad).
import { type HeapCopy, type HeapGemm, type TaskHelpers, convBackwardTask, convForwardTask, convColumnsKernel, CONV_DESC_WORDS, D } from '../runtime/conv-tasks.js';
import { copyFloat32, heapFloat32, isHeapArray, sharedHeap, type SharedHeap } from '../runtime/heap.js';
import { ADD_PARTS, RELU_BACKWARD, THIN_CONV, THIN_CONV_GRAD } from '../runtime/kernel-table.js';
import { CONV_BACKWARD_TASK, CONV_FORWARD_TASK } from '../runtime/tasks.js';
import { gemm, getGemmBackend } from './gemm.js';
import type { ConvGeometry } from './im2col.js';
import { Tensor } from './tensor.js';
import { WinogradConv, winogradInputGradTile, winogradTileFor, winogradWeightGradTile, type WinogradTile } from './winograd.js';

/**
 * Float budget of the stride-1 path's column matrix, which spans a group of images: the group is the
 * largest divisor of the batch whose columns fit (at least one image). Bigger groups mean fewer,
 * larger gemm calls, and with the whole batch in one group, backward reuses forward's columns.
 * Picked with bench/conv.ts.
 */
export const CONV_COLUMN_BUDGET = 1 << 17;

/** The helpers of tasks run on a private heap (no kernel-table ranges run there). */
const PRIVATE_HELPERS: TaskHelpers = { convColumns: convColumnsKernel, kernels: [], args: [], sync: () => {} };

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

/**
 * Where a {@link WideConv} keeps its data and runs its tasks: the SharedHeap (runtime/heap.ts) or a
 * {@link PrivateHeap} — the shared heap's interface without its gemm and copy on addresses (the tasks
 * get those from the runtime, or from the private heap's adapters).
 */
type ConvHeap = Omit<SharedHeap, 'gemm' | 'copy'>;

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
      gemm(f32.subarray(c >>> 2, (c >>> 2) + m * n), f32.subarray(a >>> 2, (a >>> 2) + m * k),
        f32.subarray(b >>> 2, (b >>> 2) + k * n), m, n, k, HEAP_GEMM_FLAGS[(bCs !== 1 ? 2 : 0) + acc]);
    };
    // A plain buffer: copyWithin is a native memmove here.
    this.copyAt = (dst, src, bytes) => { f32.copyWithin(dst >>> 2, src >>> 2, (src + bytes) >>> 2); };
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
    task(this.f32, this.f64, this.i32, desc, 0, chunks, 0, 0, this.gemmAt, this.copyAt, PRIVATE_HELPERS);
  }
}

/** The WASM kernel's shared heap (one scratch slot per core), or null (TypeScript gemm selected, or no shared memory). */
export function sharedConvHeap(): ConvHeap | null {
  return getGemmBackend() === 'ts' ? null : sharedHeap();
}

/**
 * Conv2D's stride-1 path for one batch size (see the Conv2D TSDoc): its data lives in a heap (the
 * WASM kernel's shared memory, so that the per-chunk work of runtime/conv-tasks.ts runs on all threads,
 * or a private heap), described by a descriptor the tasks read. Forward block: descriptor, x copy,
 * y, weights, bias, and one scratch area per thread slot — xp[G, inC, Hp, Wp] (+ kW − 1 slack),
 * dyp[G, filters, Hq, Wq] (+ kW − 1 slack), the column region (col[inC·kH·kW, G·outH·Wp] or
 * dycol[filters·kH·kW, G·H·Wq]), y_wide, dy_wide and dx_wide. Backward block (allocated by the first
 * backward): dy copy, dx, flipped kernels, per-chunk dW partials and float64 bias partials.
 * Heap memory is zero-filled when allocated and the borders, slack and junk columns are never
 * written, so they stay 0.
 */
export class WideConv {
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
  /** Winograd engines of forward and dL/dx, by tile size (made on first use; see tensor/winograd.ts). */
  private winoForward: (WinogradConv | null)[];
  private winoInput: (WinogradConv | null)[];
  /** The Winograd tile of the last forward's dL/dx (0: im2col), and the ReLU dy mask buffer it needs. */
  private lastTile: number;
  private dyMasked: Float32Array | null;
  /** Where {@link forwardInto} / {@link backwardInto} have the running call write y / dx (null: the engine's own). */
  private yOut: Float32Array | null;
  private dxOut: Float32Array | null;
  /** The weights the last Winograd forward read (dL/dx uses them). */
  private winoW: Float32Array;
  /** The Winograd tile of the last forward's dL/dW (0: im2col), and the input that forward read. */
  private lastWeightTile: number;
  private winoX: Float32Array;
  /** Backward calls so far, and the one whose masked dy {@link dyMasked} holds. */
  private backwards = 0;
  private maskedFor = -1;

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
    this.winoForward = [null, null, null, null, null];
    this.winoInput = [null, null, null, null, null];
    this.lastTile = 0;
    this.dyMasked = null;
    this.yOut = null;
    this.dxOut = null;
    this.winoW = new Float32Array(0);
    this.lastWeightTile = 0;
    this.winoX = this.winoW;
    const i32 = this.heap.i32;
    const d = this.desc >>> 2;
    const words: [number, number][] = [
      [D.channels, channels], [D.height, height], [D.width, width], [D.kH, kH], [D.kW, kW], [D.padH, padH],
      [D.padW, padW], [D.outH, outH], [D.outW, outW], [D.filters, filters], [D.group, G], [D.hp, hp],
      [D.wp, wp], [D.hq, hq], [D.wq, wq], [D.x, this.xAddr], [D.y, yAddr], [D.w, this.wAddr],
      [D.bias, useBias ? this.biasAddr : 0], [D.scratch, scratch], [D.scratchStride, slotBytes], [D.xp, xpOff],
      [D.dyp, dypOff], [D.region, regionOff], [D.yWide, yWideOff], [D.dyWide, dyWideOff], [D.dxWide, dxWideOff],
    ];
    for (const [word, value] of words) i32[d + word] = value;
    const f32 = this.heap.f32;
    this.y = new Tensor(f32.subarray(yAddr >>> 2, (yAddr >>> 2) + batch * this.outSize), [batch, filters, outH, outW]);
    this.xView = f32.subarray(this.xAddr >>> 2, (this.xAddr >>> 2) + batch * this.inSize);
    this.wView = f32.subarray(this.wAddr >>> 2, (this.wAddr >>> 2) + filters * this.ckk);
    this.biasView = f32.subarray(this.biasAddr >>> 2, (this.biasAddr >>> 2) + filters);
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
    const d = this.desc >>> 2;
    i32[d + D.relu] = relu ? 1 : 0;
    // x, w and bias that live in the heap (a previous layer's output, the layer's own parameters)
    // are read in place; others are copied into the layer's block first.
    i32[d + D.x] = this.inPlace(x, this.xView, this.xAddr);
    i32[d + D.w] = this.inPlace(w, this.wView, this.wAddr);
    i32[d + D.bias] = bias === null ? 0 : this.inPlace(bias, this.biasView, this.biasAddr);
    const tile = this.winogradTile();
    this.lastTile = winogradInputGradTile(tile, this.g.padH, this.g.padW);
    this.lastWeightTile = winogradWeightGradTile(tile, { channels: this.g.channels, filters: this.filters, outH: this.g.outH, outW: this.g.outW });
    if (tile !== 0) {
      // The same operands the tasks would read: the caller's arrays where they live in the heap, else the copies.
      const xUsed = i32[d + D.x] === this.xAddr ? this.xView : x;
      const wUsed = i32[d + D.w] === this.wAddr ? this.wView : w;
      const bUsed = bias === null ? null : i32[d + D.bias] === this.biasAddr ? this.biasView : bias;
      this.winoW = wUsed;
      this.winoX = xUsed;
      this.winograd(this.winoForward, tile, false).run(this.yOut ?? this.y.data, xUsed, wUsed, false, bUsed, relu);
      return this.y;
    }
    this.heap.runTasks(CONV_FORWARD_TASK, this.desc, this.chunks);
    return this.y;
  }

  /**
   * {@link forward} without a fused ReLU, writing y into `out` (the size of {@link y}, a 64-byte aligned
   * array of this engine's heap, such as an op's result) instead of the engine's own y, which saves the
   * caller a copy. Returns false, computing nothing, when `out` does not qualify (then call forward).
   */
  forwardInto(out: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null): boolean {
    const at = this.heap.addressOf(out);
    if (at < 0 || (at & 63) !== 0 || out.length !== this.y.size) return false;
    const i32 = this.heap.i32;
    const d = this.desc >>> 2;
    const own = i32[d + D.y];
    i32[d + D.y] = at;
    this.yOut = out;
    try {
      this.forward(x, w, bias, false);
    } finally {
      i32[d + D.y] = own;
      this.yOut = null;
    }
    return true;
  }

  /**
   * {@link backward} with the input gradient written into `dxOut` (batch·channels·H·W floats, 64-byte
   * aligned in this engine's heap) instead of the engine's own dx. Returns false, computing nothing,
   * when `dxOut` does not qualify (then call backward). Needs a forward without a fused ReLU.
   */
  backwardInto(dxOut: Float32Array, dy: Float32Array, gradW: Float32Array, gradB: Float32Array | null): boolean {
    const at = this.heap.addressOf(dxOut);
    if (at < 0 || (at & 63) !== 0 || dxOut.length !== this.batch * this.inSize) return false;
    this.dxOut = dxOut;
    try {
      this.backward(dy, gradW, gradB, true);
    } finally {
      this.dxOut = null;
    }
    return true;
  }

  /** The Winograd tile setConvAlgorithm's choice gives this convolution (0: im2col; only 3×3 kernels). */
  private winogradTile(): 0 | WinogradTile {
    const g = this.g;
    if (g.kH !== 3 || g.kW !== 3) return 0;
    return winogradTileFor({ channels: g.channels, filters: this.filters, outH: g.outH, outW: g.outW });
  }

  /**
   * The forward (or, with `input`, the dL/dx) Winograd engine of tile `tile`, made on first use (a
   * forward one keeps the batch's input transform for dL/dW when its first forward's rule runs the Winograd dW).
   */
  private winograd(list: (WinogradConv | null)[], tile: number, input: boolean): WinogradConv {
    let engine = list[tile];
    if (engine === null) {
      const { channels, height, width, outH, outW, padH, padW } = this.g;
      const m = tile === 2 ? 2 : 4;
      // dL/dx is the 3×3 stride-1 convolution of dy padded by 2 − pad with the flipped, transposed kernels.
      engine = input
        ? new WinogradConv(this.batch, this.filters, channels, outH, outW, 2 - padH, 2 - padW, m)
        : new WinogradConv(this.batch, channels, this.filters, height, width, padH, padW, m, this.lastWeightTile !== 0);
      list[tile] = engine;
    }
    return engine;
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
    this.backwards++;
    const heap = this.heap;
    const f32 = heap.f32;
    const i32 = heap.i32;
    const d = this.desc >>> 2;
    i32[d + D.dy] = this.inPlace(dy, this.dyView, this.dyAddr);
    const tile = this.lastTile;
    const weightTile = this.lastWeightTile;
    // After a Winograd forward, dx (and, by the rule, dW) are Winograd computations too; the tasks
    // then do only what is left of dW, dx and db.
    i32[d + D.dx] = needInputGrad && tile === 0 ? (this.dxOut === null ? this.dxAddr : this.heap.addressOf(this.dxOut)) : 0;
    i32[d + D.biasPart] = gradB !== null ? this.biasPartAddr : 0;
    i32[d + D.dWPart] = weightTile === 0 ? this.dWPartAddr : 0;
    if (needInputGrad && tile === 0) {
      // wFlip[c, (o·kH + i)·kW + j] = W[o, c, kH−1−i, kW−1−j], from the W forward read.
      const { channels, kH, kW } = this.g;
      const kk = kH * kW;
      const rowLen = this.filters * kk;
      const wF = i32[d + D.w] >>> 2;
      const flipF = this.wFlipAddr >>> 2;
      for (let o = 0; o < this.filters; o++) {
        for (let c = 0; c < channels; c++) {
          const src = wF + (o * channels + c) * kk;
          const dst = flipF + c * rowLen + o * kk;
          for (let t = 0; t < kk; t++) f32[dst + t] = f32[src + kk - 1 - t];
        }
      }
    }
    if (weightTile === 0 || gradB !== null || (needInputGrad && tile === 0)) heap.runTasks(CONV_BACKWARD_TASK, this.desc, this.chunks);
    // Sum the per-chunk partials in chunk order: the same bits whichever threads ran the chunks. On
    // the shared heap the module's addParts does it, split over the threads by ranges of dW.
    const size = this.filters * this.ckk;
    if (weightTile === 0) ADD_PARTS.run(size, gradW, this.dWPartView, this.chunks, size);
    else this.winograd(this.winoForward, weightTile, false).weightGrad(gradW, this.winoX, this.maskedDy(dy));
    if (gradB !== null) {
      const f64 = heap.f64;
      const partD = this.biasPartAddr >>> 3;
      for (let o = 0; o < this.filters; o++) {
        let sum = 0;
        for (let chunk = 0; chunk < this.chunks; chunk++) sum += f64[partD + chunk * this.filters + o];
        gradB[o] += sum;
      }
    }
    if (needInputGrad && tile !== 0) this.winogradInputGrad(dy, tile);
    return needInputGrad ? this.dxTensor : null;
  }

  /** dx = the Winograd convolution of dy (masked by the fused ReLU's y > 0) with the flipped, transposed W. */
  private winogradInputGrad(dy: Float32Array, tile: number): void {
    this.winograd(this.winoInput, tile, true).run(this.dxOut ?? (this.dxTensor as Tensor).data, this.maskedDy(dy), this.winoW, true, null, false);
  }

  /**
   * dy as the Winograd backward reads it: masked by the fused ReLU's y > 0 (into a buffer of the
   * layer's; computed once per backward, however many Winograd passes read it), else the tasks' operand.
   */
  private maskedDy(dy: Float32Array): Float32Array {
    const i32 = this.heap.i32;
    const d = this.desc >>> 2;
    const dyUsed = i32[d + D.dy] === this.dyAddr ? this.dyView : dy;
    if (i32[d + D.relu] !== 1) return dyUsed;
    if (this.maskedFor !== this.backwards) {
      this.dyMasked ??= heapFloat32(this.y.size);
      RELU_BACKWARD.run(this.y.size, this.dyMasked, dyUsed, this.y.data);
      this.maskedFor = this.backwards;
    }
    return this.dyMasked as Float32Array;
  }

  private allocBackward(): void {
    const sizes = this.backwardSizes();
    this.backwardBlock = this.heap.alloc(sizes.reduce((sum, b) => sum + align64(b), 0), this);
    let at = this.backwardBlock;
    const take = (bytes: number): number => { const a = at; at += align64(bytes); return a; };
    this.dyAddr = take(sizes[0]);
    this.dyView = this.heap.f32.subarray(this.dyAddr >>> 2, (this.dyAddr >>> 2) + this.batch * this.outSize);
    this.dxAddr = take(sizes[1]);
    this.wFlipAddr = take(sizes[2]);
    this.dWPartAddr = take(sizes[3]);
    this.dWPartView = this.heap.f32.subarray(this.dWPartAddr >>> 2, (this.dWPartAddr >>> 2) + this.chunks * this.filters * this.ckk);
    this.biasPartAddr = take(sizes[4]);
    const i32 = this.heap.i32;
    const d = this.desc >>> 2;
    i32[d + D.wFlip] = this.wFlipAddr;
    i32[d + D.dWPart] = this.dWPartAddr;
    const { channels, height, width } = this.g;
    this.dxTensor = new Tensor(this.heap.f32.subarray(this.dxAddr >>> 2, (this.dxAddr >>> 2) + this.batch * this.inSize), [this.batch, channels, height, width]);
  }

  /** Returns the heap blocks (the tensors {@link y} and dx must not be used afterwards). */
  release(): void {
    this.heap.free(this.forwardBlock, this);
    if (this.backwardBlock !== 0) this.heap.free(this.backwardBlock);
  }
}

/**
 * Default of {@link setThinConvMaxChannels}: `'auto'`, the measured rule of {@link isThinConv}.
 */
export const THIN_CONV_MAX_CHANNELS = 'auto';

/** Most input channels the automatic rule sends to the thin path (the shapes measured). */
export const THIN_CONV_AUTO_CHANNELS = 3;

let thinMaxChannels: number | 'auto' = THIN_CONV_MAX_CHANNELS;

/**
 * Sets which stride-1 convolutions run the direct {@link ThinConv} rather than {@link WideConv}:
 * a number forces "at most that many input channels" whatever the filters (0 = never), `'auto'` (the
 * default) restores the measured rule of {@link isThinConv}. Returns the previous setting. Layers pick
 * their path at each forward. For tests and benchmarks.
 */
export function setThinConvMaxChannels(channels: number | 'auto'): number | 'auto' {
  if (channels !== 'auto' && !(Number.isInteger(channels) && channels >= 0)) {
    throw new RangeError(`setThinConvMaxChannels: channels must be an integer ≥ 0 or 'auto', got ${String(channels)}`);
  }
  const previous = thinMaxChannels;
  thinMaxChannels = channels;
  return previous;
}

/**
 * Whether a convolution with `filters` output channels runs the thin path: stride 1, padding ≤
 * kernel − 1 (the wide path's domain) and, by default, the measured rule — at most
 * {@link THIN_CONV_AUTO_CHANNELS} input channels and, in training (`training`, the default), one
 * filter, or two filters of a 3×3 kernel; in an eval-mode forward (`training` false) up to the filter
 * counts of `thinInferenceFilters` (3–8, by kernel size and padding). The training rule was measured
 * with the backward kernels (a training step, before the forward's interior runs): the direct kernels
 * run without fused multiply-adds (their bits are their twins'), so against the FMA gemm they won
 * only where the gemm's 4-row micro-tile is mostly empty (bench/conv.ts's thin rows and
 * bench/RESULTS.md: thin ÷ wide 0.2–0.9 there, 1.2–5 from three filters on). With
 * {@link setThinConvMaxChannels} set to a number, any filter count with at most that many input
 * channels, in either mode.
 */
export function isThinConv(g: ConvGeometry, filters: number, training = true): boolean {
  if (!(g.strideH === 1 && g.strideW === 1 && g.padH <= g.kH - 1 && g.padW <= g.kW - 1)) return false;
  if (thinMaxChannels !== 'auto') return g.channels <= thinMaxChannels;
  if (g.channels > THIN_CONV_AUTO_CHANNELS) return false;
  if (!training) return filters <= thinInferenceFilters(g);
  return filters === 1 || (filters === 2 && g.kH === 3 && g.kW === 3);
}

/**
 * Most filters the automatic rule sends to the thin path in an eval-mode forward (≤ 3 input channels),
 * where only the forward kernel runs: its interior runs (several filters × 8–16 outputs per x load)
 * beat the im2col gemm up to 8 filters of a 5×5 (or larger) kernel, 6 of an unpadded 3×3 and 3 of a
 * padded one (bench/pruned.ts --grid, bench/RESULTS.md "Pruned model vs its FLOP ratio"). Smaller
 * kernels count as 3×3.
 */
function thinInferenceFilters(g: ConvGeometry): number {
  if (g.kH * g.kW >= 25) return 8;
  return g.padH === 0 && g.padW === 0 ? 6 : 3;
}

/** Images per weight-gradient partial of {@link ThinConv} (fixed: the bits do not depend on the thread count). */
export const THIN_CONV_GROUP = 4;

/**
 * Conv2D's direct path for thin inputs (few channels, stride 1), for one batch size: forward is the
 * thin-conv kernel over the (image, block of 4 filters) planes, f32x4 along output rows, bias and an optional
 * fused ReLU applied in the same pass; backward masks dy by the ReLU (relu-backward kernel), computes
 * per-chunk ({@link THIN_CONV_GROUP} images) weight and bias partials with thin-conv-grad, sums them in
 * chunk order (add-parts; the bias in float64), and, when asked, dx as the thin convolution of the
 * padded dy with the flipped, transposed kernels. Every kernel splits over threads by planes, each
 * plane computed by one thread, so the bits do not depend on the thread count. Buffers live in the
 * shared heap when there is one (the SIMD code runs there; operands outside it are copied in), else
 * the kernels' TypeScript twins run with the same bits.
 */
export class ThinConv {
  readonly batch: number;
  private readonly g: ConvGeometry;
  private readonly filters: number;
  private readonly chunks: number;
  /** Output y[batch, filters, outH, outW]. */
  readonly y: Tensor;
  private readonly xCopy: Float32Array;
  private readonly wCopy: Float32Array;
  private readonly biasCopy: Float32Array;
  /** Zeros standing for "no bias" (filters floats, or inC for dx's convolution). */
  private readonly zeros: Float32Array;
  /**
   * Forward's zero-padded input copy [batch, C, H + 2·padH, W + 2·padW] (empty without padding): the
   * kernel then runs unpadded, every tap inside (its border paths cost several times its interior).
   */
  private readonly xPadded: Float32Array;
  private x: Float32Array;
  private relu: boolean;
  private dyCopy: Float32Array | null;
  private dxTensor: Tensor | null;
  private wFlip: Float32Array;
  private dWPart: Float32Array;
  private dbPart: Float32Array;

  constructor(batch: number, filters: number, g: ConvGeometry) {
    const { channels, height, width, kH, kW, outH, outW } = g;
    this.batch = batch;
    this.g = g;
    this.filters = filters;
    this.chunks = Math.ceil(batch / THIN_CONV_GROUP);
    this.y = new Tensor(heapFloat32(batch * filters * outH * outW), [batch, filters, outH, outW]);
    this.xCopy = heapFloat32(batch * channels * height * width);
    this.wCopy = heapFloat32(filters * channels * kH * kW);
    this.biasCopy = heapFloat32(filters);
    this.zeros = heapFloat32(Math.max(filters, channels));
    const padded = g.padH > 0 || g.padW > 0;
    this.xPadded = padded ? heapFloat32(batch * channels * (height + 2 * g.padH) * (width + 2 * g.padW)) : new Float32Array(0);
    this.xPadded.fill(0); // the borders stay 0; forward writes the interior
    this.x = this.xCopy;
    this.relu = false;
    this.dyCopy = null;
    this.dxTensor = null;
    this.wFlip = new Float32Array(0);
    this.dWPart = new Float32Array(0);
    this.dbPart = new Float32Array(0);
  }

  /** `array` itself when it is in the shared heap (or there is none), else its copy in `copy`. */
  private inHeap(array: Float32Array, copy: Float32Array): Float32Array {
    if (isHeapArray(array) || !isHeapArray(copy)) return array;
    copyFloat32(copy, array.length === copy.length ? array : array.subarray(0, copy.length));
    return copy;
  }

  /** y = conv(x) + bias (through a ReLU if `relu`; backward then masks dy) for the whole batch; returns {@link y}. */
  forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean): Tensor {
    const { channels, height, width, kH, kW, padH, padW, outH, outW } = this.g;
    const F = this.filters;
    // The input is kept (by reference when it lives in the heap) for the weight gradient.
    this.x = this.inHeap(x, this.xCopy);
    this.relu = relu;
    const wUsed = this.inHeap(w, this.wCopy);
    const bUsed = bias === null ? this.zeros : this.inHeap(bias, this.biasCopy);
    const work = outH * outW * Math.min(F, 4) * channels * kH * kW;
    if (this.xPadded.length === 0) {
      THIN_CONV.runPlanes(this.batch * Math.ceil(F / 4), work, this.y.data, this.x, wUsed, bUsed,
        channels, height, width, kH, kW, 0, 0, outH, outW, F, relu ? 1 : 0);
      return this.y;
    }
    // Padded: the same sums over a zero-bordered copy (a tap in the padding adds 0·w, as the kernel's own
    // border columns and the im2col path do; its skipped rows differ only for an infinite or NaN weight).
    const hp = height + 2 * padH;
    const wp = width + 2 * padW;
    const xp = this.xPadded;
    const src = this.x;
    const rows = this.batch * channels;
    for (let r = 0; r < rows; r++) {
      const from = r * height * width;
      let to = (r * hp + padH) * wp + padW;
      for (let h = 0, at = from; h < height; h++, to += wp) {
        for (let c = 0; c < width; c++, at++) xp[to + c] = src[at];
      }
    }
    THIN_CONV.runPlanes(this.batch * Math.ceil(F / 4), work, this.y.data, xp, wUsed, bUsed,
      channels, hp, wp, kH, kW, 0, 0, outH, outW, F, relu ? 1 : 0);
    return this.y;
  }

  /**
   * Adds dW (and db) of the last forward's input, given dy (dL/d(ReLU output) when forward fused a
   * ReLU); returns dx (a layer-owned tensor) or null when `needInputGrad` is false.
   */
  backward(dy: Float32Array, w: Float32Array, gradW: Float32Array, gradB: Float32Array | null, needInputGrad: boolean): Tensor | null {
    const { channels, height, width, kH, kW, padH, padW, outH, outW } = this.g;
    const F = this.filters;
    const batch = this.batch;
    const ckk = channels * kH * kW;
    if (this.dyCopy === null) {
      this.dyCopy = heapFloat32(this.y.size);
      this.dWPart = heapFloat32(this.chunks * F * ckk);
      this.dbPart = heapFloat32(this.chunks * F);
    }
    let dyUsed: Float32Array;
    if (this.relu) {
      // dL/dy = 0 where the fused ReLU's output is ≤ 0 (the bits of the separate ReLU layer's backward).
      dyUsed = this.dyCopy;
      RELU_BACKWARD.run(this.y.size, dyUsed, dy, this.y.data);
    } else {
      dyUsed = this.inHeap(dy, this.dyCopy);
    }
    THIN_CONV_GRAD.runPlanes(this.chunks * F, THIN_CONV_GROUP * outH * outW * ckk, this.dWPart, this.dbPart, dyUsed, this.x,
      channels, height, width, kH, kW, padH, padW, outH, outW, F, batch, THIN_CONV_GROUP);
    const size = F * ckk;
    ADD_PARTS.run(size, gradW, this.dWPart, this.chunks, size);
    if (gradB !== null) {
      const part = this.dbPart;
      for (let o = 0; o < F; o++) {
        let sum = 0;
        for (let chunk = 0; chunk < this.chunks; chunk++) sum += part[chunk * F + o];
        gradB[o] += sum;
      }
    }
    if (!needInputGrad) return null;
    if (this.dxTensor === null) {
      this.dxTensor = new Tensor(heapFloat32(batch * channels * height * width), [batch, channels, height, width]);
      this.wFlip = heapFloat32(F * ckk);
    }
    // dx = the thin convolution of dy (F channels, padded by k − 1 − pad) with wFlip[c, o, i, j] = W[o, c, kH−1−i, kW−1−j].
    const kk = kH * kW;
    const flip = this.wFlip;
    for (let o = 0; o < F; o++) {
      for (let c = 0; c < channels; c++) {
        const src = (o * channels + c) * kk;
        const dst = (c * F + o) * kk;
        for (let t = 0; t < kk; t++) flip[dst + t] = w[src + kk - 1 - t];
      }
    }
    THIN_CONV.runPlanes(batch * Math.ceil(channels / 4), height * width * Math.min(channels, 4) * F * kk, this.dxTensor.data, dyUsed, flip, this.zeros,
      F, outH, outW, kH, kW, kH - 1 - padH, kW - 1 - padW, height, width, channels, 0);
    return this.dxTensor;
  }
}
