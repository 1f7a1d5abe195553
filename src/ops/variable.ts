// variable.ts: Variable, a Tensor in the autograd graph: requiresGrad, the accumulated .grad, the op
// that produced it (its Node), backward(), and the version counter that catches in-place changes to
// values saved for backward. Views made by reshape share the data and the version counter.
import { copyFloat32, heapFloat32 } from '../runtime/heap.js';
import { add } from '../tensor/elementwise.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { AutogradError, isGradEnabled, runBackward, type Node } from './tape.js';
import type { GeluOptions } from './elementwise.js';
import type { MatmulOptions } from './matmul.js';
import type { VarOptions } from './reduce.js';
import type { SliceRange } from './shape.js';

/** An op's operand: a variable, a plain tensor (a constant), or a number (broadcast). */
export type OpInput = Variable | Tensor | number;

/** Options of the reductions (sum, mean, max, min, var, argmax). */
export interface ReduceOptions {
  /** Keep the reduced axes with size 1. Default false. */
  readonly keepDims?: boolean;
}

/**
 * The ops behind Variable's methods (`x.add(y)` is `add(x, y)`). ops.ts installs them when it loads:
 * it imports this file, and this file does not import it, so the method calls go through this table.
 */
export interface VariableOps {
  add(a: OpInput, b: OpInput): Variable;
  sub(a: OpInput, b: OpInput): Variable;
  mul(a: OpInput, b: OpInput): Variable;
  div(a: OpInput, b: OpInput): Variable;
  neg(x: OpInput): Variable;
  exp(x: OpInput): Variable;
  log(x: OpInput): Variable;
  sqrt(x: OpInput): Variable;
  abs(x: OpInput): Variable;
  pow(x: OpInput, p: OpInput): Variable;
  clamp(x: OpInput, min?: number | null, max?: number | null): Variable;
  where(cond: Tensor | Variable, a: OpInput, b: OpInput): Variable;
  matmul(a: OpInput, b: OpInput, options?: MatmulOptions): Variable;
  sum(x: OpInput, axes?: number | readonly number[], options?: ReduceOptions): Variable;
  mean(x: OpInput, axes?: number | readonly number[], options?: ReduceOptions): Variable;
  max(x: OpInput, axes?: number | readonly number[], options?: ReduceOptions): Variable;
  min(x: OpInput, axes?: number | readonly number[], options?: ReduceOptions): Variable;
  variance(x: OpInput, axes?: number | readonly number[], options?: VarOptions): Variable;
  argmax(x: OpInput, axis?: number, options?: ReduceOptions): Tensor;
  argmin(x: OpInput, axis?: number, options?: ReduceOptions): Tensor;
  reshape(x: OpInput, shape: readonly number[]): Variable;
  transpose(x: OpInput, dim0?: number, dim1?: number): Variable;
  permute(x: OpInput, axes: readonly number[]): Variable;
  squeeze(x: OpInput, axes?: number | readonly number[]): Variable;
  unsqueeze(x: OpInput, axis: number): Variable;
  flatten(x: OpInput, startDim?: number, endDim?: number): Variable;
  slice(x: OpInput, ranges: readonly (SliceRange | null | undefined)[]): Variable;
  select(x: OpInput, axis: number, index: number): Variable;
  indexSelect(x: OpInput, axis: number, indices: ArrayLike<number> | Tensor): Variable;
  pad(x: OpInput, pads: readonly number[], value?: number): Variable;
  concat(list: readonly OpInput[], axis?: number): Variable;
  stack(list: readonly OpInput[], axis?: number): Variable;
  relu(x: OpInput): Variable;
  leakyRelu(x: OpInput, slope?: number): Variable;
  tanh(x: OpInput): Variable;
  sigmoid(x: OpInput): Variable;
  gelu(x: OpInput, options?: GeluOptions): Variable;
  silu(x: OpInput): Variable;
  softmax(x: OpInput, axis?: number): Variable;
  logSoftmax(x: OpInput, axis?: number): Variable;
}

let installed: VariableOps | null = null;

/** Installs the ops behind Variable's methods (called once by ops.ts). */
export function installVariableOps(table: VariableOps): void {
  installed = table;
}

function opsTable(): VariableOps {
  if (installed === null) throw new Error('Variable methods need the ops module: import from tensorkit (or src/ops/index.ts), which loads it');
  return installed;
}

/** Options of {@link Variable.backward}. */
export interface BackwardOptions {
  /** Keep the graph (saved values, backward closures) so backward can run through it again. Default false. */
  readonly retainGraph?: boolean;
}

/** Version counter shared by a variable and its views. */
interface VersionBox {
  value: number;
}

/**
 * A tensor in the autograd graph. Leaves are made by the user (`new Variable(tensor, { requiresGrad: true })`
 * or {@link variable}); every op on variables returns a new Variable that remembers its op when grad
 * mode is on and an input requires grad. `.grad` accumulates (+=) across backward calls, like PyTorch;
 * reset it with {@link Variable.zeroGrad}.
 */
export class Variable {
  /** The value (float32, contiguous row-major). Do not write into `value.data` directly: use {@link Variable.modify}. */
  readonly value: Tensor;
  /** Gradient of the last backward passes (summed), same shape as `value`; null until a backward reaches it. */
  grad: Tensor | null;
  /** The op that produced this variable (null for leaves and for results computed without tracking). */
  readonly node: Node | null;
  private requires: boolean;
  private readonly versionBox: VersionBox;
  /** The variable whose data this one views (reshape), or null. */
  private readonly base: Variable | null;
  /** The gradient buffer {@link Variable.zeroGrad} set aside, reused by the next backward (no heap block per step). */
  private spareGrad: Tensor | null;

  /**
   * A leaf variable over `value` (not copied). `requiresGrad` makes backward compute its gradient.
   * The internal third argument links an op's result to its node and shares a view's version counter.
   */
  constructor(
    value: Tensor, options: { requiresGrad?: boolean } = {}, node: Node | null = null, versionBox?: VersionBox, base: Variable | null = null,
  ) {
    if (!(value instanceof Tensor)) throw new Error(`Variable: value must be a Tensor, got ${Array.isArray(value) ? 'an array' : String(value)}`);
    this.value = value;
    this.grad = null;
    this.node = node;
    this.requires = node !== null || options.requiresGrad === true;
    this.versionBox = versionBox ?? { value: 0 };
    this.base = base;
    this.spareGrad = null;
  }

  /** Shape of the value. */
  get shape(): readonly number[] { return this.value.shape; }
  /** Number of elements. */
  get size(): number { return this.value.size; }
  /** The value's data (read it; write through {@link Variable.modify}). */
  get data(): Float32Array { return this.value.data; }
  /** Bumped by every in-place change; backward compares it with the version saved by each op. */
  get version(): number { return this.versionBox.value; }
  /** True for variables created by the user rather than by an op. */
  get isLeaf(): boolean { return this.node === null; }

  /** Whether backward computes a gradient for this variable. Settable on leaves only. */
  get requiresGrad(): boolean { return this.requires; }
  set requiresGrad(value: boolean) {
    if (this.node !== null && !value) {
      throw new AutogradError('requiresGrad: cannot turn it off on a variable computed by an op; use detach()');
    }
    this.requires = value;
  }

  /** The single value of a one-element variable. */
  item(): number {
    if (this.value.size !== 1) throw new Error(`item: the variable has shape ${formatShape(this.value.shape)}, not one element`);
    return this.value.data[0];
  }

  /**
   * Backpropagates from this variable: for a one-element variable the upstream gradient defaults
   * to 1; otherwise pass `gradient` (same shape). Leaves that require grad get dL/dleaf added into
   * `.grad`. The graph is freed afterwards unless `{ retainGraph: true }`.
   */
  backward(gradient?: Tensor | BackwardOptions, options: BackwardOptions = {}): void {
    let upstream: Float32Array;
    let opts = options;
    if (gradient instanceof Tensor) {
      if (gradient.size !== this.value.size || gradient.rank !== this.value.rank || gradient.shape.some((d, i) => d !== this.value.shape[i])) {
        throw new Error(`backward: gradient has shape ${formatShape(gradient.shape)} but the variable has shape ${formatShape(this.value.shape)}`);
      }
      upstream = gradient.data;
    } else {
      if (gradient !== undefined) opts = gradient;
      if (this.value.size !== 1) {
        throw new AutogradError(`backward: the variable has shape ${formatShape(this.value.shape)}; backward without a gradient needs one element (pass a gradient of the same shape)`);
      }
      upstream = new Float32Array([1]);
    }
    runBackward(this, upstream, opts.retainGraph === true);
  }

  /**
   * Internal: an array an op's backward may add this variable's gradient into itself (at its turn in the
   * tape's walk, instead of returning the gradient for the tape to add), sparing an array and a pass; an
   * op that does returns null for this input. Null here: a plain variable's `.grad` comes and goes
   * (zeroGrad), and an op taking a StepBuffers array in one round but not in the next would shift the
   * rounds' requests. A Parameter, whose gradient buffer always exists, returns it.
   */
  gradSink(): Float32Array | null {
    return null;
  }

  /** Keeps this (non-leaf) variable's gradient in `.grad` during backward, as leaves do. */
  retainGrad(): this {
    if (this.node !== null) this.node.retained = this;
    return this;
  }

  /**
   * Sets `.grad` to null (the next backward starts from zero). Its buffer is kept and refilled by
   * the next backward, so a training loop allocates no gradient memory per step: copy `.grad`'s
   * data first if you need the old values afterwards.
   */
  zeroGrad(): void {
    if (this.grad !== null) this.spareGrad = this.grad;
    this.grad = null;
  }

  /** A variable over the same data and version counter, outside the graph (requires no grad; may be modified in place). */
  detach(): Variable {
    // As in PyTorch, a detached alias may be changed in place in grad mode; the shared version
    // counter still makes a backward that saved the original fail.
    return new Variable(this.value, {}, null, this.versionBox);
  }

  /**
   * Changes the value in place: `fn` writes into the data, then the version is bumped, so a backward
   * through an op that saved this variable before the change fails instead of using the new values.
   * A leaf that requires grad, or a view of one, can be modified only inside {@link noGrad} (as PyTorch forbids it).
   */
  modify(fn: (data: Float32Array) => void): this {
    const owner = this.base ?? this;
    if (owner.node === null && owner.requires && isGradEnabled()) {
      const what = owner === this ? 'a leaf variable' : 'a view of a leaf variable';
      throw new AutogradError(`modify: ${what} that requires grad is being changed in place; do it inside noGrad(() => …)`);
    }
    fn(this.value.data);
    this.versionBox.value++;
    return this;
  }

  /** Records an in-place change made to `data` by other code (bumps the version). */
  markModified(): void {
    this.versionBox.value++;
  }

  // ---- The ops as methods (PyTorch style): x.matmul(w).add(b).relu() ----

  /** {@link ops.add}: this + o, broadcasting. */
  add(o: OpInput): Variable { return opsTable().add(this, o); }
  /** {@link ops.sub}: this − o, broadcasting. */
  sub(o: OpInput): Variable { return opsTable().sub(this, o); }
  /** {@link ops.mul}: this · o elementwise, broadcasting. */
  mul(o: OpInput): Variable { return opsTable().mul(this, o); }
  /** {@link ops.div}: this / o, broadcasting. */
  div(o: OpInput): Variable { return opsTable().div(this, o); }
  /** {@link ops.neg}. */
  neg(): Variable { return opsTable().neg(this); }
  /** {@link ops.exp}. */
  exp(): Variable { return opsTable().exp(this); }
  /** {@link ops.log}. */
  log(): Variable { return opsTable().log(this); }
  /** {@link ops.sqrt}. */
  sqrt(): Variable { return opsTable().sqrt(this); }
  /** {@link ops.abs}. */
  abs(): Variable { return opsTable().abs(this); }
  /** {@link ops.pow}: this^p for a number p or a broadcast exponent variable/tensor. */
  pow(p: OpInput): Variable { return opsTable().pow(this, p); }
  /** {@link ops.clamp} into [min, max] (either may be null). */
  clamp(min?: number | null, max?: number | null): Variable { return opsTable().clamp(this, min, max); }
  /** {@link ops.where}: `cond ? this : other`, as torch's `x.where(cond, y)`. */
  where(cond: Tensor | Variable, other: OpInput): Variable { return opsTable().where(cond, this, other); }
  /** {@link ops.matmul} (torch.matmul rules; `{ transA, transB }` read transposes in place). */
  matmul(o: OpInput, options?: MatmulOptions): Variable { return opsTable().matmul(this, o, options); }
  /** {@link ops.sum} over `axes` (all when omitted). */
  sum(axes?: number | readonly number[], options?: ReduceOptions): Variable { return opsTable().sum(this, axes, options); }
  /** {@link ops.mean} over `axes` (all when omitted). */
  mean(axes?: number | readonly number[], options?: ReduceOptions): Variable { return opsTable().mean(this, axes, options); }
  /** {@link ops.max} over `axes` (all when omitted). */
  max(axes?: number | readonly number[], options?: ReduceOptions): Variable { return opsTable().max(this, axes, options); }
  /** {@link ops.min} over `axes` (all when omitted). */
  min(axes?: number | readonly number[], options?: ReduceOptions): Variable { return opsTable().min(this, axes, options); }
  /** {@link ops.variance} over `axes` (all when omitted; unbiased by default, as torch.var). */
  var(axes?: number | readonly number[], options?: VarOptions): Variable { return opsTable().variance(this, axes, options); }
  /** {@link ops.argmax} along `axis` (flattened when omitted): a Tensor of indices, no gradient. */
  argmax(axis?: number, options?: ReduceOptions): Tensor { return opsTable().argmax(this, axis, options); }
  /** {@link ops.argmin} along `axis` (flattened when omitted): a Tensor of indices, no gradient. */
  argmin(axis?: number, options?: ReduceOptions): Tensor { return opsTable().argmin(this, axis, options); }
  /** {@link ops.reshape}: a view sharing data and version counter. */
  reshape(shape: readonly number[]): Variable { return opsTable().reshape(this, shape); }
  /** {@link ops.transpose} of a 2-D variable. */
  t(): Variable { return opsTable().transpose(this); }
  /** {@link ops.transpose}: axes dim0 and dim1 swapped (any rank). */
  transpose(dim0: number, dim1: number): Variable { return opsTable().transpose(this, dim0, dim1); }
  /** {@link ops.permute}: `x.permute(0, 2, 1)` or `x.permute([0, 2, 1])`. */
  permute(...axes: number[] | [readonly number[]]): Variable {
    const list = Array.isArray(axes[0]) ? axes[0] as readonly number[] : axes as number[];
    return opsTable().permute(this, list);
  }
  /** {@link ops.squeeze}: size-1 axes removed (all, or those listed). A view. */
  squeeze(axes?: number | readonly number[]): Variable { return opsTable().squeeze(this, axes); }
  /** {@link ops.unsqueeze}: a size-1 axis inserted at `axis`. A view. */
  unsqueeze(axis: number): Variable { return opsTable().unsqueeze(this, axis); }
  /** {@link ops.flatten}: axes startDim … endDim merged. A view. */
  flatten(startDim?: number, endDim?: number): Variable { return opsTable().flatten(this, startDim, endDim); }
  /** {@link ops.slice}: `start:end:step` per leading axis. */
  slice(ranges: readonly (SliceRange | null | undefined)[]): Variable { return opsTable().slice(this, ranges); }
  /** {@link ops.select}: the entry `index` along `axis`, axis removed. */
  select(axis: number, index: number): Variable { return opsTable().select(this, axis, index); }
  /** {@link ops.indexSelect}: the entries at `indices` along `axis`. */
  indexSelect(axis: number, indices: ArrayLike<number> | Tensor): Variable { return opsTable().indexSelect(this, axis, indices); }
  /** {@link ops.pad}: constant padding, pairs from the last axis (torch.nn.functional.pad order). */
  pad(pads: readonly number[], value?: number): Variable { return opsTable().pad(this, pads, value); }
  /** {@link ops.relu}. */
  relu(): Variable { return opsTable().relu(this); }
  /** {@link ops.leakyRelu} with `slope` (default 0.01). */
  leakyRelu(slope?: number): Variable { return opsTable().leakyRelu(this, slope); }
  /** {@link ops.tanh}. */
  tanh(): Variable { return opsTable().tanh(this); }
  /** {@link ops.sigmoid}. */
  sigmoid(): Variable { return opsTable().sigmoid(this); }
  /** {@link ops.gelu} (erf form, or `{ approximate: 'tanh' }`). */
  gelu(options?: GeluOptions): Variable { return opsTable().gelu(this, options); }
  /** {@link ops.silu}. */
  silu(): Variable { return opsTable().silu(this); }
  /** {@link ops.softmax} over `axis` (default the last). */
  softmax(axis?: number): Variable { return opsTable().softmax(this, axis); }
  /** {@link ops.logSoftmax} over `axis` (default the last). */
  logSoftmax(axis?: number): Variable { return opsTable().logSoftmax(this, axis); }

  /** Internal: adds `g` (flat, this size) into `.grad`, allocating it (in the shared heap) on first use. */
  accumulateGrad(g: Float32Array): void {
    if (this.grad === null) {
      const spare = this.spareGrad;
      this.spareGrad = null;
      if (spare !== null && spare.size === this.value.size) {
        copyFloat32(spare.data, g);
        this.grad = spare;
        return;
      }
      const data = heapFloat32(this.value.size);
      copyFloat32(data, g);
      this.grad = new Tensor(data, this.value.shape);
      return;
    }
    const d = this.grad.data;
    add(d, d, g); // the SIMD add map: the same bits as a scalar loop
  }

  /** Internal: a variable over `value` sharing this one's version counter (for views such as reshape). */
  viewOf(value: Tensor, node: Node | null): Variable {
    return new Variable(value, {}, node, this.versionBox, this.base ?? this);
  }
}

/** A leaf variable over a copy of `value` (a Tensor, or numbers with a shape). */
export function variable(value: Tensor | ArrayLike<number> | number, options: { requiresGrad?: boolean; shape?: readonly number[] } = {}): Variable {
  let t: Tensor;
  if (value instanceof Tensor) {
    t = new Tensor(value.data.slice(), value.shape);
  } else if (typeof value === 'number') {
    t = new Tensor(new Float32Array([value]), options.shape ?? []);
  } else {
    t = new Tensor(Float32Array.from(value), options.shape ?? [value.length]);
  }
  return new Variable(t, { requiresGrad: options.requiresGrad });
}
