// RMSprop (torch RMSprop, eps outside the root, optional momentum) against torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { RmsProp } from '../../src/optimizers/index.js';
import { makeParams, referenceTrajectoryTests } from './reference.js';

describe('rmsprop', () => {
  referenceTrajectoryTests('rmsprop');

  it('first step is lr·g/(√((1−β)·g²) + ε) (hand-derived)', () => {
    // p = 1, g = 2, lr 0.01, β 0.99, ε 1e-8: v = 0.01·4 = 0.04, √v = 0.2, p = 1 − 0.01·2/(0.2 + 1e-8) ≈ 0.9.
    const [p] = makeParams();
    p.value.data.fill(1);
    p.grad.data.fill(2);
    const opt = new RmsProp();
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.9, 6);
    expect(opt.slotsOf(p.name)!.v[0]).toBeCloseTo(0.04, 8);
  });

  it('allocates the momentum buffer only when momentum > 0', () => {
    const params = makeParams();
    const plain = new RmsProp();
    plain.step(params);
    expect(Object.keys(plain.slotsOf(params[0].name)!)).toEqual(['v']);
    const withMomentum = new RmsProp({ momentum: 0.5 });
    withMomentum.step(params);
    expect(Object.keys(withMomentum.slotsOf(params[0].name)!)).toEqual(['v', 'b']);
  });
});
