// BaseOptimizer machinery, exercised through every built-in: slot allocation, save/load/resume, weight decay, state validation.
import { describe, expect, it } from 'vitest';
import { Adam, BaseOptimizer, createOptimizer, Sgd, type OptimizerState } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { tensor } from '../../src/tensor/tensor.js';
import { makeParams, REF, run } from './reference.js';

const KINDS = ['sgd', 'momentum', 'nag', 'rmsprop', 'adam', 'nadam'];

describe('BaseOptimizer save / load', () => {
  for (const c of REF.cases) {
    it(`${c.name}: 5 steps, stateDict, fresh optimizer + loadStateDict, 5 more == 10 uninterrupted, bit for bit`, () => {
      const straight = makeParams(c.decayMul);
      run(createOptimizer(c.optimizer, c.config), straight, 10);

      const resumed = makeParams(c.decayMul);
      const first = createOptimizer(c.optimizer, c.config);
      run(first, resumed, 5);
      const saved = first.stateDict();
      const second = createOptimizer(c.optimizer, c.config);
      second.loadStateDict(saved);
      expect(second.stateDict()).toEqual(saved);
      run(second, resumed, 5, 5);

      for (let i = 0; i < straight.length; i++) {
        expect(Array.from(resumed[i].value.data)).toEqual(Array.from(straight[i].value.data));
      }
      expect(second.stateDict()).toEqual(createOptimizerAfter(c.optimizer, c.config, c.decayMul, 10));
    });
  }

  it('stateDict is a deep copy, and loadStateDict copies its input', () => {
    const params = makeParams();
    const opt = new Adam();
    run(opt, params, 2);
    const saved = opt.stateDict();
    const m = opt.slotsOf('0.weight')!.m;
    expect(saved.slots['0.weight'].m).not.toBe(m);
    saved.slots['0.weight'].m.fill(123);
    expect(m[0]).not.toBe(123);

    const other = new Adam();
    const state = opt.stateDict();
    other.loadStateDict(state);
    state.slots['0.weight'].m.fill(7);
    state.step = 99;
    expect(other.slotsOf('0.weight')!.m[0]).toBe(m[0]);
    expect(other.steps).toBe(2);
  });

  it('loading into an optimizer that already stepped copies into its existing slot buffers', () => {
    const params = makeParams();
    const a = new Adam();
    run(a, params, 3);
    const b = new Adam();
    run(b, makeParams(), 1);
    const before = b.slotsOf('0.weight')!.v;
    b.loadStateDict(a.stateDict());
    expect(b.slotsOf('0.weight')!.v).toBe(before);
    expect(Array.from(before)).toEqual(Array.from(a.slotsOf('0.weight')!.v));
  });

  it('sgd (no slots): the state lists each param with an empty slot record and resumes the step count', () => {
    const opt = new Sgd();
    run(opt, makeParams(), 2);
    const s = opt.stateDict();
    expect(s).toEqual({ step: 2, slots: { '0.weight': {}, '0.bias': {} }, globals: {} });
    const again = new Sgd();
    again.loadStateDict(s);
    run(again, makeParams(), 1);
    expect(again.steps).toBe(3);
  });
});

/** The state of a `kind` optimizer after `steps` uninterrupted reference steps. */
function createOptimizerAfter(kind: string, config: Record<string, unknown>, decayMul: number[], steps: number): OptimizerState {
  const opt = createOptimizer(kind, config);
  run(opt, makeParams(decayMul), steps);
  return opt.stateDict();
}

describe('BaseOptimizer slots and steps', () => {
  for (const kind of KINDS) {
    it(`${kind}: allocates each param's slots once (same Float32Array objects every step), counts steps`, () => {
      const params = makeParams();
      const opt = createOptimizer(kind, { weightDecay: 0.01 }) as BaseOptimizer<string>;
      expect(opt.steps).toBe(0);
      expect(opt.slotsOf('0.weight')).toBeUndefined();
      run(opt, params, 1);
      const first = { ...opt.slotsOf('0.weight')! };
      for (const s of Object.values(first)) expect(s.length).toBe(6);
      run(opt, params, 4, 1);
      const later = opt.slotsOf('0.weight')!;
      for (const [name, buf] of Object.entries(first)) expect(later[name]).toBe(buf);
      expect(opt.steps).toBe(5);
      expect(opt.stateDict().step).toBe(5);
    });
  }

  it('coupled weight decay leaves param.grad untouched and honours decayMul (0 exempts)', () => {
    const w: Param = { name: 'w', value: tensor([1, 1]), grad: tensor([0, 0]), decayMul: 0 };
    const opt = new Sgd({ lr: 1, weightDecay: 0.5 });
    opt.step([w]);
    expect(Array.from(w.value.data)).toEqual([1, 1]);
    const v: Param = { name: 'v', value: tensor([2]), grad: tensor([1]) };
    opt.step([v]);
    expect(v.value.data[0]).toBe(0); // 2 − 1·(1 + 0.5·2)
    expect(v.grad.data[0]).toBe(1);
  });

  it('lr is a public field read at every step', () => {
    const p: Param = { name: 'p', value: tensor([1]), grad: tensor([1]) };
    const opt = createOptimizer('sgd', { lr: 0.5 });
    opt.step([p]);
    opt.lr = 0.25;
    opt.step([p]);
    expect(p.value.data[0]).toBe(0.25);
  });

  it('throws when a param changes size under the same name, or its grad size differs', () => {
    const opt = new Adam();
    opt.step([{ name: 'p', value: tensor([1, 2]), grad: tensor([1, 1]) }]);
    expect(() => opt.step([{ name: 'p', value: tensor([1, 2, 3]), grad: tensor([1, 1, 1]) }]))
      .toThrow('adam: param "p" has 3 values but its optimizer state has 2');
    expect(() => opt.step([{ name: 'q', value: tensor([1, 2]), grad: tensor([1]) }]))
      .toThrow('adam: param "q" has 2 values but its grad has 1');
  });
});

describe('BaseOptimizer.loadStateDict validation', () => {
  const good = (): OptimizerState => {
    const opt = new Adam();
    run(opt, makeParams(), 1);
    return opt.stateDict();
  };

  it('rejects missing or extra slot names, naming the param and the expected slots', () => {
    const s = good();
    delete (s.slots['0.bias'] as Record<string, Float32Array>).v;
    expect(() => new Adam().loadStateDict(s)).toThrow('adam.loadStateDict: param "0.bias" has slots [m], expected [m, v]');
    const t = good();
    t.slots['0.bias'].b = new Float32Array(4);
    expect(() => new Adam().loadStateDict(t)).toThrow('has slots [m, v, b], expected [m, v]');
  });

  it('rejects slots of the wrong type or length, and a bad step', () => {
    const s = good();
    (s.slots['0.bias'] as Record<string, unknown>).m = [1, 2, 3, 4];
    expect(() => new Adam().loadStateDict(s)).toThrow('slot "m" of param "0.bias" must be a Float32Array, got [object Array]');
    const t = good();
    t.slots['0.bias'].m = new Float32Array(3);
    expect(() => new Adam().loadStateDict(t)).toThrow('slots of param "0.bias" differ in length (3 vs 4 for "v")');
    const u = good();
    u.step = -1;
    expect(() => new Adam().loadStateDict(u)).toThrow('adam.loadStateDict: step must be a non-negative integer, got -1');
  });

  it('rejects slots whose size does not match the params, now or at the next step, and leaves the optimizer untouched', () => {
    const s = good();
    s.slots['0.bias'] = { m: new Float32Array(5), v: new Float32Array(5) };
    const stepped = new Adam();
    run(stepped, makeParams(), 2);
    expect(() => stepped.loadStateDict(s)).toThrow('adam.loadStateDict: param "0.bias" has 4 values but the saved slots have 5');
    expect(stepped.steps).toBe(2);
    const fresh = new Adam();
    fresh.loadStateDict(s);
    expect(() => run(fresh, makeParams(), 1)).toThrow('adam: param "0.bias" has 4 values but its optimizer state has 5');
  });

  it('rejects globals that do not match the optimizer', () => {
    const s = good();
    expect(() => createOptimizer('nadam').loadStateDict(s)).toThrow('nadam.loadStateDict: globals [] do not match the expected [muProduct]');
    s.globals = { muProduct: 0.5 };
    expect(() => new Adam().loadStateDict(s)).toThrow('globals [muProduct] do not match the expected []');
  });
});
