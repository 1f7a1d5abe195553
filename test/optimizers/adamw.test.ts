// AdamW ('adamw', torch.optim.AdamW semantics): torch 1.13 reference trajectories (defaults, custom,
// AMSGrad; test/reference/optimizers.py), hand-derived steps, equality with adam's decoupled mode,
// save/load/continue, registration and config errors.
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, createOptimizer, optimizerNames } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { makeParams, referenceTrajectoryTests, run } from './reference.js';

describe('adamw', () => {
  referenceTrajectoryTests('adamw');

  it('first step, hand-derived: p·(1 − lr·wd) then the Adam step of ≈ lr·sign(g)', () => {
    // lr 0.1, wd 0.5, t = 1: p = 2 → 2·(1 − 0.05) = 1.9; m̂ = g, √v̂ = |g|, so p ← 1.9 − 0.1·g/(|g| + 1e-8).
    // g = 3: p = 1.9 − 0.1·3/(3 + 1e-8) = 1.8000000003; g = 0 leaves the decayed 1.9.
    const p: Param = { name: 'p', value: tensor([2, 2]), grad: tensor([3, 0]) };
    new AdamW({ lr: 0.1, weightDecay: 0.5 }).step([p]);
    assertClose(p.value.data, [1.9 - 0.1 * 3 / (3 + 1e-8), 1.9], { atol: 1.2e-7, rtol: 0 });
  });

  it('AMSGrad keeps the running maximum of v (hand-derived two steps)', () => {
    // β2 = 0.5 (so the maximum matters quickly), β1 = 0, wd 0, lr 1, eps 0: g = 2 then 0.
    // t=1: v = 0.5·4 = 2, vMax = 2, bc2 = 0.5: p ← p − 2/(√2/√0.5) = p − 1.
    // t=2: v = 1, vMax stays 2, m = 0: p unchanged; without amsgrad v would also give 0 (m = 0), so check vMax.
    const p: Param = { name: 'p', value: tensor([5]), grad: tensor([2]) };
    const opt = new AdamW({ lr: 1, beta1: 0, beta2: 0.5, eps: 0, weightDecay: 0, amsgrad: true });
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(4, 6);
    p.grad.data[0] = 0;
    opt.step([p]);
    expect(opt.slotsOf('p')!.v[0]).toBe(1);
    expect(opt.slotsOf('p')!.vMax[0]).toBe(2);
  });

  it('equals adam with decoupledWeightDecay bit for bit (same kernel, same decay)', () => {
    const a = makeParams([1, 0.5]);
    const b = makeParams([1, 0.5]);
    run(new AdamW({ lr: 0.01, weightDecay: 0.1 }), a, 10);
    run(new Adam({ lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true }), b, 10);
    for (let i = 0; i < a.length; i++) expect(Array.from(a[i].value.data)).toEqual(Array.from(b[i].value.data));
  });

  it('save, load and continue equals an uninterrupted run (with amsgrad)', () => {
    const config = { lr: 0.01, amsgrad: true };
    const straight = makeParams();
    run(new AdamW(config), straight, 10);
    const resumed = makeParams();
    const first = new AdamW(config);
    run(first, resumed, 4);
    const second = createOptimizer('adamw', config);
    second.loadStateDict(first.stateDict());
    run(second, resumed, 6, 4);
    for (let i = 0; i < straight.length; i++) expect(Array.from(resumed[i].value.data)).toEqual(Array.from(straight[i].value.data));
    expect(Object.keys(first.stateDict().slots['0.weight'])).toEqual(['m', 'v', 'vMax']);
  });

  it('is registered by name with torch.optim.AdamW\'s defaults', () => {
    expect(optimizerNames()).toContain('adamw');
    expect(createOptimizer('adamw').getConfig()).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, amsgrad: false });
  });

  it('rejects bad hyperparameters naming the value, and options it does not have', () => {
    expect(() => new AdamW({ beta1: 1 })).toThrow(/adamw: beta1 must be .*got 1/);
    expect(() => new AdamW({ weightDecay: -0.1 })).toThrow(/adamw: weightDecay must be .*got -0.1/);
    expect(() => new AdamW({ amsgrad: 1 as unknown as boolean })).toThrow(/adamw: amsgrad must be true or false, got 1/);
    expect(() => createOptimizer('adamw', { decoupledWeightDecay: false })).toThrow(/adamw: unknown option "decoupledWeightDecay"/);
  });
});
