// Adam (and AdamW via decoupledWeightDecay) against hand-derived values and torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { referenceTrajectoryTests } from './reference.js';

describe('adam', () => {
  referenceTrajectoryTests('adam');

  it('one step, hand-derived: the first step moves each weight by ≈ lr·sign(g)', () => {
    // t = 1, defaults lr 1e-3, β1 .9, β2 .999, ε 1e-8. For each element:
    //   m = 0.1·g, v = 0.001·g², m̂ = m/(1 − .9) = g, √v̂ = √(v/(1 − .999)) = |g|,
    //   p ← p − lr·g/(|g| + ε) = p − 1e-3·sign(g)·|g|/(|g| + 1e-8).
    // p = [1, 2, −3], g = [4, −0.5, 0]: p' = [1 − 1e-3·4/(4+1e-8), 2 + 1e-3·.5/(.5+1e-8), −3] ≈ [0.999, 2.001, −3].
    const p: Param = { name: 'p', value: tensor([1, 2, -3]), grad: tensor([4, -0.5, 0]) };
    const opt = new Adam();
    opt.step([p]);
    // Tolerance: one float32 ulp at 2 (2.4e-7), the storage rounding.
    assertClose(p.value.data, [1 - (1e-3 * 4) / (4 + 1e-8), 2 + (1e-3 * 0.5) / (0.5 + 1e-8), -3], { atol: 2.4e-7, rtol: 0 });
    expect(p.value.data[2]).toBe(-3);
    const s = opt.slotsOf('p')!;
    expect(Array.from(s.m)).toEqual([Math.fround(0.4), Math.fround(-0.05), 0]);
    expect(s.v[0]).toBe(Math.fround(0.001 * 16)); // v = (1 − β2)·g²
  });

  it('decoupled weight decay shrinks p by lr·wd before the update (hand-derived)', () => {
    // lr 0.1, wd 0.5, g = 0: p ← p·(1 − 0.05) = 0.95·p, and the Adam step is 0 since m = 0.
    const p: Param = { name: 'p', value: tensor([2]), grad: tensor([0]) };
    new Adam({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }).step([p]);
    expect(p.value.data[0]).toBeCloseTo(1.9, 6);
  });

  it('defaults are torch.optim.Adam\'s', () => {
    expect(new Adam().getConfig()).toEqual({
      lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false,
    });
  });
});
