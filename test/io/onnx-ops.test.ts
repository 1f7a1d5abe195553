// ONNX export of the plain ops with arguments beyond their inputs (slice, select, indexSelect, pad,
// stack, where, clamp, max/min, var, the functional conv2d/conv1d/maxPool2d/avgPool2d, …), which they
// record on the tape while a trace runs: each in a small module, exported, run in onnxruntime-web and
// compared with tensorkit's forward within 1e-5.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx } from '../../src/io/index.js';
import { analyzeModule } from '../../src/analysis/index.js';
import { opCostNames } from '../../src/analysis/module-costs.js';
import { ONNX_MODULE_OPS } from '../../src/io/onnx-module.js';
import { Module, Parameter, Rng, Tensor, Variable, ops, randn } from '../../src/index.js';
import { assertClose } from '../util/assert-close.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
});

/** A module running `f` on its input with parameters p0, p1, … (random, seeded). */
class Fn extends Module {
  constructor(readonly f: (x: Variable, p: Parameter[]) => Variable, shapes: number[][] = [], seed = 7) {
    super();
    const rng = new Rng(seed);
    shapes.forEach((s, i) => { (this as unknown as Record<string, Parameter>)[`p${i}`] = new Parameter(randn(s, rng)); });
  }
  forward(x: Variable): Variable {
    return this.f(x, Object.keys(this).filter((k) => /^p\d+$/.test(k)).map((k) => (this as unknown as Record<string, Parameter>)[k]));
  }
}

/**
 * Exports `f` for per-sample input `shape`, runs it on a batch of 4 (N(0, 1)·`inputScale`, so a bound
 * or window the trace's N(0, 1) values never exercised is exercised here) and compares with the forward.
 */
async function check(f: (x: Variable, p: Parameter[]) => Variable, shape: number[], params: number[][] = [], ops0?: string[], inputScale = 1): Promise<void> {
  const model = new Fn(f, params).build(shape);
  if (ops0 !== undefined) expect(analyzeModule(model).rows.map((r) => r.kind)).toEqual(ops0);
  const x = randn([4, ...shape], new Rng(11));
  for (let i = 0; i < x.size; i++) x.data[i] *= inputScale;
  const want = (model.forward(new Variable(x)) as Variable).value;
  const session = await ort.InferenceSession.create(encodeOnnx(model));
  const got = (await session.run({ input: new ort.Tensor('float32', x.data, x.shape) })).output;
  expect([...got.dims]).toEqual(want.shape);
  assertClose(got.data as Float32Array, want.data, { atol: 1e-5, rtol: 1e-5, what: 'onnx output' });
}

describe('exportOnnx of ops with recorded arguments → onnxruntime-web, within 1e-5', () => {
  it('slice: ranges with steps, open ends, several axes; a crop by negative pad amounts', async () => {
    await check((x) => ops.slice(x, [null, { start: 1, end: 5, step: 2 }, { start: 4 }]), [5, 6], [], ['slice']);
    await check((x) => ops.slice(x.relu(), [null, null, { start: -5, step: 3 }]), [3, 7], [], ['relu', 'slice']);
    await check((x) => ops.slice(x, [null, { start: 2, end: 3 }]), [4, 2]);
    await check((x) => ops.pad(x, [-1, 2, 1, -2], 0.25), [5, 6], [], ['slice', 'pad']);
  });

  it('select and indexSelect (negative index, repeated and reordered indices)', async () => {
    await check((x) => ops.select(x, 2, -1), [3, 4], [], ['select']);
    await check((x) => ops.select(x, 1, 2).add(1), [3, 4]);
    await check((x) => ops.indexSelect(x, 1, [2, 0, 2, 1]), [3, 4], [], ['indexSelect']);
    await check((x) => ops.indexSelect(x, 2, new Tensor(Float32Array.of(3), [1])), [3, 4]);
  });

  it('pad: zeros on the last axis, a value on the last two, a parameter padded', async () => {
    await check((x) => ops.pad(x, [1, 2]), [3, 4], [], ['pad']);
    await check((x) => ops.pad(x, [0, 1, 2, 0], -1.5), [3, 4]);
    await check((x, [w]) => x.add(ops.pad(w, [1, 1])), [3, 4], [[3, 2]]);
  });

  it('stack on the first, a middle and the last axis', async () => {
    await check((x) => ops.stack([x, x.neg()], 1), [3, 2], [], ['neg', 'stack']);
    await check((x, [w]) => ops.stack([x, x.mul(w), x.exp()], 2).sum(1), [3], [[3]]);
    await check((x) => ops.stack([x, x.abs()], -1), [2, 2]);
  });

  it('where with a constant mask broadcast against both operands', async () => {
    const mask = new Tensor(Float32Array.of(1, 0, 0, 1), [4]);
    await check((x) => ops.where(mask, x, x.neg()), [3, 4], [], ['neg', 'where']);
    const rowMask = new Tensor(Float32Array.of(0, 1, 1), [3, 1]);
    await check((x, [w]) => ops.where(rowMask, x, w), [3, 4], [[4]]);
    await check((x) => ops.where(rowMask, 2, x.tanh()), [3, 4]);
  });

  it('clamp with both bounds reached', async () => {
    await check((x) => ops.clamp(x, -0.5, 0.7), [3, 4], [], ['clamp']);
  });

  it('one-sided clamps, and bounds no traced value reaches (the ONNX run on values 1000× larger reaches them)', async () => {
    await check((x) => ops.clamp(x, 1e-6), [3, 4], [], ['clamp']);
    await check((x) => ops.clamp(x, null, 0.25), [3, 4]);
    await check((x) => ops.clamp(x, -100), [3, 4], [], ['clamp'], 1000);
    await check((x) => ops.clamp(x, undefined, 100), [3, 4], [], ['clamp'], 1000);
    await check((x) => ops.clamp(x, -100, 0), [3, 4], [], ['clamp'], 1000);
  });

  it('ops on repeating values: a slice of mostly zeros, a window over a constant, a pad of zeros, indices into equal rows', async () => {
    // All zeros but a few: nothing in the values says where the slice started.
    await check((x) => ops.slice(ops.relu(x.sub(1.5)), [null, { start: 1, end: 6, step: 2 }]), [7], [], ['sub', 'relu', 'slice']);
    await check((x) => x.add(ops.slice(ops.mul(ops.abs(x), 0).add(1), [null, { start: 1 }]).sum(1, { keepDims: true })), [3]);
    // clamp(x, 10) is 10 everywhere in the trace; the ONNX run sees values above 10 and checks the window.
    await check((x) => ops.maxPool2d(ops.clamp(x, 10), { kernelSize: [3, 2], stride: [1, 2], padding: [1, 1] }), [2, 5, 6], [], ['clamp', 'maxPool2d'], 40);
    await check((x) => ops.avgPool2d(ops.clamp(x, 10), { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false }), [1, 4, 4], [], undefined, 40);
    await check((x, [w]) => ops.conv2d(ops.clamp(x, 10), w, null, { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2 }), [4, 7, 6], [[4, 2, 3, 2]], undefined, 40);
    await check((x) => ops.pad(ops.mul(x, 0), [1, 2, 0, 3], 0), [2, 3]);
    await check((x) => ops.indexSelect(ops.mul(x, 0), 1, [1, 1, 0]), [3, 2]);
    await check((x) => {
      const c = ops.clamp(x, 10);
      return ops.select(c, 2, 1).add(ops.sum(c, 2)).add(ops.var(c, -1)).add(ops.max(c, [2]));
    }, [3, 4], [], ['clamp', 'select', 'sum', 'add', 'var', 'add', 'max', 'add'], 40);
  });

  it('max and min over one axis, several axes and all axes, keepDims on and off', async () => {
    await check((x) => ops.max(x, 1), [3, 4], [], ['max']);
    await check((x) => ops.min(x, [1, 2], { keepDims: true }), [3, 4]);
    await check((x) => ops.max(x, -1, { keepDims: true }).add(ops.min(x, 1, { keepDims: true })), [3, 4]);
    await check((x) => ops.min(x).reshape([1]), [2, 3]);
  });

  it('var: default correction, correction 0 with keepDims, several axes', async () => {
    await check((x) => ops.var(x, -1), [3, 5], [], ['var']);
    await check((x) => ops.var(x, [1, 2], { correction: 0, keepDims: true }), [3, 4]);
    await check((x) => ops.var(x, 1, { unbiased: false }), [4, 2]);
  });

  it('conv2d: stride, padding, dilation, groups, asymmetric "same" padding, no bias', async () => {
    await check((x, [w, b]) => ops.conv2d(x, w, b, { stride: 2, padding: 1 }), [3, 7, 7], [[4, 3, 3, 3], [4]], ['conv2d']);
    await check((x, [w]) => ops.conv2d(x, w, null, { dilation: 2, padding: [2, 1], groups: 2 }), [4, 6, 7], [[6, 2, 3, 2]]);
    await check((x, [w, b]) => ops.conv2d(x, w, b, { padding: 'same' }), [2, 5, 6], [[3, 2, 2, 4], [3]]);
    await check((x, [w, b]) => ops.conv2d(x, w, b, { stride: [1, 2], groups: 3 }), [3, 5, 5], [[3, 1, 2, 2], [3]]);
    // A 1×1 kernel with padding 1 (bias-only borders), a kernel covering the whole input (one output) with a stride.
    await check((x, [w, b]) => ops.conv2d(x, w, b, { padding: 1 }), [2, 3, 3], [[3, 2, 1, 1], [3]]);
    await check((x, [w]) => ops.conv2d(x, w, null, { stride: 3 }), [2, 4, 4], [[2, 2, 4, 4]]);
  });

  it('conv1d: stride, padding, dilation, groups', async () => {
    await check((x, [w, b]) => ops.conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2 }), [2, 9], [[3, 2, 3], [3]], ['conv1d']);
    await check((x, [w]) => ops.conv1d(x, w, null, { groups: 2, padding: 'same' }), [4, 6], [[4, 2, 4]]);
  });

  it('maxPool2d and avgPool2d: windows, strides, padding, countIncludePad both ways', async () => {
    await check((x) => ops.maxPool2d(x, { kernelSize: 2 }), [2, 6, 6], [], ['maxPool2d']);
    await check((x) => ops.maxPool2d(x, { kernelSize: [3, 2], stride: [2, 1], padding: [1, 0] }), [2, 7, 5]);
    await check((x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [2, 6, 5], [], ['avgPool2d']);
    await check((x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), [2, 6, 5]);
    await check((x) => ops.avgPool2d(x, { kernelSize: [2, 3] }), [1, 4, 6]);
  });

  it('layerNorm: one and two normalized dims, weight and bias, bias only, no affine with another eps', async () => {
    await check((x, [w, b]) => ops.layerNorm(x, 4, w, b), [3, 4], [[4], [4]], ['layerNorm']);
    await check((x, [w, b]) => ops.layerNorm(x, [3, 4], w, b, 1e-6), [3, 4], [[3, 4], [3, 4]]);
    await check((x, [b]) => ops.layerNorm(x, 4, null, b), [2, 4], [[4]]);
    await check((x) => ops.layerNorm(x.mul(0.05), 5, null, null, 1e-3), [5]);
  });

  it('batchNorm with running statistics on [N, C] and [N, C, H, W]', async () => {
    const mean = new Tensor(Float32Array.of(0.5, -0.25, 1), [3]);
    const variance = new Tensor(Float32Array.of(2, 0.5, 1.5), [3]);
    await check((x, [w, b]) => ops.batchNorm(x, mean, variance, w, b), [3], [[3], [3]], ['batchNorm']);
    await check((x, [w]) => ops.batchNorm(x, mean, variance, w, null, { eps: 1e-3 }), [3, 2, 2], [[3]]);
  });

  it('embedding with constant indices, and mse', async () => {
    await check((x, [w]) => x.add(ops.embedding(new Tensor(Float32Array.of(2, 0, 1, 2), [2, 2]), w)), [2, 2, 3], [[4, 3]], ['embedding', 'add']);
    await check((x, [w]) => ops.mse(x.tanh(), x.mul(w)).reshape([1]), [3], [[3]]);
  });

  it('the ops mapped before but not yet run in onnxruntime: unary maps, leakyRelu, silu, tanh-GELU, logSoftmax, pow, views, concat', async () => {
    await check((x) => ops.log(ops.sqrt(ops.abs(x).add(0.5))).sub(ops.exp(ops.neg(x))), [3, 4], [], ['abs', 'add', 'sqrt', 'log', 'neg', 'exp', 'sub']);
    await check((x) => ops.leakyRelu(x, 0.2).add(ops.silu(x)).add(ops.gelu(x, { approximate: 'tanh' })), [6]);
    await check((x) => ops.logSoftmax(x, 1), [3, 4], [], ['logSoftmax']);
    await check((x, [p]) => ops.pow(ops.abs(x).add(0.1), p).add(ops.pow(x, 3)), [4], [[4]]);
    await check((x) => ops.flatten(ops.unsqueeze(ops.squeeze(x, 2), 1), 1), [3, 1, 4], [], ['squeeze', 'unsqueeze', 'flatten']);
    await check((x) => ops.concat([ops.transpose(x, 1, 2), ops.permute(x, [0, 2, 1]).mul(2)], 2), [3, 4], [], ['transpose', 'permute', 'mul', 'concat']);
  });
});

describe('exportOnnx refuses what a trace cannot export, naming the op', () => {
  it('a data-dependent where, dropout in training mode, batch statistics, a loss, var over the batch with a correction', () => {
    const dataWhere = new Fn((x) => ops.where(new Tensor(Float32Array.from(x.value.data, (v) => (v > 0 ? 1 : 0)), x.shape), x, 0)).build([4]);
    expect(() => encodeOnnx(dataWhere)).toThrow(/exportOnnx: op "where" has a condition that changes with the data or the batch/);
    const dropped = new Fn((x) => ops.dropout(x, 0.5, { training: true, rng: new Rng(1) })).build([4]);
    expect(() => encodeOnnx(dropped)).toThrow(/exportOnnx: op "dropout" ran in training mode/);
    const batchVar = new Fn((x) => ops.var(x, [0, 1])).build([3]);
    expect(() => encodeOnnx(batchVar)).toThrow(/exportOnnx: op "var" with correction 1 over the batch axis/);
    const batchStats = new Fn((x) => ops.batchNorm(x, null, null, null, null, { training: true })).build([3, 4]);
    expect(() => encodeOnnx(batchStats)).toThrow(/exportOnnx: op "batchNorm" normalizes with batch statistics/);
    const loss = new Fn((x) => ops.crossEntropy(x, new Array(x.shape[0]).fill(1), { weight: [1, 2, 3] })).build([3]);
    expect(() => encodeOnnx(loss)).toThrow(/exportOnnx: op "crossEntropy" has no ONNX mapping \(a loss: its class-index targets and options are not on the tape\)/);
  });
});

describe('coverage of the tape ops', () => {
  // Every op name the ops in src/ops record on the tape (argmax/argmin return plain Tensors and record none).
  const TAPE_OPS = [
    'add', 'sub', 'mul', 'div', 'pow', 'where', 'neg', 'exp', 'log', 'sqrt', 'abs', 'clamp', 'relu', 'leakyRelu', 'tanh', 'sigmoid',
    'gelu', 'silu', 'sum', 'mean', 'max', 'min', 'var', 'reshape', 'squeeze', 'unsqueeze', 'flatten', 'permute', 'transpose', 'concat',
    'stack', 'slice', 'select', 'indexSelect', 'pad', 'matmul', 'softmax', 'logSoftmax', 'crossEntropy', 'mse', 'dropout', 'layerNorm',
    'batchNorm', 'embedding', 'conv2d', 'conv1d', 'maxPool2d', 'avgPool2d',
  ];
  it('each has a cost rule, and an ONNX mapping except the documented crossEntropy and training-mode dropout', () => {
    expect(TAPE_OPS.filter((op) => !opCostNames().includes(op))).toEqual([]);
    expect(TAPE_OPS.filter((op) => !ONNX_MODULE_OPS.includes(op))).toEqual(['crossEntropy', 'dropout']);
  });
});
