// ONNX export of Sequential models (opset 13): one node per layer (a short chain of nodes for the
// layers opset 13 has no operator for: GELU, SiLU, LayerNorm, multi-head attention), weights as
// initializers, written with the hand-rolled protobuf encoder. Field numbers follow onnx/onnx.proto.
import type { Layer } from '../layers/layer.js';
import type { Module } from '../model/module.js';
import { Sequential } from '../model/sequential.js';
import { encodeModuleOnnx } from './onnx-module.js';
import type { Tensor } from '../tensor/tensor.js';
import { ProtoWriter } from './protobuf.js';

/** The ONNX operator-set version the exporter targets (Softmax over the last axis needs ≥ 13). */
export const ONNX_OPSET = 13;
/** ONNX IR version matching {@link ONNX_OPSET}. */
const IR_VERSION = 7;
/** TensorProto.DataType.FLOAT. */
const ONNX_FLOAT = 1;
/** TensorProto.DataType.INT64 (Reshape shapes, Split sizes, Cast targets). */
const ONNX_INT64 = 7;
/** AttributeProto.AttributeType values. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** Layer kinds {@link exportOnnx} can translate, and the ONNX operator each becomes. */
export const ONNX_LAYER_OPS: Readonly<Record<string, string>> = {
  dense: 'Gemm', conv2d: 'Conv', relu: 'Relu', 'leaky-relu': 'LeakyRelu', sigmoid: 'Sigmoid', tanh: 'Tanh',
  softmax: 'Softmax', flatten: 'Flatten', 'max-pool2d': 'MaxPool', 'avg-pool2d': 'AveragePool',
  'batch-norm1d': 'BatchNormalization', 'batch-norm2d': 'BatchNormalization', dropout: 'Identity', identity: 'Identity',
  // Opset 13 has no Gelu, LayerNormalization or attention operator: these become short chains.
  gelu: 'Erf', silu: 'Sigmoid', 'layer-norm': 'ReduceMean', embedding: 'Gather', conv1d: 'Conv',
  'global-avg-pool2d': 'GlobalAveragePool', 'multi-head-attention': 'MatMul',
};

type Attribute = { name: string; float?: number; int?: number; ints?: readonly number[] };
interface OnnxNode {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output: string;
  /** Further outputs after `output` (Split's). */
  readonly moreOutputs?: readonly string[];
  readonly attributes: readonly Attribute[];
}
interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  /** Float32 values, or integers written as INT64. */
  readonly data: Float32Array | readonly number[];
}

/**
 * Encodes a model as an ONNX ModelProto; a Module other than Sequential is traced (see encodeModuleOnnx).
 * A Sequential model becomes an ONNX ModelProto (opset 13), in inference mode: BatchNorm uses its
 * running statistics and Dropout becomes Identity. The graph input is `input` `[batch, ...inputShape]`
 * (batch symbolic), the output `output` `[batch, ...outputShape]`; weights are initializers named by
 * their state-dict keys. Throws naming the layer if a kind has no ONNX translation.
 */
export function encodeOnnx(model: Sequential | Module): Uint8Array {
  if (!(model instanceof Sequential)) return encodeModuleOnnx(model);
  const weights = model.stateDict();
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  let current = 'input';
  model.layers.forEach((layer, i) => {
    const output = i === model.layers.length - 1 ? 'output' : `${i}.output`;
    nodes.push(...translate(layer, i, current, output, weights, initializers, model.layerShapes[i - 1] ?? model.inputShape));
    current = output;
  });

  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, 'tensorkit');
  w.string(3, '0.1.0');
  w.message(7, (g) => {
    for (const n of nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, 'tensorkit-sequential');
    for (const t of initializers) g.message(5, (m) => writeTensor(m, t));
    g.message(11, (m) => writeValueInfo(m, 'input', model.inputShape));
    g.message(12, (m) => writeValueInfo(m, 'output', model.outputShape));
  });
  w.message(8, (o) => o.string(1, '').int(2, ONNX_OPSET));
  return w.finish();
}

/** The ONNX nodes for layer `i` (one, or a chain ending in `output`), adding its weights and constants to `initializers`. */
function translate(
  layer: Layer, i: number | string, input: string, output: string, weights: Record<string, Tensor>, initializers: Initializer[],
  inputShape: readonly number[],
): OnnxNode[] {
  const config = layer.getConfig();
  const op = ONNX_LAYER_OPS[layer.kind];
  if (op === undefined) {
    throw new Error(`exportOnnx: layer ${i} (${layer.kind}) has no ONNX translation; supported: ${Object.keys(ONNX_LAYER_OPS).join(', ')}`);
  }
  const name = `${i}.${layer.kind}`;
  const param = (key: string): string => {
    const t = weights[`${i}.${key}`];
    initializers.push({ name: `${i}.${key}`, dims: t.shape, data: t.data });
    return `${i}.${key}`;
  };
  const node = (inputs: string[], attributes: Attribute[] = []): OnnxNode[] => [{ op, name, inputs, output, attributes }];
  const composite = COMPOSITES[layer.kind];
  if (composite !== undefined) {
    const chain = new Chain(i, layer.kind, output, initializers);
    composite(chain, input, config, inputShape, param, (key) => weights[`${i}.${key}`]);
    return chain.nodes;
  }
  switch (layer.kind) {
    case 'dense': {
      // y = x·Wᵀ + b with W [out, in]: Gemm with transB.
      const inputs = [input, param('weight')];
      if (config.useBias !== false) inputs.push(param('bias'));
      return node(inputs, [{ name: 'transB', int: 1 }]);
    }
    case 'conv2d': {
      const kernel = config.kernelSize as [number, number];
      const pad = config.padding === 'same' ? [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2] : (config.padding as [number, number]);
      const inputs = [input, param('weight')];
      if (config.useBias !== false) inputs.push(param('bias'));
      return node(inputs, [
        { name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: config.stride as [number, number] },
        { name: 'pads', ints: [pad[0], pad[1], pad[0], pad[1]] }, { name: 'group', int: 1 },
      ]);
    }
    case 'max-pool2d':
    case 'avg-pool2d': {
      const pad = config.padding as [number, number];
      const attributes: Attribute[] = [
        { name: 'kernel_shape', ints: config.poolSize as [number, number] }, { name: 'strides', ints: config.stride as [number, number] },
        { name: 'pads', ints: [pad[0], pad[1], pad[0], pad[1]] },
      ];
      if (layer.kind === 'avg-pool2d') attributes.push({ name: 'count_include_pad', int: config.countIncludePad === false ? 0 : 1 });
      return node([input], attributes);
    }
    case 'batch-norm1d':
    case 'batch-norm2d': {
      const channels = inputShape[0];
      let scale: string;
      let bias: string;
      if (config.affine === false) {
        // ONNX needs scale and bias inputs: a non-affine BatchNorm is scale 1, bias 0.
        scale = `${i}.weight`;
        bias = `${i}.bias`;
        initializers.push({ name: scale, dims: [channels], data: new Float32Array(channels).fill(1) });
        initializers.push({ name: bias, dims: [channels], data: new Float32Array(channels) });
      } else {
        scale = param('weight');
        bias = param('bias');
      }
      return node([input, scale, bias, param('running_mean'), param('running_var')], [{ name: 'epsilon', float: config.eps as number }]);
    }
    case 'leaky-relu':
      return node([input], [{ name: 'alpha', float: config.negativeSlope as number }]);
    case 'flatten':
      return node([input], [{ name: 'axis', int: 1 }]);
    case 'softmax':
      return node([input], [{ name: 'axis', int: -1 }]);
    default:
      return node([input]);
  }
}

/** Builds a chain of nodes for one layer: intermediate values `i.kind.k`, the last one named `output`. */
class Chain {
  readonly nodes: OnnxNode[] = [];
  private count = 0;

  constructor(
    private readonly layer: number | string, private readonly kind: string, private readonly output: string,
    private readonly initializers: Initializer[],
  ) {}

  /** Appends `op(inputs)` and returns its output's name (`last` makes it the layer's output). */
  add(op: string, inputs: readonly string[], attributes: readonly Attribute[] = [], last = false): string {
    const k = this.count++;
    const out = last ? this.output : `${this.layer}.${this.kind}.${k}`;
    this.nodes.push({ op, name: `${this.layer}.${this.kind}.${op}.${k}`, inputs, output: out, attributes });
    return out;
  }

  /** Appends a node with `count` outputs and returns their names (never the layer's output). */
  addOutputs(op: string, inputs: readonly string[], count: number, attributes: readonly Attribute[] = []): string[] {
    const k = this.count++;
    const outs = Array.from({ length: count }, (_, j) => `${this.layer}.${this.kind}.${k}.${j}`);
    this.nodes.push({ op, name: `${this.layer}.${this.kind}.${op}.${k}`, inputs, output: outs[0], moreOutputs: outs.slice(1), attributes });
    return outs;
  }

  /** A constant initializer (float32 unless `int64`), named after the layer; returns its name. */
  constant(label: string, dims: readonly number[], values: ArrayLike<number>, int64 = false): string {
    const name = `${this.layer}.${this.kind}.${label}`;
    this.initializers.push({ name, dims, data: int64 ? Array.from(values) : Float32Array.from(values) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(label: string, value: number): string {
    return this.constant(label, [], [value]);
  }
}

type Composite = (
  c: Chain, input: string, config: Record<string, unknown>, inputShape: readonly number[],
  param: (key: string) => string, weight: (key: string) => Tensor,
) => void;

/** `[rows, cols]` weight `key` as a transposed `[cols, rows]` constant (MatMul multiplies by Wᵀ). */
function transposed(c: Chain, key: string, w: Tensor): string {
  const [rows, cols] = w.shape;
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) t[j * rows + r] = w.data[r * cols + j];
  return c.constant(`${key}_T`, [cols, rows], t);
}

/** The layers opset 13 spells as several operators, in the library's order of operations. */
const COMPOSITES: Readonly<Record<string, Composite>> = {
  gelu: (c, x, config) => {
    let inner: string;
    if (config.approximate === 'tanh') {
      // ½·x·(1 + tanh(√(2/π)·(x + κ·x³)))
      const x3 = c.add('Mul', [c.add('Mul', [x, x]), x]);
      const u = c.add('Mul', [c.add('Add', [x, c.add('Mul', [x3, c.scalar('kappa', 0.044715)])]), c.scalar('beta', Math.sqrt(2 / Math.PI))]);
      inner = c.add('Tanh', [u]);
    } else {
      // ½·x·(1 + erf(x/√2))
      inner = c.add('Erf', [c.add('Mul', [x, c.scalar('sqrt1_2', Math.SQRT1_2)])]);
    }
    const half = c.add('Mul', [x, c.scalar('half', 0.5)]);
    c.add('Mul', [half, c.add('Add', [inner, c.scalar('one', 1)])], [], true);
  },
  silu: (c, x) => {
    c.add('Mul', [x, c.add('Sigmoid', [x])], [], true);
  },
  'layer-norm': (c, x, config, _inputShape, param) => {
    const normRank = Array.isArray(config.normalizedShape) ? config.normalizedShape.length : 1;
    // Axes of the normalised trailing dims, counted from the end (the batch axis is never among them).
    const axes = Array.from({ length: normRank }, (_, k) => k - normRank);
    const mean = c.add('ReduceMean', [x], [{ name: 'axes', ints: axes }, { name: 'keepdims', int: 1 }]);
    const d = c.add('Sub', [x, mean]);
    const variance = c.add('ReduceMean', [c.add('Mul', [d, d])], [{ name: 'axes', ints: axes }, { name: 'keepdims', int: 1 }]);
    const std = c.add('Sqrt', [c.add('Add', [variance, c.scalar('eps', config.eps as number)])]);
    const affine = config.affine !== false;
    const xhat = c.add('Div', [d, std], [], !affine);
    if (affine) c.add('Add', [c.add('Mul', [xhat, param('weight')]), param('bias')], [], true);
  },
  embedding: (c, x, _config, _inputShape, param) => {
    const indices = c.add('Cast', [x], [{ name: 'to', int: ONNX_INT64 }]);
    c.add('Gather', [param('weight'), indices], [{ name: 'axis', int: 0 }], true);
  },
  conv1d: (c, x, config, _inputShape, param) => {
    const k = config.kernelSize as number;
    const pad = config.padding === 'same' ? (k - 1) / 2 : (config.padding as number);
    const inputs = [x, param('weight')];
    if (config.useBias !== false) inputs.push(param('bias'));
    c.add('Conv', inputs, [
      { name: 'kernel_shape', ints: [k] }, { name: 'strides', ints: [config.stride as number] }, { name: 'pads', ints: [pad, pad] }, { name: 'group', int: 1 },
    ], true);
  },
  'global-avg-pool2d': (c, x) => {
    c.add('Flatten', [c.add('GlobalAveragePool', [x])], [{ name: 'axis', int: 1 }], true);
  },
  'multi-head-attention': (c, x, config, inputShape, param, weight) => {
    const [T, E] = inputShape;
    const H = config.numHeads as number;
    const d = E / H;
    const bias = config.useBias !== false;
    // MatMul takes Wᵀ: the initializers hold transposed copies of in_proj_weight [3E, E] and out_proj.weight [E, E].
    const inW = transposed(c, 'in_proj_weight', weight('in_proj_weight'));
    let qkv = c.add('MatMul', [x, inW]);
    if (bias) qkv = c.add('Add', [qkv, param('in_proj_bias')]);
    const split = c.constant('split', [3], [E, E, E], true);
    const [q, k, v] = c.addOutputs('Split', [qkv, split], 3, [{ name: 'axis', int: 2 }]);
    const heads = c.constant('heads_shape', [4], [0, T, H, d], true);
    const toHeads = (t: string, perm: number[]): string => c.add('Transpose', [c.add('Reshape', [t, heads])], [{ name: 'perm', ints: perm }]);
    const qh = c.add('Div', [toHeads(q, [0, 2, 1, 3]), c.scalar('sqrt_d', Math.fround(Math.sqrt(d)))]);
    const kT = toHeads(k, [0, 2, 3, 1]);
    const vh = toHeads(v, [0, 2, 1, 3]);
    let scores = c.add('MatMul', [qh, kT]);
    if (config.causal === true) {
      const mask = new Float32Array(T * T);
      for (let t = 0; t < T; t++) mask.fill(-Infinity, t * T + t + 1, (t + 1) * T);
      scores = c.add('Add', [scores, c.constant('causal_mask', [T, T], mask)]);
    }
    const probs = c.add('Softmax', [scores], [{ name: 'axis', int: -1 }]);
    const merged = c.add('Reshape', [c.add('Transpose', [c.add('MatMul', [probs, vh])], [{ name: 'perm', ints: [0, 2, 1, 3] }]),
      c.constant('merge_shape', [3], [0, T, E], true)]);
    const outW = transposed(c, 'out_proj.weight', weight('out_proj.weight'));
    if (bias) c.add('Add', [c.add('MatMul', [merged, outW]), param('out_proj.bias')], [], true);
    else c.add('MatMul', [merged, outW], [], true);
  },
};

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const input of n.inputs) w.string(1, input);
  w.string(2, n.output);
  for (const extra of n.moreOutputs ?? []) w.string(2, extra);
  w.string(3, n.name);
  w.string(4, n.op);
  for (const a of n.attributes) {
    w.message(5, (m) => {
      m.string(1, a.name);
      if (a.float !== undefined) m.float(2, a.float).int(20, ATTR_FLOAT);
      else if (a.int !== undefined) m.int(3, a.int).int(20, ATTR_INT);
      else if (a.ints !== undefined) {
        for (const v of a.ints) m.int(8, v);
        m.int(20, ATTR_INTS);
      }
    });
  }
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.int(1, d);
  if (!(t.data instanceof Float32Array)) {
    w.int(2, ONNX_INT64);
    w.string(8, t.name);
    const raw = new Uint8Array(8 * t.data.length);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < t.data.length; k++) view.setBigInt64(8 * k, BigInt(t.data[k]), true);
    w.bytes(9, raw);
    return;
  }
  w.int(2, ONNX_FLOAT);
  w.string(8, t.name);
  // raw_data is little-endian float32; copy through a DataView so the bytes are right on any host.
  const raw = new Uint8Array(4 * t.data.length);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < t.data.length; k++) view.setFloat32(4 * k, t.data[k], true);
  w.bytes(9, raw);
}

/** A float tensor ValueInfo with a symbolic `batch` first dimension. */
function writeValueInfo(w: ProtoWriter, name: string, sampleShape: readonly number[]): void {
  w.string(1, name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, ONNX_FLOAT);
    tensor.message(2, (shape) => {
      shape.message(1, (dim) => dim.string(2, 'batch'));
      for (const d of sampleShape) shape.message(1, (dim) => dim.int(1, d));
    });
  }));
}

// For the module exporter (onnx-module.ts): a layer's translation (`i` may be a module's attribute
// path, which names its weights `<path>.weight`, …) and the protobuf writers.
export { translate as translateLayer, writeNode as writeOnnxNode, writeTensor as writeOnnxTensor };
export type { Attribute as OnnxAttribute, OnnxNode, Initializer as OnnxInitializer };
