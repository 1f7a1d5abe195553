// LayerNorm: hand-derived values and gradient, finite differences for the input and both params,
// PyTorch 1.13 nn.LayerNorm references (test/reference/layers_new.py), config and shape errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LayerNorm } from '../../src/layers/layer-norm.js';
import { createLayer } from '../../src/layers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface LnCase {
  shape: number[]; normalizedShape: number[]; affine: boolean; eps: number; x: number[]; weight?: number[]; bias?: number[];
  w: number[]; y: number[]; dx: number[]; d_weight?: number[]; d_bias?: number[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { layer_norm: LnCase[] };

describe('LayerNorm', () => {
  it('matches hand-derived values on one row: x = [1, 2, 3, 4], dy = e₀', () => {
    // μ = 2.5, σ² = 1.25, 1/σ = 0.894427191; x̂ = [−1.341640786, −0.447213595, 0.447213595, 1.341640786].
    // dx = (g − mean g − x̂·mean(g·x̂))/σ with g = [1, 0, 0, 0]: mean g = 0.25, mean(g·x̂) = −0.335410197,
    // so dx = [0.3, −0.4, −0.1, 0.2]·0.894427191.
    const ln = new LayerNorm({ eps: 1e-12 });
    ln.build([4], new Rng(0));
    const { y, dx, params } = analyticGrads(ln, new Tensor(Float32Array.of(1, 2, 3, 4), [1, 4]), Float32Array.of(1, 0, 0, 0));
    assertClose(y, [-1.341640786, -0.447213595, 0.447213595, 1.341640786], { atol: 1e-6, rtol: 0, what: 'y' });
    assertClose(dx, [0.3, -0.4, -0.1, 0.2].map((v) => v * 0.894427191), { atol: 1e-6, rtol: 0, what: 'dx' });
    assertClose(params.weight, [-1.341640786, 0, 0, 0], { atol: 1e-6, rtol: 0, what: 'dweight = dy·x̂' });
    assertClose(params.bias, [1, 0, 0, 0], { atol: 0, rtol: 0, what: 'dbias = dy' });
  });

  for (const [i, c] of ref.layer_norm.entries()) {
    it(`matches PyTorch nn.LayerNorm case ${i} (input ${JSON.stringify(c.shape)}, normalizedShape ${JSON.stringify(c.normalizedShape)}, affine ${c.affine})`, () => {
      const ln = createLayer('layer-norm', { normalizedShape: c.normalizedShape, eps: c.eps, affine: c.affine });
      expect(ln.build(c.shape.slice(1), new Rng(0))).toEqual(c.shape.slice(1));
      if (c.affine) {
        ln.params()[0].value.data.set(c.weight as number[]);
        ln.params()[1].value.data.set(c.bias as number[]);
      } else {
        expect(ln.params()).toEqual([]);
      }
      const got = analyticGrads(ln, new Tensor(Float32Array.from(c.x), c.shape), Float32Array.from(c.w));
      assertClose(got.y, c.y, { atol: 1e-5, rtol: 1e-5, what: 'y' });
      assertClose(got.dx, c.dx, { atol: 1e-5, rtol: 1e-4, what: 'dx' });
      if (c.affine) {
        assertClose(got.params.weight, c.d_weight as number[], { atol: 1e-5, rtol: 1e-4, what: 'dweight' });
        assertClose(got.params.bias, c.d_bias as number[], { atol: 1e-5, rtol: 1e-4, what: 'dbias' });
      }
    });
  }

  it('its gradients equal central differences for the input, weight and bias (tol 2e-3; a 0.5% error fails)', () => {
    for (const [shape, norm] of [[[3, 2, 6], [6]], [[2, 3, 4], [3, 4]]] as const) {
      const ln = new LayerNorm({ normalizedShape: norm.slice() });
      ln.build(shape.slice(1), testRng(1));
      const rng = testRng(2);
      for (const p of ln.params()) p.value.data.set(randomTensor([p.value.size], rng, 0.5, 1.5).data);
      const x = randomTensor(shape.slice(), rng, -2, 2);
      const w = randomTensor(shape.slice(), rng).data;
      expect(checkLayerGradients(ln, x, w, { h: 1e-2 })).toBeLessThan(2e-3);
    }
  });

  it('keeps its buffers across steps and accumulates parameter gradients', () => {
    const ln = new LayerNorm();
    ln.build([5], new Rng(0));
    const x = randomTensor([2, 5], testRng(3));
    const y1 = ln.forward(x, true);
    const g = new Tensor(new Float32Array(10).fill(1), [2, 5]);
    const dx1 = ln.backward(g);
    const db = Float32Array.from(ln.params()[1].grad.data);
    expect(ln.forward(x, true)).toBe(y1);
    expect(ln.backward(g)).toBe(dx1);
    assertClose(ln.params()[1].grad.data, Array.from(db, (v) => 2 * v), { atol: 0, rtol: 0, what: 'dbias after two backwards' });
  });

  it('rejects bad configs and shapes with messages naming the value', () => {
    expect(() => new LayerNorm({ eps: 0 })).toThrow(/LayerNorm: eps must be .*got 0/);
    expect(() => new LayerNorm({ normalizedShape: [0] })).toThrow(/normalizedShape must be a positive integer .*\[0\]/);
    expect(() => createLayer('layer-norm', { normalisedShape: 4 })).toThrow(/unknown option "normalisedShape"/);
    expect(() => new LayerNorm({ normalizedShape: [3, 4] }).build([4, 3], new Rng(0))).toThrow(/normalizedShape \[3, 4\] must equal the trailing dimensions of the per-sample input \[4, 3\]/);
    const ln = new LayerNorm();
    expect(() => ln.forward(new Tensor(new Float32Array(4), [1, 4]), true)).toThrow(/before build/);
    ln.build([4], new Rng(0));
    expect(() => ln.forward(new Tensor(new Float32Array(6), [1, 6]), true)).toThrow(/expected input \[batch, 4\], got \[1, 6\]/);
  });

  it('getConfig rebuilds the same layer through the registry', () => {
    const ln = new LayerNorm({ normalizedShape: 6, eps: 1e-3, affine: false });
    expect(ln.getConfig()).toEqual({ normalizedShape: [6], eps: 1e-3, affine: false });
    expect(createLayer('layer-norm', ln.getConfig()).getConfig()).toEqual(ln.getConfig());
  });
});
