// Momentum (torch SGD momentum, dampening 0) against torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { Momentum } from '../../src/optimizers/index.js';
import { makeParams, referenceTrajectoryTests } from './reference.js';

describe('momentum', () => {
  referenceTrajectoryTests('momentum');

  it('first step equals plain SGD (b = g), second adds μ·b (hand-derived)', () => {
    // p = 1, g = 2 twice, lr 0.1, μ 0.5: b1 = 2, p1 = 1 − 0.2 = 0.8; b2 = 0.5·2 + 2 = 3, p2 = 0.8 − 0.3 = 0.5.
    const [p] = makeParams();
    p.value.data.fill(1);
    p.grad.data.fill(2);
    const opt = new Momentum({ lr: 0.1, momentum: 0.5 });
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.8, 6);
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.5, 6);
    expect(opt.slotsOf(p.name)!.b[0]).toBe(3);
  });
});
