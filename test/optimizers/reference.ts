// Shared test helpers: the torch.optim reference trajectories (test/reference/optimizers.json) and
// a runner that replays them through a tensorkit optimizer.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createOptimizer, type Optimizer } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';

interface RefCase {
  name: string;
  optimizer: string;
  config: Record<string, unknown>;
  decayMul: number[];
  /** trajectory[step][param] = flat values after step + 1. */
  trajectory: number[][][];
}

interface RefFile {
  steps: number;
  params: { name: string; shape: number[]; value: number[] }[];
  /** grads[step][param] = flat gradient fed at that step. */
  grads: number[][][];
  cases: RefCase[];
}

export const REF: RefFile = JSON.parse(readFileSync(new URL('../reference/optimizers.json', import.meta.url), 'utf8'));

/** Float32 vs torch float64: the only error is float32 rounding of params and slots. */
export const TRAJ_TOL = { atol: 1e-6, rtol: 1e-5 };

/** Fresh copies of the reference's two initial params ([2, 3] and [4]), with per-param decayMul. */
export function makeParams(decayMul: readonly number[] = [1, 1]): Param[] {
  return REF.params.map((p, i) => ({
    name: p.name,
    value: new Tensor(Float32Array.from(p.value), p.shape),
    grad: new Tensor(new Float32Array(p.value.length), p.shape),
    decayMul: decayMul[i],
  }));
}

/** Writes the reference gradient of `step` (0-based, cycling past the end) into each param's grad. */
export function setGrads(params: readonly Param[], step: number): void {
  const g = REF.grads[step % REF.grads.length];
  for (let i = 0; i < params.length; i++) params[i].grad.data.set(g[i]);
}

/** Runs `steps` steps of `opt` over the reference gradients, starting at reference step `from`. */
export function run(opt: Optimizer, params: readonly Param[], steps: number, from = 0): void {
  for (let s = from; s < from + steps; s++) {
    setGrads(params, s);
    opt.step(params);
  }
}

/** One vitest case per reference case of `kind`: params after every one of the 10 steps match torch. */
export function referenceTrajectoryTests(kind: string): void {
  const cases = REF.cases.filter((c) => c.optimizer === kind);
  it(`has reference cases for ${kind}`, () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(`${c.name} ${JSON.stringify(c.config)} decayMul ${JSON.stringify(c.decayMul)}: 1..${REF.steps}-step trajectory matches torch.optim`, () => {
      const params = makeParams(c.decayMul);
      const opt = createOptimizer(kind, c.config);
      for (let s = 0; s < REF.steps; s++) {
        setGrads(params, s);
        opt.step(params);
        for (let i = 0; i < params.length; i++) {
          assertClose(params[i].value.data, c.trajectory[s][i], { ...TRAJ_TOL, what: `${c.name} step ${s + 1} ${params[i].name}` });
        }
      }
    });
  }
}
