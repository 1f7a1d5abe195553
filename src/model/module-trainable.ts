// ModuleTrainable: the adapter through which fit / evaluate / predict / trainStep run a single-input,
// single-output Module (forward on the tape or without gradients, backward through the tape, the cached
// parameter list, the StepBuffers a step's op results live in). Kept apart from module.ts, which holds
// what a Module is; this file reads a module only through the small TrainableModule view below, so it
// imports nothing from module.ts.
import type { Buffer } from '../layers/layer.js';
import type { Loss } from '../losses/loss.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { Variable } from '../ops/variable.js';
import { StepBuffers } from '../ops/buffers.js';
import { withGradMode } from '../ops/tape.js';
import { fillFloat32 } from '../runtime/heap.js';
import type { Param } from '../tensor/param.js';
import type { RngState } from '../tensor/rng.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { Trainer, type Trainable } from '../train/fit.js';
import { resolveCompileOptions, type CompileOptions } from './compile.js';

// Bumped whenever a lazily built layer creates its parameters, so cached parameter lists refresh.
let structureVersion = 0;

/** Internal: called when a module's set of parameters or buffers changes (a lazy layer was built). */
export function markStructureChanged(): void {
  structureVersion++;
}

/** Internal: the counter {@link markStructureChanged} bumps. */
export function currentStructureVersion(): number {
  return structureVersion;
}


/** What {@link ModuleTrainable} reads of a module (`Module` provides all of it). */
export interface TrainableModule {
  training: boolean;
  train(mode?: boolean): unknown;
  forward(...inputs: Variable[]): unknown;
  readonly inputShapes: readonly (readonly number[])[] | null;
  namedParameters(): [string, Param][];
  namedBuffers(): [string, Tensor][];
  getRngState(): RngState;
  setRngState(state: RngState): void;
}

/**
 * A single-input, single-output `Module` as a {@link Trainable} for the training loop: forward
 * records the module's ops on the tape (in train mode) or runs without gradients (in eval mode),
 * and backward runs the tape. The parameter list is built once and refreshed only when a lazy layer
 * creates parameters, so a steady step adds no parameter bookkeeping; what a step allocates is what
 * the module's ops allocate (see the README's "Writing models").
 */
export class ModuleTrainable implements Trainable {
  readonly module: TrainableModule;
  optimizer: Optimizer | null;
  loss: Loss | null;
  private trainer: Trainer | null;
  private output: Variable | null;
  private input: Variable | null;
  private paramList: Param[];
  private bufferList: Buffer[];
  private owners: string[];
  private version: number;
  private pending: Variable | null;
  private readonly runForward: () => unknown;
  /** Op results of training steps (forward and backward) and of evaluation batches, reused round by round. */
  private readonly trainBuffers: StepBuffers;
  private readonly evalBuffers: StepBuffers;

  constructor(module: TrainableModule) {
    this.module = module;
    this.optimizer = null;
    this.loss = null;
    this.trainer = null;
    this.output = null;
    this.input = null;
    this.paramList = [];
    this.bufferList = [];
    this.owners = [];
    this.version = -1;
    this.pending = null;
    // Bound once: withGradMode needs a function, and a closure per step would be garbage per step.
    this.runForward = () => this.module.forward(this.pending as Variable);
    this.trainBuffers = new StepBuffers();
    this.evalBuffers = new StepBuffers();
  }

  /** Sets the optimizer, loss and metrics (see Module.compile). */
  compile(options: CompileOptions): void {
    const { optimizer, loss, metrics } = resolveCompileOptions(options);
    this.optimizer = optimizer;
    this.loss = loss;
    this.trainer = new Trainer(this, { optimizer, loss, metrics });
  }

  /** The Trainer of `compile`, with the current optimizer and loss. */
  requireCompiled(what: string): Trainer {
    if (this.trainer === null || this.optimizer === null || this.loss === null) throw new Error(`${what}: call model.compile({ optimizer, loss }) first`);
    this.trainer.optimizer = this.optimizer;
    this.trainer.loss = this.loss;
    return this.trainer;
  }

  private refresh(): void {
    if (this.version === currentStructureVersion()) return;
    const named = this.module.namedParameters();
    this.paramList = named.map(([name, p]) => ({ name, value: p.value, grad: p.grad, decayMul: p.decayMul }));
    this.owners = named.map(([name]) => name);
    this.bufferList = this.module.namedBuffers().map(([name, value]) => ({ name, value }));
    this.version = currentStructureVersion();
  }

  private run(x: Tensor, training: boolean, inputGrad: boolean): Tensor {
    // Only the root's flag is compared (a walk per step would be garbage per step): a sub-module the
    // user set to another mode keeps it until the loop switches the whole model (train ↔ eval).
    if (this.module.training !== training) this.module.train(training);
    const input = new Variable(x, { requiresGrad: inputGrad });
    this.pending = input;
    let out: unknown;
    // A step's op results live until the next step's forward (the contract of StepBuffers), as a
    // layer's output lives until its next forward: the loop then allocates nothing once warm.
    const buffers = training ? this.trainBuffers : this.evalBuffers;
    buffers.reset();
    try {
      out = buffers.run(() => withGradMode(training, this.runForward));
    } finally {
      this.pending = null;
    }
    if (!(out instanceof Variable)) {
      throw new Error(`${this.module.constructor.name}: fit, evaluate and predict need a forward that returns one Variable, got ${Array.isArray(out) ? 'an array' : typeof out}`);
    }
    this.input = input;
    this.output = out;
    return out.value;
  }

  /** Output for a batch; in train mode the ops are recorded for {@link backward}. */
  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    const training = options.training ?? false;
    return this.run(x, training, training);
  }

  /** Runs the tape from the last output with `dy`; returns dL/dx (zeros if the output did not depend on the input). */
  backward(dy: Tensor): Tensor {
    const out = this.output;
    if (out === null || out.node === null) throw new Error(`${this.module.constructor.name}: backward needs a forward in train mode first`);
    this.trainBuffers.run(() => out.backward(dy));
    this.output = null;
    const input = this.input as Variable;
    return input.grad ?? new Tensor(new Float32Array(input.size), input.shape);
  }

  /** The training loop's path: no input gradient is tracked. */
  forwardForLoss(x: Tensor, _loss: Loss, training: boolean): Tensor {
    return this.run(x, training, false);
  }

  /** Pair of {@link forwardForLoss}: backward through the recorded ops, accumulating parameter gradients. */
  backwardForLoss(dy: Tensor, _loss: Loss): void {
    const out = this.output;
    if (out === null) throw new Error(`${this.module.constructor.name}: backward needs a forward in train mode first`);
    this.output = null;
    // An output that depends on no parameter has no graph: nothing to accumulate.
    if (out.node !== null) this.trainBuffers.run(() => out.backward(dy));
  }

  /** The module's parameters with attribute-path names (the same array until a lazy layer adds some). */
  params(): readonly Param[] {
    this.refresh();
    return this.paramList;
  }

  /** The module's buffers with attribute-path names (the same array until a lazy layer adds some). */
  buffers(): readonly Buffer[] {
    this.refresh();
    return this.bufferList;
  }

  /** Zeroes every parameter gradient. */
  zeroGrad(): void {
    this.refresh();
    for (const p of this.paramList) fillFloat32(p.grad.data, 0);
  }

  /** The module's Rng state (dropout masks), saved in fit positions. */
  getRngState(): RngState {
    return this.module.getRngState();
  }

  /** Restores {@link getRngState}'s state. */
  setRngState(state: RngState): void {
    this.module.setRngState(state);
  }

  /** Checks `x` against the per-sample input shape the module was built or first called with. */
  checkInput(x: Tensor, what: string): void {
    if (!(x instanceof Tensor)) throw new Error(`${what}: input must be a Tensor`);
    if (x.rank === 0) throw new Error(`${what}: input must have a batch axis, got a scalar`);
    const shapes = this.module.inputShapes;
    if (shapes === null) return;
    if (shapes.length !== 1) throw new Error(`${what}: the module takes ${shapes.length} inputs; fit, evaluate and predict feed one`);
    const s = shapes[0];
    let ok = x.rank === s.length + 1;
    for (let i = 0; ok && i < s.length; i++) ok = x.shape[i + 1] === s[i];
    if (!ok) throw new Error(`${what}: input ${formatShape(x.shape)} does not match the module's input [batch, ${s.join(', ')}]`);
  }

  /** `parameter block1.conv2.weight`: the attribute path of `params()[index]`, for error messages. */
  describeParam(index: number): string {
    this.refresh();
    return `parameter ${this.owners[index]}`;
  }
}
