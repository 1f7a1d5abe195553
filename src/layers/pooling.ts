// MaxPool2D and AvgPool2D layers over NCHW batches (PyTorch nn.MaxPool2d / nn.AvgPool2d, ceil_mode false).
import { checkKeys, readBoolean, readPair } from '../config.js';
import type { Param } from '../tensor/param.js';
import { BatchBuffer, NO_PARAMS, avgPool2dBackward, avgPool2dForward, checkGrad, checkInput, heapInt32, maxPool2dBackward, maxPool2dForward, poolGeometry, requireBuilt, type PoolGeometry } from '../plugin/index.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, type Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';

/** A size given as one number (both axes) or `[h, w]`. */
export type Size2 = number | readonly [number, number];

/** Options of {@link MaxPool2D}. */
export interface Pool2DConfig {
  /** Window size `k` or `[kH, kW]` (required). */
  readonly poolSize: Size2;
  /** Step between windows; defaults to `poolSize` (non-overlapping windows). */
  readonly stride?: Size2;
  /** Implicit padding on each side, at most half the window (PyTorch's rule); default 0. */
  readonly padding?: Size2;
}

/** Options of {@link AvgPool2D}. */
export interface AvgPool2DConfig extends Pool2DConfig {
  /** Divide by the full window size even where it covers padding (PyTorch's default, true). */
  readonly countIncludePad?: boolean;
}

const POOL_KEYS = ['poolSize', 'stride', 'padding'] as const;

/**
 * Shared machinery of the pooling layers: config validation, shapes and batch-sized buffers.
 * Input `[batch, C, H, W]` → output `[batch, C, outH, outW]` with PyTorch's floor output size.
 */
abstract class Pool2D implements Layer {
  abstract readonly kind: string;
  readonly poolSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  /** Class name used in error messages. */
  protected readonly owner: string;
  /** Per-sample input `[C, H, W]` (empty until build). */
  protected inShape: number[];
  /** Per-sample output `[C, outH, outW]` (empty until build). */
  protected outShape: number[];
  /** Geometry of the last forward's batch size. */
  protected geom: PoolGeometry | null;
  protected out: BatchBuffer;
  protected dx: BatchBuffer;
  /** The last forward's output (null before the first forward). */
  protected output: Tensor | null;

  protected constructor(owner: string, config: Record<string, unknown>, keys: readonly string[]) {
    checkKeys(owner, config, keys);
    this.poolSize = readPair(owner, config, 'poolSize', undefined);
    this.stride = readPair(owner, config, 'stride', this.poolSize);
    this.padding = readPair(owner, config, 'padding', 0, { min: 0, integer: true });
    if (2 * this.padding[0] > this.poolSize[0] || 2 * this.padding[1] > this.poolSize[1]) {
      throw new Error(
        `${owner}: padding ${formatShape(this.padding)} must be at most half of poolSize ${formatShape(this.poolSize)}`,
      );
    }
    this.owner = owner;
    this.inShape = [];
    this.outShape = [];
    this.geom = null;
    this.out = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.output = null;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    if (inputShape.length !== 3) {
      throw new Error(`${this.owner}: expected a per-sample input shape [channels, height, width], got ${formatShape(inputShape)}`);
    }
    const g = this.geometryFor(1, inputShape);
    this.inShape = inputShape.slice();
    this.outShape = [g.channels, g.outH, g.outW];
    this.geom = null;
    this.out = new BatchBuffer(this.outShape);
    this.dx = new BatchBuffer(this.inShape);
    this.output = null;
    return this.outShape.slice();
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return { poolSize: this.poolSize.slice(), stride: this.stride.slice(), padding: this.padding.slice() };
  }

  /** Checks `x` against the built shape; returns the geometry for its batch size (remade only when that changes). */
  protected prepare(x: Tensor): PoolGeometry {
    requireBuilt(this.owner, this.inShape.length > 0, 'forward');
    checkInput(this.owner, x, this.inShape);
    const batch = x.shape[0];
    if (this.geom === null || this.geom.batch !== batch) this.geom = this.geometryFor(batch, this.inShape);
    return this.geom;
  }

  private geometryFor(batch: number, shape: readonly number[]): PoolGeometry {
    const [kH, kW] = this.poolSize;
    const [sH, sW] = this.stride;
    const [pH, pW] = this.padding;
    try {
      return poolGeometry(batch, shape[0], shape[1], shape[2], kH, kW, sH, sW, pH, pW);
    } catch (e) {
      const reason = (e as Error).message.replace(/^pool2d: /, '');
      throw new Error(`${this.owner}: ${reason} (input ${formatShape(shape)})`);
    }
  }

  abstract forward(x: Tensor, training: boolean): Tensor;
  abstract backward(dy: Tensor): Tensor;
}

/**
 * 2-D max pooling (PyTorch `nn.MaxPool2d(kernel_size, stride, padding)`, kind `'max-pool2d'`).
 * `[batch, C, H, W]` → `[batch, C, outH, outW]`, `outH = floor((H + 2·padH − kH) / strideH) + 1`.
 * Padding never wins the max. Backward routes each gradient to the first maximum of its window.
 */
export class MaxPool2D extends Pool2D {
  readonly kind = 'max-pool2d';
  /** Flat input index of each output's maximum, from the last forward; grows to the largest batch seen. */
  private argmax: Int32Array;

  constructor(config: Pool2DConfig) {
    super('MaxPool2D', config as unknown as Record<string, unknown>, POOL_KEYS);
    this.argmax = new Int32Array(0);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const g = this.prepare(x);
    const y = this.out.get(g.batch);
    if (this.argmax.length < y.size) this.argmax = heapInt32(y.size);
    maxPool2dForward(y.data, this.argmax, x.data, g);
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad(this.owner, dy, this.output);
    const g = this.geom as PoolGeometry;
    const dx = this.dx.get(g.batch);
    maxPool2dBackward(dx.data, dy.data, this.argmax, g);
    return dx;
  }
}

/**
 * 2-D average pooling (PyTorch `nn.AvgPool2d(kernel_size, stride, padding, count_include_pad)`,
 * kind `'avg-pool2d'`). `[batch, C, H, W]` → `[batch, C, outH, outW]`. By default padding counts as
 * zeros in the mean (divisor kH·kW); with `countIncludePad: false` only in-image elements count.
 */
export class AvgPool2D extends Pool2D {
  readonly kind = 'avg-pool2d';
  readonly countIncludePad: boolean;

  constructor(config: AvgPool2DConfig) {
    const c = config as unknown as Record<string, unknown>;
    super('AvgPool2D', c, [...POOL_KEYS, 'countIncludePad']);
    this.countIncludePad = readBoolean('AvgPool2D', c, 'countIncludePad', true);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const g = this.prepare(x);
    const y = this.out.get(g.batch);
    avgPool2dForward(y.data, x.data, g, this.countIncludePad);
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad(this.owner, dy, this.output);
    const g = this.geom as PoolGeometry;
    const dx = this.dx.get(g.batch);
    avgPool2dBackward(dx.data, dy.data, g, this.countIncludePad);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
}
