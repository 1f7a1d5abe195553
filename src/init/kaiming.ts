// Kaiming (He) initializers: std = gain / √fan, with torch.nn.init's defaults and gains.
import { checkKeys, readChoice, readNumber } from '../config.js';
import { calculateGain, NONLINEARITIES, requireFan, type Nonlinearity } from './fans.js';
import type { Fan, Initializer } from './initializer.js';
import { fillNormal, fillUniform } from './random.js';

/** Which fan a Kaiming initializer preserves the variance of: forward (`fan_in`) or backward (`fan_out`). */
export type FanMode = 'fan_in' | 'fan_out';

interface KaimingOptions {
  readonly a: number;
  readonly mode: FanMode;
  readonly nonlinearity: Nonlinearity;
}

function readKaiming(owner: string, config: Record<string, unknown>): KaimingOptions {
  checkKeys(owner, config, ['a', 'mode', 'nonlinearity']);
  return {
    a: readNumber(owner, config, 'a', 0),
    mode: readChoice<FanMode>(owner, config, 'mode', 'fan_in', ['fan_in', 'fan_out']),
    nonlinearity: readChoice<Nonlinearity>(owner, config, 'nonlinearity', 'leaky_relu', NONLINEARITIES),
  };
}

function kaimingStd(owner: string, o: KaimingOptions, fan: Fan): number {
  const n = o.mode === 'fan_in' ? fan.fanIn : fan.fanOut;
  requireFan(owner, o.mode === 'fan_in' ? 'fanIn' : 'fanOut', n);
  return calculateGain(o.nonlinearity, o.a) / Math.sqrt(n);
}

/**
 * `kaiming-uniform`: U(−b, b) with b = gain·√(3 / fan), as `torch.nn.init.kaiming_uniform_` (He et al.,
 * 2015). Options and defaults as torch: `a` = 0 (negative slope of leaky_relu), `mode` = `'fan_in'`
 * (or `'fan_out'`), `nonlinearity` = `'leaky_relu'` (gain √(2/(1+a²)), so √2 by default; see
 * {@link calculateGain} for the others). `{ a: √5 }` gives PyTorch's Linear/Conv default U(±1/√fanIn).
 */
export function kaimingUniform(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer kaiming-uniform';
  const o = readKaiming(owner, config);
  return (out, fan, rng) => {
    const bound = Math.sqrt(3) * kaimingStd(owner, o, fan);
    fillUniform(out.data, -bound, bound, rng);
  };
}

/** `kaiming-normal`: N(0, std²) with std = gain / √fan, as `torch.nn.init.kaiming_normal_`; options as {@link kaimingUniform}. */
export function kaimingNormal(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer kaiming-normal';
  const o = readKaiming(owner, config);
  return (out, fan, rng) => {
    fillNormal(out.data, 0, kaimingStd(owner, o, fan), rng);
  };
}
