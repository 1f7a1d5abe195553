// GlobalAvgPool2D (PyTorch nn.AdaptiveAvgPool2d(1) followed by flatten): the mean of each channel's
// plane, [batch, C, H, W] → [batch, C].
import { BatchBuffer, NO_PARAMS, checkGrad, checkInput, checkKeys, formatShape, requireBuilt, type Param, type Rng, type Tensor } from '../plugin/index.js';
import type { Layer } from './layer.js';

/**
 * Global average pooling, registered as `'global-avg-pool2d'`: `y[b, c] = (1/(H·W))·Σ_{h,w} x[b, c, h, w]`
 * (each plane summed in a double), `dx[b, c, h, w] = dy[b, c]/(H·W)`. Input `[batch, C, H, W]`,
 * output `[batch, C]`: torch's `x.mean(dim=(2, 3))`. No parameters, no options.
 */
export class GlobalAvgPool2D implements Layer {
  readonly kind = 'global-avg-pool2d';
  private inShape: number[];
  private channels: number;
  private plane: number;
  private out: BatchBuffer;
  private dx: BatchBuffer;
  private output: Tensor | null;

  constructor(options: Record<string, unknown> = {}) {
    checkKeys('GlobalAvgPool2D', options, []);
    this.inShape = [];
    this.channels = 0;
    this.plane = 0;
    this.out = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.output = null;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`GlobalAvgPool2D: expected a per-sample input shape [channels, height, width], got ${formatShape(inputShape)}`);
    }
    this.inShape = inputShape.slice();
    this.channels = inputShape[0];
    this.plane = inputShape[1] * inputShape[2];
    this.out = new BatchBuffer([this.channels]);
    this.dx = new BatchBuffer(this.inShape);
    this.output = null;
    return [this.channels];
  }

  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('GlobalAvgPool2D', this.channels > 0, 'forward');
    checkInput('GlobalAvgPool2D', x, this.inShape);
    const y = this.out.get(x.shape[0]);
    const xd = x.data;
    const out = y.data;
    const P = this.plane;
    // Plane q = b·C + c spans [q·P, (q + 1)·P) of x and is y[q].
    for (let q = 0; q < out.length; q++) {
      const o = q * P;
      let sum = 0;
      for (let s = 0; s < P; s++) sum += xd[o + s];
      out[q] = sum / P;
    }
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad('GlobalAvgPool2D', dy, this.output);
    const dxT = this.dx.get(dy.shape[0]);
    const dx = dxT.data;
    const g = dy.data;
    const P = this.plane;
    // A plain loop: fill(value, …) would box the double value on every call.
    for (let q = 0; q < g.length; q++) {
      const v = g[q] / P;
      const o = q * P;
      for (let s = 0; s < P; s++) dx[o + s] = v;
    }
    return dxT;
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
