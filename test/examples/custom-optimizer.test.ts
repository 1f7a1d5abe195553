// The custom-optimizer example: Eve, written in user code on the public base class and registered
// by name, is created through the registry and minimizes a least-squares problem; d_t is hand-checked.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tensorkit from 'tensorkit';
import { createOptimizer, optimizerNames, Rng, tensor, type Param } from 'tensorkit';
import { Eve, main } from '../../examples/custom-optimizer.js';

/** Least squares: L(w) = ½·mean_i (a_i·w − b_i)², with b from a known w* plus noise (so min L > 0). */
function leastSquares(rows: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const a = new Float64Array(rows * cols);
  const b = new Float64Array(rows);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[r * cols + c] * (c + 1) * 0.5; // w* = [0.5, 1, 1.5, …]
    b[r] = s + 0.01 * rng.normal();
  }
  const w: Param = { name: 'w', value: tensor(new Array(cols).fill(0)), grad: tensor(new Array(cols).fill(0)) };
  /** Writes dL/dw into w.grad and returns L. */
  const lossAndGrad = (): number => {
    const g = w.grad.data;
    g.fill(0);
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      let e = -b[r];
      for (let c = 0; c < cols; c++) e += a[r * cols + c] * w.value.data[c];
      loss += 0.5 * e * e;
      for (let c = 0; c < cols; c++) g[c] += (e * a[r * cols + c]) / rows;
    }
    return loss / rows;
  };
  return { w, lossAndGrad };
}

describe('examples/custom-optimizer: Eve', () => {
  it('is registered by name and created through the registry', () => {
    expect(optimizerNames()).toContain('eve');
    const eve = createOptimizer('eve', { lr: 0.01 });
    expect(eve).toBeInstanceOf(Eve);
    expect(eve.getConfig()).toMatchObject({ lr: 0.01, beta3: 0.999, thresholdLow: 0.1, thresholdHigh: 10 });
    expect(() => createOptimizer('eve', { beta3: 1 })).toThrow('eve: beta3 must be a number in [0, 1), got 1');
  });

  it('minimizes a least-squares problem with the loss fed through ctx.loss', () => {
    const { w, lossAndGrad } = leastSquares(40, 6, 7);
    const eve = createOptimizer('eve', { lr: 0.05 });
    const start = lossAndGrad();
    let loss = start;
    for (let t = 0; t < 400; t++) {
      eve.step([w], { loss });
      loss = lossAndGrad();
    }
    // start ≈ ½·|w*|²-ish (≈ 10); the noise floor is ≈ ½·0.01²: require a 1000× reduction.
    expect(start).toBeGreaterThan(1);
    expect(loss).toBeLessThan(start * 1e-3);
    for (let c = 0; c < 6; c++) expect(w.value.data[c]).toBeCloseTo((c + 1) * 0.5, 1);
  });

  it('clips the relative loss change to [k, K] and feeds it into d_t (hand-derived)', () => {
    // k = 0.1, K = 10, β3 = 0.999; constant g = 1 so m̂ = v̂ = 1 and each step moves p by lr/(d + ε).
    // t=1, f=1:     f̂ = 1, d = 1.
    // t=2, f=100:   rising, ratio 100 clipped to K+1 = 11 → f̂ = 11, r = 10/1 = 10, d = .999 + .001·10 = 1.009.
    // t=3, f=10.5:  falling, ratio 10.5/11 = .9545 clipped to 1/(k+1) = .90909 → f̂ = 10, r = 1/10,
    //               d = .999·1.009 + .001·.1 = 1.007991 + .0001 = 1.008091.
    // t=4, f=10.2:  rising, ratio 1.02 clipped up to k+1 = 1.1 → f̂ = 11, r = .1,
    //               d = .999·1.008091 + .0001 = 1.007082909 + .0001 = 1.007182909.
    const eve = new Eve({ lr: 0.1 });
    const p: Param = { name: 'p', value: tensor([0]), grad: tensor([1]) };
    const expected = [1, 1.009, 1.008091, 1.007182909];
    const losses = [1, 100, 10.5, 10.2];
    let before = 0;
    for (let t = 0; t < 4; t++) {
      eve.step([p], { loss: losses[t] });
      expect(eve.feedback).toBeCloseTo(expected[t], 12);
      expect(before - p.value.data[0]).toBeCloseTo(0.1 / (expected[t] + 1e-8), 6);
      before = p.value.data[0];
    }
    expect(eve.stateDict().globals).toEqual({ d: eve.feedback, fHat: expect.closeTo(11, 12) });
  });

  it('needs a positive loss in ctx', () => {
    const p: Param = { name: 'p', value: tensor([0]), grad: tensor([1]) };
    expect(() => new Eve().step([p])).toThrow('eve: step(params, { loss }) needs the mini-batch loss as a positive number');
    expect(() => new Eve().step([p], { loss: -1 })).toThrow('got -1');
  });

  it('resumes from a stateDict exactly, d and f̂ included', () => {
    const a = leastSquares(20, 3, 3);
    const b = leastSquares(20, 3, 3);
    const straight = new Eve({ lr: 0.05 });
    let loss = a.lossAndGrad();
    for (let t = 0; t < 10; t++) {
      straight.step([a.w], { loss });
      loss = a.lossAndGrad();
    }
    let first: Eve = new Eve({ lr: 0.05 });
    loss = b.lossAndGrad();
    for (let t = 0; t < 10; t++) {
      if (t === 5) {
        const state = first.stateDict();
        first = new Eve({ lr: 0.05 });
        first.loadStateDict(state);
      }
      first.step([b.w], { loss });
      loss = b.lossAndGrad();
    }
    expect(Array.from(b.w.value.data)).toEqual(Array.from(a.w.value.data));
    expect(first.stateDict()).toEqual(straight.stateDict());
  });

  // Runs the full example (--quick) once the Sequential model and loadMnist exist in tensorkit.
  const hasModel = ['Sequential', 'Dense', 'ReLU', 'loadMnist'].every((name) => name in tensorkit);
  it.skipIf(!hasModel)('the example trains an MLP with Eve selected by name (--quick)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tensorkit-eve-'));
    try {
      const result = await main({ epochs: 1, batchSize: 64, seed: 0, out, quick: true });
      const runs = result.runs as { optimizer: string; testAccuracy: number }[];
      expect(runs.map((r) => r.optimizer)).toEqual(['eve', 'adam']);
      // One epoch on 1800 images at lr 1e-3 reaches ~60%; chance is 10%.
      expect(runs[0].testAccuracy).toBeGreaterThan(0.3);
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).example).toBe('custom-optimizer');
      // As the README says of every example: charts and a report.html that inlines them.
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      for (const chart of ['curves-eve.svg', 'curves-adam.svg', 'eve-vs-adam.svg']) {
        expect(readFileSync(join(out, chart), 'utf8')).toMatch(/<svg/);
        expect(html).toContain(`data-file="${chart}"`);
      }
      expect(html).toMatch(/<td>eve<\/td><td>[\d.]+%<\/td>/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
