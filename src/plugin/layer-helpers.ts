// Layer helpers of the plugin kit, what every built-in layer uses: shape checks with messages naming
// the layer and both shapes, initializer options, parameters and batch-sized buffers in the shared heap.
import { createInitializer, type Initializer, type InitializerSpec } from '../init/index.js';
import type { Param } from '../tensor/param.js';
import { heapFloat32 } from '../runtime/heap.js';
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';

/** Throws unless the layer has been built (`built` false), naming the layer and the call. */
export function requireBuilt(owner: string, built: boolean, call: string): void {
  if (!built) throw new Error(`${owner}: ${call}() called before build()`);
}

/** True when `shape` is `[batch, ...sampleShape]` for some batch. */
function matchesBatched(shape: readonly number[], sampleShape: readonly number[]): boolean {
  if (shape.length !== sampleShape.length + 1) return false;
  for (let i = 0; i < sampleShape.length; i++) if (shape[i + 1] !== sampleShape[i]) return false;
  return true;
}

/**
 * Checks that `x` is `[batch, ...sampleShape]`; throws e.g.
 * `Dense: expected input [batch, 784], got [32, 1, 28, 28]`.
 */
export function checkInput(owner: string, x: Tensor, sampleShape: readonly number[]): void {
  if (!matchesBatched(x.shape, sampleShape)) {
    const expected = ['batch', ...sampleShape].join(', ');
    throw new Error(`${owner}: expected input [${expected}], got ${formatShape(x.shape)}`);
  }
}

/**
 * Checks that the upstream gradient `dy` has the shape of the last forward output `y` (null if
 * forward has not run); throws naming the layer and both shapes.
 */
export function checkGrad(owner: string, dy: Tensor, y: Tensor | null): void {
  if (y === null) throw new Error(`${owner}: backward() called before forward()`);
  const a = dy.shape;
  const b = y.shape;
  let same = a.length === b.length;
  for (let i = 0; same && i < a.length; i++) same = a[i] === b[i];
  if (!same) throw new Error(`${owner}: expected gradient ${formatShape(b)} (the shape of the last output), got ${formatShape(a)}`);
}

/** The (shared, frozen) parameter list of a parameter-free layer. */
export const NO_PARAMS: readonly Param[] = Object.freeze([]);

/** A zero-size stand-in for a parameter before `build` allocates it (keeps layer fields monomorphic). */
export function unbuiltParam(name: string): Param {
  const empty = new Float32Array(0);
  return { name, value: new Tensor(empty, [0]), grad: new Tensor(empty, [0]) };
}

/** A validated initializer option: the spec as given (for `getConfig`) and the resolved fill function. */
export interface ResolvedInit {
  readonly spec: InitializerSpec;
  readonly init: Initializer;
}

/**
 * Resolves a layer's initializer option (`undefined` → `fallback`), validating the name and its config
 * now so a typo fails at construction: `Dense: weightInit: unknown initializer "xavir"; known: …`.
 * The returned spec is a copy, safe to hand out from `getConfig`.
 */
export function resolveInit(owner: string, option: string, value: unknown, fallback: InitializerSpec): ResolvedInit {
  const spec = (value === undefined ? fallback : value) as InitializerSpec;
  const copy: InitializerSpec = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? { ...spec } : spec;
  try {
    return { spec: copy, init: createInitializer(copy) };
  } catch (e) {
    throw new Error(`${owner}: ${option}: ${(e as Error).message}`);
  }
}

/** Returns a fresh copy of a spec (so callers of `getConfig` cannot mutate the layer's). */
export function copySpec(spec: InitializerSpec): InitializerSpec {
  return typeof spec === 'string' ? spec : { ...spec };
}

/**
 * A layer-owned `[batch, ...sampleShape]` buffer. Storage grows to the largest batch seen and is
 * reused; a smaller batch gets a view of its head. The view for the current batch size is cached,
 * so steady-state training (one batch size) allocates nothing.
 */
export class BatchBuffer {
  private readonly sampleShape: number[];
  private readonly sampleSize: number;
  private storage: Float32Array;
  private view: Tensor | null;

  constructor(sampleShape: readonly number[]) {
    this.sampleShape = sampleShape.slice();
    this.sampleSize = shapeSize(sampleShape);
    this.storage = new Float32Array(0);
    this.view = null;
  }

  /** The buffer as a `[batch, ...sampleShape]` tensor. Contents are whatever was last written. */
  get(batch: number): Tensor {
    if (this.view !== null && this.view.shape[0] === batch) return this.view;
    const need = batch * this.sampleSize;
    if (need > this.storage.length) this.storage = heapFloat32(need);
    this.view = new Tensor(this.storage.subarray(0, need), [batch, ...this.sampleShape]);
    return this.view;
  }
}

/**
 * A zero-filled tensor of `shape` in the shared heap (see heapFloat32): gemm uses it in place, the
 * kernel table runs SIMD code on it across threads. Allocate in `build`, not per step.
 */
export function heapTensor(shape: readonly number[]): Tensor {
  return new Tensor(heapFloat32(shapeSize(shape)), shape.slice());
}

/**
 * A parameter named `name` (`'weight'`, `'bias'`; the model prefixes the layer's key) with its value
 * and gradient in the shared heap, both zero-filled; initialize the value in place.
 */
export function createParam(name: string, shape: readonly number[], decayMul?: number): Param {
  const param: { name: string; value: Tensor; grad: Tensor; decayMul?: number } = { name, value: heapTensor(shape), grad: heapTensor(shape) };
  if (decayMul !== undefined) param.decayMul = decayMul;
  return param;
}
