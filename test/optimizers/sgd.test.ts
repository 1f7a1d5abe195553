// SGD against hand-derived values and torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { Sgd } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { tensor } from '../../src/tensor/tensor.js';
import { referenceTrajectoryTests } from './reference.js';

describe('sgd', () => {
  referenceTrajectoryTests('sgd');

  it('one step, hand-derived: p − lr·(g + wd·decayMul·p), grad left untouched', () => {
    // lr 0.1, weightDecay 0.5, decayMul 1:
    //   p = [1, −2], g = [0.5, 1]: g' = g + 0.5·p = [1, 0];  p ← p − 0.1·g' = [0.9, −2].
    // decayMul 0 (a bias): p = [3], g = [2]: p ← 3 − 0.1·2 = 2.8.
    const w: Param = { name: 'w', value: tensor([1, -2]), grad: tensor([0.5, 1]) };
    const b: Param = { name: 'b', value: tensor([3]), grad: tensor([2]), decayMul: 0 };
    const opt = new Sgd({ lr: 0.1, weightDecay: 0.5 });
    opt.step([w, b]);
    expect(Array.from(w.value.data)).toEqual([Math.fround(0.9), -2]);
    expect(b.value.data[0]).toBe(Math.fround(2.8));
    expect(Array.from(w.grad.data)).toEqual([0.5, 1]);
  });

  it('defaults: lr 0.01, no weight decay', () => {
    expect(new Sgd().getConfig()).toEqual({ lr: 0.01, weightDecay: 0 });
  });
});
