// FLOP and MAC counts of the issue-15 layers (src/analysis/layer-costs.ts), hand-derived from each
// function's formula on small shapes, and a model with all of them summarised with known costs.
import { describe, expect, it } from 'vitest';
import '../../src/analysis/index.js';
import { analyzeModel, layerCost } from '../../src/analysis/index.js';
import { createLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';

describe('layer costs of the new layers', () => {
  it('multi-head-attention [T 4, E 8], 2 heads: MACs = 4·T·E² + 2·T²·E', () => {
    // MACs = 4·4·64 + 2·16·8 = 1024 + 256 = 1280. forward = 2·1280 + T·E (32) + H·T·(5T − 2) (2·4·18 = 144)
    // + biases 4·T·E (128) = 2864; backward = 4·1280 + H·T·(4T − 1) (2·4·15 = 120) + 32 + 128 = 5400.
    const c = layerCost(createLayer('multi-head-attention', { embedDim: 8, numHeads: 2 }), [4, 8], [4, 8]);
    expect(c).toEqual({ macs: 1280, flops: 2864, trainForwardFlops: 2864, backwardFlops: 5400, activations: 9 * 32 + 2 * 16 });
    expect(layerCost(createLayer('multi-head-attention', { embedDim: 8, numHeads: 2, useBias: false }), [4, 8], [4, 8]).flops).toBe(2864 - 128);
  });

  it('conv1d [3, 10] → [4, 8], k 3: MACs = L′·outC·inC·k', () => {
    // MACs = 8·4·9 = 288; forward 576 + 32 bias; backward 4·288 + L′·K (8·9 = 72) + 32 = 1256.
    expect(layerCost(createLayer('conv1d', { filters: 4, kernelSize: 3 }), [3, 10], [4, 8]))
      .toEqual({ macs: 288, flops: 608, trainForwardFlops: 608, backwardFlops: 1256, activations: 32 });
  });

  it('layer-norm, gelu, silu, embedding, global-avg-pool2d per element', () => {
    // n = 12: layer-norm forward 6n + 2n = 96, backward 7n + 4n = 132; without affine 72 and 84.
    expect(layerCost(createLayer('layer-norm'), [3, 4], [3, 4])).toEqual({ macs: 0, flops: 96, trainForwardFlops: 96, backwardFlops: 132, activations: 24 });
    expect(layerCost(createLayer('layer-norm', { affine: false }), [3, 4], [3, 4]).backwardFlops).toBe(84);
    expect(layerCost(createLayer('gelu'), [10], [10]).flops).toBe(50);
    expect(layerCost(createLayer('gelu', { approximate: 'tanh' }), [10], [10]).backwardFlops).toBe(190);
    expect(layerCost(createLayer('silu'), [10], [10]).backwardFlops).toBe(90);
    expect(layerCost(createLayer('embedding', { numEmbeddings: 5, embeddingDim: 3 }), [4], [4, 3]))
      .toEqual({ macs: 0, flops: 0, trainForwardFlops: 0, backwardFlops: 12, activations: 12 });
    expect(layerCost(createLayer('global-avg-pool2d'), [2, 3, 3], [2]).flops).toBe(18);
  });

  it('a model with every new layer has a known cost on every row', () => {
    const model = new Sequential([
      createLayer('embedding', { numEmbeddings: 9, embeddingDim: 8 }), createLayer('layer-norm'),
      createLayer('multi-head-attention', { embedDim: 8, numHeads: 2 }), createLayer('gelu'), createLayer('conv1d', { filters: 2, kernelSize: 3 }),
      createLayer('silu'), createLayer('flatten'), createLayer('dense', { units: 4 }),
    ], { inputShape: [4] });
    const analysis = analyzeModel(model);
    expect(analysis.rows.every((row) => row.costKnown)).toBe(true);
    expect(analysis.rows[2].macs).toBe(1280);
  });
});
