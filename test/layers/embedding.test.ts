// Embedding: hand-derived lookup and scatter-add, finite differences for the weight, PyTorch 1.13
// nn.Embedding references (repeated indices, padding_idx), index validation, config errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Embedding } from '../../src/layers/embedding.js';
import { createLayer } from '../../src/layers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface EmbCase { numEmbeddings: number; embeddingDim: number; paddingIdx: number | null; x: number[]; shape: number[]; weight: number[]; w: number[]; y: number[]; d_weight: number[] }
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { embedding: EmbCase[] };

describe('Embedding', () => {
  it('looks rows up and scatter-adds their gradients (hand-derived, a repeated index)', () => {
    const e = new Embedding({ numEmbeddings: 3, embeddingDim: 2 });
    expect(e.build([3], new Rng(0))).toEqual([3, 2]);
    e.params()[0].value.data.set([1, 2, 3, 4, 5, 6]);
    // x = [2, 0, 2]: y = [[5, 6], [1, 2], [5, 6]]; dy = [[1, 1], [10, 20], [100, 200]] → dW row 0 = [10, 20],
    // row 1 = 0, row 2 = [1 + 100, 1 + 200].
    const { y, dx, params } = analyticGrads(e, new Tensor(Float32Array.of(2, 0, 2), [1, 3]), Float32Array.of(1, 1, 10, 20, 100, 200));
    expect(Array.from(y)).toEqual([5, 6, 1, 2, 5, 6]);
    expect(Array.from(params.weight)).toEqual([10, 20, 0, 0, 101, 201]);
    expect(Array.from(dx)).toEqual([0, 0, 0]); // indices are not differentiable
  });

  for (const [i, c] of ref.embedding.entries()) {
    it(`matches PyTorch nn.Embedding case ${i} (padding_idx ${String(c.paddingIdx)})`, () => {
      const e = createLayer('embedding', {
        numEmbeddings: c.numEmbeddings, embeddingDim: c.embeddingDim, ...(c.paddingIdx === null ? {} : { paddingIdx: c.paddingIdx }),
      });
      e.build(c.shape.slice(1), new Rng(0));
      if (c.paddingIdx !== null) {
        // The padding row starts at zero, as torch's.
        const row = e.params()[0].value.data.subarray(c.paddingIdx * c.embeddingDim, (c.paddingIdx + 1) * c.embeddingDim);
        expect(Array.from(row)).toEqual(new Array(c.embeddingDim).fill(0));
      }
      e.params()[0].value.data.set(c.weight);
      const got = analyticGrads(e, new Tensor(Float32Array.from(c.x), c.shape), Float32Array.from(c.w));
      assertClose(got.y, c.y, { atol: 0, rtol: 0, what: 'y' });
      assertClose(got.params.weight, c.d_weight, { atol: 1e-6, rtol: 1e-6, what: 'dweight' });
    });
  }

  it('its weight gradient equals central differences (without paddingIdx, whose row torch deliberately leaves ungraded)', () => {
    const e = new Embedding({ numEmbeddings: 6, embeddingDim: 3 });
    e.build([5], testRng(1));
    const x = new Tensor(Float32Array.of(0, 1, 1, 5, 3, 2, 2, 2, 4, 0), [2, 5]);
    expect(checkLayerGradients(e, x, randomTensor([2, 5, 3], testRng(2)).data, { input: false })).toBeLessThan(2e-3);
  });

  it('initialises N(0, 1) by default, deterministically from the seed', () => {
    const a = new Embedding({ numEmbeddings: 100, embeddingDim: 50 });
    a.build([1], new Rng(7));
    const b = new Embedding({ numEmbeddings: 100, embeddingDim: 50 });
    b.build([1], new Rng(7));
    const w = a.params()[0].value.data;
    expect(Array.from(w)).toEqual(Array.from(b.params()[0].value.data));
    let sum = 0;
    let sq = 0;
    for (const v of w) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.06); // 5000 draws: the mean's std is 0.014
    expect(Math.abs(Math.sqrt(sq / w.length - mean * mean) - 1)).toBeLessThan(0.05);
  });

  it('rejects bad indices naming position and value, and bad configs naming the option', () => {
    const e = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    e.build([3], new Rng(0));
    expect(() => e.forward(new Tensor(Float32Array.of(0, 1, 4), [1, 3]), false)).toThrow(/Embedding: index at \[0, 2\] must be an integer in \[0, 4\), got 4/);
    expect(() => e.forward(new Tensor(Float32Array.of(0, 1.5, 1), [1, 3]), false)).toThrow(/index at \[0, 1\] .* got 1.5/);
    expect(() => e.forward(new Tensor(Float32Array.of(0, 1, 2, 3, Number.NaN, 1), [2, 3]), false)).toThrow(/index at \[1, 1\] .* got NaN/);
    expect(() => e.forward(new Tensor(Float32Array.of(0, -1, 1), [1, 3]), false)).toThrow(/got -1/);
    expect(() => new Embedding({ numEmbeddings: 0, embeddingDim: 2 })).toThrow(/numEmbeddings must be an integer in \[1/);
    expect(() => new Embedding({ numEmbeddings: 4 } as never)).toThrow(/embeddingDim must be/);
    expect(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2, paddingIdx: 4 })).toThrow(/paddingIdx must be an integer in \[-4, 4\), got 4/);
    expect(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2 }).build([3, 2], new Rng(0))).toThrow(/expected a per-sample input shape \[sequenceLength\]/);
    expect(createLayer('embedding', { numEmbeddings: 4, embeddingDim: 2, paddingIdx: -1 }).getConfig())
      .toEqual({ numEmbeddings: 4, embeddingDim: 2, paddingIdx: 3, weightInit: 'random-normal' });
  });
});
