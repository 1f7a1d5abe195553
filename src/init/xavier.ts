// Xavier (Glorot) initializers: variance 2 / (fanIn + fanOut), scaled by a gain.
import { checkKeys, readNumber } from '../config.js';
import { requireFan } from './fans.js';
import type { Fan, Initializer } from './initializer.js';
import { fillNormal, fillUniform } from './random.js';

function xavierStd(owner: string, gain: number, fan: Fan): number {
  requireFan(owner, 'fanIn', fan.fanIn);
  requireFan(owner, 'fanOut', fan.fanOut);
  return gain * Math.sqrt(2 / (fan.fanIn + fan.fanOut));
}

/**
 * `xavier-uniform`: U(−b, b) with b = gain·√(6 / (fanIn + fanOut)), as `torch.nn.init.xavier_uniform_`
 * (Glorot & Bengio, 2010). Options: `gain` (default 1, ≥ 0).
 */
export function xavierUniform(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer xavier-uniform';
  checkKeys(owner, config, ['gain']);
  const gain = readNumber(owner, config, 'gain', 1, { min: 0 });
  return (out, fan, rng) => {
    const bound = Math.sqrt(3) * xavierStd(owner, gain, fan);
    fillUniform(out.data, -bound, bound, rng);
  };
}

/**
 * `xavier-normal`: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)), as `torch.nn.init.xavier_normal_`.
 * Options: `gain` (default 1, ≥ 0).
 */
export function xavierNormal(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer xavier-normal';
  checkKeys(owner, config, ['gain']);
  const gain = readNumber(owner, config, 'gain', 1, { min: 0 });
  return (out, fan, rng) => {
    fillNormal(out.data, 0, xavierStd(owner, gain, fan), rng);
  };
}
