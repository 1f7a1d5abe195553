// Dense (fully connected) layer: y = x·Wᵀ + b, with PyTorch Linear's layout ([out, in]) and default init.
import { checkKeys, readBoolean, readNumber } from '../config.js';
import { computeFans, type InitializerSpec } from '../init/index.js';
import { BatchBuffer, checkGrad, checkInput, colSums, copySpec, gemm, heapFloat32, relu, reluBackward, requireBuilt, resolveInit, unbuiltParam, type ResolvedInit } from '../plugin/index.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';

/** Options of {@link Dense}. */
export interface DenseOptions {
  /** Number of output features (required, integer ≥ 1). */
  readonly units: number;
  /** Add a bias (default true). */
  readonly useBias?: boolean;
  /** Weight initializer: a registered name or `{ name, ...config }`. Default {@link DEFAULT_WEIGHT_INIT}. */
  readonly weightInit?: InitializerSpec;
  /** Bias initializer (given the weight's fans). Default {@link DEFAULT_BIAS_INIT}. */
  readonly biasInit?: InitializerSpec;
}

/**
 * PyTorch's default weight init of `Linear` and `Conv2d`: kaiming-uniform with a = √5, which works out to
 * U(−1/√fanIn, 1/√fanIn).
 */
export const DEFAULT_WEIGHT_INIT: InitializerSpec = Object.freeze({ name: 'kaiming-uniform', a: Math.sqrt(5) });
/** PyTorch's default bias init of `Linear` and `Conv2d`: U(−1/√fanIn, 1/√fanIn) with the weight's fanIn. */
export const DEFAULT_BIAS_INIT: InitializerSpec = 'fan-in-uniform';

const DENSE_KEYS = ['units', 'useBias', 'weightInit', 'biasInit'];

// gemm flags, hoisted so a training step creates no option objects.
const FORWARD = { transB: true } as const; //                    y  = x · Wᵀ
const FORWARD_ACC = { transB: true, accumulate: true } as const; // y += x · Wᵀ (y pre-filled with b)
const GRAD_WEIGHT = { transA: true, accumulate: true } as const; // dW += dyᵀ · x
const GRAD_INPUT = {} as const; //                                dx  = dy · W

/**
 * A fully connected layer, `torch.nn.Linear`'s equivalent.
 *
 * Shapes: input `[batch, in]`, output `[batch, units]`, `weight` `[units, in]`, `bias` `[units]`.
 * Forward: y = x·Wᵀ + b. Backward: dW += dyᵀ·x, db += Σ_batch dy, dx = dy·W.
 * A ReLU that follows in a model is fused in ({@link forwardFused}): applied in place on y, and its
 * mask applied to dy in backward, with the bits of the separate layers.
 * The input of the last forward is kept by reference for backward and must not change in between.
 */
export class Dense implements Layer {
  readonly kind = 'dense';
  readonly units: number;
  readonly useBias: boolean;
  private readonly weightInit: ResolvedInit;
  private readonly biasInit: ResolvedInit;
  private inFeatures: number;
  private weightParam: Param;
  private biasParam: Param;
  private paramList: Param[];
  private readonly out: BatchBuffer;
  private dx: BatchBuffer;
  /** dy through the fused ReLU's mask (first used by a fused backward). */
  private dyMasked: BatchBuffer;
  private input: Tensor | null;
  private output: Tensor | null;
  /** Whether the last forward fused a following ReLU (backward then masks dy by the output). */
  private fusedRelu: boolean;

  constructor(options: DenseOptions) {
    const owner = 'Dense';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, DENSE_KEYS);
    this.units = readNumber(owner, config, 'units', Number.NaN, { min: 1, integer: true });
    this.useBias = readBoolean(owner, config, 'useBias', true);
    this.weightInit = resolveInit(owner, 'weightInit', config.weightInit, DEFAULT_WEIGHT_INIT);
    this.biasInit = resolveInit(owner, 'biasInit', config.biasInit, DEFAULT_BIAS_INIT);
    this.inFeatures = 0;
    this.weightParam = unbuiltParam('weight');
    this.biasParam = unbuiltParam('bias');
    this.paramList = [];
    this.out = new BatchBuffer([this.units]);
    this.dx = new BatchBuffer([0]);
    this.dyMasked = new BatchBuffer([this.units]);
    this.input = null;
    this.output = null;
    this.fusedRelu = false;
  }

  /** Input features (0 before build). */
  get inputFeatures(): number {
    return this.inFeatures;
  }

  /** Allocates and initializes `weight [units, in]` and `bias [units]` for a per-sample input `[in]`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (inputShape.length !== 1 || !Number.isInteger(inputShape[0]) || inputShape[0] < 1) {
      throw new Error(`Dense: expected a per-sample input shape [features], got ${formatShape(inputShape)}` +
        (inputShape.length > 1 ? ' (add a Flatten layer before it)' : ''));
    }
    const inF = inputShape[0];
    this.inFeatures = inF;
    const weight = new Tensor(heapFloat32(this.units * inF), [this.units, inF]);
    const fans = computeFans(weight.shape);
    this.weightInit.init(weight, fans, rng);
    this.weightParam = { name: 'weight', value: weight, grad: new Tensor(heapFloat32(weight.size), weight.shape) };
    this.paramList = [this.weightParam];
    if (this.useBias) {
      const bias = new Tensor(heapFloat32(this.units), [this.units]);
      this.biasInit.init(bias, fans, rng);
      this.biasParam = { name: 'bias', value: bias, grad: new Tensor(heapFloat32(this.units), [this.units]) };
      this.paramList.push(this.biasParam);
    }
    this.dx = new BatchBuffer([inF]);
    this.input = null;
    this.output = null;
    return [this.units];
  }

  /** y[batch, units] = x[batch, in]·Wᵀ + b, into a layer-owned buffer. */
  forward(x: Tensor, _training: boolean): Tensor {
    return this.forwardImpl(x, false);
  }

  /** Fusion hook: a following ReLU is applied in the same call ({@link forwardFused}). */
  fuses(next: Layer): boolean {
    return next.kind === 'relu';
  }

  /**
   * relu(x·Wᵀ + b), the ReLU applied in place on the layer's output while it is still in cache; the
   * next {@link backward} then expects dL/d(relu output) and applies the mask itself (dy where y > 0
   * or y is NaN: torch's threshold_backward on the ReLU's input, as y ≤ 0 exactly where that input is).
   * Bit-identical to forward followed by the ReLU layer, in training and in inference.
   */
  forwardFused(x: Tensor, _training: boolean, _next: Layer): Tensor {
    return this.forwardImpl(x, true);
  }

  private forwardImpl(x: Tensor, fuseRelu: boolean): Tensor {
    requireBuilt('Dense', this.inFeatures > 0, 'forward');
    checkInput('Dense', x, [this.inFeatures]);
    const batch = x.shape[0];
    const units = this.units;
    const y = this.out.get(batch);
    if (this.useBias) {
      const b = this.biasParam.value.data;
      for (let r = 0; r < batch; r++) y.data.set(b, r * units);
      gemm(y.data, x.data, this.weightParam.value.data, batch, units, this.inFeatures, FORWARD_ACC);
    } else {
      gemm(y.data, x.data, this.weightParam.value.data, batch, units, this.inFeatures, FORWARD);
    }
    if (fuseRelu) relu(y.data, y.data);
    this.fusedRelu = fuseRelu;
    this.input = x;
    this.output = y;
    return y;
  }

  /** Accumulates dW and db from dy[batch, units]; returns dx[batch, in] (layer-owned). */
  backward(dyIn: Tensor, needInputGrad = true): Tensor {
    checkGrad('Dense', dyIn, this.output);
    const x = this.input as Tensor;
    const batch = dyIn.shape[0];
    let dy = dyIn;
    if (this.fusedRelu) {
      dy = this.dyMasked.get(batch);
      reluBackward(dy.data, dyIn.data, (this.output as Tensor).data);
    }
    const units = this.units;
    const inF = this.inFeatures;
    gemm(this.weightParam.grad.data, dy.data, x.data, units, inF, batch, GRAD_WEIGHT);
    if (this.useBias) {
      // db[j] += Σ_b dy[b, j]: column sums of dy [batch, units], each in a double, added once.
      colSums(this.biasParam.grad.data, dy.data, batch, units, true);
    }
    const dx = this.dx.get(batch);
    if (needInputGrad) gemm(dx.data, dy.data, this.weightParam.value.data, batch, inF, units, GRAD_INPUT);
    return dx;
  }

  /** `weight` then (if `useBias`) `bias`, with local names; throws before build. */
  params(): readonly Param[] {
    requireBuilt('Dense', this.inFeatures > 0, 'params');
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      useBias: this.useBias,
      weightInit: copySpec(this.weightInit.spec),
      biasInit: copySpec(this.biasInit.spec),
    };
  }
}
