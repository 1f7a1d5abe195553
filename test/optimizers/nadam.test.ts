// NAdam (torch 2.x NAdam with momentumDecay; torch 1.13 foreach path) against torch.optim reference trajectories.
import { describe, expect, it } from 'vitest';
import { NAdam } from '../../src/optimizers/index.js';
import { makeParams, referenceTrajectoryTests, run } from './reference.js';

describe('nadam', () => {
  referenceTrajectoryTests('nadam');

  it('first step, hand-derived', () => {
    // p = 1, g = 2, defaults (lr 2e-3, β1 .9, β2 .999, ψ .004, ε 1e-8), t = 1:
    // μ1 = .9·(1 − .5·.96^.004), μ2 = .9·(1 − .5·.96^.008), Π1 = μ1; m = .2, v = .004, d = √.004/√.001 + ε = 2 + ε.
    // p1 = 1 − lr·(1 − μ1)/(1 − μ1)·2/d − lr·μ2/(1 − μ1·μ2)·.2/d.
    const mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004);
    const mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008);
    const d = 2 + 1e-8;
    const expected = 1 - 2e-3 * (2 / d) - ((2e-3 * mu2) / (1 - mu1 * mu2)) * (0.2 / d);
    const [p] = makeParams();
    p.value.data.fill(1);
    p.grad.data.fill(2);
    const opt = new NAdam();
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(expected, 7);
    expect(opt.stateDict().globals.muProduct).toBeCloseTo(mu1, 15);
  });

  it('keeps Π_t (muProduct) in the saved globals so a resumed run continues the μ schedule', () => {
    const opt = new NAdam();
    run(opt, makeParams(), 3);
    let expected = 1;
    for (let t = 1; t <= 3; t++) expected *= 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004));
    expect(opt.stateDict().globals).toEqual({ muProduct: expected });
  });
});
