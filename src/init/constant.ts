// Constant fills: zeros, ones and constant { value }.
import { checkKeys, readNumber } from '../config.js';
import type { Initializer } from './initializer.js';

/** `zeros`: fills with 0 (`torch.nn.init.zeros_`). No options. */
export function zerosInit(config: Record<string, unknown> = {}): Initializer {
  checkKeys('initializer zeros', config, []);
  return (out) => {
    out.data.fill(0);
  };
}

/** `ones`: fills with 1 (`torch.nn.init.ones_`). No options. */
export function onesInit(config: Record<string, unknown> = {}): Initializer {
  checkKeys('initializer ones', config, []);
  return (out) => {
    out.data.fill(1);
  };
}

/** `constant`: fills with `value` (required; `torch.nn.init.constant_`). */
export function constantInit(config: Record<string, unknown> = {}): Initializer {
  const owner = 'initializer constant';
  checkKeys(owner, config, ['value']);
  const value = readNumber(owner, config, 'value', Number.NaN);
  return (out) => {
    out.data.fill(value);
  };
}
