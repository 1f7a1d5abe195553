// Sweep-config validation: inferred distributions, and every bad config rejected with the offending key.
import { describe, expect, it } from 'vitest';
import { gridSize, SweepConfigError, validateSweepConfig } from '../../src/experiments/sweep-config.js';

const base = { method: 'random', metric: { name: 'val_accuracy', goal: 'maximize' }, run_cap: 4 };

function rejects(raw: unknown, key: string, message: RegExp, options = {}): void {
  let caught: unknown;
  try {
    validateSweepConfig(raw, options);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${key} to be rejected`).toBeInstanceOf(SweepConfigError);
  expect((caught as SweepConfigError).key).toBe(key);
  expect((caught as Error).message).toMatch(message);
  expect((caught as Error).message.startsWith(`sweep config: ${key}: `)).toBe(true);
}

describe('validateSweepConfig', () => {
  it('infers distributions as wandb does and keeps the bounds', () => {
    const c = validateSweepConfig({ ...base, parameters: {
      a: { values: [1, 2] }, b: { value: 'x' }, c: { min: 1, max: 5 }, d: { min: 0.1, max: 0.5 },
      e: { distribution: 'log_uniform_values', min: 1e-4, max: 0.1 }, f: { distribution: 'q_uniform', min: 0, max: 1, q: 0.25 },
      g: { distribution: 'normal', mu: 1, sigma: 2 },
    } });
    expect(c.parameters).toEqual({
      a: { distribution: 'categorical', values: [1, 2] }, b: { distribution: 'constant', values: ['x'] },
      c: { distribution: 'int_uniform', min: 1, max: 5 }, d: { distribution: 'uniform', min: 0.1, max: 0.5 },
      e: { distribution: 'log_uniform_values', min: 1e-4, max: 0.1 }, f: { distribution: 'q_uniform', min: 0, max: 1, q: 0.25 },
      g: { distribution: 'normal', mu: 1, sigma: 2 },
    });
    expect(c.metric).toEqual({ name: 'val_accuracy', goal: 'maximize' });
    // Grid size: 2 values × 1 constant × 5 integers.
    expect(gridSize(validateSweepConfig({ ...base, method: 'grid', parameters: { a: { values: [1, 2] }, b: { value: 3 }, c: { min: 1, max: 5 } } }))).toBe(10);
  });

  it('rejects bad configs pointing at the offending key', () => {
    rejects({ ...base, method: 'annealing', parameters: { a: { values: [1] } } }, 'method', /unknown method "annealing"; known: grid, random, bayes/);
    rejects({ ...base, parameters: { a: { values: [] } } }, 'parameters.a.values', /is empty/);
    rejects({ ...base, parameters: { lr: { min: 0.1, max: 0.01 } } }, 'parameters.lr.min', /min 0.1 is greater than max 0.01/);
    rejects({ ...base, parameters: { lr: { distribution: 'log_uniform_values', min: 0, max: 1 } } }, 'parameters.lr.min', /needs bounds > 0/);
    rejects({ ...base, parameters: { lr: { distribution: 'beta', min: 0, max: 1 } } }, 'parameters.lr.distribution', /unknown distribution "beta"/);
    rejects({ ...base, parameters: { lr: { distribution: 'uniform', max: 1 } } }, 'parameters.lr.min', /is required for uniform/);
    rejects({ ...base, parameters: { lr: { values: [1], min: 0 , maxx: 2 } } }, 'parameters.lr.maxx', /unknown key/);
    rejects({ ...base, parameters: { lr: { value: 1, values: [1] } } }, 'parameters.lr', /value or values, not both/);
    rejects({ ...base, parameters: { lr: { sigma: -1, distribution: 'normal' } } }, 'parameters.lr.sigma', /must be > 0/);
    rejects({ ...base, parameters: { depth: { values: [1] } } }, 'parameters.depth', /unknown parameter of the trainer; known: lr, epochs/, { knownParameters: ['lr', 'epochs'] });
    rejects({ ...base, parameters: { pair: { values: [{ lr: 1, mom: 2 }] } } }, 'parameters.pair.values[0].mom', /unknown parameter of the trainer/, { knownParameters: ['lr'] });
    rejects({ ...base, parameters: { out: { value: 'x' } } }, 'parameters.out', /set by the sweep itself/, { reservedParameters: ['out'] });
    rejects({ ...base, method: 'grid', parameters: { lr: { min: 0.1, max: 0.5 } } }, 'parameters.lr', /grid search needs values/);
    rejects({ ...base, parameters: {} }, 'parameters', /non-empty/);
    rejects({ ...base, metric: { goal: 'maximize' }, parameters: { a: { value: 1 } } }, 'metric.name', /must be a metric name/);
    rejects({ ...base, metric: { name: 'x', goal: 'up' }, parameters: { a: { value: 1 } } }, 'metric.goal', /maximize or minimize/);
    rejects({ ...base, run_cap: 0, parameters: { a: { value: 1 } } }, 'run_cap', /integer >= 1/);
    rejects({ ...base, early_terminate: { type: 'median' }, parameters: { a: { value: 1 } } }, 'early_terminate.type', /known: hyperband/);
    rejects({ ...base, early_terminate: { type: 'hyperband', eta: 1 }, parameters: { a: { value: 1 } } }, 'early_terminate.eta', /> 1/);
    rejects({ ...base, early_terminate: { type: 'hyperband', min_iter: 3, max_iter: 2 }, parameters: { a: { value: 1 } } }, 'early_terminate.max_iter', /below min_iter 3/);
    rejects({ ...base, paramaters: {} }, 'paramaters', /unknown key; allowed keys: name, /);
    rejects({ ...base, name: 'a b', parameters: { a: { value: 1 } } }, 'name', /folder-safe/);
  });

  it('rejects numbers that are not finite (1e400 parses to Infinity) with the value named', () => {
    rejects(JSON.parse('{"method":"random","run_cap":2,"metric":{"name":"m"},"parameters":{"lr":{"values":[0.1,1e400]}}}'), 'parameters.lr.values[1]', /must be a finite number, got Infinity \(a literal such as 1e400 overflows a double\)/);
    rejects(JSON.parse('{"method":"random","run_cap":2,"metric":{"name":"m"},"parameters":{"lr":{"min":0,"max":1e400}}}'), 'parameters.lr.max', /got Infinity/);
    rejects(JSON.parse('{"method":"random","run_cap":2,"metric":{"name":"m"},"parameters":{"lr":{"value":-1e400}}}'), 'parameters.lr.value', /got -Infinity/);
    rejects({ ...base, parameters: { pair: { values: [{ lr: 0.1, momentum: NaN }] } } }, 'parameters.pair.values[0].momentum', /got NaN/);
  });

  it('checks every value a parameter can take with the trainer\'s rule, up front', () => {
    const seen: [string, unknown][] = [];
    const checkValue = (name: string, value: unknown) => {
      seen.push([name, value]);
      if (typeof value === 'number' && value < 0) throw new Error(`invalid value ${JSON.stringify(String(value))} for --${name}; a number >= 0`);
    };
    const config = validateSweepConfig({
      ...base, parameters: { epochs: { values: [1, 2] }, lr: { min: 0.001, max: 0.1 }, wd: { value: 0 }, pair: { values: [{ lr: 0.1, momentum: 0.9 }] } },
    }, { checkValue });
    expect(config.parameters.epochs.values).toEqual([1, 2]);
    expect(seen).toEqual([['epochs', 1], ['epochs', 2], ['lr', 0.001], ['lr', 0.1], ['wd', 0], ['lr', 0.1], ['momentum', 0.9]]);
    rejects({ ...base, parameters: { epochs: { values: [3, -1] } } }, 'parameters.epochs.values[1]', /invalid value "-1" for --epochs; a number >= 0/, { checkValue });
    rejects({ ...base, parameters: { lr: { min: -0.5, max: 1 } } }, 'parameters.lr.min', /invalid value "-0.5" for --lr/, { checkValue });
    rejects({ ...base, parameters: { lr: { value: -2 } } }, 'parameters.lr.value', /"-2"/, { checkValue });
    rejects({ ...base, parameters: { pair: { values: [{ lr: 0.1 }, { lr: -3 }] } } }, 'parameters.pair.values[1].lr', /"-3"/, { checkValue });
    rejects({ ...base, parameters: { lr: { distribution: 'normal', mu: 1, sigma: 0.1 } } }, 'parameters.lr.distribution', /a normal distribution reaches any number, use a bounded one: invalid value/, { checkValue });
  });

  it('validates its own output again to the same config (what a distributed agent does)', () => {
    const config = validateSweepConfig({
      ...base, early_terminate: { type: 'hyperband', min_iter: 1 }, parameters: { a: { value: 3 }, b: { values: [1, 2] }, c: { min: 1, max: 4 }, d: { distribution: 'q_uniform', min: 0, max: 1 }, e: { distribution: 'normal' } },
    });
    expect(validateSweepConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });
});
