// Fan sizes and nonlinearity gains, as torch.nn.init computes them (the inputs of every scaled initializer).
import { formatShape } from '../tensor/tensor.js';
import type { Fan } from './initializer.js';

/**
 * Fan-in and fan-out of a weight of shape `[out, in, ...kernel]`, following torch's
 * `_calculate_fan_in_and_fan_out`: the receptive field is the product of the kernel dimensions, so
 * Dense `[out, in]` gives fanIn = in, fanOut = out and Conv2D `[outC, inC, kH, kW]` gives
 * fanIn = inC·kH·kW, fanOut = outC·kH·kW. Throws for tensors of fewer than two dimensions (a bias has
 * no fans of its own; layers pass their weight's fans to the bias initializer, as PyTorch does).
 */
export function computeFans(shape: readonly number[]): Fan {
  if (shape.length < 2) {
    throw new Error(`computeFans: fan in and fan out need a tensor of at least 2 dimensions, got ${formatShape(shape)}`);
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Nonlinearities known to {@link calculateGain}, spelled as in `torch.nn.init.calculate_gain`. */
export const NONLINEARITIES = [
  'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu',
] as const;

export type Nonlinearity = (typeof NONLINEARITIES)[number];

/**
 * The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`: 1 for linear, conv and
 * sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + slope²)) for leaky_relu (slope `param`, default
 * 0.01); 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : param;
      if (!Number.isFinite(slope)) throw new Error(`calculateGain: negative slope must be a finite number, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}; known: ${NONLINEARITIES.join(', ')}`);
  }
}

/** Throws unless `fan` is a positive count: scaled initializers divide by it. */
export function requireFan(owner: string, which: string, fan: number): void {
  if (!(Number.isInteger(fan) && fan > 0)) {
    throw new Error(`${owner}: ${which} must be a positive integer, got ${fan} (is the tensor empty?)`);
  }
}
