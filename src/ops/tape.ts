// tape.ts: the recorded graph of differentiable ops and the engine that walks it backward: grad mode
// (noGrad scopes), one Node per recorded op with the variables it saved and their versions, gradient
// accumulation into leaves, and freeing the graph after a backward pass unless it is retained.

import { opArray } from './buffers.js';

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

  constructor(op: string, inputs: readonly TapeVariable[], saved: readonly TapeVariable[], backwardFn: BackwardFn, outputSize: number) {
    this.op = op;
    this.inputs = inputs;
    this.saved = saved;
    this.savedVersions = saved.map((v) => v.version);
    this.backwardFn = backwardFn;
    this.retained = null;
    this.outputSize = outputSize;
    this.attrs = null;
  }

  /** Drops the saved variables and the backward closure (what holds the intermediate buffers). */
  free(): void {
    this.backwardFn = null;
    this.saved = [];
    this.savedVersions = [];
    this.inputs = [];
  }
}

/** Nodes reachable from `root`, each after every node that consumes its output (reverse topological order). */
function orderFrom(root: Node): Node[] {
  // Iterative post-order DFS (a long chain of ops must not overflow the call stack).
  const post: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.inputs.length) {
      const child = top.node.inputs[top.next++].node;
      if (child !== null && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      post.push(top.node);
      stack.pop();
    }
  }
  return post.reverse();
}

function addInto(target: Float32Array, g: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] += g[i];
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
  const order = orderFrom(root.node);
  const grads = new Map<Node, Float32Array>([[root.node, gradient]]);
  const owned = new Set<Float32Array>();
  for (const node of order) {
    const g = grads.get(node);
    grads.delete(node);
    if (g === undefined) continue; // reachable only through inputs that needed no gradient
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
      if (input.node === null) {
        input.accumulateGrad(gi);
        continue;
      }
      const prev = grads.get(input.node);
      if (prev === undefined) {
        grads.set(input.node, gi);
      } else if (owned.has(prev)) {
        addInto(prev, gi);
      } else {
        // Neither array may be written: they can be another node's gradient or saved state.
        const sum = opArray(prev.length);
        for (let j = 0; j < sum.length; j++) sum[j] = prev[j] + gi[j];
        owned.add(sum);
        grads.set(input.node, sum);
      }
    }
  }
  if (!retainGraph) for (const node of order) node.free();
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
