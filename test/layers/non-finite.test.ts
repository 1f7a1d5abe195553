// Non-finite values through every built-in layer (one file across src/layers/, since the property is
// the same for each): a NaN or an infinity in a sample's input must reach that sample's output, in
// training and in evaluation, as in PyTorch — never be turned into a valid-looking activation.
import { describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { createLayer, layerNames } from '../../src/layers/layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomTensor, testRng } from '../util/rng.js';

interface Case { config: Record<string, unknown>; shape: number[]; mixesBatch?: boolean; saturates?: boolean; rejects?: RegExp }

// One case per built-in; the first test checks this covers every registered layer.
const CASES: Record<string, Case> = {
  dense: { config: { units: 3 }, shape: [5] },
  conv2d: { config: { filters: 2, kernelSize: 3 }, shape: [2, 5, 5] },
  'conv2d-strided': { config: { filters: 2, kernelSize: 3, stride: 2, padding: 1 }, shape: [2, 5, 5] },
  flatten: { config: {}, shape: [2, 2, 2] },
  dropout: { config: { rate: 0.5 }, shape: [64] },
  relu: { config: {}, shape: [5] },
  'leaky-relu': { config: {}, shape: [5] },
  tanh: { config: {}, shape: [5], saturates: true },
  sigmoid: { config: {}, shape: [5], saturates: true },
  identity: { config: {}, shape: [5] },
  softmax: { config: {}, shape: [5] },
  'max-pool2d': { config: { poolSize: 2 }, shape: [2, 4, 4] },
  'avg-pool2d': { config: { poolSize: 2 }, shape: [2, 4, 4] },
  'batch-norm1d': { config: {}, shape: [5], mixesBatch: true },
  'batch-norm2d': { config: {}, shape: [2, 3, 3], mixesBatch: true },
  gelu: { config: {}, shape: [5] },
  'gelu-tanh': { config: { approximate: 'tanh' }, shape: [5] },
  silu: { config: {}, shape: [5] },
  'layer-norm': { config: {}, shape: [3, 4] },
  // Indices are not activations: a non-finite one is an error naming it (torch refuses float indices).
  embedding: { config: { numEmbeddings: 4, embeddingDim: 2 }, shape: [3], rejects: /Embedding: index at \[0, 0\] must be an integer in \[0, 4\), got (NaN|Infinity)/ },
  conv1d: { config: { filters: 2, kernelSize: 3 }, shape: [2, 6] },
  'global-avg-pool2d': { config: {}, shape: [2, 3, 3] },
  'multi-head-attention': { config: { embedDim: 4, numHeads: 2 }, shape: [3, 4] },
  'multi-head-attention-causal': { config: { embedDim: 4, numHeads: 2, causal: true }, shape: [3, 4] },
};

const VARIANTS: Record<string, string> = { 'conv2d-strided': 'conv2d', 'gelu-tanh': 'gelu', 'multi-head-attention-causal': 'multi-head-attention' };
const kindOf = (name: string): string => VARIANTS[name] ?? name;

describe('non-finite inputs propagate through every built-in layer', () => {
  it('covers every registered layer', () => {
    expect(layerNames().slice().sort()).toEqual([...new Set(Object.keys(CASES).map(kindOf))].sort());
  });

  for (const [name, c] of Object.entries(CASES)) {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const training of [true, false]) {
        it(`${name}: ${bad} in sample 0 gives a non-finite output in sample 0 (${training ? 'training' : 'evaluation'})`, () => {
          const layer = createLayer(kindOf(name), c.config);
          const outShape = layer.build(c.shape, testRng(3));
          const x = randomTensor([3, ...c.shape], testRng(4));
          if (name === 'embedding') x.data.set(x.data.map((v) => Math.floor(2 * (v + 1)))); // valid indices 0…3
          x.data[0] = bad;
          if (c.rejects !== undefined) {
            expect(() => layer.forward(x, training)).toThrow(c.rejects);
            return;
          }
          const y: Tensor = layer.forward(x, training);
          const per = outShape.reduce((a, b) => a * b, 1);
          const sample0 = Array.from(y.data.subarray(0, per));
          if (c.saturates === true && bad === Number.POSITIVE_INFINITY) {
            expect(sample0[0]).toBe(1); // tanh(∞) = σ(∞) = 1 exactly, as in torch: a limit, not a corruption
            return;
          }
          // An infinity may become NaN downstream (∞ − ∞ in softmax, batch-norm), never a finite number.
          expect(sample0.some((v) => !Number.isFinite(v)), `${name} sample 0: ${sample0.join(', ')}`).toBe(true);
          // Batch-norm in training mixes the batch (its mean and variance are non-finite), as in torch;
          // every other layer leaves the other samples alone.
          const rest = Array.from(y.data.subarray(per));
          if (c.mixesBatch === true && training) expect(rest.some((v) => !Number.isFinite(v))).toBe(true);
          else expect(rest.every(Number.isFinite), `${name} other samples`).toBe(true);
        });
      }
    }
  }
});
