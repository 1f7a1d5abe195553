// Tracing: runs a module's forward once on sample inputs with every op recorded on the tape (eval mode,
// nothing backpropagated), and reads the graph back as a list of ops over named values: the inputs,
// the parameters and buffers (by state-dict key), constants, and op results. Summary and ONNX export read it.
import { Variable } from '../ops/variable.js';
import { setAttrsEnabled, withGradMode } from '../ops/tape.js';
import { heapFloat32 } from '../runtime/heap.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import type { Node } from '../ops/tape.js';
import { Module, type ModuleOutput } from './module.js';

/** One value of a traced graph. */
export interface TraceValue {
  /** Position in {@link Trace.values}. */
  readonly id: number;
  /** `input` (a forward argument), `param` / `buffer` (by state-dict key), `const` (any other leaf), `op` (an op's result). */
  readonly kind: 'input' | 'param' | 'buffer' | 'const' | 'op';
  /** The state-dict key of a parameter or buffer, `input<i>` for inputs, `v<id>` otherwise. */
  readonly name: string;
  /** Its value in the trace (batch = the trace's batch size); op results are copies, safe to keep. */
  readonly value: Tensor;
}

/** One traced op, in execution order (every input is produced before it). */
export interface TraceOp {
  /** The op's name on the tape (`add`, `matmul`, `conv2d` for a layer module, `sequential`, …). */
  readonly op: string;
  readonly inputs: readonly TraceValue[];
  readonly output: TraceValue;
  /** What the op recorded about itself (`node.attrs`): a layer module's `module` and `layer`, …; null if nothing. */
  readonly attrs: Readonly<Record<string, unknown>> | null;
  /** The attribute path of the layer module or Sequential that recorded the op, or null for plain ops. */
  readonly modulePath: string | null;
}

/** A module's forward as a graph (see {@link traceModule}). */
export interface Trace {
  readonly module: Module;
  /** Batch size the trace ran with. */
  readonly batch: number;
  readonly values: readonly TraceValue[];
  readonly inputs: readonly TraceValue[];
  /** In the forward's order (array order, or record key order with `outputNames`). */
  readonly outputs: readonly TraceValue[];
  readonly outputNames: readonly string[];
  readonly ops: readonly TraceOp[];
}

/** Options of {@link traceModule}. */
export interface TraceOptions {
  /** Per-sample input shapes (default: the shapes the module was built or first called with). */
  readonly inputShapes?: readonly (readonly number[])[];
  /** Batch size of the sample inputs (default 2). */
  readonly batch?: number;
  /** Seed of the sample inputs' values (default 1): N(0, 1), so that ties and zeros are unlikely. */
  readonly seed?: number;
}

/**
 * Traces `module`: runs its forward once in eval mode on random sample inputs `[batch, ...shape]`
 * that require grad, so every op that depends on an input or a parameter is recorded, then walks the
 * recorded graph from the outputs. The module's train/eval modes are restored afterwards.
 *
 * What a trace cannot see: control flow that depends on the data (only the branch taken is recorded),
 * values computed without the tape (a Tensor built from `.data` in forward becomes a constant), and
 * side effects. Tools built on it (summary FLOPs, ONNX export) say so in their errors.
 */
export function traceModule(module: Module, options: TraceOptions = {}): Trace {
  if (!(module instanceof Module)) throw new Error('traceModule: expected a Module');
  const shapes = options.inputShapes ?? module.inputShapes;
  if (shapes === null || shapes === undefined) {
    throw new Error(`traceModule: ${module.constructor.name} has no known input shape; call build(inputShape) or run a forward first, or pass inputShapes`);
  }
  const batch = options.batch ?? 2;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`traceModule: batch must be a positive integer, got ${batch}`);
  const rng = new Rng(options.seed ?? 1);
  const inputs = shapes.map((s) => {
    const data = heapFloat32(batch * shapeSize(s));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return new Variable(new Tensor(data, [batch, ...s]), { requiresGrad: true });
  });
  const modes = module.namedModules().map(([, m]) => [m, m.training] as const);
  let out: ModuleOutput;
  module.eval();
  // Ops record their arguments (node.attrs) only while a trace runs.
  const attrsBefore = setAttrsEnabled(true);
  try {
    out = withGradMode(true, () => (module.forward as (...x: Variable[]) => ModuleOutput)(...inputs));
  } finally {
    setAttrsEnabled(attrsBefore);
    for (const [m, t] of modes) m.training = t;
  }
  let outputs: Variable[];
  let outputNames: string[];
  if (out instanceof Variable) {
    outputs = [out];
    outputNames = ['output'];
  } else if (Array.isArray(out)) {
    outputs = out as Variable[];
    outputNames = outputs.map((_, i) => `output${i}`);
  } else if (out !== null && typeof out === 'object') {
    outputNames = Object.keys(out);
    outputs = outputNames.map((k) => (out as Record<string, Variable>)[k]);
  } else {
    throw new Error(`traceModule: forward must return a Variable, an array or a record of them, got ${String(out)}`);
  }
  outputs.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new Error(`traceModule: output ${outputNames[i]} is not a Variable`);
  });

  const keyOf = new Map<Tensor, { name: string; kind: 'param' | 'buffer' }>();
  for (const [name, p] of module.namedParameters()) keyOf.set(p.value, { name, kind: 'param' });
  for (const [name, t] of module.namedBuffers()) keyOf.set(t, { name, kind: 'buffer' });
  const modulePaths = new Map<unknown, string>();
  for (const [name, m] of module.namedModules()) modulePaths.set(m, name);

  const values: TraceValue[] = [];
  const valueOf = new Map<Variable, TraceValue>();
  const ops: TraceOp[] = [];
  const add = (v: Variable, kind: TraceValue['kind'], name?: string): TraceValue => {
    // Op results are copied: a layer module's output views its buffer, which its next forward overwrites.
    const tv: TraceValue = { id: values.length, kind, name: name ?? `v${values.length}`, value: kind === 'op' ? v.value.clone() : v.value };
    values.push(tv);
    valueOf.set(v, tv);
    return tv;
  };
  const traced = inputs.map((v, i) => add(v, 'input', `input${i}`));
  // Iterative post-order from each output: a node's inputs get their values before the node's op.
  for (const root of outputs) {
    const stack: { v: Variable; next: number }[] = [{ v: root, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (valueOf.has(top.v)) {
        stack.pop();
        continue;
      }
      const node = top.v.node as Node | null;
      if (node === null) {
        const key = keyOf.get(top.v.value);
        if (key !== undefined) add(top.v, key.kind, key.name);
        else add(top.v, 'const');
        stack.pop();
        continue;
      }
      if (top.next < node.inputs.length) {
        const child = node.inputs[top.next++] as unknown as Variable;
        if (!valueOf.has(child)) stack.push({ v: child, next: 0 });
        continue;
      }
      const output = add(top.v, 'op');
      const attrs = node.attrs;
      const owner = attrs !== null ? attrs.module : undefined;
      ops.push({
        op: node.op,
        inputs: node.inputs.map((x) => valueOf.get(x as unknown as Variable) as TraceValue),
        output,
        attrs,
        modulePath: owner !== undefined ? modulePaths.get(owner) ?? null : null,
      });
      stack.pop();
    }
  }
  return {
    module, batch, values, inputs: traced, outputs: outputs.map((v) => valueOf.get(v) as TraceValue), outputNames, ops,
  };
}
