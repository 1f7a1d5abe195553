// ONNX export of Sequential models (opset 13): one node per layer, weights as initializers, written
// with the hand-rolled protobuf encoder. Field numbers follow onnx/onnx.proto.
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
/** AttributeProto.AttributeType values. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** Layer kinds {@link exportOnnx} can translate, and the ONNX operator each becomes. */
export const ONNX_LAYER_OPS: Readonly<Record<string, string>> = {
  dense: 'Gemm', conv2d: 'Conv', relu: 'Relu', 'leaky-relu': 'LeakyRelu', sigmoid: 'Sigmoid', tanh: 'Tanh',
  softmax: 'Softmax', flatten: 'Flatten', 'max-pool2d': 'MaxPool', 'avg-pool2d': 'AveragePool',
  'batch-norm1d': 'BatchNormalization', 'batch-norm2d': 'BatchNormalization', dropout: 'Identity', identity: 'Identity',
};

type Attribute = { name: string; float?: number; int?: number; ints?: readonly number[] };
interface OnnxNode {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly attributes: readonly Attribute[];
}
interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
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
    const node = translate(layer, i, current, output, weights, initializers, model.layerShapes[i - 1] ?? model.inputShape);
    nodes.push(node);
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

/** The ONNX node for layer `i`, adding its weights to `initializers`. */
function translate(
  layer: Layer, i: number | string, input: string, output: string, weights: Record<string, Tensor>, initializers: Initializer[],
  inputShape: readonly number[],
): OnnxNode {
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
  const node = (inputs: string[], attributes: Attribute[] = []): OnnxNode => ({ op, name, inputs, output, attributes });
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

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const input of n.inputs) w.string(1, input);
  w.string(2, n.output);
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
