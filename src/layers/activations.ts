// Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid, GELU (erf and tanh forms), SiLU, Identity and
// Softmax (over the last axis).
import { checkKeys, readChoice, readNumber } from '../config.js';
import {
  BatchBuffer, NO_PARAMS, SIGMOID, TANH, checkGrad, checkInput, defineElementwise, relu, reluBackward, requireBuilt, softmaxRows,
} from '../plugin/index.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';

/**
 * Base of the parameter-free activations: owns the output and dx buffers and the shape checks;
 * a subclass supplies the forward kernel and the vector-Jacobian product. Shapes: any
 * `[batch, ...shape]`, unchanged. The input of the last forward is kept by reference for backward.
 */
export abstract class Activation implements Layer {
  abstract readonly kind: string;
  /** Class name used in error messages. */
  protected readonly owner: string;
  /** Per-sample shape (set by build). */
  protected shape: number[];
  private built: boolean;
  private out: BatchBuffer;
  private dx: BatchBuffer;
  private input: Tensor | null;
  private output: Tensor | null;
  /** Whether the last forward was a {@link passThrough}. */
  private passed: boolean;

  protected constructor(owner: string) {
    this.owner = owner;
    this.shape = [];
    this.built = false;
    this.out = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.input = null;
    this.output = null;
    this.passed = false;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    if (!inputShape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${this.owner}: invalid per-sample input shape ${formatShape(inputShape)}`);
    }
    this.shape = inputShape.slice();
    this.built = true;
    this.out = new BatchBuffer(this.shape);
    this.dx = new BatchBuffer(this.shape);
    this.input = null;
    this.output = null;
    return this.shape.slice();
  }

  /** y = f(x) into a layer-owned buffer. */
  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt(this.owner, this.built, 'forward');
    checkInput(this.owner, x, this.shape);
    const y = this.out.get(x.shape[0]);
    this.apply(y.data, x.data);
    this.input = x;
    this.output = y;
    this.passed = false;
    return y;
  }

  /**
   * Forward when the previous layer already applied this activation (Sequential fuses ReLU into
   * Conv2D, see Conv2D.forwardRelu): returns `y` itself, and the next {@link backward} returns dy
   * unchanged, leaving the activation's gradient to that layer's backward.
   */
  passThrough(y: Tensor): Tensor {
    requireBuilt(this.owner, this.built, 'forward');
    checkInput(this.owner, y, this.shape);
    this.input = null;
    this.output = y;
    this.passed = true;
    return y;
  }

  /** dx = J_f(x)ᵀ·dy into a layer-owned buffer (dy itself after a {@link passThrough}). */
  backward(dy: Tensor): Tensor {
    checkGrad(this.owner, dy, this.output);
    if (this.passed) return dy;
    const dx = this.dx.get(dy.shape[0]);
    this.gradient(dx.data, dy.data, (this.input as Tensor).data, (this.output as Tensor).data);
    return dx;
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }

  /** Writes f(x) into `y` (same length; does not alias `x`). */
  protected abstract apply(y: Float32Array, x: Float32Array): void;
  /** Writes dL/dx into `dx` from dL/dy, the input `x` and the output `y` of the last forward. */
  protected abstract gradient(dx: Float32Array, dy: Float32Array, x: Float32Array, y: Float32Array): void;
}

/**
 * ReLU: y = max(0, x) with NaN kept (torch.relu); dx = 0 where x ≤ 0, else dy (torch's
 * threshold_backward: 0 at 0, and a NaN x passes dy). No options.
 */
export class ReLU extends Activation {
  readonly kind = 'relu';

  constructor(options: Record<string, unknown> = {}) {
    super('ReLU');
    checkKeys('ReLU', options, []);
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    relu(y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    reluBackward(dx, dy, x);
  }
}

/** Options of {@link LeakyReLU}. */
export interface LeakyReLUOptions {
  /** Slope for x ≤ 0 (default 0.01, as `torch.nn.LeakyReLU`). */
  readonly negativeSlope?: number;
}

/** LeakyReLU: y = x for x > 0, else negativeSlope·x; the gradient follows the same split. */
export class LeakyReLU extends Activation {
  readonly kind = 'leaky-relu';
  readonly negativeSlope: number;

  constructor(options: LeakyReLUOptions = {}) {
    super('LeakyReLU');
    const config = options as Record<string, unknown>;
    checkKeys('LeakyReLU', config, ['negativeSlope']);
    this.negativeSlope = readNumber('LeakyReLU', config, 'negativeSlope', 0.01);
  }

  // x·slope where x ≤ 0 (NaN takes that side and stays NaN), x itself elsewhere.
  protected apply(y: Float32Array, x: Float32Array): void {
    LEAKY_RELU.run(y.length, y, x, this.negativeSlope);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    LEAKY_RELU_BACKWARD.run(dx.length, dx, dy, x, this.negativeSlope);
  }

  override getConfig(): Record<string, unknown> {
    return { negativeSlope: this.negativeSlope };
  }
}

// The gradients as kernels compiled with the plugin kit (SIMD and threaded on heap buffers), each
// operation rounded to float32 in the order written.
const TANH_BACKWARD = defineElementwise({
  name: 'tanh-backward', arrays: ['dx', 'dy', 'y'], body: ({ dy, y }) => ({ dx: dy.mul(y.mul(y).neg().add(1)) }),
});
const SIGMOID_BACKWARD = defineElementwise({
  name: 'sigmoid-backward', arrays: ['dx', 'dy', 'y'], body: ({ dy, y }) => ({ dx: dy.mul(y).mul(y.neg().add(1)) }),
});
const LEAKY_RELU = defineElementwise({
  name: 'leaky-relu', arrays: ['y', 'x'], scalars: ['slope'],
  body: ({ x }, { slope }) => ({ y: x.gt(0).select(x, x.mul(slope)) }),
});
const LEAKY_RELU_BACKWARD = defineElementwise({
  name: 'leaky-relu-backward', arrays: ['dx', 'dy', 'x'], scalars: ['slope'],
  body: ({ dy, x }, { slope }) => ({ dx: x.gt(0).select(dy, dy.mul(slope)) }),
});

/** Tanh: y = tanh(x); dy/dx = 1 − y². No options. */
export class Tanh extends Activation {
  readonly kind = 'tanh';

  constructor(options: Record<string, unknown> = {}) {
    super('Tanh');
    checkKeys('Tanh', options, []);
  }

  // On the shared heap (the layer's buffers live there) the module's SIMD tanh (kernels.wat: float64
  // expm1, rounded to float32), about twice as fast as Math.expm1 per element (bench/layers.ts);
  // else its twin (runtime/twins.ts). Both give Math.tanh's float32 value (checked on dense sweeps).
  protected apply(y: Float32Array, x: Float32Array): void {
    TANH.run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, _x: Float32Array, y: Float32Array): void {
    TANH_BACKWARD.run(dx.length, dx, dy, y);
  }
}

/**
 * Sigmoid: y = 1 / (1 + e^(−x)); dy/dx = y·(1 − y). Evaluated as e^x / (1 + e^x) for x < 0 so the
 * exponential never overflows. No options.
 */
export class Sigmoid extends Activation {
  readonly kind = 'sigmoid';

  constructor(options: Record<string, unknown> = {}) {
    super('Sigmoid');
    checkKeys('Sigmoid', options, []);
  }

  // On the shared heap the module's SIMD sigmoid (float64 lanes), else its twin (runtime/twins.ts):
  // the same float32 values (checked on dense sweeps).
  protected apply(y: Float32Array, x: Float32Array): void {
    SIGMOID.run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, _x: Float32Array, y: Float32Array): void {
    SIGMOID_BACKWARD.run(dx.length, dx, dy, y);
  }
}

/** 1/√(2π), the standard normal density at 0 (PyTorch's M_2_SQRTPI · M_SQRT1_2 · 0.5). */
const INV_SQRT_2PI = 2 / Math.sqrt(Math.PI) * Math.SQRT1_2 * 0.5;
/** √(2/π), the tanh form's scale (PyTorch's kBeta = M_SQRT2 · M_2_SQRTPI · 0.5). */
const SQRT_2_OVER_PI = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
/** The cubic coefficient of the tanh form (PyTorch's kKappa). */
const GELU_KAPPA = 0.044715;

/** y = x·Φ(x) = x·½·(1 + erf(x/√2)), in PyTorch's order: `F.gelu(x)` (approximate='none'). */
export const GELU_FORWARD = defineElementwise({
  name: 'gelu',
  arrays: ['y', 'x'],
  body: ({ x }) => ({ y: x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1)) }),
});

/**
 * dx = dy·(Φ(x) + x·φ(x)) with φ(x) = e^(−x²/2)/√(2π): the derivative of x·Φ(x). With z = x/√2,
 * e^(−x²/2) = e^(−z²), the very exponential erf(z) evaluates inside: the compiler computes shared
 * subexpressions once, so the backward costs one exponential, not two.
 */
export const GELU_BACKWARD = defineElementwise({
  name: 'gelu-backward',
  arrays: ['dx', 'dy', 'x'],
  body: ({ dy, x }) => {
    const z = x.mul(Math.SQRT1_2);
    const cdf = z.erf().add(1).mul(0.5);
    const pdf = z.mul(z).neg().exp().mul(INV_SQRT_2PI);
    return { dx: dy.mul(cdf.add(x.mul(pdf))) };
  },
});

/** y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in PyTorch's order: `F.gelu(x, approximate='tanh')`. */
export const GELU_TANH_FORWARD = defineElementwise({
  name: 'gelu-tanh',
  arrays: ['y', 'x'],
  body: ({ x }) => {
    const inner = x.add(x.mul(x).mul(x).mul(GELU_KAPPA)).mul(SQRT_2_OVER_PI);
    return { y: x.mul(0.5).mul(inner.tanh().add(1)) };
  },
});

/**
 * With u = √(2/π)·(x + κx³) and t = tanh(u): dy/dx = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3κx²),
 * PyTorch's GeluBackward for approximate='tanh'.
 */
export const GELU_TANH_BACKWARD = defineElementwise({
  name: 'gelu-tanh-backward',
  arrays: ['dx', 'dy', 'x'],
  body: ({ dy, x }) => {
    const x2 = x.mul(x);
    const t = x.add(x2.mul(x).mul(GELU_KAPPA)).mul(SQRT_2_OVER_PI).tanh();
    const left = t.add(1).mul(0.5);
    const dinner = x2.mul(3 * GELU_KAPPA).add(1).mul(SQRT_2_OVER_PI);
    const right = x.mul(0.5).mul(t.mul(t).neg().add(1)).mul(dinner);
    return { dx: dy.mul(left.add(right)) };
  },
});

/** Options of {@link Gelu}. */
export interface GeluOptions {
  /** `'none'` (default): the exact erf form; `'tanh'`: the tanh approximation, as `torch.nn.GELU(approximate=…)`. */
  readonly approximate?: 'none' | 'tanh';
}

/**
 * GELU (Hendrycks & Gimpel 2016), registered as `'gelu'`. Exact form (default): y = x·Φ(x), Φ the
 * standard normal CDF, erf evaluated as in PyTorch's vectorised CPU kernel (Abramowitz–Stegun 7.1.26,
 * absolute error below 1e-6 in float32); dy/dx = Φ(x) + x·φ(x). With `approximate: 'tanh'`:
 * y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Both are compiled SIMD kernels (defineElementwise).
 */
export class Gelu extends Activation {
  readonly kind = 'gelu';
  readonly approximate: 'none' | 'tanh';

  constructor(options: GeluOptions = {}) {
    super('Gelu');
    const config = options as Record<string, unknown>;
    checkKeys('Gelu', config, ['approximate']);
    this.approximate = readChoice('Gelu', config, 'approximate', 'none', ['none', 'tanh']);
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    (this.approximate === 'tanh' ? GELU_TANH_FORWARD : GELU_FORWARD).run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    (this.approximate === 'tanh' ? GELU_TANH_BACKWARD : GELU_BACKWARD).run(dx.length, dx, dy, x);
  }

  override getConfig(): Record<string, unknown> {
    return { approximate: this.approximate };
  }
}

/**
 * y = x·σ(x) with σ(x) = 1/(1 + e^(−x)). The library's exp clamps its argument (e^89 at most), so a
 * very negative x gives x/(huge) → −0 rather than NaN, and a very positive x gives x.
 */
export const SILU_FORWARD = defineElementwise({
  name: 'silu',
  arrays: ['y', 'x'],
  body: ({ x }) => ({ y: x.div(x.neg().exp().add(1)) }),
});

/** dx = dy·σ(x)·(1 + x·(1 − σ(x))), PyTorch's SiluBackward. */
export const SILU_BACKWARD = defineElementwise({
  name: 'silu-backward',
  arrays: ['dx', 'dy', 'x'],
  body: ({ dy, x }) => {
    // σ(x) = eˣ/(eˣ + 1): no reciprocal in the expression language, and for x ≪ 0 this keeps σ's
    // relative precision (eˣ is tiny, not 1 − something).
    const ex = x.exp();
    const s = ex.div(ex.add(1));
    return { dx: dy.mul(s.mul(x.mul(s.neg().add(1)).add(1))) };
  },
});

/**
 * SiLU (swish, Elfwing et al. 2018; Ramachandran et al. 2017), registered as `'silu'`:
 * y = x·σ(x), dy/dx = σ(x)·(1 + x·(1 − σ(x))). As `torch.nn.SiLU`. No options.
 */
export class Silu extends Activation {
  readonly kind = 'silu';

  constructor(options: Record<string, unknown> = {}) {
    super('Silu');
    checkKeys('Silu', options, []);
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    SILU_FORWARD.run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    SILU_BACKWARD.run(dx.length, dx, dy, x);
  }
}

/**
 * Softmax over the last axis (max-subtracted): y_i = e^(x_i − max) / Σ_j e^(x_j − max).
 * Backward is the vector-Jacobian product dx_i = y_i·(dy_i − Σ_j dy_j·y_j) per row. No options.
 * A Sequential ending in Softmax trained with cross-entropy fuses the two itself; this layer is the
 * plain (unfused) operation. Per-sample shape: rank ≥ 1.
 */
export class Softmax extends Activation {
  readonly kind = 'softmax';
  private cols: number;

  constructor(options: Record<string, unknown> = {}) {
    super('Softmax');
    checkKeys('Softmax', options, []);
    this.cols = 0;
  }

  override build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (inputShape.length < 1 || inputShape[inputShape.length - 1] < 1) {
      throw new Error(`Softmax: expected a per-sample input shape with a non-empty last axis, got ${formatShape(inputShape)}`);
    }
    const out = super.build(inputShape, rng);
    this.cols = inputShape[inputShape.length - 1];
    return out;
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    softmaxRows(y, x, y.length / this.cols, this.cols);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, _x: Float32Array, y: Float32Array): void {
    const cols = this.cols;
    // Rows of the last axis lie contiguously: row r spans [r*cols, (r+1)*cols).
    for (let o = 0; o < dx.length; o += cols) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
    }
  }
}

/** Identity: forward returns `x` itself and backward `dy` itself (no copy). No options. */
export class Identity implements Layer {
  readonly kind = 'identity';
  private shape: number[];
  private built: boolean;
  private output: Tensor | null;

  constructor(options: Record<string, unknown> = {}) {
    checkKeys('Identity', options, []);
    this.shape = [];
    this.built = false;
    this.output = null;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    this.shape = inputShape.slice();
    this.built = true;
    this.output = null;
    return this.shape.slice();
  }

  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('Identity', this.built, 'forward');
    checkInput('Identity', x, this.shape);
    this.output = x;
    return x;
  }

  backward(dy: Tensor): Tensor {
    checkGrad('Identity', dy, this.output);
    return dy;
  }

  params(): readonly Param[] {
    return NO_PARAMS;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
