// The `nn` namespace: the built-in layers as modules with PyTorch-style constructor arguments
// (`new nn.Conv2d(1, 16, 3, { padding: 1 })`), each a LayerModule over the registered layer.
import type { InitializerSpec } from '../init/index.js';
import type { Size2 } from '../layers/pooling.js';
import { LayerModule, type LayerModuleOptions } from './layer-module.js';

export { LayerModule, layerModule, type LayerModuleOptions } from './layer-module.js';

function positiveInt(owner: string, what: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${owner}: ${what} must be a positive integer, got ${String(v)}`);
  return v as number;
}

/** Keeps the defined entries only, so a layer's own defaults apply to the rest. */
function defined(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v;
  return out;
}

/** Initializer options of the layers with weights. */
export interface InitOptions {
  /** Weight initializer (default: PyTorch's, kaiming-uniform with a = √5). */
  readonly weightInit?: InitializerSpec;
  /** Bias initializer (default: PyTorch's, U(±1/√fanIn)). */
  readonly biasInit?: InitializerSpec;
}

/** `torch.nn.Linear(in, out, bias)`: y = x·Wᵀ + b over the last axis (`[..., in]` → `[..., out]`); layer `dense`. */
export class Linear extends LayerModule {
  constructor(inFeatures: number, outFeatures: number, options: InitOptions & { bias?: boolean } = {}) {
    const inF = positiveInt('nn.Linear', 'inFeatures', inFeatures);
    positiveInt('nn.Linear', 'outFeatures', outFeatures);
    super('dense', defined({ units: outFeatures, useBias: options.bias, weightInit: options.weightInit, biasInit: options.biasInit }), {
      lastAxis: true,
      checkSample: (s) => (s.length === 1 && s[0] === inF ? null : `nn.Linear(${inF}, ${outFeatures}) needs ${inF} features on the last axis`),
    });
  }
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions extends InitOptions {
  readonly stride?: Size2;
  /** Zero padding per side, or `'same'` / `'valid'`. Default 0. */
  readonly padding?: Size2 | 'same' | 'valid';
  readonly bias?: boolean;
}

/** `torch.nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias)` on `[N, C, H, W]`; layer `conv2d`. */
export class Conv2d extends LayerModule {
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, options: Conv2dOptions = {}) {
    const inC = positiveInt('nn.Conv2d', 'inChannels', inChannels);
    positiveInt('nn.Conv2d', 'outChannels', outChannels);
    super('conv2d', defined({
      filters: outChannels, kernelSize, stride: options.stride, padding: options.padding, useBias: options.bias,
      weightInit: options.weightInit, biasInit: options.biasInit,
    }), channelCheck('nn.Conv2d', inC, 3));
  }
}

function channelCheck(owner: string, channels: number, rank: number): LayerModuleOptions {
  return {
    checkSample: (s) => (s.length === rank && s[0] === channels ? null
      : `${owner} expects [batch, ${channels}${rank === 3 ? ', height, width' : rank === 2 ? ', length' : ''}]`),
  };
}

/** Options of the batch norms. */
export interface BatchNormOptions {
  readonly eps?: number;
  /** Running-statistics momentum (PyTorch's convention: new = (1 − m)·old + m·batch). Default 0.1. */
  readonly momentum?: number;
  readonly affine?: boolean;
}

/** `torch.nn.BatchNorm2d(numFeatures)` over `[N, C, H, W]`; layer `batch-norm2d`. */
export class BatchNorm2d extends LayerModule {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    const c = positiveInt('nn.BatchNorm2d', 'numFeatures', numFeatures);
    super('batch-norm2d', defined({ eps: options.eps, momentum: options.momentum, affine: options.affine }), channelCheck('nn.BatchNorm2d', c, 3));
  }
}

/** `torch.nn.BatchNorm1d(numFeatures)` over `[N, C]`; layer `batch-norm1d`. */
export class BatchNorm1d extends LayerModule {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    const c = positiveInt('nn.BatchNorm1d', 'numFeatures', numFeatures);
    super('batch-norm1d', defined({ eps: options.eps, momentum: options.momentum, affine: options.affine }), channelCheck('nn.BatchNorm1d', c, 1));
  }
}

/** `torch.nn.MaxPool2d(kernelSize, stride = kernelSize, padding = 0)`; layer `max-pool2d`. */
export class MaxPool2d extends LayerModule {
  constructor(kernelSize: Size2, options: { stride?: Size2; padding?: Size2 } = {}) {
    super('max-pool2d', defined({ poolSize: kernelSize, stride: options.stride, padding: options.padding }));
  }
}

/** `torch.nn.AvgPool2d(kernelSize, stride = kernelSize, padding = 0)`; layer `avg-pool2d`. */
export class AvgPool2d extends LayerModule {
  constructor(kernelSize: Size2, options: { stride?: Size2; padding?: Size2; countIncludePad?: boolean } = {}) {
    super('avg-pool2d', defined({ poolSize: kernelSize, stride: options.stride, padding: options.padding, countIncludePad: options.countIncludePad }));
  }
}

/** `torch.nn.ReLU()`; layer `relu`. */
export class ReLU extends LayerModule {
  constructor() {
    super('relu');
  }
}

/** `torch.nn.LeakyReLU(negativeSlope = 0.01)`; layer `leaky-relu`. */
export class LeakyReLU extends LayerModule {
  constructor(negativeSlope?: number) {
    super('leaky-relu', defined({ negativeSlope }));
  }
}

/** `torch.nn.Tanh()`; layer `tanh`. */
export class Tanh extends LayerModule {
  constructor() {
    super('tanh');
  }
}

/** `torch.nn.Sigmoid()`; layer `sigmoid`. */
export class Sigmoid extends LayerModule {
  constructor() {
    super('sigmoid');
  }
}

/** `torch.nn.Softmax(dim=-1)` over the features of `[N, C]`; layer `softmax`. */
export class Softmax extends LayerModule {
  constructor() {
    super('softmax');
  }
}

/** `torch.nn.Flatten()`: `[N, ...]` → `[N, product]`; layer `flatten`. */
export class Flatten extends LayerModule {
  constructor() {
    super('flatten');
  }
}

/** `torch.nn.Dropout(p = 0.5)`: zeroes with probability p in train mode, scaling the rest by 1/(1−p); layer `dropout`. */
export class Dropout extends LayerModule {
  constructor(p?: number) {
    super('dropout', defined({ rate: p }));
  }
}

/** `torch.nn.Identity()`; layer `identity`. */
export class Identity extends LayerModule {
  constructor() {
    super('identity');
  }
}

/** Any registered layer by name (built-in or registered by the user): `nn.layer('layer-norm', { ... })`. */
export function layer(name: string, config: Record<string, unknown> = {}, options: LayerModuleOptions = {}): LayerModule {
  return new LayerModule(name, config, options);
}
