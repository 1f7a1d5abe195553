// ONNX export: protobuf encoder bytes (hand-derived), and exported models run in onnxruntime-web
// (wasm, offline, single thread) against tensorkit's own predictions (atol 1e-5).
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx } from '../../src/io/index.js';
import { ProtoWriter } from '../../src/io/protobuf.js';
import { createLayer, registerLayer, Identity } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn, Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  // The wasm binaries ship in the package; point the runtime at them so nothing is fetched.
  ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
});

async function runOnnx(model: Sequential, x: Tensor): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(encodeOnnx(model));
  const result = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
  return { dims: result.output.dims, data: result.output.data as Float32Array };
}

/** Runs a few training-mode forwards so BatchNorm running statistics are not the identity. */
function warmBatchNorm(model: Sequential, rng: Rng, batch: number): void {
  for (let i = 0; i < 3; i++) model.forward(randn([batch, ...model.inputShape], rng, 0.5, 2), { training: true });
}

describe('ProtoWriter', () => {
  it('encodes varints, negative int64, floats, strings and nested messages (hand-derived bytes)', () => {
    // Field 1 varint 300: tag 0x08, 300 = 0b10_0101100 → ac 02.
    expect([...new ProtoWriter().int(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
    // Field 3 varint -1: ten bytes of two's complement, ff×9 then 01.
    expect([...new ProtoWriter().int(3, -1).finish()]).toEqual([0x18, ...new Array(9).fill(0xff), 0x01]);
    // Field 2 float 1.0: tag (2<<3)|5 = 0x15, then 00 00 80 3f.
    expect([...new ProtoWriter().float(2, 1).finish()]).toEqual([0x15, 0, 0, 0x80, 0x3f]);
    // Field 1 string "hi" inside field 7 message: 3a 04 | 0a 02 68 69.
    expect([...new ProtoWriter().message(7, (m) => m.string(1, 'hi')).finish()]).toEqual([0x3a, 0x04, 0x0a, 0x02, 0x68, 0x69]);
    // Field 20 (two-byte tag): (20<<3)|0 = 160 → a0 01.
    expect([...new ProtoWriter().int(20, 7).finish()]).toEqual([0xa0, 0x01, 0x07]);
    expect(() => new ProtoWriter().int(1, 0.5)).toThrow(/safe integer/);
  });
});

describe('exportOnnx → onnxruntime-web', () => {
  it('a CNN (conv, BatchNorm2d, max/avg pool with padding, LeakyReLU, Softmax) matches within 1e-5', async () => {
    const model = new Sequential([
      createLayer('conv2d', { filters: 4, kernelSize: 3, padding: 'same' }), createLayer('batch-norm2d'), createLayer('relu'),
      createLayer('max-pool2d', { poolSize: 2 }),
      createLayer('conv2d', { filters: 5, kernelSize: [3, 2], stride: 2, padding: [1, 0] }), createLayer('leaky-relu', { negativeSlope: 0.2 }),
      createLayer('avg-pool2d', { poolSize: 2, stride: 1, padding: 1, countIncludePad: false }),
      createLayer('avg-pool2d', { poolSize: 3, stride: 1, padding: 1 }),
      createLayer('flatten'), createLayer('dense', { units: 7 }), createLayer('tanh'), createLayer('dropout', { rate: 0.3 }),
      createLayer('dense', { units: 4 }), createLayer('softmax'),
    ], { inputShape: [2, 10, 9], seed: 5 });
    const rng = new Rng(7);
    warmBatchNorm(model, rng, 4);
    const x = randn([3, 2, 10, 9], rng);
    const want = model.predict(x);
    const got = await runOnnx(model, x);
    expect(got.dims).toEqual(want.shape);
    assertClose(got.data, want.data, { atol: 1e-5, rtol: 0, what: 'cnn output' });
  });

  it('an MLP with BatchNorm1d (affine and not), Sigmoid and no-bias Dense matches within 1e-5', async () => {
    const model = new Sequential([
      createLayer('dense', { units: 16 }), createLayer('batch-norm1d', { eps: 1e-3 }), createLayer('sigmoid'),
      createLayer('dense', { units: 8, useBias: false }), createLayer('batch-norm1d', { affine: false }), createLayer('relu'),
      createLayer('identity'), createLayer('dense', { units: 3 }),
    ], { inputShape: [6], seed: 9 });
    const rng = new Rng(8);
    warmBatchNorm(model, rng, 10);
    const x = randn([5, 6], rng);
    const want = model.predict(x);
    const got = await runOnnx(model, x);
    expect(got.dims).toEqual(want.shape);
    assertClose(got.data, want.data, { atol: 1e-5, rtol: 0, what: 'mlp output' });
  });

  it('a token model (embedding, layer-norm over 1 and 2 dims, causal and plain multi-head attention, gelu both forms, silu) matches within 1e-5', async () => {
    const T = 6;
    const model = new Sequential([
      createLayer('embedding', { numEmbeddings: 10, embeddingDim: 8 }), createLayer('layer-norm'),
      createLayer('multi-head-attention', { embedDim: 8, numHeads: 2, causal: true }), createLayer('gelu'),
      createLayer('layer-norm', { normalizedShape: [T, 8], eps: 1e-3 }), createLayer('silu'),
      createLayer('multi-head-attention', { embedDim: 8, numHeads: 4, useBias: false }), createLayer('gelu', { approximate: 'tanh' }),
      createLayer('layer-norm', { affine: false }), createLayer('flatten'), createLayer('dense', { units: 3 }),
    ], { inputShape: [T], seed: 11 });
    const rng = new Rng(12);
    // Non-zero biases, so the exported graph must apply them.
    for (const p of model.params()) if (p.name.endsWith('bias')) p.value.data.set(randn([p.value.size], rng, 0, 0.5).data);
    const x = new Tensor(Float32Array.from({ length: 4 * T }, () => Math.floor(rng.uniform(0, 10))), [4, T]);
    const want = model.predict(x);
    const got = await runOnnx(model, x);
    expect(got.dims).toEqual(want.shape);
    assertClose(got.data, want.data, { atol: 1e-5, rtol: 0, what: 'token model output' });
  });

  it('conv1d (stride, padding, same, no bias) and global-avg-pool2d match within 1e-5', async () => {
    const seq = new Sequential([
      createLayer('conv1d', { filters: 4, kernelSize: 3, padding: 'same' }), createLayer('silu'),
      createLayer('conv1d', { filters: 3, kernelSize: 4, stride: 2, padding: 1, useBias: false }), createLayer('flatten'), createLayer('dense', { units: 2 }),
    ], { inputShape: [2, 12], seed: 3 });
    const img = new Sequential([
      createLayer('conv2d', { filters: 5, kernelSize: 3 }), createLayer('relu'), createLayer('global-avg-pool2d'), createLayer('dense', { units: 3 }),
    ], { inputShape: [2, 7, 6], seed: 4 });
    const rng = new Rng(13);
    for (const [model, x] of [[seq, randn([3, 2, 12], rng)], [img, randn([3, 2, 7, 6], rng)]] as const) {
      const want = model.predict(x);
      const got = await runOnnx(model, x);
      expect(got.dims).toEqual(want.shape);
      assertClose(got.data, want.data, { atol: 1e-5, rtol: 0, what: `${model.layers[0].kind} model output` });
    }
  });

  it('refuses a layer kind without an ONNX translation, naming it', () => {
    registerLayer('test-onnx-custom', () => Object.assign(new Identity(), { kind: 'test-onnx-custom' }));
    const model = new Sequential([createLayer('dense', { units: 2 }), createLayer('test-onnx-custom')], { inputShape: [3] });
    expect(() => encodeOnnx(model)).toThrow(/layer 1 \(test-onnx-custom\) has no ONNX translation; supported: dense, conv2d/);
  });
});
