// GlobalAvgPool2D: hand-derived mean and gradient, finite differences, PyTorch 1.13 x.mean(dim=(2, 3)).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GlobalAvgPool2D } from '../../src/layers/global-avg-pool.js';
import { createLayer } from '../../src/layers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface GapCase { shape: number[]; x: number[]; w: number[]; y: number[]; dx: number[] }
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { global_avg_pool2d: GapCase[] };

describe('GlobalAvgPool2D', () => {
  it('averages each plane and spreads dy/(H·W) back (hand-derived)', () => {
    const gap = new GlobalAvgPool2D();
    expect(gap.build([2, 2, 2], new Rng(0))).toEqual([2]);
    const got = analyticGrads(gap, new Tensor(Float32Array.of(1, 2, 3, 4, -8, 0, 0, 0), [1, 2, 2, 2]), Float32Array.of(4, 2));
    expect(Array.from(got.y)).toEqual([2.5, -2]);
    expect(Array.from(got.dx)).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]);
  });

  for (const [i, c] of ref.global_avg_pool2d.entries()) {
    it(`matches PyTorch x.mean(dim=(2, 3)) case ${i} (input ${JSON.stringify(c.shape)})`, () => {
      const gap = createLayer('global-avg-pool2d');
      gap.build(c.shape.slice(1), new Rng(0));
      const got = analyticGrads(gap, new Tensor(Float32Array.from(c.x), c.shape), Float32Array.from(c.w));
      assertClose(got.y, c.y, { atol: 1e-6, rtol: 1e-6, what: 'y' });
      assertClose(got.dx, c.dx, { atol: 1e-7, rtol: 1e-6, what: 'dx' });
    });
  }

  it('its gradient equals central differences', () => {
    const gap = new GlobalAvgPool2D();
    gap.build([3, 4, 5], new Rng(0));
    const rng = testRng(5);
    expect(checkLayerGradients(gap, randomTensor([2, 3, 4, 5], rng), randomTensor([2, 3], rng).data)).toBeLessThan(2e-3);
  });

  it('rejects other input ranks and options, naming them', () => {
    expect(() => new GlobalAvgPool2D().build([16], new Rng(0))).toThrow(/GlobalAvgPool2D: expected a per-sample input shape \[channels, height, width\], got \[16\]/);
    expect(() => createLayer('global-avg-pool2d', { keepDims: true })).toThrow(/unknown option "keepDims"/);
  });
});
