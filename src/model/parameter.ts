// Parameter: a trainable leaf Variable of a Module. Its gradient is a preallocated zeroed tensor that
// backward accumulates into, so the optimizers update it through the plain Param interface, no copies.
import { createInitializer, computeFans, type InitializerSpec } from '../init/index.js';
import { Variable } from '../ops/variable.js';
import { fillFloat32, heapFloat32 } from '../runtime/heap.js';
import { add } from '../tensor/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';

/** Options of {@link Parameter}. */
export interface ParameterOptions {
  /** Per-parameter multiplier of the optimizer's `weightDecay` (default 1; 0 exempts it, e.g. a norm's scale). */
  readonly decayMul?: number;
}

/**
 * A trainable tensor owned by a {@link Module}: a leaf {@link Variable} that requires grad. Unlike a
 * plain Variable its `.grad` exists from the start (zeros, in the shared heap, same shape) and
 * backward adds into it, so optimizers see it as a `Param` without copies. Its name in a model is the
 * attribute path the Module gives it (`block1.scale`); `zeroGrad` refills the gradient with zeros.
 */
export class Parameter extends Variable {
  declare grad: Tensor;
  /** Per-parameter weight-decay multiplier (see {@link ParameterOptions.decayMul}). */
  readonly decayMul: number;

  /** A parameter holding `value` (not copied: its data becomes the parameter's storage). */
  constructor(value: Tensor, options: ParameterOptions = {}) {
    if (!(value instanceof Tensor)) throw new Error(`Parameter: value must be a Tensor, got ${Array.isArray(value) ? 'an array' : String(value)}`);
    const decayMul = options.decayMul ?? 1;
    if (typeof decayMul !== 'number' || !(decayMul >= 0) || !Number.isFinite(decayMul)) {
      throw new Error(`Parameter: decayMul must be a finite number ≥ 0, got ${String(decayMul)}`);
    }
    super(value, { requiresGrad: true });
    this.grad = new Tensor(heapFloat32(value.size), value.shape);
    this.decayMul = decayMul;
  }

  /** A parameter of `shape` filled with zeros. */
  static zeros(shape: readonly number[], options?: ParameterOptions): Parameter {
    return new Parameter(new Tensor(heapFloat32(shapeSize(checkedShape(shape))), shape), options);
  }

  /** A parameter of `shape` filled with ones. */
  static ones(shape: readonly number[], options?: ParameterOptions): Parameter {
    const p = Parameter.zeros(shape, options);
    p.value.data.fill(1);
    return p;
  }

  /**
   * A parameter of `shape` filled by a registered initializer (`'xavier-uniform'`, `{ name:
   * 'random-normal', std: 0.02 }`, …) drawing from `rng`; the fans are those of `shape` as PyTorch
   * computes them (`[out, in, ...kernel]`) unless given.
   */
  static init(shape: readonly number[], init: InitializerSpec, rng: Rng, options: ParameterOptions & { fanIn?: number; fanOut?: number } = {}): Parameter {
    const p = Parameter.zeros(shape, options);
    // computeFans needs ≥ 2 axes; a vector (a bias, a norm's scale) counts its length both ways.
    const fans = p.value.rank >= 2 ? computeFans(p.value.shape) : { fanIn: p.value.size, fanOut: p.value.size };
    createInitializer(init)(p.value, { fanIn: options.fanIn ?? fans.fanIn, fanOut: options.fanOut ?? fans.fanOut }, rng);
    return p;
  }

  /** Fills the gradient with zeros (a Parameter's gradient is never null). */
  override zeroGrad(): void {
    fillFloat32(this.grad.data, 0);
  }

  /** Internal: the preallocated gradient, which ops may add into directly (see Variable.gradSink). */
  override gradSink(): Float32Array | null {
    return this.grad.data;
  }

  /** Internal: adds `g` into the preallocated gradient (the SIMD add map: the same bits as a scalar loop). */
  override accumulateGrad(g: Float32Array): void {
    const d = this.grad.data;
    add(d, d, g);
  }
}

function checkedShape(shape: readonly number[]): readonly number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`Parameter: shape must be an array of non-negative integers, got ${Array.isArray(shape) ? formatShape(shape) : String(shape)}`);
  }
  return shape;
}
