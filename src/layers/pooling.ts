// MaxPool2D and AvgPool2D layers over NCHW batches (PyTorch nn.MaxPool2d / nn.AvgPool2d, ceil_mode false).
import { checkKeys, readBoolean, readPair } from '../config.js';
import type { Param } from '../tensor/param.js';
import {
  avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward, poolGeometry, type PoolGeometry,
} from '../tensor/pool.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
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
  /** Per-sample input `[C, H, W]`, set by build. */
  protected inputShape: number[] | null;
  /** Geometry of the current batch size. */
  protected geom: PoolGeometry | null;
  protected out: Tensor | null;
  protected dx: Tensor | null;
  /** Storage for `out` and `dx`, sized for the largest batch seen; views are remade when the batch size changes. */
  private outStore: Float32Array;
  private dxStore: Float32Array;

  protected constructor(kind: string, config: Record<string, unknown>, keys: readonly string[]) {
    checkKeys(kind, config, keys);
    this.poolSize = readPair(kind, config, 'poolSize', undefined);
    this.stride = readPair(kind, config, 'stride', this.poolSize);
    this.padding = readPair(kind, config, 'padding', 0, { min: 0, integer: true });
    if (2 * this.padding[0] > this.poolSize[0] || 2 * this.padding[1] > this.poolSize[1]) {
      throw new Error(
        `${kind}: padding ${formatShape(this.padding)} must be at most half of poolSize ${formatShape(this.poolSize)}`,
      );
    }
    this.inputShape = null;
    this.geom = null;
    this.out = null;
    this.dx = null;
    this.outStore = new Float32Array(0);
    this.dxStore = new Float32Array(0);
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    if (inputShape.length !== 3) {
      throw new Error(`${this.kind}: expects a per-sample input [channels, height, width], got ${formatShape(inputShape)}`);
    }
    const g = this.geometryFor(1, inputShape);
    this.inputShape = inputShape.slice();
    this.geom = null;
    return [g.channels, g.outH, g.outW];
  }

  params(): readonly Param[] {
    return [];
  }

  getConfig(): Record<string, unknown> {
    return { poolSize: this.poolSize.slice(), stride: this.stride.slice(), padding: this.padding.slice() };
  }

  /** Checks `x` against the built shape and (re)sizes the geometry and buffers for its batch size. */
  protected prepare(x: Tensor): PoolGeometry {
    const shape = this.inputShape;
    if (shape === null) throw new Error(`${this.kind}: call build(inputShape) before forward`);
    if (x.rank !== 4 || x.shape[1] !== shape[0] || x.shape[2] !== shape[1] || x.shape[3] !== shape[2]) {
      throw new Error(`${this.kind}: expected input [batch, ${shape.join(', ')}], got ${formatShape(x.shape)}`);
    }
    const batch = x.shape[0];
    if (this.geom !== null && this.geom.batch === batch) return this.geom;
    const g = this.geometryFor(batch, shape);
    const outSize = batch * g.channels * g.outH * g.outW;
    const inSize = x.size;
    if (this.outStore.length < outSize) this.outStore = new Float32Array(outSize);
    if (this.dxStore.length < inSize) this.dxStore = new Float32Array(inSize);
    this.out = new Tensor(this.outStore.subarray(0, outSize), [batch, g.channels, g.outH, g.outW]);
    this.dx = new Tensor(this.dxStore.subarray(0, inSize), x.shape);
    this.onBatchSize(outSize);
    this.geom = g;
    return g;
  }

  /** Hook for subclasses that keep extra per-batch buffers (max pool's argmax). */
  protected onBatchSize(_outSize: number): void {}

  /** Checks `dy` against the last forward's output shape; returns that forward's geometry. */
  protected checkGrad(dy: Tensor): PoolGeometry {
    const g = this.geom;
    if (g === null || this.out === null) throw new Error(`${this.kind}: backward called before forward`);
    const s = this.out.shape;
    if (dy.rank !== 4 || dy.shape[0] !== s[0] || dy.shape[1] !== s[1] || dy.shape[2] !== s[2] || dy.shape[3] !== s[3]) {
      throw new Error(`${this.kind}: dy must have the output shape ${formatShape(s)}, got ${formatShape(dy.shape)}`);
    }
    return g;
  }

  private geometryFor(batch: number, shape: readonly number[]): PoolGeometry {
    const [kH, kW] = this.poolSize;
    const [sH, sW] = this.stride;
    const [pH, pW] = this.padding;
    try {
      return poolGeometry(batch, shape[0], shape[1], shape[2], kH, kW, sH, sW, pH, pW);
    } catch (e) {
      throw new Error(`${this.kind}: input ${formatShape(shape)}: ${(e as Error).message}`);
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
  /** Flat input index of each output's maximum, from the last forward. */
  private argmax: Int32Array;

  constructor(config: Pool2DConfig) {
    super('max-pool2d', config as unknown as Record<string, unknown>, POOL_KEYS);
    this.argmax = new Int32Array(0);
  }

  protected override onBatchSize(outSize: number): void {
    if (this.argmax.length < outSize) this.argmax = new Int32Array(outSize);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const g = this.prepare(x);
    const out = this.out as Tensor;
    maxPool2dForward(out.data, this.argmax, x.data, g);
    return out;
  }

  backward(dy: Tensor): Tensor {
    const g = this.checkGrad(dy);
    const dx = this.dx as Tensor;
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
    super('avg-pool2d', c, [...POOL_KEYS, 'countIncludePad']);
    this.countIncludePad = readBoolean('avg-pool2d', c, 'countIncludePad', true);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const g = this.prepare(x);
    const out = this.out as Tensor;
    avgPool2dForward(out.data, x.data, g, this.countIncludePad);
    return out;
  }

  backward(dy: Tensor): Tensor {
    const g = this.checkGrad(dy);
    const dx = this.dx as Tensor;
    avgPool2dBackward(dx.data, dy.data, g, this.countIncludePad);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
}
