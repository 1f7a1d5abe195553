// tape.ts: the recorded graph of differentiable ops and the engine that walks it backward: grad mode
// (noGrad scopes), one Node per recorded op with the variables it saved and their versions, gradient
// accumulation into leaves, and freeing the graph after a backward pass unless it is retained.

import { add } from '../tensor/elementwise.js';
import { opArrayUninit } from './buffers.js';

/** Any misuse of autograd: backward through a freed graph, a saved tensor modified in place, a non-scalar backward without a gradient. */
export class AutogradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AutogradError';
  }
}

let gradEnabled = true;

/** Whether ops record a graph now (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with gradient tracking off: ops inside record no graph and their results do not require
 * grad, and leaves that require grad may be modified in place (e.g. an optimizer step). Synchronous
 * only: the mode is restored when `fn` returns or throws, not when a promise it returns settles.
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient tracking set to `enabled`, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Backward of one op: gets dL/d(output) (flat, the output's size; never modify it) and returns
 * dL/d(input) per input, flat in the input's size, or null for inputs that need no gradient. It may
 * return the incoming array itself (the engine never writes into a returned array it did not copy).
 */
export type BackwardFn = (gradOutput: Float32Array) => readonly (Float32Array | null)[];

/**
 * What the tape needs of a variable (Variable in variable.ts has all of it): its node, whether it wants a
 * gradient, its version and shape for the in-place check, and where its gradient goes. Structural, so the
 * tape sits below variable.ts instead of importing it.
 */
export interface TapeVariable {
  readonly node: Node | null;
  readonly requiresGrad: boolean;
  readonly version: number;
  readonly shape: readonly number[];
  accumulateGrad(gradient: Float32Array): void;
}

// What a freed node holds: shared empty lists (three arrays per node per step would be garbage per step).
const NO_VARIABLES: readonly TapeVariable[] = Object.freeze([]);
const NO_VERSIONS: readonly number[] = Object.freeze([]);

/** One recorded op: its inputs, what it saved for backward (with the versions at save time), its backward. */
export class Node {
  readonly op: string;
  inputs: readonly TapeVariable[];
  saved: readonly TapeVariable[];
  savedVersions: readonly number[];
  backwardFn: BackwardFn | null;
  /** The output, when it asked to keep its gradient (Variable.retainGrad). */
  retained: TapeVariable | null;
  outputSize: number;
  /** What an op records about itself for tools that read the graph (model tracing: a layer module's layer, an op's axes); null for most ops. */
  attrs: Record<string, unknown> | null;
  /** Internal to {@link runBackward}: the walk that last reached this node, its gradient so far, whether the walk owns that array. */
  visit: number;
  pending: Float32Array | null;
  pendingOwned: boolean;

  constructor(op: string, inputs: readonly TapeVariable[], saved: readonly TapeVariable[], backwardFn: BackwardFn, outputSize: number) {
    this.op = op;
    this.inputs = inputs;
    this.saved = saved;
    this.savedVersions = saved.map((v) => v.version);
    this.backwardFn = backwardFn;
    this.retained = null;
    this.outputSize = outputSize;
    this.attrs = null;
    this.visit = 0;
    this.pending = null;
    this.pendingOwned = false;
  }

  /** Drops the saved variables and the backward closure (what holds the intermediate buffers). */
  free(): void {
    this.backwardFn = null;
    this.saved = NO_VARIABLES;
    this.savedVersions = NO_VERSIONS;
    this.inputs = NO_VARIABLES;
  }
}

// The backward walk's bookkeeping lives on the nodes (visit mark, pending gradient) and in these arrays,
// reused by every walk, so a training step's backward allocates no Set, Map or stack entries. A walk
// started while another runs (a backward inside a custom op's backward) gets arrays of its own.
let walkCounter = 0;
let walking = false;
const sharedOrder: Node[] = [];
const sharedStack: Node[] = [];
const sharedNext: number[] = [];

/**
 * Fills `post` with the nodes reachable from `root` in post-order (each after every node it consumes),
 * so walking `post` from the end visits each node after every node that consumes its output.
 */
function orderFrom(root: Node, visit: number, post: Node[], stack: Node[], next: number[]): void {
  // Iterative post-order DFS (a long chain of ops must not overflow the call stack).
  root.visit = visit;
  stack.push(root);
  next.push(0);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const node = stack[top];
    const i = next[top];
    if (i < node.inputs.length) {
      next[top] = i + 1;
      const child = node.inputs[i].node;
      if (child !== null && child.visit !== visit) {
        child.visit = visit;
        stack.push(child);
        next.push(0);
      }
    } else {
      post.push(node);
      stack.pop();
      next.pop();
    }
  }
}

/**
 * Runs backward from `root` with upstream gradient `gradient` (flat, root's size): gradients of
 * leaves that require grad are added into their `.grad`; the graph is freed unless `retainGraph`.
 */
export function runBackward(root: TapeVariable, gradient: Float32Array, retainGraph: boolean): void {
  if (root.node === null) {
    if (!root.requiresGrad) {
      throw new AutogradError('backward: the variable does not require grad and has no graph (was it computed inside noGrad, or from inputs without requiresGrad?)');
    }
    root.accumulateGrad(gradient);
    return;
  }
  const nested = walking;
  const order = nested ? [] : sharedOrder;
  const visit = ++walkCounter;
  orderFrom(root.node, visit, order, nested ? [] : sharedStack, nested ? [] : sharedNext);
  walking = true;
  try {
    root.node.pending = gradient;
    root.node.pendingOwned = false;
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const g = node.pending;
      node.pending = null;
      if (g === null) continue; // reachable only through inputs that needed no gradient
      const backwardFn = node.backwardFn;
      if (backwardFn === null) {
        throw new AutogradError(
          `backward: trying to go backward through the graph a second time (the ${node.op} node was freed by an earlier backward); `
          + 'pass { retainGraph: true } to the first backward to keep it');
      }
      for (let s = 0; s < node.saved.length; s++) {
        const v = node.saved[s];
        if (v.version !== node.savedVersions[s]) {
          throw new AutogradError(
            `backward: a variable of shape [${v.shape.join(', ')}] saved by ${node.op} for backward was modified in place `
            + `(version ${v.version}, expected ${node.savedVersions[s]}); compute on a copy or make the change before the op`);
        }
      }
      if (node.retained !== null) node.retained.accumulateGrad(g);
      const inputGrads = backwardFn(g);
      for (let i = 0; i < node.inputs.length; i++) {
        const gi = inputGrads[i];
        const input = node.inputs[i];
        if (gi === null || gi === undefined || !input.requiresGrad) continue;
        const target = input.node;
        if (target === null) {
          input.accumulateGrad(gi);
          continue;
        }
        const prev = target.pending;
        if (prev === null) {
          target.pending = gi;
          target.pendingOwned = false;
        } else if (target.pendingOwned) {
          add(prev, prev, gi); // the SIMD map (same bits as a scalar loop)
        } else {
          // Neither array may be written: they can be another node's gradient or saved state.
          target.pending = add(opArrayUninit(prev.length), prev, gi);
          target.pendingOwned = true;
        }
      }
    }
    if (!retainGraph) for (let k = 0; k < order.length; k++) order[k].free();
  } finally {
    // Nothing stays pending (a walk that threw leaves no gradient for the next one), and the shared
    // arrays hold no node.
    for (let k = 0; k < order.length; k++) order[k].pending = null;
    if (!nested) {
      order.length = 0;
      sharedStack.length = 0;
      sharedNext.length = 0;
    }
    walking = nested;
  }
}

let attrsWanted = false;

/** Whether ops record their arguments in `node.attrs` (on only while a trace runs: src/model/trace.ts). */
export function attrsEnabled(): boolean {
  return attrsWanted;
}

/** Turns the recording of op arguments on or off; returns the previous setting. */
export function setAttrsEnabled(enabled: boolean): boolean {
  const previous = attrsWanted;
  attrsWanted = enabled;
  return previous;
}

/**
 * `v` (an op's result) with `attrs` set on its node when it has one and attrs is not null. Call sites
 * pass `attrsEnabled() ? { … } : null`, so no object is built outside a trace.
 */
export function withAttrs<V extends { readonly node: Node | null }>(v: V, attrs: Record<string, unknown> | null): V {
  if (attrs !== null && v.node !== null) v.node.attrs = attrs;
  return v;
}
