// The optimizer registry and factories: names, defaults, validation messages, registration rules.
import { describe, expect, it } from 'vitest';
import { createOptimizer, optimizerNames, registerOptimizer, Sgd } from '../../src/optimizers/index.js';

describe('optimizer registry', () => {
  it('registers the six built-ins by name', () => {
    for (const name of ['sgd', 'momentum', 'nag', 'rmsprop', 'adam', 'nadam']) {
      expect(optimizerNames()).toContain(name);
      expect(createOptimizer(name).kind).toBe(name);
    }
  });

  it('looks names up case-insensitively and rejects unknown names with the known list', () => {
    expect(createOptimizer('Adam').kind).toBe('adam');
    expect(() => createOptimizer('adamm')).toThrow(/unknown optimizer "adamm"; known: .*adam, adamw, momentum, nadam, nag, rmsprop, sgd/);
  });

  it('refuses to re-register an existing name unless override is given', () => {
    expect(() => registerOptimizer('adam', () => new Sgd())).toThrow('optimizer "adam" is already registered; pass { override: true } to replace it');
    registerOptimizer('test-sgd-alias', (c) => new Sgd(c));
    registerOptimizer('test-sgd-alias', (c) => new Sgd({ ...c, lr: 0.5 }), { override: true });
    expect(createOptimizer('test-sgd-alias').lr).toBe(0.5);
  });
});

describe('optimizer factories', () => {
  it('merge a partial config onto documented defaults', () => {
    expect(createOptimizer('momentum', { lr: 0.1 }).getConfig()).toEqual({ lr: 0.1, momentum: 0.9, weightDecay: 0 });
    expect(createOptimizer('nag').getConfig()).toEqual({ lr: 0.01, momentum: 0.9, weightDecay: 0 });
    expect(createOptimizer('rmsprop').getConfig()).toEqual({ lr: 0.01, beta: 0.99, eps: 1e-8, momentum: 0, weightDecay: 0 });
    expect(createOptimizer('nadam', { weightDecay: 0.1 }).getConfig()).toEqual({
      lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 0.004, weightDecay: 0.1, decoupledWeightDecay: false,
    });
  });

  it('getConfig recreates an equivalent optimizer', () => {
    for (const name of ['sgd', 'momentum', 'nag', 'rmsprop', 'adam', 'nadam']) {
      const a = createOptimizer(name, { lr: 0.123 });
      expect(createOptimizer(name, a.getConfig()).getConfig()).toEqual(a.getConfig());
    }
  });

  it.each([
    ['adam', { beta1: 1.2 }, 'adam: beta1 must be a number in [0, 1), got 1.2'],
    ['adam', { beta2: 1 }, 'adam: beta2 must be a number in [0, 1), got 1'],
    ['adam', { lr: -1 }, 'adam: lr must be a number in [0, inf), got -1'],
    ['adam', { eps: 'tiny' }, 'adam: eps must be a number in [0, inf), got "tiny"'],
    ['adam', { decoupledWeightDecay: 1 }, 'adam: decoupledWeightDecay must be true or false, got 1'],
    ['nadam', { momentumDecay: -0.1 }, 'nadam: momentumDecay must be a number in [0, inf), got -0.1'],
    ['sgd', { weightDecay: Number.NaN }, 'sgd: weightDecay must be a number in [0, inf), got NaN'],
    ['momentum', { momentum: 1 }, 'momentum: momentum must be a number in [0, 1), got 1'],
    ['nag', { momentum: -0.5 }, 'nag: momentum must be a number in [0, 1), got -0.5'],
    ['rmsprop', { beta: 1.5 }, 'rmsprop: beta must be a number in [0, 1), got 1.5'],
  ])('%s %j throws naming the bad value', (name, config, message) => {
    expect(() => createOptimizer(name, config)).toThrow(message);
  });

  it('rejects unknown option keys with the known list (decoupledWeightDecay only where supported)', () => {
    expect(() => createOptimizer('adam', { learningRate: 0.1 }))
      .toThrow('adam: unknown option "learningRate"; known options: lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay');
    expect(() => createOptimizer('sgd', { decoupledWeightDecay: true }))
      .toThrow('sgd: unknown option "decoupledWeightDecay"; known options: lr, weightDecay');
    expect(() => createOptimizer('rmsprop', { alpha: 0.9 })).toThrow('known options: lr, beta, eps, momentum, weightDecay');
  });
});
