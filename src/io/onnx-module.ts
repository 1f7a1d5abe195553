// ONNX export of any traceable Module (opset 13): the module is traced twice (two batch sizes, to tell
// the batch axis apart), and each traced op becomes ONNX nodes, built from the arguments the op
// recorded on the tape while the trace ran (node.attrs: axes, ranges, conv geometry, clamp bounds, …).
import { Module } from '../model/module.js';
import { Sequential } from '../model/sequential.js';
import { traceModule, type Trace, type TraceOp, type TraceValue } from '../model/trace.js';
import type { Layer } from '../layers/layer.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import {
  ONNX_OPSET, translateLayer, writeOnnxNode as writeNode, writeOnnxTensor as writeTensor,
  type OnnxAttribute as Attribute, type OnnxInitializer as Initializer, type OnnxNode,
} from './onnx.js';
import { ProtoWriter } from './protobuf.js';

/** ONNX IR version matching opset 13 (as onnx.ts writes). */
const IR_VERSION = 7;
/** TensorProto.DataType values. */
const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const ONNX_BOOL = 9;

/** The plain ops (tape names) the module exporter maps, besides layer modules and Sequentials. */
export const ONNX_MODULE_OPS: readonly string[] = [
  'add', 'sub', 'mul', 'div', 'neg', 'abs', 'exp', 'log', 'sqrt', 'pow', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu', 'silu',
  'softmax', 'logSoftmax', 'matmul', 'sum', 'mean', 'max', 'min', 'var', 'clamp', 'where', 'reshape', 'squeeze', 'unsqueeze', 'flatten',
  'transpose', 'permute', 'concat', 'stack', 'slice', 'select', 'indexSelect', 'pad', 'conv2d', 'conv1d', 'maxPool2d', 'avgPool2d',
  'layerNorm', 'batchNorm', 'embedding', 'mse',
];

const UNARY: Readonly<Record<string, string>> = {
  neg: 'Neg', abs: 'Abs', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid',
};
const BINARY: Readonly<Record<string, string>> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' };
const VIEWS = new Set(['reshape', 'squeeze', 'unsqueeze', 'flatten']);

interface IntInitializer {
  readonly name: string;
  readonly data: readonly number[];
  /** Shape (default `[data.length]`; `[]` for a scalar). */
  readonly dims?: readonly number[];
}

const REDUCE: Readonly<Record<string, string>> = { mean: 'ReduceMean', max: 'ReduceMax', min: 'ReduceMin' };

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Builds the graph: names values, collects nodes and initializers. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly ints: IntInitializer[] = [];
  private readonly names = new Map<number, string>();
  private readonly initialized = new Set<string>();
  private count = 0;

  constructor(readonly trace: Trace, readonly weights: Record<string, Tensor>) {}

  fresh(hint: string): string {
    return `${hint}#${this.count++}`;
  }

  setName(v: TraceValue, name: string): void {
    this.names.set(v.id, name);
  }

  /** The ONNX name of a traced value; a parameter, buffer or constant becomes an initializer on first use. */
  name(v: TraceValue): string {
    const known = this.names.get(v.id);
    if (known !== undefined) return known;
    if (v.kind === 'op' || v.kind === 'input') throw new Error(`exportOnnx: internal: value ${v.name} used before it was produced`);
    const name = v.kind === 'const' ? `const.${v.id}` : v.name;
    this.float(name, v.value);
    this.names.set(v.id, name);
    return name;
  }

  float(name: string, t: Tensor): string {
    if (!this.initialized.has(name)) {
      this.initialized.add(name);
      this.initializers.push({ name, dims: t.shape, data: t.data });
    }
    return name;
  }

  int64(hint: string, data: readonly number[], dims?: readonly number[]): string {
    const name = this.fresh(hint);
    this.ints.push({ name, data, dims });
    return name;
  }

  /** A float scalar initializer. */
  scalar(hint: string, value: number): string {
    return this.float(this.fresh(hint), new Tensor(Float32Array.of(value), []));
  }

  node(op: string, inputs: readonly string[], output: string, attributes: Attribute[] = [], name?: string): void {
    this.nodes.push({ op, name: name ?? this.fresh(op), inputs, output, attributes });
  }
}

/**
 * Encodes a Module as an ONNX ModelProto (opset 13) by tracing it in eval mode: layer modules become
 * their layers' nodes (Conv, Gemm, BatchNormalization, …; weights named by state-dict key), a
 * Sequential inside becomes its layers' nodes, and plain ops map to Add, Sub, Mul, Div, MatMul (with
 * Transpose where an operand was transposed), Relu, Sigmoid, Tanh, Erf-based GELU, Softmax, ReduceSum,
 * ReduceMean, ReduceMax, Reshape, Transpose, Concat, Slice, Gather, Pad, Where, Clip, Conv, MaxPool,
 * AveragePool, … (see {@link ONNX_MODULE_OPS}); each op's arguments are the ones it recorded on the
 * tape during the trace (node.attrs). Inputs are `input` (or
 * `input0`, `input1`, …) and outputs `output` (or the forward's array indices / record keys), with a
 * symbolic batch axis.
 *
 * Throws naming the op when an op has no ONNX mapping, and when the graph changes with the batch size
 * (data-dependent control flow cannot be exported: a trace records one path).
 */
export function encodeModuleOnnx(module: Module, options: { inputShapes?: readonly (readonly number[])[] } = {}): Uint8Array {
  if (!(module instanceof Module)) throw new Error('exportOnnx: expected a Module');
  const t1 = traceModule(module, { inputShapes: options.inputShapes, batch: 2, seed: 1 });
  const t2 = traceModule(module, { inputShapes: options.inputShapes, batch: 3, seed: 2 });
  if (t1.ops.length !== t2.ops.length || t1.ops.some((op, i) => op.op !== t2.ops[i].op) || t1.values.length !== t2.values.length) {
    throw new Error(`exportOnnx: the graph of ${module.constructor.name} changes with the batch size (control flow that depends on the data or the batch cannot be exported: a trace records one path)`);
  }
  const g = new GraphBuilder(t1, module.stateDict());
  const inputNames = t1.inputs.length === 1 ? ['input'] : t1.inputs.map((_, i) => `input${i}`);
  t1.inputs.forEach((v, i) => g.setName(v, inputNames[i]));
  const outputNames = t1.outputNames.slice();
  const outputOf = new Map<number, string>();
  t1.outputs.forEach((v, i) => {
    if (!outputOf.has(v.id) && v.kind === 'op') outputOf.set(v.id, outputNames[i]);
  });
  /** Axes of a value whose size follows the batch (they differ between the two traces). */
  const batchAxes = (v: TraceValue): number[] => {
    const other = t2.values[v.id].value.shape;
    return v.value.shape.map((d, i) => (d !== other[i] ? i : -1)).filter((i) => i >= 0);
  };
  for (const [i, op] of t1.ops.entries()) {
    const out = outputOf.get(op.output.id) ?? `v${op.output.id}`;
    mapOp(g, op, out, batchAxes, t2.ops[i]);
    g.setName(op.output, out);
  }
  // Outputs that are not an op's own result (an input or weight returned as is, or one value returned twice).
  t1.outputs.forEach((v, i) => {
    if (outputOf.get(v.id) !== outputNames[i]) g.node('Identity', [g.name(v)], outputNames[i]);
  });

  dedupeInitializers(g);
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, 'tensorkit');
  w.string(3, '0.1.0');
  w.message(7, (gw) => {
    for (const n of g.nodes) gw.message(1, (m) => writeNode(m, n));
    gw.string(2, `tensorkit-${module.constructor.name}`);
    for (const t of g.initializers) gw.message(5, (m) => writeTensor(m, t));
    for (const t of g.ints) gw.message(5, (m) => writeInt64(m, t));
    t1.inputs.forEach((v, i) => gw.message(11, (m) => writeValueInfo(m, inputNames[i], v.value.shape, batchAxes(v))));
    t1.outputs.forEach((v, i) => gw.message(12, (m) => writeValueInfo(m, outputNames[i], v.value.shape, batchAxes(v))));
  });
  w.message(8, (o) => o.string(1, '').int(2, ONNX_OPSET));
  return w.finish();
}

function unsupported(op: TraceOp, why: string): never {
  const where = op.modulePath ? ` (${op.modulePath})` : '';
  throw new Error(`exportOnnx: op "${op.op}"${where} ${why}; exportable ops: layer modules of kinds with an ONNX translation, Sequential, ${ONNX_MODULE_OPS.join(', ')}`);
}

function mapOp(g: GraphBuilder, op: TraceOp, out: string, batchAxes: (v: TraceValue) => number[], other: TraceOp): void {
  const attrs = op.attrs ?? {};
  const x = op.inputs[0];
  const y = op.output.value;
  if (attrs.module instanceof Sequential) {
    mapSequential(g, attrs.module, op.modulePath ?? 'sequential', g.name(x), out);
    return;
  }
  if (attrs.layer !== undefined) {
    mapLayer(g, op, attrs.layer as Layer, attrs.inputShape as number[], out);
    return;
  }
  if (BINARY[op.op] !== undefined && op.inputs.length === 2) {
    g.node(BINARY[op.op], [g.name(op.inputs[0]), g.name(op.inputs[1])], out);
    return;
  }
  if (UNARY[op.op] !== undefined && op.inputs.length === 1) {
    g.node(UNARY[op.op], [g.name(x)], out);
    return;
  }
  const xin = g.name(x);
  switch (op.op) {
    case 'pow': {
      if (op.inputs.length === 2) {
        g.node('Pow', [xin, g.name(op.inputs[1])], out);
        return;
      }
      g.node('Pow', [xin, g.float(g.fresh('exponent'), new Tensor(Float32Array.of(num(op, 'exponent')), []))], out);
      return;
    }
    case 'leakyRelu': {
      g.node('LeakyRelu', [xin], out, [{ name: 'alpha', float: num(op, 'slope') }]);
      return;
    }
    case 'silu': {
      const s = g.fresh('sigmoid');
      g.node('Sigmoid', [xin], s);
      g.node('Mul', [xin, s], out);
      return;
    }
    case 'gelu': {
      const half = g.float(g.fresh('half'), new Tensor(Float32Array.of(0.5), []));
      const one = g.float(g.fresh('one'), new Tensor(Float32Array.of(1), []));
      const a = g.fresh('gelu'); const b = g.fresh('gelu'); const c = g.fresh('gelu');
      if (need<string>(op, 'approximate') === 'none') {
        // x·0.5·(1 + erf(x/√2))
        g.node('Div', [xin, g.float(g.fresh('sqrt2'), new Tensor(Float32Array.of(Math.SQRT2), []))], a);
        g.node('Erf', [a], b);
        g.node('Add', [b, one], c);
      } else {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const cube = g.fresh('gelu'); const inner = g.fresh('gelu');
        g.node('Pow', [xin, g.float(g.fresh('three'), new Tensor(Float32Array.of(3), []))], cube);
        g.node('Mul', [cube, g.float(g.fresh('k'), new Tensor(Float32Array.of(0.044715), []))], inner);
        g.node('Add', [xin, inner], a);
        const scaled = g.fresh('gelu');
        g.node('Mul', [a, g.float(g.fresh('c'), new Tensor(Float32Array.of(Math.sqrt(2 / Math.PI)), []))], scaled);
        g.node('Tanh', [scaled], b);
        g.node('Add', [b, one], c);
      }
      const d = g.fresh('gelu');
      g.node('Mul', [xin, c], d);
      g.node('Mul', [d, half], out);
      return;
    }
    case 'softmax':
    case 'logSoftmax':
      g.node(op.op === 'logSoftmax' ? 'LogSoftmax' : 'Softmax', [xin], out, [{ name: 'axis', int: num(op, 'axis') }]);
      return;
    case 'matmul': {
      const b = op.inputs[1];
      const swap = (name: string, rank: number): string => {
        const t = g.fresh('transposed');
        const perm = Array.from({ length: rank }, (_, i) => i);
        [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
        g.node('Transpose', [name], t, [{ name: 'perm', ints: perm }]);
        return t;
      };
      const ta = need<boolean>(op, 'transA');
      const tb = need<boolean>(op, 'transB');
      g.node('MatMul', [ta ? swap(xin, x.value.rank) : xin, tb ? swap(g.name(b), b.value.rank) : g.name(b)], out);
      return;
    }
    case 'sum':
    case 'mean':
    case 'max':
    case 'min': {
      const axes = need<number[]>(op, 'axes');
      const keep = need<boolean>(op, 'keepDims') ? 1 : 0;
      if (axes.length === 0) {
        // ONNX reads no axes as all of them; the op reduced nothing.
        g.node('Identity', [xin], out);
        return;
      }
      if (op.op === 'sum') g.node('ReduceSum', [xin, g.int64('axes', axes)], out, [{ name: 'keepdims', int: keep }]);
      else g.node(REDUCE[op.op], [xin], out, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: keep }]);
      return;
    }
    case 'transpose':
    case 'permute':
      g.node('Transpose', [xin], out, [{ name: 'perm', ints: need<number[]>(op, 'perm') }]);
      return;
    case 'concat':
      g.node('Concat', op.inputs.map((v) => g.name(v)), out, [{ name: 'axis', int: num(op, 'axis') }]);
      return;
    case 'var': {
      const axes = need<number[]>(op, 'axes');
      const keep = need<boolean>(op, 'keepDims') ? 1 : 0;
      const correction = num(op, 'correction');
      if (correction !== 0 && axes.some((d) => batchAxes(x).includes(d))) {
        return unsupported(op, `with correction ${correction} over the batch axis (its divisor n − correction would depend on the batch size, which the export leaves symbolic)`);
      }
      // Σ(x − mean)² / (n − correction): ReduceMean, Sub, Mul, then ReduceSum and Div (ReduceMean when correction is 0).
      const m = g.fresh('var.mean'); const d = g.fresh('var.centered'); const sq = g.fresh('var.squared');
      g.node('ReduceMean', [xin], m, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: 1 }]);
      g.node('Sub', [xin, m], d);
      g.node('Mul', [d, d], sq);
      if (correction === 0) {
        g.node('ReduceMean', [sq], out, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: keep }]);
        return;
      }
      const ss = g.fresh('var.sum');
      const n = axes.reduce((p, a) => p * x.value.shape[a], 1);
      g.node('ReduceSum', [sq, g.int64('axes', axes)], ss, [{ name: 'keepdims', int: keep }]);
      g.node('Div', [ss, g.scalar('var.divisor', Math.max(0, n - correction))], out);
      return;
    }
    case 'clamp': {
      const lo = num(op, 'min');
      const hi = num(op, 'max');
      // An omitted bound is an empty input name (Clip's optional inputs).
      const inputs = [xin, lo === -Infinity ? '' : g.scalar('clamp.min', lo)];
      if (hi !== Infinity) inputs.push(g.scalar('clamp.max', hi));
      g.node('Clip', inputs, out);
      return;
    }
    case 'where': {
      const cond = need<Tensor>(op, 'cond');
      const again = other.attrs?.cond;
      if (!(again instanceof Tensor) || !sameShape(cond.shape, again.shape) || cond.data.some((v, i) => !Object.is(v, again.data[i]))) {
        return unsupported(op, 'has a condition that changes with the data or the batch (only a constant mask can be exported)');
      }
      // Nonzero and NaN count as true, as the op reads them.
      const mask = new Tensor(Float32Array.from(cond.data, (v) => (v !== 0 ? 1 : 0)), cond.shape);
      const c = g.fresh('where.cond');
      g.node('Cast', [g.float(g.fresh('where.mask'), mask)], c, [{ name: 'to', int: ONNX_BOOL }]);
      g.node('Where', [c, xin, g.name(op.inputs[1])], out);
      return;
    }
    case 'slice': {
      const starts = need<number[]>(op, 'starts');
      const steps = need<number[]>(op, 'steps');
      const axes = starts.map((_, d) => d).filter((d) => starts[d] !== 0 || steps[d] !== 1 || y.shape[d] !== x.value.shape[d]);
      if (axes.some((d) => batchAxes(x).includes(d))) return unsupported(op, 'slices the batch axis, whose size the export leaves symbolic');
      if (axes.length === 0) {
        g.node('Identity', [xin], out);
        return;
      }
      if (axes.some((d) => y.shape[d] === 0)) return unsupported(op, 'has an empty result, which the export does not write');
      const ends = axes.map((d) => starts[d] + (y.shape[d] - 1) * steps[d] + 1);
      g.node('Slice', [xin, g.int64('starts', axes.map((d) => starts[d])), g.int64('ends', ends), g.int64('axes', axes), g.int64('steps', axes.map((d) => steps[d]))], out);
      return;
    }
    case 'select': {
      const axis = num(op, 'axis');
      if (batchAxes(x).includes(axis)) return unsupported(op, 'picks along the batch axis, whose size the export leaves symbolic');
      g.node('Gather', [xin, g.int64('index', [num(op, 'index')], [])], out, [{ name: 'axis', int: axis }]);
      return;
    }
    case 'indexSelect': {
      const axis = num(op, 'axis');
      if (batchAxes(x).includes(axis)) return unsupported(op, 'picks along the batch axis, whose size the export leaves symbolic');
      g.node('Gather', [xin, g.int64('indices', need<number[]>(op, 'indices'))], out, [{ name: 'axis', int: axis }]);
      return;
    }
    case 'pad': {
      const before = need<number[]>(op, 'before');
      const after = need<number[]>(op, 'after');
      if (batchAxes(x).some((d) => before[d] !== 0 || after[d] !== 0)) return unsupported(op, 'pads the batch axis, whose size the export leaves symbolic');
      g.node('Pad', [xin, g.int64('pads', [...before, ...after]), g.scalar('pad.value', num(op, 'value'))], out);
      return;
    }
    case 'stack': {
      const axis = num(op, 'axis');
      const parts = op.inputs.map((v) => {
        const u = g.fresh('stack.part');
        g.node('Unsqueeze', [g.name(v), g.int64('axes', [axis])], u);
        return u;
      });
      g.node('Concat', parts, out, [{ name: 'axis', int: axis }]);
      return;
    }
    case 'conv2d':
    case 'conv1d': {
      const r = windowOf(op);
      const groups = num(op, 'groups');
      const oneD = op.op === 'conv1d';
      const inputs = op.inputs.map((v) => g.name(v));
      g.node('Conv', inputs, out, [
        { name: 'kernel_shape', ints: oneD ? [r.kernel[1]] : [...r.kernel] },
        { name: 'strides', ints: oneD ? [r.stride[1]] : [...r.stride] },
        { name: 'pads', ints: oneD ? [r.pads[1], r.pads[3]] : [...r.pads] },
        { name: 'dilations', ints: oneD ? [r.dilation[1]] : [...r.dilation] },
        { name: 'group', int: groups },
      ]);
      return;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const r = windowOf(op);
      const attrs: Attribute[] = poolAttributes(r);
      if (op.op === 'avgPool2d') attrs.push({ name: 'count_include_pad', int: need<boolean>(op, 'countIncludePad') ? 1 : 0 });
      const onnxOp = op.op === 'maxPool2d' ? 'MaxPool' : 'AveragePool';
      if (x.value.rank === 4) {
        g.node(onnxOp, [xin], out, attrs);
        return;
      }
      // [C, H, W]: pool it as a batch of one.
      const u = g.fresh('pool.batched'); const p = g.fresh('pool.out');
      g.node('Unsqueeze', [xin, g.int64('axes', [0])], u);
      g.node(onnxOp, [u], p, attrs);
      g.node('Squeeze', [p, g.int64('axes', [0])], out);
      return;
    }
    case 'layerNorm': {
      const dims = need<number[]>(op, 'normalizedShape').length;
      const hasWeight = need<boolean>(op, 'weight');
      const r = { eps: num(op, 'eps'), weight: hasWeight ? op.inputs[1] : null, bias: need<boolean>(op, 'bias') ? op.inputs[hasWeight ? 2 : 1] : null };
      const axes = Array.from({ length: dims }, (_, i) => x.value.rank - dims + i);
      const m = g.fresh('ln.mean'); const d = g.fresh('ln.centered'); const sq = g.fresh('ln.squared'); const v = g.fresh('ln.var');
      const ve = g.fresh('ln.var_eps'); const sd = g.fresh('ln.std');
      g.node('ReduceMean', [xin], m, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: 1 }]);
      g.node('Sub', [xin, m], d);
      g.node('Mul', [d, d], sq);
      g.node('ReduceMean', [sq], v, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: 1 }]);
      g.node('Add', [v, g.scalar('ln.eps', r.eps)], ve);
      g.node('Sqrt', [ve], sd);
      const steps: [string, TraceValue | null][] = [['Mul', r.weight], ['Add', r.bias]];
      const last = steps.filter(([, p]) => p !== null).length;
      let cur = d;
      let k = 0;
      const normed = last === 0 ? out : g.fresh('ln.normed');
      g.node('Div', [cur, sd], normed);
      cur = normed;
      for (const [onnxOp, p] of steps) {
        if (p === null) continue;
        const next = ++k === last ? out : g.fresh('ln.affine');
        g.node(onnxOp, [cur, g.name(p)], next);
        cur = next;
      }
      return;
    }
    case 'batchNorm': {
      const r = channelAffine(op);
      const scaled = g.fresh('bn.scaled');
      g.node('Mul', [xin, g.float(g.fresh('bn.scale'), r.scale)], scaled);
      g.node('Add', [scaled, g.float(g.fresh('bn.shift'), r.shift)], out);
      return;
    }
    case 'embedding': {
      const r = constantIndices(op, other);
      g.node('Gather', [xin, g.int64('indices', r.indices, r.shape)], out, [{ name: 'axis', int: 0 }]);
      return;
    }
    case 'mse': {
      const d = g.fresh('mse.diff'); const sq = g.fresh('mse.squared');
      g.node('Sub', [xin, g.name(op.inputs[1])], d);
      g.node('Mul', [d, d], sq);
      g.node('ReduceMean', [sq], out, [{ name: 'keepdims', int: 0 }]);
      return;
    }
    case 'crossEntropy':
      return unsupported(op, 'has no ONNX mapping (a loss: its class-index targets and options are not on the tape)');
    case 'dropout':
      return unsupported(op, 'ran in training mode (a random mask); call it with training: this.training so that eval mode, which export traces, returns its input');
    default:
      if (VIEWS.has(op.op)) {
        const axes = batchAxes(op.output);
        if (axes.length > 1) unsupported(op, 'has an output with several axes that grow with the batch');
        const shape = y.shape.map((d, i) => (axes.includes(i) ? -1 : d));
        g.node('Reshape', [xin, g.int64('shape', shape)], out);
        return;
      }
      return unsupported(op, 'has no ONNX mapping');
  }
}

function mapSequential(g: GraphBuilder, seq: Sequential, path: string, input: string, out: string): void {
  let current = input;
  seq.layers.forEach((layer, i) => {
    const output = i === seq.layers.length - 1 ? out : g.fresh(`${path}.${i}.output`);
    pushLayerNodes(g, translateLayer(layer, `${path}.${i}`, current, output, g.weights, g.initializers, seq.layerShapes[i - 1] ?? seq.inputShape), output);
    current = output;
  });
}

function mapLayer(g: GraphBuilder, op: TraceOp, layer: Layer, layerInput: readonly number[], out: string): void {
  const path = op.modulePath ?? layer.kind;
  const x = op.inputs[0];
  if (x.value.rank !== layerInput.length) {
    // nn.Linear over the last axis of [..., in]: MatMul with the transposed weight, then the bias.
    if (layer.kind !== 'dense') unsupported(op, `ran on a reshaped input ${formatShape(x.value.shape)}, which only dense layers export`);
    const wt = g.fresh(`${path}.weight.T`);
    g.node('Transpose', [g.float(`${path}.weight`, g.weights[`${path}.weight`])], wt, [{ name: 'perm', ints: [1, 0] }]);
    const hasBias = `${path}.bias` in g.weights;
    const mm = hasBias ? g.fresh(`${path}.matmul`) : out;
    g.node('MatMul', [g.name(x), wt], mm);
    if (hasBias) g.node('Add', [mm, g.float(`${path}.bias`, g.weights[`${path}.bias`])], out);
    return;
  }
  let made: OnnxNode | readonly OnnxNode[];
  try {
    made = translateLayer(layer, path, g.name(x), out, g.weights, g.initializers, layerInput.slice(1));
  } catch (err) {
    return unsupported(op, (err as Error).message.replace(/^exportOnnx: /, ''));
  }
  pushLayerNodes(g, made, out);
}

/**
 * Adds a layer's node (or chain of nodes) with unique names: intermediate values of a chain are named
 * after the layer, so a layer module used twice would define them twice; they are renamed apart.
 */
function pushLayerNodes(g: GraphBuilder, made: OnnxNode | readonly OnnxNode[], out: string): void {
  const nodes: readonly OnnxNode[] = Array.isArray(made) ? made : [made as OnnxNode];
  const rename = new Map<string, string>();
  for (const n of nodes) if (n.output !== out) rename.set(n.output, g.fresh(n.output));
  for (const n of nodes) {
    const extra = (n as { moreOutputs?: readonly string[] }).moreOutputs;
    const renamed: OnnxNode & { moreOutputs?: readonly string[] } = {
      ...n,
      name: g.fresh(n.name),
      inputs: n.inputs.map((s) => rename.get(s) ?? s),
      output: rename.get(n.output) ?? n.output,
    };
    if (extra !== undefined) {
      const outs = extra.map((o) => {
        if (!rename.has(o)) rename.set(o, g.fresh(o));
        return rename.get(o) as string;
      });
      renamed.moreOutputs = outs;
    }
    g.nodes.push(renamed);
  }
}

/** translate() pushes a layer's weights each time it is called: keep the first of each name (a shared layer). */
function dedupeInitializers(g: GraphBuilder): void {
  const seen = new Set<string>();
  let k = 0;
  for (const t of g.initializers) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    g.initializers[k++] = t;
  }
  g.initializers.length = k;
}

function writeInt64(w: ProtoWriter, t: IntInitializer): void {
  for (const d of t.dims ?? [t.data.length]) w.int(1, d);
  w.int(2, ONNX_INT64);
  w.string(8, t.name);
  const raw = new Uint8Array(8 * t.data.length);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < t.data.length; k++) view.setBigInt64(8 * k, BigInt(t.data[k]), true);
  w.bytes(9, raw);
}

/** A float tensor ValueInfo whose `batchAxes` are the symbolic `batch`. */
function writeValueInfo(w: ProtoWriter, name: string, shape: readonly number[], batchAxes: readonly number[]): void {
  w.string(1, name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, ONNX_FLOAT);
    tensor.message(2, (s) => {
      shape.forEach((d, i) => s.message(1, (dim) => (batchAxes.includes(i) ? dim.string(2, 'batch') : dim.int(1, d))));
    });
  }));
}

/** An argument the op recorded on the tape (node.attrs, set while a trace runs); throws naming the op if absent. */
function need<T>(op: TraceOp, key: string): T {
  const v = op.attrs?.[key];
  if (v === undefined) return unsupported(op, `recorded no "${key}" argument on the tape (was it traced with an older op, or a custom one under a built-in name?)`);
  return v as T;
}

function num(op: TraceOp, key: string): number {
  return need<number>(op, key);
}

/** Geometry of a 2-D convolution or pooling (a 1-D one has height 1, kernel 1 and no padding on H). */
interface Window2d {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  /** [top, left, bottom, right], ONNX's order. */
  readonly pads: readonly number[];
  readonly dilation: readonly number[];
}

/** The window a traced conv or pool recorded. */
function windowOf(op: TraceOp): Window2d {
  return { kernel: need(op, 'kernel'), stride: need(op, 'stride'), pads: need(op, 'pads'), dilation: op.attrs?.dilation as number[] | undefined ?? [1, 1] };
}

/** ONNX pooling attributes of a recorded window. */
function poolAttributes(r: Window2d): Attribute[] {
  return [{ name: 'kernel_shape', ints: [...r.kernel] }, { name: 'strides', ints: [...r.stride] }, { name: 'pads', ints: [...r.pads] }];
}

/**
 * batchNorm with running statistics as y = x·scale_c + shift_c per channel c (axis 1), from the mean
 * and 1/√(var + eps) it recorded and its weight and bias inputs. Batch statistics (`training: true`)
 * change with the batch, so that op is refused. Shapes [C, 1, …] broadcast over x.
 */
function channelAffine(op: TraceOp): { scale: Tensor; shift: Tensor } {
  if (need<boolean>(op, 'training')) {
    return unsupported(op, 'normalizes with batch statistics (training: true), which change with the batch; export uses the running statistics (pass training: this.training)');
  }
  const mean = need<ArrayLike<number>>(op, 'mean');
  const invStd = need<ArrayLike<number>>(op, 'invStd');
  const hasWeight = need<boolean>(op, 'weight');
  const w = hasWeight ? op.inputs[1].value.data : null;
  const b = need<boolean>(op, 'bias') ? op.inputs[hasWeight ? 2 : 1].value.data : null;
  const C = mean.length;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const a = invStd[c] * (w === null ? 1 : w[c]);
    scale[c] = a;
    shift[c] = (b === null ? 0 : b[c]) - mean[c] * a;
  }
  const shape = [C, ...new Array<number>(op.inputs[0].value.rank - 2).fill(1)];
  return { scale: new Tensor(scale, shape), shift: new Tensor(shift, shape) };
}

/**
 * embedding's indices (recorded, not a tape input): they must be the same in both traces (indices
 * read from the data, or shaped by the batch, cannot be exported as a constant).
 */
function constantIndices(op: TraceOp, other: TraceOp): { indices: number[]; shape: number[] } {
  const a = need<ArrayLike<number>>(op, 'indices');
  const shape = need<number[]>(op, 'shape');
  const b = other.attrs?.indices as ArrayLike<number> | undefined;
  const otherShape = other.attrs?.shape as number[] | undefined;
  if (b === undefined || otherShape === undefined || !sameShape(shape, otherShape) || Array.prototype.some.call(a, (v: number, i: number) => v !== b[i])) {
    return unsupported(op, 'has indices that change with the data or the batch (they are not on the tape; only constant indices can be exported)');
  }
  return { indices: Array.from(a), shape };
}
