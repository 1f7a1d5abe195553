import { describe, expect, it } from 'vitest';
import { readBoolean, readChoice, readNumber, readPair } from '../src/config.js';
import { Dense } from '../src/index.js';

describe('config readers', () => {
  it('name a non-finite bad value as it is (JSON.stringify would print NaN and Infinity as null)', () => {
    expect(() => readNumber('adam', { lr: Number.NaN }, 'lr', 1e-3, { min: 0 })).toThrow('adam: lr must be a number in [0, inf), got NaN');
    expect(() => readNumber('adam', { lr: Infinity }, 'lr', 1e-3, { min: 0 })).toThrow('adam: lr must be a number in [0, inf), got Infinity');
    expect(() => new Dense({ units: Number.NaN })).toThrow('Dense: units must be an integer in [1, inf), got NaN');
    expect(() => readPair('Conv2D', { kernelSize: [3, Number.NaN] }, 'kernelSize', undefined)).toThrow(/kernelSize must be an integer in \[1, inf\), got NaN/);
    expect(() => readBoolean('Dense', { useBias: Number.NaN }, 'useBias', true)).toThrow('Dense: useBias must be true or false, got NaN');
    expect(() => readChoice('Conv2D', { padding: Number.NaN }, 'padding', 'valid', ['same', 'valid'])).toThrow('Conv2D: padding must be one of same, valid, got NaN');
  });

  it('still quote strings and print objects as JSON', () => {
    expect(() => readNumber('adam', { lr: '0.1' }, 'lr', 1e-3)).toThrow('adam: lr must be a number in (-inf, inf), got "0.1"');
    expect(() => readBoolean('Dense', { useBias: { a: 1 } }, 'useBias', true)).toThrow('Dense: useBias must be true or false, got {"a":1}');
  });
});
