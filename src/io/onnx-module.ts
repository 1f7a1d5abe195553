// ONNX export of any traceable Module (opset 13): the module is traced twice (two batch sizes, to tell
// the batch axis apart), each traced op becomes ONNX nodes, and an op's unrecorded attributes (an axis,
// a permutation, a transposed operand) are recovered by checking candidates against the traced values.
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
import {
  coordsOf, recoverConv, recoverIndexSelect, recoverPad, recoverPool, recoverReduction, recoverSelect, recoverSlice,
  recoverStackAxis, reduceGroups, type Window2d,
} from './trace-attrs.js';

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

/** Close enough to count as the same computation (float32 results recomputed in doubles). */
function matches(got: ArrayLike<number>, want: ArrayLike<number>): boolean {
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = want[i];
    if (!(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)))) return false;
  }
  return true;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** `x` with axes permuted (`out.shape[i] = x.shape[perm[i]]`), as doubles. */
function permuted(x: Tensor, perm: readonly number[]): Float64Array {
  const shape = perm.map((p) => x.shape[p]);
  const xs = stridesOf(x.shape);
  const out = new Float64Array(x.size);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d] * xs[perm[d]];
    out[o] = x.data[src];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let i = 0; i <= rest.length; i++) out.push([...rest.slice(0, i), n - 1, ...rest.slice(i)]);
  }
  return out;
}

/** Every subset of `0 … n−1` with at least one element, as sorted arrays. */
function subsets(n: number): number[][] {
  const out: number[][] = [];
  for (let mask = 1; mask < 1 << n; mask++) out.push(Array.from({ length: n }, (_, i) => i).filter((i) => (mask >> i) & 1));
  return out;
}

/** Batched matmul in doubles with NumPy batch broadcasting; `ta`/`tb` transpose the last two axes of a / b. */
function matmulRef(a: Tensor, b: Tensor, ta: boolean, tb: boolean): { shape: number[]; data: Float64Array } | null {
  if (a.rank < 2 || b.rank < 2) return null;
  const [am, ak] = ta ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [bk, bn] = tb ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (ak !== bk) return null;
  const ab = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = ab[i - (rank - ab.length)] ?? 1;
    const db = bb[i - (rank - bb.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    batch.push(Math.max(da, db));
  }
  const count = batch.reduce((p, q) => p * q, 1);
  const out = new Float64Array(count * am * bn);
  const idx = new Array<number>(rank).fill(0);
  for (let p = 0; p < count; p++) {
    let pa = 0;
    let pb = 0;
    for (let d = 0; d < rank; d++) {
      const ja = d - (rank - ab.length);
      const jb = d - (rank - bb.length);
      if (ja >= 0) pa = pa * ab[ja] + (ab[ja] === 1 ? 0 : idx[d]);
      if (jb >= 0) pb = pb * bb[jb] + (bb[jb] === 1 ? 0 : idx[d]);
    }
    const ao = pa * am * ak;
    const bo = pb * bk * bn;
    for (let i = 0; i < am; i++) {
      for (let j = 0; j < bn; j++) {
        let s = 0;
        for (let k = 0; k < ak; k++) {
          const av = ta ? a.data[ao + k * am + i] : a.data[ao + i * ak + k];
          const bv = tb ? b.data[bo + j * bk + k] : b.data[bo + k * bn + j];
          s += av * bv;
        }
        out[(p * am + i) * bn + j] = s;
      }
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return { shape: [...batch, am, bn], data: out };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Sum (or mean) of `x` over `axes`, keeping them as size 1, in doubles. */
function reduceRef(x: Tensor, axes: readonly number[], mean: boolean): Float64Array {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = stridesOf(kept);
  const size = kept.reduce((p, q) => p * q, 1);
  const out = new Float64Array(size);
  const idx = new Array<number>(x.rank).fill(0);
  const count = axes.reduce((p, a) => p * x.shape[a], 1);
  for (let i = 0; i < x.size; i++) {
    let o = 0;
    for (let d = 0; d < x.rank; d++) if (!axes.includes(d)) o += idx[d] * ks[d];
    out[o] += x.data[i];
    for (let d = x.rank - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  if (mean) for (let i = 0; i < size; i++) out[i] /= count;
  return out;
}

/** Softmax (or log-softmax) of `x` along `axis`, in doubles. */
function softmaxRef(x: Tensor, axis: number, log: boolean): Float64Array {
  const out = new Float64Array(x.size);
  const s = stridesOf(x.shape);
  const n = x.shape[axis];
  const step = s[axis];
  for (let base = 0; base < x.size; base++) {
    // A base is the first element of a line along `axis`: its index on that axis is 0.
    if (Math.floor(base / step) % n !== 0) continue;
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, x.data[base + j * step]);
    let z = 0;
    for (let j = 0; j < n; j++) z += Math.exp(x.data[base + j * step] - m);
    for (let j = 0; j < n; j++) {
      const v = x.data[base + j * step] - m;
      out[base + j * step] = log ? v - Math.log(z) : Math.exp(v) / z;
    }
  }
  return out;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse to tell the GELU forms apart; use the series / continued fraction.
  const t = Math.abs(x);
  let r: number;
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let k = 1; k < 60; k++) {
      term *= -t * t / k;
      sum += term / (2 * k + 1);
    }
    r = 2 / Math.sqrt(Math.PI) * sum;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = k / 2 / (t + f);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return x < 0 ? -r : r;
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
 * AveragePool, … (see {@link ONNX_MODULE_OPS}); arguments the tape does not record are recovered from the
 * traced values (see ./trace-attrs.ts). Inputs are `input` (or
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
      // A number exponent is not recorded: read it off an element with x > 0, x ≠ 1, then check all.
      let p = NaN;
      for (let i = 0; i < x.value.size && Number.isNaN(p); i++) {
        const v = x.value.data[i];
        if (v > 0 && Math.abs(v - 1) > 0.1 && y.data[i] > 0) p = Math.round(Math.log(y.data[i]) / Math.log(v) * 1e4) / 1e4;
      }
      const want = Float64Array.from(x.value.data, (v) => Math.pow(v, p));
      if (Number.isNaN(p) || !matches(y.data, want)) unsupported(op, 'has an exponent that could not be recovered from the trace');
      g.node('Pow', [xin, g.float(g.fresh('exponent'), new Tensor(Float32Array.of(p), []))], out);
      return;
    }
    case 'leakyRelu': {
      let alpha = NaN;
      for (let i = 0; i < x.value.size && Number.isNaN(alpha); i++) if (x.value.data[i] < -1e-3) alpha = y.data[i] / x.value.data[i];
      if (Number.isNaN(alpha)) alpha = 0.01;
      g.node('LeakyRelu', [xin], out, [{ name: 'alpha', float: alpha }]);
      return;
    }
    case 'silu': {
      const s = g.fresh('sigmoid');
      g.node('Sigmoid', [xin], s);
      g.node('Mul', [xin, s], out);
      return;
    }
    case 'gelu': {
      const erfForm = Float64Array.from(x.value.data, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
      const half = g.float(g.fresh('half'), new Tensor(Float32Array.of(0.5), []));
      const one = g.float(g.fresh('one'), new Tensor(Float32Array.of(1), []));
      const a = g.fresh('gelu'); const b = g.fresh('gelu'); const c = g.fresh('gelu');
      if (matches(y.data, erfForm)) {
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
    case 'logSoftmax': {
      const log = op.op === 'logSoftmax';
      for (let axis = x.value.rank - 1; axis >= 0; axis--) {
        if (matches(y.data, softmaxRef(x.value, axis, log))) {
          g.node(log ? 'LogSoftmax' : 'Softmax', [xin], out, [{ name: 'axis', int: axis }]);
          return;
        }
      }
      return unsupported(op, 'over an axis that could not be recovered from the trace');
    }
    case 'matmul': {
      const b = op.inputs[1];
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        const r = matmulRef(x.value, b.value, ta, tb);
        if (r === null || !sameShape(r.shape, y.shape) || !matches(y.data, r.data)) continue;
        const swap = (name: string, rank: number): string => {
          const t = g.fresh('transposed');
          const perm = Array.from({ length: rank }, (_, i) => i);
          [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
          g.node('Transpose', [name], t, [{ name: 'perm', ints: perm }]);
          return t;
        };
        g.node('MatMul', [ta ? swap(xin, x.value.rank) : xin, tb ? swap(g.name(b), b.value.rank) : g.name(b)], out);
        return;
      }
      return unsupported(op, `on ${formatShape(x.value.shape)} · ${formatShape(b.value.shape)} could not be matched to MatMul with or without transposes`);
    }
    case 'sum':
    case 'mean': {
      const mean = op.op === 'mean';
      for (const axes of subsets(x.value.rank)) {
        const kept = x.value.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const dropped = x.value.shape.filter((_, i) => !axes.includes(i));
        const keep = sameShape(kept, y.shape) ? 1 : sameShape(dropped, y.shape) ? 0 : -1;
        if (keep < 0 || !matches(y.data, reduceRef(x.value, axes, mean))) continue;
        if (mean) g.node('ReduceMean', [xin], out, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: keep }]);
        else g.node('ReduceSum', [xin, g.int64('axes', axes)], out, [{ name: 'keepdims', int: keep }]);
        return;
      }
      return unsupported(op, 'over axes that could not be recovered from the trace');
    }
    case 'transpose':
    case 'permute': {
      for (const perm of permutations(x.value.rank)) {
        if (!sameShape(perm.map((p) => x.value.shape[p]), y.shape) || !matches(y.data, permuted(x.value, perm))) continue;
        g.node('Transpose', [xin], out, [{ name: 'perm', ints: perm }]);
        return;
      }
      return unsupported(op, 'with a permutation that could not be recovered from the trace');
    }
    case 'concat': {
      const r = y.rank;
      for (let axis = 0; axis < r; axis++) {
        const ok = op.inputs.every((v) => v.value.rank === r && v.value.shape.every((d, i) => i === axis || d === y.shape[i]))
          && op.inputs.reduce((s, v) => s + v.value.shape[axis], 0) === y.shape[axis];
        if (ok) {
          g.node('Concat', op.inputs.map((v) => g.name(v)), out, [{ name: 'axis', int: axis }]);
          return;
        }
      }
      return unsupported(op, 'along an axis that could not be recovered from the trace');
    }
    case 'max':
    case 'min': {
      const isMax = op.op === 'max';
      const r = recoverReduction(op, (v) => v.reduce((m, q) => (isMax ? Math.max(m, q) : Math.min(m, q))));
      if (r === null) return unsupported(op, 'over axes that could not be recovered from the trace');
      g.node(isMax ? 'ReduceMax' : 'ReduceMin', [xin], out, [{ name: 'axes', ints: r.axes }, { name: 'keepdims', int: r.keepDims ? 1 : 0 }]);
      return;
    }
    case 'var': {
      const r = recoverVar(op);
      if (r === null) return unsupported(op, 'over axes (or with a correction) that could not be recovered from the trace');
      // Σ(x − mean)² / (n − correction): ReduceMean, Sub, Mul, ReduceSum, Div.
      const m = g.fresh('var.mean'); const d = g.fresh('var.centered'); const sq = g.fresh('var.squared'); const ss = g.fresh('var.sum');
      g.node('ReduceMean', [xin], m, [{ name: 'axes', ints: r.axes }, { name: 'keepdims', int: 1 }]);
      g.node('Sub', [xin, m], d);
      g.node('Mul', [d, d], sq);
      g.node('ReduceSum', [sq, g.int64('axes', r.axes)], ss, [{ name: 'keepdims', int: r.keepDims ? 1 : 0 }]);
      g.node('Div', [ss, g.scalar('var.divisor', r.divisor)], out);
      return;
    }
    case 'clamp': {
      const bounds = recoverClamp(op, other);
      if (typeof bounds === 'string') return unsupported(op, bounds);
      g.node('Clip', [xin, g.scalar('clamp.min', bounds.min), g.scalar('clamp.max', bounds.max)], out);
      return;
    }
    case 'where': {
      const cond = recoverWhereCondition(op, other, batchAxes(op.output));
      if (typeof cond === 'string') return unsupported(op, cond);
      const c = g.fresh('where.cond');
      g.node('Cast', [g.float(g.fresh('where.mask'), cond)], c, [{ name: 'to', int: ONNX_BOOL }]);
      g.node('Where', [c, xin, g.name(op.inputs[1])], out);
      return;
    }
    case 'slice': {
      const r = recoverSlice(op);
      if (r === null) return unsupported(op, 'with ranges that could not be recovered from the trace (its values repeat too much to tell where they were copied from)');
      const axes = r.starts.map((_, d) => d).filter((d) => r.starts[d] !== 0 || r.steps[d] !== 1 || y.shape[d] !== x.value.shape[d]);
      if (axes.some((d) => batchAxes(x).includes(d))) return unsupported(op, 'slices the batch axis, whose size the export leaves symbolic');
      if (axes.length === 0) {
        g.node('Identity', [xin], out);
        return;
      }
      const ends = axes.map((d) => r.starts[d] + (y.shape[d] - 1) * r.steps[d] + 1);
      g.node('Slice', [xin, g.int64('starts', axes.map((d) => r.starts[d])), g.int64('ends', ends), g.int64('axes', axes), g.int64('steps', axes.map((d) => r.steps[d]))], out);
      return;
    }
    case 'select': {
      const r = recoverSelect(op);
      if (r === null) return unsupported(op, 'with an axis and index that could not be recovered from the trace');
      if (batchAxes(x).includes(r.axis)) return unsupported(op, 'picks along the batch axis, whose size the export leaves symbolic');
      g.node('Gather', [xin, g.int64('index', [r.index], [])], out, [{ name: 'axis', int: r.axis }]);
      return;
    }
    case 'indexSelect': {
      const r = recoverIndexSelect(op);
      if (r === null) return unsupported(op, 'with indices that could not be recovered from the trace (its values repeat too much to tell where they were copied from)');
      if (batchAxes(x).includes(r.axis)) return unsupported(op, 'picks along the batch axis, whose size the export leaves symbolic');
      g.node('Gather', [xin, g.int64('indices', r.indices)], out, [{ name: 'axis', int: r.axis }]);
      return;
    }
    case 'pad': {
      const r = recoverPad(op);
      if (r === null) return unsupported(op, 'with amounts that could not be recovered from the trace');
      if (batchAxes(x).some((d) => r.before[d] !== 0 || r.after[d] !== 0)) return unsupported(op, 'pads the batch axis, whose size the export leaves symbolic');
      g.node('Pad', [xin, g.int64('pads', [...r.before, ...r.after]), g.scalar('pad.value', r.value)], out);
      return;
    }
    case 'stack': {
      const axis = recoverStackAxis(op);
      if (axis === null) return unsupported(op, 'along an axis that could not be recovered from the trace');
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
      const r = recoverConv(op);
      if (r === null) return unsupported(op, 'with a stride, padding or dilation that could not be recovered from the trace');
      const oneD = op.op === 'conv1d';
      const inputs = op.inputs.map((v) => g.name(v));
      g.node('Conv', inputs, out, [
        { name: 'kernel_shape', ints: oneD ? [r.kernel[1]] : [...r.kernel] },
        { name: 'strides', ints: oneD ? [r.stride[1]] : [...r.stride] },
        { name: 'pads', ints: oneD ? [r.pads[1], r.pads[3]] : [...r.pads] },
        { name: 'dilations', ints: oneD ? [r.dilation[1]] : [...r.dilation] },
        { name: 'group', int: r.groups },
      ]);
      return;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const r = recoverPool(op);
      if (r === null) return unsupported(op, 'with a window, stride or padding that could not be recovered from the trace');
      const attrs: Attribute[] = poolAttributes(r);
      if (op.op === 'avgPool2d') attrs.push({ name: 'count_include_pad', int: r.countIncludePad ? 1 : 0 });
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
      const r = recoverLayerNorm(op);
      if (r === null) return unsupported(op, 'with a normalized shape or eps that could not be recovered from the trace');
      const axes = Array.from({ length: r.dims }, (_, i) => x.value.rank - r.dims + i);
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
      const r = recoverChannelAffine(op, other);
      if (typeof r === 'string') return unsupported(op, r);
      const scaled = g.fresh('bn.scaled');
      g.node('Mul', [xin, g.float(g.fresh('bn.scale'), r.scale)], scaled);
      g.node('Add', [scaled, g.float(g.fresh('bn.shift'), r.shift)], out);
      return;
    }
    case 'embedding': {
      const r = recoverEmbedding(op, other);
      if (typeof r === 'string') return unsupported(op, r);
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

/** ONNX pooling attributes of a recovered window. */
function poolAttributes(r: Window2d): Attribute[] {
  return [{ name: 'kernel_shape', ints: [...r.kernel] }, { name: 'strides', ints: [...r.stride] }, { name: 'pads', ints: [...r.pads] }];
}

/** Axes, keepDims and divisor n − correction of a traced `var`, or null. */
function recoverVar(op: TraceOp): { axes: number[]; keepDims: boolean; divisor: number } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  const ss = (v: number[]): number => {
    const m = v.reduce((p, q) => p + q, 0) / v.length;
    return v.reduce((p, q) => p + (q - m) * (q - m), 0);
  };
  // Find the axes with the divisor left out: y·divisor = Σ(x − mean)², the same divisor for every group.
  for (const axes of subsets(x.rank)) {
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const dropped = x.shape.filter((_, i) => !axes.includes(i));
    const keep = sameShape(kept, y.shape) ? true : sameShape(dropped, y.shape) ? false : null;
    if (keep === null) continue;
    const sums = reduceGroups(x, axes, ss);
    let at = 0;
    for (let i = 1; i < sums.length; i++) if (sums[i] > sums[at]) at = i;
    if (!(sums[at] > 0) || !(y.data[at] > 0)) continue;
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    // n − correction, rounded where the correction is a whole number (torch's usual 0 or 1).
    let divisor = sums[at] / y.data[at];
    const c = n - divisor;
    if (Math.abs(c - Math.round(c)) < 1e-3) divisor = n - Math.round(c);
    if (matches(y.data, Float64Array.from(sums, (s) => s / divisor))) return { axes, keepDims: keep, divisor };
  }
  return null;
}

/**
 * clamp's bounds, read off the elements the two traces changed: the lower bound where y > x, the upper
 * where y < x. The op does not record its bounds, so a bound no traced element reached cannot be told
 * apart from no bound at all: that is an error naming the side.
 */
function recoverClamp(op: TraceOp, other: TraceOp): { min: number; max: number } | string {
  let lo: number | null = null;
  let hi: number | null = null;
  for (const t of [op, other]) {
    const x = t.inputs[0].value.data;
    const y = t.output.value.data;
    for (let i = 0; i < x.length; i++) {
      if (y[i] > x[i]) lo = y[i];
      else if (y[i] < x[i]) hi = y[i];
    }
  }
  if (lo === null || hi === null) {
    const which = lo === null && hi === null ? 'min and max bounds' : lo === null ? 'min bound' : 'max bound';
    return `has a ${which} that no traced value reached (or none); the op does not record its bounds, so the export cannot tell which`;
  }
  return { min: lo, max: hi };
}

/** `t` broadcast to `shape` (NumPy rules), as doubles. */
function broadcastRef(t: Tensor, shape: readonly number[]): Float64Array {
  const size = shape.reduce((p, q) => p * q, 1);
  const out = new Float64Array(size);
  const ts = stridesOf(t.shape);
  const off = shape.length - t.rank;
  for (let i = 0; i < size; i++) {
    const c = coordsOf(i, shape);
    let src = 0;
    for (let d = 0; d < t.rank; d++) src += (t.shape[d] === 1 ? 0 : c[d + off]) * ts[d];
    out[i] = t.data[src];
  }
  return out;
}

/**
 * where's condition (not an input on the tape): per output element, a where y took a's value and
 * b's elsewhere. It must not change along the batch axes nor between the two traces (a condition
 * computed from the data cannot be exported); it becomes a constant mask with size 1 on the batch axes.
 */
function recoverWhereCondition(op: TraceOp, other: TraceOp, batch: readonly number[]): Tensor | string {
  const shape = op.output.value.shape.map((d, i) => (batch.includes(i) ? 1 : d));
  const size = shape.reduce((p, q) => p * q, 1);
  const mask = new Float32Array(size).fill(NaN);
  for (const t of [op, other]) {
    const y = t.output.value;
    const a = broadcastRef(t.inputs[0].value, y.shape);
    const b = broadcastRef(t.inputs[1].value, y.shape);
    const ms = stridesOf(shape);
    for (let i = 0; i < y.size; i++) {
      const fromA = y.data[i] === a[i];
      const fromB = y.data[i] === b[i];
      if (fromA === fromB) {
        if (!fromA) return 'has an output that is neither of its operands (internal)';
        continue;
      }
      const c = coordsOf(i, y.shape);
      let m = 0;
      for (let d = 0; d < shape.length; d++) m += (shape[d] === 1 ? 0 : c[d]) * ms[d];
      const v = fromA ? 1 : 0;
      if (Number.isNaN(mask[m])) mask[m] = v;
      else if (mask[m] !== v) return 'has a condition that changes with the data or along the batch (the condition is not on the tape; only a constant mask can be exported)';
    }
  }
  for (let i = 0; i < size; i++) if (Number.isNaN(mask[i])) mask[i] = 1;
  return new Tensor(mask, shape);
}

/** eps values to prefer when the estimate is within its noise of one (torch's and common defaults). */
const COMMON_EPS = [1e-5, 1e-6, 1e-12, 1e-8, 1e-3, 1e-4, 1e-7, 1e-9, 1e-10, 0];

/**
 * layerNorm's normalized trailing dims, eps, and which traced inputs are its weight and bias. Per
 * row, z = (y − bias)/weight = (x − μ)/√(σ² + eps), so σ² + eps = Σ(x − μ)²/Σz² estimates eps; a
 * common value within the estimate's noise is taken; the whole output is then checked.
 */
function recoverLayerNorm(op: TraceOp): { dims: number; eps: number; weight: TraceValue | null; bias: TraceValue | null } | null {
  const x = op.inputs[0].value;
  const y = op.output.value;
  const extra = op.inputs.slice(1);
  const roles: [TraceValue | null, TraceValue | null][] = extra.length === 2 ? [[extra[0], extra[1]]]
    : extra.length === 1 ? [[extra[0], null], [null, extra[0]]] : [[null, null]];
  for (const [wv, bv] of roles) {
    const shaped = wv ?? bv;
    const dimsList = shaped !== null ? [shaped.value.rank] : Array.from({ length: x.rank }, (_, i) => i + 1);
    for (const dims of dimsList) {
      const D = x.shape.slice(x.rank - dims).reduce((p, q) => p * q, 1);
      if (shaped !== null && !sameShape(shaped.value.shape, x.shape.slice(x.rank - dims))) continue;
      const rows = x.size / D;
      const w = wv?.value.data ?? null;
      const b = bv?.value.data ?? null;
      let estimate = 0;
      let noise = 0;
      const mus = new Float64Array(rows);
      const vars = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += x.data[r * D + j];
        const mu = s / D;
        let ss = 0;
        let sel = 0;
        let zz = 0;
        for (let j = 0; j < D; j++) {
          const c = x.data[r * D + j] - mu;
          ss += c * c;
          const wj = w === null ? 1 : w[j];
          if (Math.abs(wj) < 1e-3) continue;
          const z = (y.data[r * D + j] - (b === null ? 0 : b[j])) / wj;
          sel += c * c;
          zz += z * z;
        }
        mus[r] = mu;
        vars[r] = ss / D;
        estimate += (zz > 0 ? sel / zz : 0) - ss / D;
        noise = Math.max(noise, 1e-5 * ss / D);
      }
      estimate /= rows;
      const eps = COMMON_EPS.find((c) => Math.abs(c - estimate) <= noise + 0.05 * c) ?? Math.max(0, estimate);
      const want = new Float64Array(x.size);
      for (let r = 0; r < rows; r++) {
        const inv = 1 / Math.sqrt(vars[r] + eps);
        for (let j = 0; j < D; j++) want[r * D + j] = (x.data[r * D + j] - mus[r]) * inv * (w === null ? 1 : w[j]) + (b === null ? 0 : b[j]);
      }
      if (matches(y.data, want)) return { dims, eps, weight: wv, bias: bv };
    }
  }
  return null;
}

/**
 * batchNorm with running statistics is y = x·scale_c + shift_c per channel c (axis 1): fitted by least
 * squares on each channel's values from both traces together (more points, a wider spread), then
 * checked on each. Batch statistics (`training: true`) give each batch its own map, so the check fails
 * and the op is refused. Shapes [C, 1, …] broadcast over x.
 */
function recoverChannelAffine(op: TraceOp, other: TraceOp): { scale: Tensor; shift: Tensor } | string {
  const traces = [op, other];
  const x0 = op.inputs[0].value;
  const C = x0.shape[1];
  const inner = x0.shape.slice(2).reduce((p, q) => p * q, 1);
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let n = 0; let sx = 0; let sy = 0; let sxx = 0; let sxy = 0;
    for (const t of traces) {
      const x = t.inputs[0].value.data;
      const y = t.output.value.data;
      for (let b = 0; b < t.inputs[0].value.shape[0]; b++) {
        for (let i = 0; i < inner; i++) {
          const k = (b * C + c) * inner + i;
          n++; sx += x[k]; sy += y[k]; sxx += x[k] * x[k]; sxy += x[k] * y[k];
        }
      }
    }
    const vx = sxx - sx * sx / n;
    const a = vx > 0 ? (sxy - sx * sy / n) / vx : 0;
    scale[c] = a;
    shift[c] = (sy - a * sx) / n;
  }
  for (const t of traces) {
    const x = t.inputs[0].value;
    const want = Float64Array.from(x.data, (v, k) => v * scale[Math.floor(k / inner) % C] + shift[Math.floor(k / inner) % C]);
    if (!matches(t.output.value.data, want)) {
      return 'normalizes with batch statistics (training: true), which change with the batch; export uses the running statistics (pass training: this.training)';
    }
  }
  const shape = [C, ...new Array<number>(x0.rank - 2).fill(1)];
  return { scale: new Tensor(scale, shape), shift: new Tensor(shift, shape) };
}

/**
 * embedding's indices (not on the tape): the weight row each output row equals. They must be the same
 * in both traces and not follow the batch (indices read from the data cannot be exported).
 */
function recoverEmbedding(op: TraceOp, other: TraceOp): { indices: number[]; shape: number[] } | string {
  const found = [op, other].map((t) => {
    const w = t.inputs[0].value;
    const y = t.output.value;
    const [V, D] = w.shape;
    const indices: number[] = [];
    for (let r = 0; r < y.size / D; r++) {
      let hit = -1;
      for (let v = 0; v < V && hit < 0; v++) {
        let same = true;
        for (let j = 0; j < D && same; j++) same = y.data[r * D + j] === w.data[v * D + j];
        if (same) hit = v;
      }
      if (hit < 0) return null;
      indices.push(hit);
    }
    return { indices, shape: y.shape.slice(0, -1) };
  });
  const [a, b] = found;
  if (a === null || b === null) return 'has rows that match no weight row (internal)';
  if (!sameShape(a.shape, b.shape) || a.indices.some((v, i) => v !== b.indices[i])) {
    return 'has indices that change with the data or the batch (they are not on the tape; only constant indices can be exported)';
  }
  return a;
}
