// Layers: the interface, the registry and the built-ins, registered here through the public
// registerLayer exactly as a user registers a layer (the only side effect of this folder).
import { registerLayer } from './layer.js';
import { Dense, type DenseOptions } from './dense.js';
import { Conv2D, type Conv2DOptions } from './conv2d.js';
import { Flatten } from './flatten.js';
import { Dropout, type DropoutOptions } from './dropout.js';
import { ReLU, LeakyReLU, Tanh, Sigmoid, Identity, Softmax, Gelu, Silu, type LeakyReLUOptions, type GeluOptions } from './activations.js';
import { MaxPool2D, AvgPool2D, type Pool2DConfig, type AvgPool2DConfig } from './pooling.js';
import { BatchNorm1d, BatchNorm2d, type BatchNormConfig } from './batch-norm.js';
import { LayerNorm, type LayerNormOptions } from './layer-norm.js';
import { Embedding, type EmbeddingOptions } from './embedding.js';
import { Conv1D, type Conv1DOptions } from './conv1d.js';
import { GlobalAvgPool2D } from './global-avg-pool.js';
import { MultiHeadAttention, type MultiHeadAttentionOptions } from './multi-head-attention.js';

export * from './layer.js';
export * from './dense.js';
export * from './conv2d.js';
export * from './flatten.js';
export * from './dropout.js';
export * from './activations.js';
export { MaxPool2D, AvgPool2D, type Pool2DConfig, type AvgPool2DConfig } from './pooling.js';
export * from './batch-norm.js';
export * from './layer-norm.js';
export * from './embedding.js';
export * from './conv1d.js';
export * from './global-avg-pool.js';
export * from './multi-head-attention.js';

// The casts only satisfy TypeScript: every constructor validates its config at run time.
registerLayer('dense', (c = {}) => new Dense(c as unknown as DenseOptions));
registerLayer('conv2d', (c = {}) => new Conv2D(c as unknown as Conv2DOptions));
registerLayer('flatten', (c = {}) => new Flatten(c));
registerLayer('dropout', (c = {}) => new Dropout(c as DropoutOptions));
registerLayer('relu', (c = {}) => new ReLU(c));
registerLayer('leaky-relu', (c = {}) => new LeakyReLU(c as LeakyReLUOptions));
registerLayer('tanh', (c = {}) => new Tanh(c));
registerLayer('sigmoid', (c = {}) => new Sigmoid(c));
registerLayer('identity', (c = {}) => new Identity(c));
registerLayer('softmax', (c = {}) => new Softmax(c));
registerLayer('max-pool2d', (c = {}) => new MaxPool2D(c as unknown as Pool2DConfig));
registerLayer('avg-pool2d', (c = {}) => new AvgPool2D(c as unknown as AvgPool2DConfig));
registerLayer('batch-norm1d', (c = {}) => new BatchNorm1d(c as BatchNormConfig));
registerLayer('batch-norm2d', (c = {}) => new BatchNorm2d(c as BatchNormConfig));
registerLayer('gelu', (c = {}) => new Gelu(c as GeluOptions));
registerLayer('silu', (c = {}) => new Silu(c));
registerLayer('layer-norm', (c = {}) => new LayerNorm(c as LayerNormOptions));
registerLayer('embedding', (c = {}) => new Embedding(c as unknown as EmbeddingOptions));
registerLayer('conv1d', (c = {}) => new Conv1D(c as unknown as Conv1DOptions));
registerLayer('global-avg-pool2d', (c = {}) => new GlobalAvgPool2D(c));
registerLayer('multi-head-attention', (c = {}) => new MultiHeadAttention(c as unknown as MultiHeadAttentionOptions));
