// The four assignment networks written as user modules over ops (bench/lib/modules.ts) against the
// built-in Sequential of layers (bench/lib/networks.ts): same weights, same batch, three training steps
// with each network's own optimizer; losses and every gradient must agree (and the updated weights, for SGD).
import { describe, expect, it } from 'vitest';
import { buildOpModule, copyWeights } from '../../bench/lib/modules.js';
import { NETWORKS, buildModel, randomBatch } from '../../bench/lib/networks.js';
import type { Param } from '../../src/tensor/param.js';

/** max |a − b| / max(1e-3, max |b|) over a tensor: the error relative to the tensor's scale. */
function scaledError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function worst(ops: readonly Param[], layers: readonly Param[], field: 'grad' | 'value'): { error: number; name: string } {
  let error = 0;
  let name = '';
  for (let i = 0; i < layers.length; i++) {
    expect(ops[i].value.shape).toEqual(layers[i].value.shape);
    const e = scaledError(ops[i][field].data, layers[i][field].data);
    if (e > error) {
      error = e;
      name = `${ops[i].name} (${layers[i].name})`;
    }
  }
  return { error, name };
}

// Tolerance relative to each tensor's largest entry: 1e-5. Both paths run float32 kernels, but the
// module's matmul and conv ops may sum in another order than the fused layers, so bit-identity is not
// required; a 0.5% gradient error (5e-3) fails by a factor of 500 (see the last test).
const TOL = 1e-5;

describe('assignment networks as user modules over ops', () => {
  for (const spec of NETWORKS) {
    it(`${spec.name}: losses and gradients equal the Sequential's over 3 ${spec.optimizer.name} steps`, () => {
      const layers = buildModel(spec, 1);
      const module = buildOpModule(spec, 7);
      copyWeights(layers, module);
      const { x, y } = randomBatch(spec, 3);
      const report: string[] = [];
      for (let step = 0; step < 3; step++) {
        const a = module.trainStep(x, y).loss;
        const b = layers.trainStep(x, y).loss;
        const g = worst(module.params(), layers.params(), 'grad');
        const w = worst(module.params(), layers.params(), 'value');
        report.push(`step ${step + 1}: loss ${b.toFixed(6)} (diff ${Math.abs(a - b).toExponential(2)}), grad error ${g.error.toExponential(2)} at ${g.name}, updated-weight error ${w.error.toExponential(2)} at ${w.name}`);
        if (process.env.SHOW_ERRORS) console.log(`${spec.name} ${report.at(-1)}`);
        expect(Math.abs(a - b), `loss at step ${step + 1}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(b)));
        expect(g.error, `gradient of ${g.name} at step ${step + 1}`).toBeLessThan(TOL);
        // SGD and momentum updates are linear in the gradient, so the new weights agree as tightly. Adam
        // divides each gradient by its own magnitude: where a gradient is ~0, float32 noise of 1e-7
        // relative can move that weight by up to 2·lr, so Adam's updated weights are not compared;
        // instead the module is re-synchronised to the Sequential's weights before the next step, so
        // every step's gradients are compared at identical weights.
        if (spec.optimizer.name !== 'adam') expect(w.error, `weight ${w.name} after step ${step + 1}`).toBeLessThan(TOL);
        copyWeights(layers, module);
      }
    });
  }

  it('the check fails on a 0.5% gradient error (the tolerance is tight enough)', () => {
    const spec = NETWORKS[2];
    const layers = buildModel(spec, 1);
    const module = buildOpModule(spec, 7);
    copyWeights(layers, module);
    const { x, y } = randomBatch(spec, 3);
    module.trainStep(x, y);
    layers.trainStep(x, y);
    const grad = module.params()[0].grad.data;
    for (let i = 0; i < grad.length; i++) grad[i] *= 1.005;
    expect(worst(module.params(), layers.params(), 'grad').error).toBeGreaterThan(100 * TOL);
  });

  it('copyWeights names a shape mismatch', () => {
    expect(() => copyWeights(buildModel(NETWORKS[1]), buildOpModule(NETWORKS[3]))).toThrow(/copyWeights: .* does not fit /);
  });
});
