// Initializers against torch.nn.init: gains and fans exactly, sample statistics within stated tolerances.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  calculateGain, computeFans, createInitializer, initializerNames, registerInitializer, type InitializerSpec, type Nonlinearity,
} from '../../src/init/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testRng } from '../util/rng.js';

interface Stats { mean: number; std: number; min: number; max: number }
interface Case {
  name: string;
  config: Record<string, unknown>;
  shape: number[];
  expected: { mean: number; std: number; bound: number | null };
  torch: Stats;
}
const ref = JSON.parse(readFileSync(new URL('../reference/init.json', import.meta.url), 'utf8')) as {
  gains: { nonlinearity: Nonlinearity; param: number | null; gain: number }[];
  fans: { shape: number[]; fanIn: number; fanOut: number }[];
  cases: Case[];
  defaults: { linearWeightMaxAbs: number; linearBound: number; convWeightMaxAbs: number; convBound: number };
};

function stats(x: Float32Array): Stats {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    sum += x[i];
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  const mean = sum / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (x.length - 1)), min, max };
}

function sample(spec: InitializerSpec, shape: number[], seed = 7): Tensor {
  const t = new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  createInitializer(spec)(t, computeFans(shape), testRng(seed));
  return t;
}

describe('calculateGain (torch.nn.init.calculate_gain reference)', () => {
  for (const g of ref.gains) {
    it(`${g.nonlinearity}(${g.param})`, () => {
      expect(calculateGain(g.nonlinearity, g.param ?? undefined)).toBeCloseTo(g.gain, 12);
    });
  }
  it('unknown nonlinearity throws listing the known ones', () => {
    expect(() => calculateGain('swish' as Nonlinearity)).toThrow(/unknown nonlinearity "swish"; known: linear, .*leaky_relu/);
  });
});

describe('computeFans (torch _calculate_fan_in_and_fan_out reference)', () => {
  for (const f of ref.fans) {
    it(`[${f.shape}]`, () => {
      expect(computeFans(f.shape)).toEqual({ fanIn: f.fanIn, fanOut: f.fanOut });
    });
  }
  it('throws for fewer than 2 dimensions, naming the shape', () => {
    expect(() => computeFans([5])).toThrow(/at least 2 dimensions, got \[5\]/);
  });
});

describe('sample statistics against the torch.nn.init formulas', () => {
  // n = 131072 or 51200 samples. The std estimate's relative standard error is ≈ 1/√(2n) < 0.4%
  // (normal) or smaller (uniform): 2% is > 5σ. The mean's standard error is std/√n ≤ 0.5% of std:
  // allow 3% of std. Uniform samples must stay inside the bound and reach within 1% of it.
  for (const c of ref.cases) {
    it(`${c.name} ${JSON.stringify(c.config)} [${c.shape}]`, () => {
      const s = stats(sample({ name: c.name, ...c.config }, c.shape).data);
      const { mean, std, bound } = c.expected;
      expect(Math.abs(s.std - std) / std, 'std vs formula').toBeLessThan(0.02);
      expect(Math.abs(s.std - c.torch.std) / std, 'std vs torch sample').toBeLessThan(0.03);
      expect(Math.abs(s.mean - mean), 'mean').toBeLessThan(0.03 * std);
      if (bound !== null) {
        const lo = mean - bound;
        const hi = mean + bound;
        expect(s.min).toBeGreaterThanOrEqual(Math.fround(lo) - 1e-7);
        expect(s.max).toBeLessThanOrEqual(Math.fround(hi) + 1e-7);
        expect(s.min - lo).toBeLessThan(0.01 * bound);
        expect(hi - s.max).toBeLessThan(0.01 * bound);
        // torch's own sample obeys the same bound.
        expect(c.torch.max).toBeLessThanOrEqual(hi + 1e-12);
      }
    });
  }

  it("kaiming-uniform with a = √5 is PyTorch's default U(±1/√fanIn)", () => {
    const t = sample({ name: 'kaiming-uniform', a: Math.sqrt(5) }, [256, 512]);
    const s = stats(t.data);
    const bound = ref.defaults.linearBound;
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(bound);
    expect(Math.max(-s.min, s.max)).toBeGreaterThan(0.99 * bound);
    expect(ref.defaults.linearWeightMaxAbs).toBeLessThanOrEqual(bound);
  });
});

describe('constant fills', () => {
  it('zeros, ones and constant fill every element', () => {
    expect(Array.from(sample('zeros', [2, 3]).data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(sample('ones', [2, 2]).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(sample({ name: 'constant', value: 0.25 }, [3, 1]).data)).toEqual([0.25, 0.25, 0.25]);
  });
  it('constant requires a value', () => {
    expect(() => createInitializer('constant')).toThrow(/initializer constant: value must be a number/);
  });
});

describe('determinism and registry', () => {
  it('same seed gives identical values, another seed different ones', () => {
    for (const name of ['random-normal', 'random-uniform', 'xavier-uniform', 'xavier-normal', 'kaiming-uniform', 'kaiming-normal', 'fan-in-uniform']) {
      const a = sample(name, [8, 5], 3).data;
      const b = sample(name, [8, 5], 3).data;
      const c = sample(name, [8, 5], 4).data;
      expect(Array.from(a), name).toEqual(Array.from(b));
      expect(Array.from(a), name).not.toEqual(Array.from(c));
    }
  });

  it('registers every built-in by name', () => {
    expect(initializerNames()).toEqual(expect.arrayContaining([
      'zeros', 'ones', 'constant', 'random-normal', 'random-uniform', 'fan-in-uniform',
      'xavier-uniform', 'xavier-normal', 'kaiming-uniform', 'kaiming-normal',
    ]));
  });

  it('names are case-insensitive and a config may be passed separately', () => {
    const t = new Tensor(new Float32Array(4), [2, 2]);
    createInitializer('Constant', { value: 3 })(t, computeFans(t.shape), testRng());
    expect(Array.from(t.data)).toEqual([3, 3, 3, 3]);
  });

  it('an unknown name throws listing the known names', () => {
    expect(() => createInitializer('xavier')).toThrow(/unknown initializer "xavier"; known: .*kaiming-normal.*xavier-uniform/);
  });

  it('a user initializer registers and resolves like a built-in', () => {
    registerInitializer('test-arange', () => (out) => {
      for (let i = 0; i < out.size; i++) out.data[i] = i;
    });
    expect(Array.from(sample('test-arange', [2, 2]).data)).toEqual([0, 1, 2, 3]);
  });
});

describe('config validation names the option', () => {
  const bad: [InitializerSpec, RegExp][] = [
    [{ name: 'xavier-uniform', gain: -1 }, /xavier-uniform: gain must be a number in \[0, inf\), got -1/],
    [{ name: 'xavier-normal', gian: 1 }, /xavier-normal: unknown option "gian"; known options: gain/],
    [{ name: 'kaiming-uniform', mode: 'fan_avg' }, /kaiming-uniform: mode must be one of fan_in, fan_out, got "fan_avg"/],
    [{ name: 'kaiming-normal', nonlinearity: 'gelu' }, /kaiming-normal: nonlinearity must be one of .*relu.*got "gelu"/],
    [{ name: 'random-normal', std: -0.1 }, /random-normal: std must be a number in \[0, inf\), got -0.1/],
    [{ name: 'random-uniform', low: 1, high: 0 }, /random-uniform: high must be >= low, got low 1 and high 0/],
    [{ name: 'fan-in-uniform', scale: 2 }, /fan-in-uniform: unknown option "scale"/],
    [{ name: 'zeros', value: 1 }, /zeros: unknown option "value"/],
  ];
  for (const [spec, re] of bad) {
    it(JSON.stringify(spec), () => {
      expect(() => createInitializer(spec)).toThrow(re);
    });
  }

  it('scaled initializers reject an empty fan', () => {
    const t = new Tensor(new Float32Array(0), [0, 3]);
    expect(() => createInitializer('xavier-uniform')(t, computeFans(t.shape), testRng())).toThrow(/xavier-uniform: fanOut must be a positive integer, got 0/);
  });
});
