// Hyperband rungs and the keep-top-1/eta rule, hand-worked.
import { describe, expect, it } from 'vitest';
import { Hyperband } from '../../src/experiments/hyperband.js';

describe('Hyperband', () => {
  it('places rungs at min_iter·eta^k up to max_iter', () => {
    expect(new Hyperband({ type: 'hyperband', min_iter: 1, eta: 3, max_iter: 27 }, 'maximize').rungs).toEqual([1, 3, 9, 27]);
    expect(new Hyperband({ type: 'hyperband', min_iter: 2, eta: 2, max_iter: 10 }, 'maximize').rungs).toEqual([2, 4, 8]);
  });

  it('keeps a trial only within the best ceil(count/eta) at its rung', () => {
    const hb = new Hyperband({ type: 'hyperband', min_iter: 1, eta: 3 }, 'maximize');
    expect(hb.report(2, 0.1, 0)).toBe(true); // not a rung
    expect(hb.report(1, 0.5, 0)).toBe(true); // [0.5]: keep 1 → 0.5 is the best
    expect(hb.report(1, 0.4, 1)).toBe(false); // [0.5, 0.4]: keep ceil(2/3) = 1 → 0.4 stopped
    expect(hb.report(1, 0.6, 2)).toBe(true); // keep 1 → 0.6 is the new best
    expect(hb.report(1, 0.55, 3)).toBe(true); // 4 values: keep ceil(4/3) = 2 → [0.6, 0.55]
    expect(hb.report(1, NaN, 4)).toBe(false); // NaN counts as the worst
    expect(hb.records['1']).toEqual({ 0: 0.5, 1: 0.4, 2: 0.6, 3: 0.55, 4: null });
    hb.forget(3);
    expect(Object.keys(hb.records['1'])).toEqual(['0', '1', '2', '4']);
  });

  it('follows the goal when minimizing', () => {
    const hb = new Hyperband({ type: 'hyperband', min_iter: 1, eta: 2 }, 'minimize');
    expect(hb.report(1, 0.3, 0)).toBe(true);
    expect(hb.report(1, 0.2, 1)).toBe(true); // lower is better: [0.2, 0.3], keep 1
    expect(hb.report(1, 0.25, 2)).toBe(true); // keep ceil(3/2) = 2 → [0.2, 0.25]
    expect(hb.report(1, 0.9, 3)).toBe(false);
  });
});
