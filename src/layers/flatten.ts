// Flatten: [batch, C, H, W] → [batch, C·H·W] in C,H,W order (torch.nn.Flatten), as views sharing the data.
import { checkKeys } from '../config.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';
import { NO_PARAMS, checkGrad, checkInput, requireBuilt } from '../plugin/index.js';

/**
 * Flattens every per-sample axis into one: input `[batch, ...shape]`, output `[batch, prod(shape)]`,
 * row-major, so an NCHW image flattens in C,H,W order as in PyTorch. No parameters, no options.
 *
 * Forward returns a reshape view of the input and backward a view of `dy` (no copy). The view is
 * cached per source tensor, so steady-state training allocates nothing.
 */
export class Flatten implements Layer {
  readonly kind = 'flatten';
  private inShape: number[];
  private features: number;
  private lastIn: Tensor | null;
  private lastOut: Tensor | null;
  private lastDy: Tensor | null;
  private lastDx: Tensor | null;

  constructor(options: Record<string, unknown> = {}) {
    checkKeys('Flatten', options, []);
    this.inShape = [];
    this.features = 0;
    this.lastIn = null;
    this.lastOut = null;
    this.lastDy = null;
    this.lastDx = null;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    if (inputShape.length < 1 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`Flatten: expected a non-empty per-sample input shape, got ${formatShape(inputShape)}`);
    }
    this.inShape = inputShape.slice();
    this.features = shapeSize(inputShape);
    this.lastIn = this.lastOut = this.lastDy = this.lastDx = null;
    return [this.features];
  }

  /** `x[batch, ...shape]` viewed as `[batch, features]` (shares `x.data`). */
  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('Flatten', this.features > 0, 'forward');
    checkInput('Flatten', x, this.inShape);
    if (this.lastIn === null || this.lastOut === null || this.lastIn.data !== x.data) {
      this.lastIn = x;
      this.lastOut = new Tensor(x.data, [x.shape[0], this.features]);
    }
    return this.lastOut;
  }

  /** `dy[batch, features]` viewed as `[batch, ...shape]` (shares `dy.data`). */
  backward(dy: Tensor): Tensor {
    checkGrad('Flatten', dy, this.lastOut);
    if (this.lastDy === null || this.lastDx === null || this.lastDy.data !== dy.data) {
      this.lastDy = dy;
      this.lastDx = new Tensor(dy.data, [dy.shape[0], ...this.inShape]);
    }
    return this.lastDx;
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
