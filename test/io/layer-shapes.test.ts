// The shape table must agree with what each built-in layer's build() really allocates, for every
// built-in kind and a spread of configs, and must decline layers it does not know.
import { describe, expect, it } from 'vitest';
import { inferLayerShapes, LayerShapeError } from '../../src/io/layer-shapes.js';
import { createLayer, Dense, type Layer } from '../../src/layers/index.js';
import { Rng } from '../../src/tensor/rng.js';

const CASES: [string, Record<string, unknown>, number[]][] = [
  ['dense', { units: 7 }, [5]],
  ['dense', { units: 3, useBias: false }, [12]],
  ['conv2d', { filters: 4, kernelSize: 3 }, [2, 9, 9]],
  ['conv2d', { filters: 2, kernelSize: [3, 5], stride: [2, 1], padding: [1, 2], useBias: false }, [3, 11, 8]],
  ['conv2d', { filters: 3, kernelSize: 5, padding: 'same' }, [1, 6, 6]],
  ['conv2d', { filters: 3, kernelSize: 2, padding: 'valid', stride: 2 }, [2, 7, 5]],
  ['conv2d', { filters: 1, kernelSize: 3, padding: 3 }, [1, 4, 4]],
  ['max-pool2d', { poolSize: 2 }, [3, 7, 7]],
  ['max-pool2d', { poolSize: [3, 2], stride: [1, 2], padding: [1, 1] }, [2, 5, 6]],
  ['avg-pool2d', { poolSize: 3, stride: 2, padding: 1, countIncludePad: false }, [1, 9, 8]],
  ['flatten', {}, [2, 3, 4]],
  ['dropout', { rate: 0.3 }, [6]],
  ['relu', {}, [2, 3]],
  ['leaky-relu', { negativeSlope: 0.2 }, [4]],
  ['tanh', {}, [5]],
  ['sigmoid', {}, [1, 2, 2]],
  ['softmax', {}, [10]],
  ['identity', {}, [3, 3]],
  ['batch-norm1d', {}, [6]],
  ['batch-norm1d', { affine: false }, [4, 5]],
  ['batch-norm2d', { momentum: 0.2 }, [3, 4, 4]],
  ['gelu', { approximate: 'tanh' }, [3, 4]],
  ['silu', {}, [5]],
  ['layer-norm', {}, [4, 6]],
  ['layer-norm', { normalizedShape: [3, 5], affine: false }, [2, 3, 5]],
  ['embedding', { numEmbeddings: 11, embeddingDim: 4 }, [7]],
  ['conv1d', { filters: 3, kernelSize: 3 }, [2, 10]],
  ['conv1d', { filters: 2, kernelSize: 4, stride: 2, padding: 1, useBias: false }, [3, 9]],
  ['conv1d', { filters: 2, kernelSize: 5, padding: 'same' }, [1, 6]],
  ['global-avg-pool2d', {}, [3, 4, 5]],
  ['multi-head-attention', { embedDim: 8, numHeads: 2 }, [5, 8]],
  ['multi-head-attention', { embedDim: 6, numHeads: 3, useBias: false, causal: true }, [4, 6]],
];

function shapesOf(list: readonly { name: string; value: { shape: readonly number[] } }[]): { name: string; shape: number[] }[] {
  return list.map((p) => ({ name: p.name, shape: p.value.shape.slice() }));
}

describe('inferLayerShapes', () => {
  it.each(CASES)('%s %j on %j: output, params and buffers equal what build() makes', (kind, config, input) => {
    const inferred = inferLayerShapes(createLayer(kind, config), input);
    const layer = createLayer(kind, config);
    const out = layer.build(input, new Rng(1));
    expect(inferred).not.toBeNull();
    expect(inferred!.outputShape).toEqual(Array.from(out));
    expect(inferred!.params).toEqual(shapesOf(layer.params()));
    expect(inferred!.buffers).toEqual(shapesOf(layer.buffers?.() ?? []));
  });

  it('counts a strided convolution\'s im2col matrix as scratch, and none on the stride-1 path', () => {
    // [inC·kH·kW, outH·outW] = [2·3·3, 4·4] for 9×9 input, stride 2, no padding.
    expect(inferLayerShapes(createLayer('conv2d', { filters: 1, kernelSize: 3, stride: 2 }), [2, 9, 9])!.scratch).toBe(18 * 16);
    expect(inferLayerShapes(createLayer('conv2d', { filters: 1, kernelSize: 3 }), [2, 9, 9])!.scratch).toBe(0);
  });

  it('throws a LayerShapeError for an input the layer cannot take, like build() does', () => {
    const cases: [string, Record<string, unknown>, number[], RegExp][] = [
      ['dense', { units: 2 }, [2, 3], /Dense: expected a per-sample input shape \[features\], got \[2, 3\]/],
      ['conv2d', { filters: 1, kernelSize: 5 }, [1, 3, 3], /does not fit input 3×3/],
      ['max-pool2d', { poolSize: 2 }, [4], /MaxPool2D: expected a per-sample input shape/],
      ['batch-norm2d', {}, [4], /BatchNorm2d/],
      ['layer-norm', { normalizedShape: [4] }, [4, 3], /LayerNorm: normalizedShape \[4\] must equal the trailing dimensions/],
      ['embedding', { numEmbeddings: 3, embeddingDim: 2 }, [2, 2], /Embedding: expected a per-sample input shape \[sequenceLength\]/],
      ['conv1d', { filters: 1, kernelSize: 5 }, [1, 3], /Conv1D: .*\(input \[1, 3\]\)/],
      ['global-avg-pool2d', {}, [4, 4], /GlobalAvgPool2D: expected/],
      ['multi-head-attention', { embedDim: 8, numHeads: 2 }, [5, 6], /MultiHeadAttention: expected a per-sample input shape \[sequenceLength, 8\], got \[5, 6\]/],
    ];
    for (const [kind, config, input, message] of cases) {
      expect(() => inferLayerShapes(createLayer(kind, config), input)).toThrow(LayerShapeError);
      expect(() => inferLayerShapes(createLayer(kind, config), input)).toThrow(message);
      expect(() => createLayer(kind, config).build(input, new Rng(1))).toThrow();
    }
  });

  it('returns null for a layer class it does not know (a user layer, or a subclass of a built-in)', () => {
    class Wider extends Dense {}
    const custom: Layer = { kind: 'mine', build: (s) => s, forward: (x) => x, backward: (d) => d, params: () => [], getConfig: () => ({}) };
    expect(inferLayerShapes(custom, [3])).toBeNull();
    expect(inferLayerShapes(new Wider({ units: 2 }), [3])).toBeNull();
  });
});
