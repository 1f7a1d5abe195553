// Unscaled random fills: random-normal, random-uniform, and PyTorch's default bias init fan-in-uniform.
import { checkKeys, readNumber } from '../config.js';
import type { Rng } from '../tensor/rng.js';
import { requireFan } from './fans.js';
import type { Initializer } from './initializer.js';

/** Fills `out` with samples of U[low, high) from `rng`. Returns `out`. */
export function fillUniform(out: Float32Array, low: number, high: number, rng: Rng): Float32Array {
  const span = high - low;
  for (let i = 0; i < out.length; i++) out[i] = low + span * rng.next();
  return out;
}

/** Fills `out` with samples of N(mean, std²) from `rng`. Returns `out`. */
export function fillNormal(out: Float32Array, mean: number, std: number, rng: Rng): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  return out;
}

/**
 * `random-normal`: N(mean, std²), as `torch.nn.init.normal_`, with the same defaults (mean 0, std 1).
 * The fan is ignored. For the classic assignments' small "random" init pass e.g. `{ std: 0.01 }`.
 */
export function randomNormal(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer random-normal';
  checkKeys(owner, config, ['mean', 'std']);
  const mean = readNumber(owner, config, 'mean', 0);
  const std = readNumber(owner, config, 'std', 1, { min: 0 });
  return (out, _fan, rng) => {
    fillNormal(out.data, mean, std, rng);
  };
}

/** `random-uniform`: U[low, high), as `torch.nn.init.uniform_`, with the same defaults (low 0, high 1). */
export function randomUniform(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer random-uniform';
  checkKeys(owner, config, ['low', 'high']);
  const low = readNumber(owner, config, 'low', 0);
  const high = readNumber(owner, config, 'high', 1);
  if (!(high >= low)) throw new Error(`${owner}: high must be >= low, got low ${low} and high ${high}`);
  return (out, _fan, rng) => {
    fillUniform(out.data, low, high, rng);
  };
}

/**
 * `fan-in-uniform`: U(−1/√fanIn, 1/√fanIn), PyTorch's default bias init of `Linear` and `Conv2d`
 * (with the weight's fanIn). No options.
 */
export function fanInUniform(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer fan-in-uniform';
  checkKeys(owner, config, []);
  return (out, fan, rng) => {
    requireFan(owner, 'fanIn', fan.fanIn);
    const bound = 1 / Math.sqrt(fan.fanIn);
    fillUniform(out.data, -bound, bound, rng);
  };
}
