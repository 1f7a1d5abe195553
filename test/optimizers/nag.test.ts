// Nesterov momentum (torch SGD nesterov=True) against torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { Nesterov } from '../../src/optimizers/index.js';
import { makeParams, referenceTrajectoryTests } from './reference.js';

describe('nag', () => {
  referenceTrajectoryTests('nag');

  it('takes the look-ahead step g + μ·b (hand-derived)', () => {
    // p = 1, g = 2 twice, lr 0.1, μ 0.5: b1 = 2, p1 = 1 − 0.1·(2 + 1) = 0.7;
    // b2 = 0.5·2 + 2 = 3, p2 = 0.7 − 0.1·(2 + 1.5) = 0.35.
    const [p] = makeParams();
    p.value.data.fill(1);
    p.grad.data.fill(2);
    const opt = new Nesterov({ lr: 0.1, momentum: 0.5 });
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.7, 6);
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.35, 6);
  });
});
