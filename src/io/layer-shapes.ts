// Shape inference for the built-in layers without building them: from a constructed (unbuilt) layer
// and its per-sample input shape, the output shape, the parameter and buffer shapes `build` would
// allocate, and its build-time scratch. Lets a model-file reader check a file before allocating.
import { BatchNorm1d, BatchNorm2d } from '../layers/batch-norm.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { Gelu, Identity, LeakyReLU, ReLU, Sigmoid, Silu, Softmax, Tanh } from '../layers/activations.js';
import { Conv1D } from '../layers/conv1d.js';
import { Embedding } from '../layers/embedding.js';
import { GlobalAvgPool2D } from '../layers/global-avg-pool.js';
import { LayerNorm, layerNormShape } from '../layers/layer-norm.js';
import { MultiHeadAttention } from '../layers/multi-head-attention.js';
import type { Layer } from '../layers/layer.js';
import { AvgPool2D, MaxPool2D } from '../layers/pooling.js';
import { convGeometry } from '../tensor/im2col.js';
import { poolGeometry } from '../tensor/pooling.js';

/** What building one layer on a given per-sample input shape produces (shapes exclude the batch axis). */
export interface LayerShapes {
  readonly outputShape: number[];
  /** Trainable parameters by local name (`weight`, `bias`), in `params()` order. */
  readonly params: { readonly name: string; readonly shape: number[] }[];
  /** Non-trainable state-dict buffers (`running_mean`, …), in `buffers()` order. */
  readonly buffers: { readonly name: string; readonly shape: number[] }[];
  /** Floats `build` allocates besides parameters, their gradients and buffers (e.g. Conv2D's im2col matrix). */
  readonly scratch: number;
}

/** Thrown when a built-in layer cannot take the input shape; the message reads like the layer's own. */
export class LayerShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerShapeError';
  }
}

const bad = (message: string): never => {
  throw new LayerShapeError(message);
};

const positive = (shape: readonly number[]): boolean => shape.every((d) => Number.isSafeInteger(d) && d >= 1);
const fmt = (shape: readonly number[]): string => `[${shape.slice(0, 8).join(', ')}${shape.length > 8 ? ', …' : ''}]`;

type Rule = (layer: never, input: readonly number[]) => LayerShapes;

/** Parameter-free layers whose output has the input's shape. */
const sameShape = (owner: string) => (_layer: Layer, input: readonly number[]): LayerShapes => {
  if (!input.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`${owner}: invalid per-sample input shape ${fmt(input)}`);
  return { outputShape: input.slice(), params: [], buffers: [], scratch: 0 };
};

const batchNorm = (owner: string, ranks: readonly number[]) => (layer: BatchNorm1d | BatchNorm2d, input: readonly number[]): LayerShapes => {
  if (!ranks.includes(input.length)) bad(`${owner}: expected a per-sample input of rank ${ranks.join(' or ')}, got ${fmt(input)}`);
  if (!positive(input)) bad(`${owner}: input shape ${fmt(input)} must have positive dimensions`);
  const c = [input[0]];
  return {
    outputShape: input.slice(),
    params: layer.affine ? [{ name: 'weight', shape: c }, { name: 'bias', shape: c.slice() }] : [],
    buffers: [{ name: 'running_mean', shape: c.slice() }, { name: 'running_var', shape: c.slice() }, { name: 'num_batches_tracked', shape: [] }],
    scratch: 0,
  };
};

const pool = (owner: string) => (layer: MaxPool2D | AvgPool2D, input: readonly number[]): LayerShapes => {
  if (input.length !== 3) bad(`${owner}: expected a per-sample input shape [channels, height, width], got ${fmt(input)}`);
  const [kH, kW] = layer.poolSize;
  let g;
  try {
    g = poolGeometry(1, input[0], input[1], input[2], kH, kW, layer.stride[0], layer.stride[1], layer.padding[0], layer.padding[1]);
  } catch (e) {
    return bad(`${owner}: ${(e as Error).message.replace(/^pool2d: /, '')} (input ${fmt(input)})`);
  }
  return { outputShape: [g.channels, g.outH, g.outW], params: [], buffers: [], scratch: 0 };
};

/**
 * The rule of every built-in layer class. Keyed by the exact class, not the registry name: a name
 * re-registered to another factory, or a subclass, is not assumed to build like the built-in.
 */
const RULES = new Map<unknown, Rule>([
  [Dense, (layer: Dense, input: readonly number[]): LayerShapes => {
    if (input.length !== 1 || !positive(input)) bad(`Dense: expected a per-sample input shape [features], got ${fmt(input)}`);
    const params = [{ name: 'weight', shape: [layer.units, input[0]] }];
    if (layer.useBias) params.push({ name: 'bias', shape: [layer.units] });
    return { outputShape: [layer.units], params, buffers: [], scratch: 0 };
  }],
  [Conv2D, (layer: Conv2D, input: readonly number[]): LayerShapes => {
    if (input.length !== 3 || !positive(input)) bad(`Conv2D: expected a per-sample input shape [channels, height, width], got ${fmt(input)}`);
    const [channels, height, width] = input;
    const [kH, kW] = layer.kernelSize;
    const [padH, padW] = layer.padding === 'same' ? [(kH - 1) / 2, (kW - 1) / 2] : layer.padding;
    let g;
    try {
      g = convGeometry(channels, height, width, kH, kW, layer.stride[0], layer.stride[1], padH, padW);
    } catch (e) {
      return bad(`Conv2D: ${(e as Error).message} (input ${fmt(input)})`);
    }
    const params = [{ name: 'weight', shape: [layer.filters, channels, kH, kW] }];
    if (layer.useBias) params.push({ name: 'bias', shape: [layer.filters] });
    // The per-image im2col matrix exists only off the stride-1 "wide" path (see Conv2D.isWide).
    const wide = g.strideH === 1 && g.strideW === 1 && g.padH <= kH - 1 && g.padW <= kW - 1;
    return { outputShape: [layer.filters, g.outH, g.outW], params, buffers: [], scratch: wide ? 0 : channels * kH * kW * g.outH * g.outW };
  }],
  [Flatten, (_layer: Flatten, input: readonly number[]): LayerShapes => {
    if (input.length < 1 || !positive(input)) bad(`Flatten: expected a non-empty per-sample input shape, got ${fmt(input)}`);
    return { outputShape: [input.reduce((a, b) => a * b, 1)], params: [], buffers: [], scratch: 0 };
  }],
  [Dropout, sameShape('Dropout')],
  [ReLU, sameShape('ReLU')],
  [LeakyReLU, sameShape('LeakyReLU')],
  [Tanh, sameShape('Tanh')],
  [Sigmoid, sameShape('Sigmoid')],
  [Softmax, (layer: Softmax, input: readonly number[]): LayerShapes => {
    if (input.length < 1 || input[input.length - 1] < 1) bad(`Softmax: expected a per-sample input shape with a non-empty last axis, got ${fmt(input)}`);
    return sameShape('Softmax')(layer, input);
  }],
  [Identity, (_layer: Identity, input: readonly number[]): LayerShapes => ({ outputShape: input.slice(), params: [], buffers: [], scratch: 0 })],
  [MaxPool2D, pool('MaxPool2D')],
  [AvgPool2D, pool('AvgPool2D')],
  [BatchNorm1d, batchNorm('BatchNorm1d', [1, 2])],
  [BatchNorm2d, batchNorm('BatchNorm2d', [3])],
  [Gelu, sameShape('Gelu')],
  [Silu, sameShape('Silu')],
  [LayerNorm, (layer: LayerNorm, input: readonly number[]): LayerShapes => {
    let norm: number[];
    try {
      norm = layerNormShape(input, layer.normalizedShape.length > 0 ? layer.normalizedShape : null);
    } catch (e) {
      return bad((e as Error).message);
    }
    return {
      outputShape: input.slice(),
      params: layer.affine ? [{ name: 'weight', shape: norm }, { name: 'bias', shape: norm.slice() }] : [],
      buffers: [],
      scratch: 0,
    };
  }],
  [Embedding, (layer: Embedding, input: readonly number[]): LayerShapes => {
    if (input.length !== 1 || !positive(input)) bad(`Embedding: expected a per-sample input shape [sequenceLength] of indices, got ${fmt(input)}`);
    return {
      outputShape: [input[0], layer.embeddingDim],
      params: [{ name: 'weight', shape: [layer.numEmbeddings, layer.embeddingDim] }],
      buffers: [],
      scratch: 0,
    };
  }],
  [Conv1D, (layer: Conv1D, input: readonly number[]): LayerShapes => {
    if (input.length !== 2 || !positive(input)) bad(`Conv1D: expected a per-sample input shape [channels, length], got ${fmt(input)}`);
    const [channels, length] = input;
    const k = layer.kernelSize;
    const pad = layer.padding === 'same' ? (k - 1) / 2 : layer.padding;
    let g;
    try {
      g = convGeometry(channels, 1, length, 1, k, 1, layer.stride, 0, pad);
    } catch (e) {
      return bad(`Conv1D: ${(e as Error).message} (input ${fmt(input)})`);
    }
    const params = [{ name: 'weight', shape: [layer.filters, channels, k] }];
    if (layer.useBias) params.push({ name: 'bias', shape: [layer.filters] });
    // The inner Conv2D's per-image im2col matrix exists only off its stride-1 path.
    const wide = layer.stride === 1 && pad <= k - 1;
    return { outputShape: [layer.filters, g.outW], params, buffers: [], scratch: wide ? 0 : channels * k * g.outW };
  }],
  [GlobalAvgPool2D, (_layer: GlobalAvgPool2D, input: readonly number[]): LayerShapes => {
    if (input.length !== 3 || !positive(input)) bad(`GlobalAvgPool2D: expected a per-sample input shape [channels, height, width], got ${fmt(input)}`);
    return { outputShape: [input[0]], params: [], buffers: [], scratch: 0 };
  }],
  [MultiHeadAttention, (layer: MultiHeadAttention, input: readonly number[]): LayerShapes => {
    const E = layer.embedDim;
    if (input.length !== 2 || !positive(input) || input[1] !== E) {
      bad(`MultiHeadAttention: expected a per-sample input shape [sequenceLength, ${E}], got ${fmt(input)}`);
    }
    const params = [{ name: 'in_proj_weight', shape: [3 * E, E] }];
    if (layer.useBias) params.push({ name: 'in_proj_bias', shape: [3 * E] });
    params.push({ name: 'out_proj.weight', shape: [E, E] });
    if (layer.useBias) params.push({ name: 'out_proj.bias', shape: [E] });
    // The per-head dScores matrix [T, T] is allocated at build.
    return { outputShape: input.slice(), params, buffers: [], scratch: input[0] * input[0] };
  }],
]);

/**
 * What `layer.build(inputShape)` would allocate and return, computed without building, for an
 * instance of a built-in layer class; `null` for any other layer (a user's registered kind).
 * Throws {@link LayerShapeError} when the layer cannot take `inputShape`.
 */
export function inferLayerShapes(layer: Layer, inputShape: readonly number[]): LayerShapes | null {
  const rule = layer !== null && typeof layer === 'object' ? RULES.get(Object.getPrototypeOf(layer)?.constructor) : undefined;
  return rule === undefined ? null : rule(layer as never, inputShape);
}

/** Whether {@link inferLayerShapes} knows this layer's class. */
export function hasShapeRule(layer: Layer): boolean {
  return layer !== null && typeof layer === 'object' && RULES.has(Object.getPrototypeOf(layer)?.constructor);
}
