// kernel-table.ts: the kernel table. A kernel is declared once (name, TypeScript twin, WebAssembly
// export or compiled module, arity) and run through one dispatch: on the module's SIMD code split over
// the threads when every array lives in the shared heap, else on its twin on the calling thread. The
// same bits either way. Built-in kernels are declared at the bottom, exactly as a plugin declares its own.
import type { HeapArray } from './arena.js';
import { compileModule, type WasmModule } from './module.js';
import { MAX_KERNEL_ARRAYS, MAX_KERNEL_SCALARS, onRuntimeLoad, sharedRuntime, type Runtime } from './tasks.js';
import {
  adamTwin, addPartsTwin, decayTwin, maxPool2BackwardTwin, maxPool2Twin, momentumTwin, nadamTwin, nagTwin, reluBackwardTwin,
  reluTwin, rmspropMomentumTwin, rmspropTwin, sgdTwin, shrinkTwin, sigmoidTwin, tanhTwin, thinConvGradTwin, thinConvTwin,
} from './twins.js';

/** Elements per chunk of a kernel job split over threads. */
export const KERNEL_CHUNK = 16384;
/** Kernel jobs below this many elements (elements × work per element, see KernelSpec.workScalar) stay on the calling thread. */
export const KERNEL_MIN_PARALLEL = 65536;
/** Fewest elements per chunk of a kernel whose elements weigh more than one unit of work (KernelSpec.workScalar). */
export const KERNEL_MIN_CHUNK = 256;

/** An operand of a kernel call: an array (first `arrays` operands) or a scalar. */
export type Operand = HeapArray | number;

/** How a kernel is declared. */
export interface KernelSpec {
  /** Name for messages and lookup (unique). */
  readonly name: string;
  /** Array operands (at most 8): byte addresses for the WebAssembly code, typed arrays for the twin. */
  readonly arrays: number;
  /** Scalar operands after the arrays (at most 12). */
  readonly scalars: number;
  /**
   * `false` (default): the arrays are processed element by element over [0, n); a share of
   * the work gets its arrays advanced to its first element and its length. `true`: the arrays are
   * split by planes, and the code gets the arrays as they are and a plane range (lo, hi) instead of n.
   */
  readonly planes?: boolean;
  /**
   * The TypeScript twin: the arrays, then n (or lo, hi for planes), then the scalars. It must give
   * the same bits as the WebAssembly code; it runs whenever an array is not in the shared heap.
   */
  readonly twin: (...args: never[]) => void;
  /** The export of the runtime's module (kernels.wat) with the twin's signature over byte addresses. */
  readonly wasmExport?: string;
  /**
   * Or compiled WebAssembly code: module bytes importing `env.memory` (shared or not, as asked) that
   * export `run` with the twin's signature over byte addresses (see compileElementwise).
   */
  readonly wasmModule?: (shared: boolean) => Uint8Array;
  /**
   * Index of a scalar operand that counts the work per element (an elements kernel's passes over each
   * element, e.g. add-parts' number of parts), so the split over threads weighs n·scalar, not n: the
   * threshold KERNEL_MIN_PARALLEL and the chunk length (KERNEL_CHUNK / scalar, at least
   * KERNEL_MIN_CHUNK elements) then follow the work. Omitted: one unit of work per element.
   */
  readonly workScalar?: number;
}

const kernels: Kernel[] = [];
const byName = new Map<string, Kernel>();

/**
 * A declared kernel. `run(n, ...arrays, ...scalars)` runs it over n elements (`runPlanes` for a
 * planes kernel). Allocation-free; arrays are checked for length only in their count, not per element.
 */
export class Kernel {
  readonly id: number;
  readonly name: string;
  readonly arrays: number;
  readonly scalars: number;
  readonly planes: boolean;
  /** KernelSpec.workScalar as an operand index (−1: one unit of work per element). */
  private readonly workOperand: number;
  private readonly spec: KernelSpec;
  /** Reused argument list of twin calls, and the operands of the current call. */
  private readonly args: Operand[];
  private readonly ops: (Operand | undefined)[];
  /** Reused addresses and scalars of heap calls. */
  private readonly addresses: Int32Array;
  private readonly scalarValues: Float64Array;
  /** The compiled module per memory kind (shared / unshared), made on first load. */
  private modules: [WasmModule | null, WasmModule | null];

  constructor(id: number, spec: KernelSpec) {
    this.id = id;
    this.name = spec.name;
    this.arrays = spec.arrays;
    this.scalars = spec.scalars;
    this.planes = spec.planes === true;
    this.workOperand = spec.workScalar === undefined ? -1 : spec.arrays + spec.workScalar;
    this.spec = spec;
    this.args = [];
    this.ops = new Array<Operand | undefined>(20).fill(undefined);
    this.addresses = new Int32Array(MAX_KERNEL_ARRAYS);
    this.scalarValues = new Float64Array(MAX_KERNEL_SCALARS);
    this.modules = [null, null];
  }

  /** Loads the kernel's WebAssembly code into a runtime instance (called for every instance). */
  load(rt: Runtime): void {
    const spec = this.spec;
    if (spec.wasmExport !== undefined) {
      if (!rt.hasExport(spec.wasmExport)) return; // a module without it: the twin runs
      rt.loadKernel(this.id, spec.wasmExport, null, this.arrays, this.scalars, this.planes);
    } else if (spec.wasmModule !== undefined) {
      const slot = rt.shared ? 0 : 1;
      this.modules[slot] ??= compileModule(spec.wasmModule(rt.shared));
      rt.loadKernel(this.id, null, this.modules[slot], this.arrays, this.scalars, this.planes);
    }
  }

  /** Runs the kernel over elements [0, n): `run(n, array0, …, scalar0, …)`. */
  run(n: number, ...operands: Operand[]): void;
  run(
    n: number, o0?: Operand, o1?: Operand, o2?: Operand, o3?: Operand, o4?: Operand, o5?: Operand, o6?: Operand, o7?: Operand,
    o8?: Operand, o9?: Operand, o10?: Operand, o11?: Operand, o12?: Operand, o13?: Operand, o14?: Operand, o15?: Operand,
    o16?: Operand, o17?: Operand, o18?: Operand, o19?: Operand,
  ): void {
    if (this.planes) throw new Error(`kernel ${this.name} works on planes: call runPlanes`);
    this.dispatch(n, 0, o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15, o16, o17, o18, o19);
  }

  /** Runs a planes kernel over planes [0, planes) of `planeSize` elements each. */
  runPlanes(planes: number, planeSize: number, ...operands: Operand[]): void;
  runPlanes(
    planes: number, planeSize: number, o0?: Operand, o1?: Operand, o2?: Operand, o3?: Operand, o4?: Operand, o5?: Operand,
    o6?: Operand, o7?: Operand, o8?: Operand, o9?: Operand, o10?: Operand, o11?: Operand, o12?: Operand, o13?: Operand,
    o14?: Operand, o15?: Operand, o16?: Operand, o17?: Operand, o18?: Operand, o19?: Operand,
  ): void {
    if (!this.planes) throw new Error(`kernel ${this.name} works on elements: call run`);
    this.dispatch(planes, planeSize, o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15, o16, o17, o18, o19);
  }

  private dispatch(
    n: number, planeSize: number, o0?: Operand, o1?: Operand, o2?: Operand, o3?: Operand, o4?: Operand, o5?: Operand, o6?: Operand, o7?: Operand,
    o8?: Operand, o9?: Operand, o10?: Operand, o11?: Operand, o12?: Operand, o13?: Operand, o14?: Operand, o15?: Operand,
    o16?: Operand, o17?: Operand, o18?: Operand, o19?: Operand,
  ): void {
    if (n === 0) return;
    const ops = this.ops;
    ops[0] = o0; ops[1] = o1; ops[2] = o2; ops[3] = o3; ops[4] = o4; ops[5] = o5; ops[6] = o6; ops[7] = o7; ops[8] = o8; ops[9] = o9;
    ops[10] = o10; ops[11] = o11; ops[12] = o12; ops[13] = o13; ops[14] = o14; ops[15] = o15; ops[16] = o16; ops[17] = o17; ops[18] = o18; ops[19] = o19;
    const rt = sharedRuntime();
    let inHeap = rt !== null && rt.helpers.kernels[this.id] !== undefined;
    for (let a = 0; a < this.arrays; a++) {
      const array = ops[a];
      if (typeof array !== 'object' || array === null) throw new TypeError(`kernel ${this.name}: operand ${a} must be a typed array, got ${typeof array}`);
      // An elements kernel touches [0, n) of every array: refuse a short one (on the heap it would write into its neighbours).
      if (!this.planes && array.length < n) throw new RangeError(`kernel ${this.name}: operand ${a} has ${array.length} elements, fewer than n = ${n}`);
      if (inHeap && !(rt as Runtime).arena.inHeap(array)) inHeap = false;
    }
    for (let s = 0; s < this.scalars; s++) {
      if (typeof ops[this.arrays + s] !== 'number') throw new TypeError(`kernel ${this.name}: operand ${this.arrays + s} must be a number (scalar ${s})`);
    }
    if (inHeap) {
      const runtime = rt as Runtime;
      for (let a = 0; a < this.arrays; a++) this.addresses[a] = (ops[a] as HeapArray).byteOffset;
      for (let s = 0; s < this.scalars; s++) this.scalarValues[s] = ops[this.arrays + s] as number;
      const weight = this.workOperand < 0 ? 1 : Math.max(1, Math.floor(ops[this.workOperand] as number));
      const total = this.planes ? n * planeSize : n * weight;
      const chunk = total < KERNEL_MIN_PARALLEL ? n
        : this.planes ? Math.max(1, Math.round(KERNEL_CHUNK / planeSize))
          : weight === 1 ? KERNEL_CHUNK : Math.max(KERNEL_MIN_CHUNK, 4 * Math.round(KERNEL_CHUNK / weight / 4));
      runtime.runRange(this.id, n, chunk, this.addresses, this.arrays, this.scalarValues, this.scalars);
      return;
    }
    // The twin over the whole range, on this thread: arrays, n (or 0, n), scalars.
    const args = this.args;
    let k = 0;
    for (let a = 0; a < this.arrays; a++) args[k++] = ops[a] as Operand;
    if (this.planes) args[k++] = 0;
    args[k++] = n;
    for (let s = 0; s < this.scalars; s++) args[k++] = ops[this.arrays + s] as Operand;
    args.length = k;
    (this.spec.twin as (...a: Operand[]) => void).apply(null, args);
  }
}

/**
 * Declares a kernel (see {@link KernelSpec}) and returns it; its WebAssembly code is loaded into the
 * runtime (and posted to the worker threads) when the runtime starts, or at once if it runs already.
 * Names are unique: declaring a name twice throws.
 */
export function defineKernel(spec: KernelSpec): Kernel {
  if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('defineKernel: name must be a non-empty string');
  if (byName.has(spec.name)) throw new Error(`defineKernel: a kernel named ${JSON.stringify(spec.name)} exists already`);
  if (!(Number.isInteger(spec.arrays) && spec.arrays >= 1 && spec.arrays <= MAX_KERNEL_ARRAYS)) {
    throw new RangeError(`defineKernel ${spec.name}: arrays must be an integer in [1, ${MAX_KERNEL_ARRAYS}], got ${String(spec.arrays)}`);
  }
  if (!(Number.isInteger(spec.scalars) && spec.scalars >= 0 && spec.scalars <= MAX_KERNEL_SCALARS)) {
    throw new RangeError(`defineKernel ${spec.name}: scalars must be an integer in [0, ${MAX_KERNEL_SCALARS}], got ${String(spec.scalars)}`);
  }
  if (typeof spec.twin !== 'function') throw new TypeError(`defineKernel ${spec.name}: twin must be a function`);
  if (spec.workScalar !== undefined && !(Number.isInteger(spec.workScalar) && spec.workScalar >= 0 && spec.workScalar < spec.scalars && spec.planes !== true)) {
    throw new RangeError(`defineKernel ${spec.name}: workScalar must be the index of a scalar, an integer in [0, ${spec.scalars}), on an elements kernel; got ${String(spec.workScalar)}`);
  }
  const kernel = new Kernel(kernels.length, spec);
  kernels.push(kernel);
  byName.set(spec.name, kernel);
  onRuntimeLoad((rt) => kernel.load(rt));
  return kernel;
}

/** The kernel declared under `name`, or undefined. */
export function getKernel(name: string): Kernel | undefined {
  return byName.get(name);
}

/** Names of every declared kernel, in declaration order. */
export function kernelNames(): string[] {
  return kernels.map((k) => k.name);
}

// ---- The built-in kernels: one entry each (the export of kernels.wat and its twin in twins.ts). ----

/** relu(out, x, n): out = x ≤ 0 ? +0 : x (NaN passes through, as torch.relu). */
export const RELU = defineKernel({ name: 'relu', arrays: 2, scalars: 0, twin: reluTwin, wasmExport: 'relu' });
/** reluBackward(dx, dy, x, n): dx = x ≤ 0 ? +0 : dy (torch's threshold_backward; a NaN x passes dy). */
export const RELU_BACKWARD = defineKernel({ name: 'relu-backward', arrays: 3, scalars: 0, twin: reluBackwardTwin, wasmExport: 'reluBackward' });
/** tanh(y, x, n). */
export const TANH = defineKernel({ name: 'tanh', arrays: 2, scalars: 0, twin: tanhTwin, wasmExport: 'tanh' });
/** sigmoid(y, x, n). */
export const SIGMOID = defineKernel({ name: 'sigmoid', arrays: 2, scalars: 0, twin: sigmoidTwin, wasmExport: 'sigmoid' });
/** sgd(p, g, n, lr). */
export const SGD = defineKernel({ name: 'sgd', arrays: 2, scalars: 1, twin: sgdTwin, wasmExport: 'sgd' });
/** momentum(p, g, b, n, lr, mu). */
export const MOMENTUM = defineKernel({ name: 'momentum', arrays: 3, scalars: 2, twin: momentumTwin, wasmExport: 'momentum' });
/** nag(p, g, b, n, lr, mu). */
export const NAG = defineKernel({ name: 'nag', arrays: 3, scalars: 2, twin: nagTwin, wasmExport: 'nag' });
/** adam(p, g, m, v, n, b1, b2, 1 − b1, 1 − b2, eps, stepSize, invSqrtBc2). */
export const ADAM = defineKernel({ name: 'adam', arrays: 4, scalars: 7, twin: adamTwin, wasmExport: 'adam' });
/** rmsprop(p, g, v, n, lr, beta, 1 − beta, eps). */
export const RMSPROP = defineKernel({ name: 'rmsprop', arrays: 3, scalars: 4, twin: rmspropTwin, wasmExport: 'rmsprop' });
/** rmspropMomentum(p, g, v, b, n, lr, beta, 1 − beta, eps, mu). */
export const RMSPROP_MOMENTUM = defineKernel({ name: 'rmsprop-momentum', arrays: 4, scalars: 5, twin: rmspropMomentumTwin, wasmExport: 'rmspropMomentum' });
/** nadam(p, g, m, v, n, b1, b2, 1 − b1, 1 − b2, eps, invSqrtBc2, cg, cm). */
export const NADAM = defineKernel({ name: 'nadam', arrays: 4, scalars: 8, twin: nadamTwin, wasmExport: 'nadam' });
/** decay(d, g, p, n, decay): d = g + decay·p. */
export const DECAY = defineKernel({ name: 'decay', arrays: 3, scalars: 1, twin: decayTwin, wasmExport: 'decay' });
/** shrink(p, n, shrink): p = p·shrink. */
export const SHRINK = defineKernel({ name: 'shrink', arrays: 1, scalars: 1, twin: shrinkTwin, wasmExport: 'shrink' });
/** addParts(dst, parts, n, count, stride): dst += parts[0] + … in order (count passes per element: split by n·count). */
export const ADD_PARTS = defineKernel({ name: 'add-parts', arrays: 2, scalars: 2, twin: addPartsTwin, wasmExport: 'addParts', workScalar: 0 });
/** maxPool2(out, argmax, x, lo, hi, H, W, outH, outW): 2×2 stride-2 max pooling of planes [lo, hi). */
export const MAX_POOL2 = defineKernel({ name: 'max-pool2', arrays: 3, scalars: 4, planes: true, twin: maxPool2Twin, wasmExport: 'maxPool2' });
/** maxPool2Backward(dx, dy, argmax, lo, hi, H, W, outH, outW). */
export const MAX_POOL2_BACKWARD = defineKernel({
  name: 'max-pool2-backward', arrays: 3, scalars: 4, planes: true, twin: maxPool2BackwardTwin, wasmExport: 'maxPool2Backward',
});
/**
 * thinConv(y, x, w, bias, lo, hi, C, H, W, kH, kW, padH, padW, outH, outW, F, relu): the direct
 * stride-1 convolution of planes (image, block of 4 filters) [lo, hi), ⌈F/4⌉ per image, plus bias, through a ReLU when relu = 1
 * (Conv2D's thin path, tensor/conv2d-engine.ts).
 */
export const THIN_CONV = defineKernel({ name: 'thin-conv', arrays: 4, scalars: 11, planes: true, twin: thinConvTwin, wasmExport: 'thinConv' });
/**
 * thinConvGrad(dW, db, dy, x, lo, hi, C, H, W, kH, kW, padH, padW, outH, outW, F, batch, G): the
 * per-chunk (G images) weight and bias gradient partials of planes (chunk, filter) [lo, hi).
 */
export const THIN_CONV_GRAD = defineKernel({
  name: 'thin-conv-grad', arrays: 4, scalars: 12, planes: true, twin: thinConvGradTwin, wasmExport: 'thinConvGrad',
});
