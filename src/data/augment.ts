// Image augmentation for NCHW batches: random integer shifts, small rotations (bilinear) and horizontal
// flips, drawn per sample from a seeded Rng, so an augmented run is reproducible.
import { readBoolean, readNumber, checkKeys } from '../config.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, type Tensor } from '../tensor/tensor.js';

/** Options of {@link augmentBatch}. All default to "off", so `{}` is the identity. */
export interface AugmentOptions {
  /** Maximum shift in pixels: each sample moves by integers dx, dy drawn uniformly from [−shift, shift]. */
  readonly shift?: number;
  /** Maximum rotation in degrees: each sample turns by an angle drawn uniformly from [−rotate, rotate]. */
  readonly rotate?: number;
  /** Mirror left↔right with probability 1/2 (for clothing; not for digits). Default false. */
  readonly flip?: boolean;
}

/** Validated {@link AugmentOptions}. */
export interface ResolvedAugment {
  readonly shift: number;
  readonly rotate: number;
  readonly flip: boolean;
}

/** Checks augmentation options, naming the bad one. */
export function resolveAugment(options: AugmentOptions = {}): ResolvedAugment {
  const config = options as Record<string, unknown>;
  checkKeys('augment', config, ['shift', 'rotate', 'flip']);
  return {
    shift: readNumber('augment', config, 'shift', 0, { min: 0, integer: true }),
    rotate: readNumber('augment', config, 'rotate', 0, { min: 0, max: 180 }),
    flip: readBoolean('augment', config, 'flip', false),
  };
}

/** The transform of one sample: integer shift, angle in radians, flip flag. */
export interface SampleTransform {
  dx: number;
  dy: number;
  angle: number;
  flip: boolean;
}

/**
 * Writes the transformed image planes of one sample: `out` and `x` hold `channels` planes of
 * `height·width` each (`out` must not alias `x`). The forward transform is flip, then rotation about
 * the image centre, then shift; each output pixel samples the source at the inverse-mapped point with
 * bilinear weights, zero outside the image. With angle 0 the source points are exact pixels, so
 * shifts and flips move values without changing them. Returns `out`.
 */
export function transformImage(
  out: Float32Array, x: Float32Array, channels: number, height: number, width: number, t: SampleTransform,
): Float32Array {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(t.angle);
  const sin = Math.sin(t.angle);
  const sx = t.flip ? -1 : 1;
  const plane = height * width;
  for (let i = 0; i < height; i++) {
    const v = i - cy - t.dy;
    for (let j = 0; j < width; j++) {
      const u = j - cx - t.dx;
      // Inverse map: undo the shift, rotate by −angle, undo the flip.
      const srcX = sx * (cos * u + sin * v) + cx;
      const srcY = -sin * u + cos * v + cy;
      const x0 = Math.floor(srcX);
      const y0 = Math.floor(srcY);
      const fx = srcX - x0;
      const fy = srcY - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const in00 = y0 >= 0 && y0 < height && x0 >= 0 && x0 < width;
      const in01 = y0 >= 0 && y0 < height && x0 + 1 >= 0 && x0 + 1 < width && w01 !== 0;
      const in10 = y0 + 1 >= 0 && y0 + 1 < height && x0 >= 0 && x0 < width && w10 !== 0;
      const in11 = y0 + 1 >= 0 && y0 + 1 < height && x0 + 1 >= 0 && x0 + 1 < width && w11 !== 0;
      const src = y0 * width + x0;
      const dst = i * width + j;
      // plane c: x[c, h, w] lives at c*plane + h*width + w
      for (let c = 0; c < channels; c++) {
        const o = c * plane + src;
        let s = 0;
        if (in00) s += w00 * x[o];
        if (in01) s += w01 * x[o + 1];
        if (in10) s += w10 * x[o + width];
        if (in11) s += w11 * x[o + width + 1];
        out[c * plane + dst] = s;
      }
    }
  }
  return out;
}

/**
 * Augments a batch `x` `[batch, channels, height, width]` into `out` (same shape, must not alias `x`).
 * Per sample, in this order, draws from `rng`: dx, dy (only when `shift > 0`), the angle (only when
 * `rotate > 0`) and the flip (only when `flip`). Same seed ⇒ same batch. Returns `out`.
 */
export function augmentBatch(out: Tensor, x: Tensor, options: ResolvedAugment, rng: Rng): Tensor {
  if (x.rank !== 4 || out.rank !== 4 || x.shape.some((d, i) => d !== out.shape[i])) {
    throw new Error(`augmentBatch: x ${formatShape(x.shape)} and out ${formatShape(out.shape)} must be the same [batch, channels, height, width]`);
  }
  if (out.data.buffer === x.data.buffer && out.data.byteOffset === x.data.byteOffset) {
    throw new Error('augmentBatch: out must not alias x');
  }
  const [batch, channels, height, width] = x.shape;
  const per = channels * height * width;
  const t: SampleTransform = { dx: 0, dy: 0, angle: 0, flip: false };
  const k = options.shift;
  const maxAngle = (options.rotate * Math.PI) / 180;
  for (let b = 0; b < batch; b++) {
    t.dx = k > 0 ? rng.int(2 * k + 1) - k : 0;
    t.dy = k > 0 ? rng.int(2 * k + 1) - k : 0;
    t.angle = maxAngle > 0 ? rng.uniform(-maxAngle, maxAngle) : 0;
    t.flip = options.flip ? rng.next() < 0.5 : false;
    transformImage(out.data.subarray(b * per, b * per + per), x.data.subarray(b * per, b * per + per), channels, height, width, t);
  }
  return out;
}
