// Dropout: inverted dropout (training scales kept units by 1/(1 − rate); evaluation is the identity).
import { checkKeys, readNumber } from '../config.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';
import { BatchBuffer, NO_PARAMS, checkGrad, checkInput, requireBuilt } from '../plugin/index.js';

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** Probability of zeroing a unit, in [0, 1) (default 0.5, as `torch.nn.Dropout`). */
  readonly rate?: number;
}

/**
 * Inverted dropout, `torch.nn.Dropout`'s equivalent. In training each unit is kept with probability
 * 1 − rate and scaled by 1/(1 − rate), so evaluation needs no rescaling: there (and for rate 0)
 * forward returns `x` itself and backward returns `dy` itself.
 *
 * Randomness: the layer keeps the `Rng` passed to `build` (by reference, not a fork) and draws one
 * uniform per unit from it on every training forward, so the mask stream is part of that generator's
 * stream: saving and restoring its state (as a checkpoint of the model's rng does) resumes the same masks.
 * Shapes: any `[batch, ...shape]`, unchanged.
 */
export class Dropout implements Layer {
  readonly kind = 'dropout';
  readonly rate: number;
  private rng: Rng | null;
  private shape: number[];
  private out: BatchBuffer;
  /** Per-unit multiplier of the last training forward: 0 (dropped) or 1/(1 − rate) (kept). */
  private mask: BatchBuffer;
  private dx: BatchBuffer;
  private output: Tensor | null;
  private lastMask: Tensor | null;

  constructor(options: DropoutOptions = {}) {
    const config = options as Record<string, unknown>;
    checkKeys('Dropout', config, ['rate']);
    this.rate = readNumber('Dropout', config, 'rate', 0.5, { min: 0, max: 1, maxExclusive: true });
    this.rng = null;
    this.shape = [];
    this.out = new BatchBuffer([0]);
    this.mask = new BatchBuffer([0]);
    this.dx = new BatchBuffer([0]);
    this.output = null;
    this.lastMask = null;
  }

  /** Keeps `rng` as the source of the dropout masks; returns `inputShape`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (!inputShape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`Dropout: invalid per-sample input shape ${formatShape(inputShape)}`);
    }
    this.rng = rng;
    this.shape = inputShape.slice();
    this.out = new BatchBuffer(this.shape);
    this.mask = new BatchBuffer(this.shape);
    this.dx = new BatchBuffer(this.shape);
    this.output = null;
    this.lastMask = null;
    return this.shape.slice();
  }

  /** Training: x·mask into a layer-owned buffer, with a fresh mask. Evaluation or rate 0: returns `x`. */
  forward(x: Tensor, training: boolean): Tensor {
    requireBuilt('Dropout', this.rng !== null, 'forward');
    checkInput('Dropout', x, this.shape);
    if (!training || this.rate === 0) {
      this.output = x;
      this.lastMask = null;
      return x;
    }
    const rng = this.rng as Rng;
    const batch = x.shape[0];
    const y = this.out.get(batch);
    const mask = this.mask.get(batch);
    const m = mask.data;
    const rate = this.rate;
    const scale = 1 / (1 - rate);
    const xd = x.data;
    const yd = y.data;
    for (let i = 0; i < yd.length; i++) {
      const keep = rng.next() >= rate ? scale : 0;
      m[i] = keep;
      yd[i] = xd[i] * keep;
    }
    this.output = y;
    this.lastMask = mask;
    return y;
  }

  /** dx = dy·mask of the last training forward (layer-owned); after an identity forward, returns `dy`. */
  backward(dy: Tensor): Tensor {
    checkGrad('Dropout', dy, this.output);
    if (this.lastMask === null) return dy;
    const dx = this.dx.get(dy.shape[0]);
    const m = this.lastMask.data;
    const g = dy.data;
    const d = dx.data;
    for (let i = 0; i < d.length; i++) d[i] = g[i] * m[i];
    return dx;
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return { rate: this.rate };
  }
}
