// Conv1D (PyTorch nn.Conv1d, dilation 1, groups 1): a 1-D convolution over [batch, C, L], run by the
// Conv2D engine on the same data viewed as [batch, C, 1, L] with a 1×k kernel.
import {
  checkInput, checkKeys, formatShape, readBoolean, readChoice, readNumber, requireBuilt, Tensor, type InitializerSpec, type Param, type Rng,
} from '../plugin/index.js';
import { Conv2D } from './conv2d.js';
import type { Layer } from './layer.js';

/** Options of {@link Conv1D}. */
export interface Conv1DOptions {
  /** Output channels (required, integer ≥ 1). */
  readonly filters: number;
  /** Kernel length (required, integer ≥ 1). */
  readonly kernelSize: number;
  /** Stride (default 1). */
  readonly stride?: number;
  /** Zero padding on each side (default 0), `'valid'` (= 0) or `'same'` (stride 1 and an odd kernel). */
  readonly padding?: number | 'same' | 'valid';
  /** Add a per-channel bias (default true). */
  readonly useBias?: boolean;
  /** Weight initializer (default PyTorch's: kaiming-uniform with a = √5, fanIn = inC·k). */
  readonly weightInit?: InitializerSpec;
  /** Bias initializer, given the weight's fans (default PyTorch's: fan-in-uniform). */
  readonly biasInit?: InitializerSpec;
}

const CONV1D_KEYS = ['filters', 'kernelSize', 'stride', 'padding', 'useBias', 'weightInit', 'biasInit'];

/** A `[batch, ...]` view of one tensor's data, remade only when the data or batch changes (no steady-state allocation). */
class ViewCache {
  private source: Float32Array | null = null;
  private view: Tensor | null = null;

  /** `data` viewed as `[batch, ...sampleShape]`. */
  of(data: Float32Array, batch: number, sampleShape: readonly number[]): Tensor {
    if (this.view === null || this.source !== data || this.view.shape[0] !== batch) {
      this.source = data;
      this.view = new Tensor(data, [batch, ...sampleShape]);
    }
    return this.view;
  }
}

/**
 * A 1-D convolution layer, registered as `'conv1d'`, `torch.nn.Conv1d`'s equivalent.
 *
 * Shapes: input `[batch, inC, L]`, output `[batch, filters, outL]` with
 * outL = ⌊(L + 2·padding − kernelSize) / stride⌋ + 1, `weight` `[filters, inC, kernelSize]`, `bias` `[filters]`.
 * y[b, o, l] = bias[o] + Σ_{c, j} weight[o, c, j] · x[b, c, l·stride + j − padding].
 *
 * It owns a {@link Conv2D} with kernel `[1, k]`, stride `[1, s]`, padding `[0, p]` and runs it on the
 * input viewed as `[batch, inC, 1, L]`, so 1-D convolutions get the 2-D engine's stride-1 path,
 * threading and bit-identical results for any thread count. Its params are views of the inner
 * layer's (the same data, shaped `[filters, inC, k]`), so optimizers and state dicts see torch's layout.
 */
export class Conv1D implements Layer {
  readonly kind = 'conv1d';
  readonly filters: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** `'same'` or the explicit padding (`'valid'` is stored as 0). */
  readonly padding: number | 'same';
  readonly useBias: boolean;
  private readonly weightInit: InitializerSpec | undefined;
  private readonly biasInit: InitializerSpec | undefined;
  private readonly conv: Conv2D;
  private inShape: number[];
  private outShape: number[];
  /** The input and output per-sample shapes as the inner Conv2D sees them: `[C, 1, L]`. */
  private inShape4: number[];
  private outShape4: number[];
  private paramList: Param[];
  private readonly xView: ViewCache;
  private readonly yView: ViewCache;
  private readonly dyView: ViewCache;
  private readonly dxView: ViewCache;
  private output: Tensor | null;

  constructor(options: Conv1DOptions) {
    const owner = 'Conv1D';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, CONV1D_KEYS);
    this.filters = readNumber(owner, config, 'filters', Number.NaN, { min: 1, integer: true });
    this.kernelSize = readNumber(owner, config, 'kernelSize', Number.NaN, { min: 1, integer: true });
    this.stride = readNumber(owner, config, 'stride', 1, { min: 1, integer: true });
    if (typeof config.padding === 'string') {
      const mode = readChoice(owner, config, 'padding', 'valid', ['same', 'valid']);
      if (mode === 'same' && this.stride !== 1) throw new Error(`Conv1D: padding 'same' needs stride 1, got stride ${this.stride}`);
      if (mode === 'same' && this.kernelSize % 2 === 0) throw new Error(`Conv1D: padding 'same' needs an odd kernelSize, got ${this.kernelSize}`);
      this.padding = mode === 'same' ? 'same' : 0;
    } else {
      this.padding = readNumber(owner, config, 'padding', 0, { min: 0, integer: true });
    }
    this.useBias = readBoolean(owner, config, 'useBias', true);
    this.weightInit = config.weightInit as InitializerSpec | undefined;
    this.biasInit = config.biasInit as InitializerSpec | undefined;
    const pad = this.padding === 'same' ? (this.kernelSize - 1) / 2 : this.padding;
    // The inner layer validates the initializers; its messages are re-prefixed with this layer's name.
    try {
      this.conv = new Conv2D({
        filters: this.filters, kernelSize: [1, this.kernelSize], stride: [1, this.stride], padding: [0, pad], useBias: this.useBias,
        ...(this.weightInit === undefined ? {} : { weightInit: this.weightInit }),
        ...(this.biasInit === undefined ? {} : { biasInit: this.biasInit }),
      });
    } catch (e) {
      throw new Error(`Conv1D: ${(e as Error).message.replace(/^Conv2D: /, '')}`);
    }
    this.inShape = [];
    this.outShape = [];
    this.inShape4 = [];
    this.outShape4 = [];
    this.paramList = [];
    this.xView = new ViewCache();
    this.yView = new ViewCache();
    this.dyView = new ViewCache();
    this.dxView = new ViewCache();
    this.output = null;
  }

  /** Allocates the parameters for a per-sample input `[inC, L]`; returns `[filters, outL]`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (inputShape.length !== 2 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`Conv1D: expected a per-sample input shape [channels, length], got ${formatShape(inputShape)}`);
    }
    const [channels, length] = inputShape;
    let out: readonly number[];
    try {
      out = this.conv.build([channels, 1, length], rng);
    } catch (e) {
      throw new Error(`Conv1D: ${(e as Error).message.replace(/^Conv2D: /, '')} (input ${formatShape(inputShape)})`);
    }
    this.inShape = [channels, length];
    this.outShape = [out[0], out[2]];
    this.inShape4 = [channels, 1, length];
    this.outShape4 = [out[0], 1, out[2]];
    const k = this.kernelSize;
    this.paramList = this.conv.params().map((p) => {
      const shape = p.name === 'weight' ? [this.filters, channels, k] : [this.filters];
      return { name: p.name, value: new Tensor(p.value.data, shape), grad: new Tensor(p.grad.data, shape) };
    });
    this.output = null;
    return this.outShape.slice();
  }

  /** y[batch, filters, outL] = conv1d(x[batch, inC, L]) + b, into the inner layer's buffer. */
  forward(x: Tensor, training: boolean): Tensor {
    requireBuilt('Conv1D', this.inShape.length > 0, 'forward');
    checkInput('Conv1D', x, this.inShape);
    const batch = x.shape[0];
    const y4 = this.conv.forward(this.xView.of(x.data, batch, this.inShape4), training);
    const y = this.yView.of(y4.data, batch, this.outShape);
    this.output = y;
    return y;
  }

  /** Accumulates dW and db from dy[batch, filters, outL]; returns dx[batch, inC, L]. */
  backward(dy: Tensor, needInputGrad = true): Tensor {
    if (this.output === null) throw new Error('Conv1D: backward() called before forward()');
    const batch = dy.shape[0];
    if (dy.shape.length !== 3 || batch !== this.output.shape[0] || dy.shape[1] !== this.outShape[0] || dy.shape[2] !== this.outShape[1]) {
      throw new Error(`Conv1D: expected gradient ${formatShape(this.output.shape)} (the shape of the last output), got ${formatShape(dy.shape)}`);
    }
    const dx4 = this.conv.backward(this.dyView.of(dy.data, batch, this.outShape4), needInputGrad);
    return this.dxView.of(dx4.data, batch, this.inShape);
  }

  /** `weight [filters, inC, k]` then (if `useBias`) `bias [filters]`: views of the inner Conv2D's. Throws before build. */
  params(): readonly Param[] {
    requireBuilt('Conv1D', this.inShape.length > 0, 'params');
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    const inner = this.conv.getConfig();
    return {
      filters: this.filters, kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, useBias: this.useBias,
      weightInit: inner.weightInit, biasInit: inner.biasInit,
    };
  }
}
