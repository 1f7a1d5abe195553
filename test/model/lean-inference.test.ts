// The lean inference path: an eval-mode Sequential.forward (what predict and evaluate run) fuses a
// following ReLU into Conv2D and Dense and lets Conv2D pick the thin kernel by its shape rule; these
// tests hold it to the plain layer-by-layer eval forward bit for bit, for every registered layer and
// the assignment networks, on 1 and 2 threads, and hold the default thin rule to a float64 direct
// convolution at awkward sizes (1, 2, 5, 7, 33 pixels; 1 and 3 channels; every padding; stride 1 and 2).
import { afterEach, describe, expect, it } from 'vitest';
import { buildModel, NETWORKS } from '../../bench/lib/networks.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { ReLU } from '../../src/layers/activations.js';
import '../../src/layers/index.js';
import { createLayer, layerNames, type Layer } from '../../src/layers/layer.js';
import { Sequential } from '../../src/model/sequential.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { THIN_CONV_MAX_CHANNELS, isThinConv, setThinConvMaxChannels } from '../../src/tensor/conv2d-engine.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomTensor, testRng } from '../util/rng.js';

/** One case per built-in (as test/layers/non-finite.test.ts); the first test checks this covers every registered layer. */
const CASES: Record<string, { config: Record<string, unknown>; shape: number[] }> = {
  dense: { config: { units: 7 }, shape: [33] },
  conv2d: { config: { filters: 5, kernelSize: 3, padding: 1 }, shape: [3, 7, 7] },
  'conv2d-thin': { config: { filters: 1, kernelSize: 3 }, shape: [1, 33, 33] },
  'conv2d-strided': { config: { filters: 2, kernelSize: 3, stride: 2, padding: 1 }, shape: [2, 5, 5] },
  flatten: { config: {}, shape: [2, 3, 3] },
  dropout: { config: { rate: 0.5 }, shape: [64] },
  relu: { config: {}, shape: [9] },
  'leaky-relu': { config: {}, shape: [9] },
  tanh: { config: {}, shape: [9] },
  sigmoid: { config: {}, shape: [9] },
  identity: { config: {}, shape: [9] },
  softmax: { config: {}, shape: [9] },
  'max-pool2d': { config: { poolSize: 2 }, shape: [2, 6, 6] },
  'avg-pool2d': { config: { poolSize: 2 }, shape: [2, 6, 6] },
  'batch-norm1d': { config: {}, shape: [9] },
  'batch-norm2d': { config: {}, shape: [2, 3, 3] },
  gelu: { config: {}, shape: [9] },
  'gelu-tanh': { config: { approximate: 'tanh' }, shape: [9] },
  silu: { config: {}, shape: [9] },
  'layer-norm': { config: {}, shape: [3, 8] },
  embedding: { config: { numEmbeddings: 11, embeddingDim: 4 }, shape: [6] },
  conv1d: { config: { filters: 3, kernelSize: 3, padding: 1 }, shape: [2, 9] },
  'global-avg-pool2d': { config: {}, shape: [3, 5, 5] },
  'multi-head-attention': { config: { embedDim: 8, numHeads: 2 }, shape: [5, 8] },
  'multi-head-attention-causal': { config: { embedDim: 8, numHeads: 2, causal: true }, shape: [5, 8] },
};
const kindOf = (name: string): string => name.replace(/-(strided|thin|tanh|causal)$/, '');

function bits(a: Float32Array): number[] {
  return Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
}

/** The plain eval forward: every layer's own forward(h, false), no fusion. A copy of the output. */
function plainForward(model: Sequential, x: Tensor): Float32Array {
  let h = x;
  for (const layer of model.layers) h = layer.forward(h, false);
  return Float32Array.from(h.data);
}

/** A batch with values around 0 (so ReLU masks about half) plus exact zeros. */
function input(shape: readonly number[], batch: number, seed: number): Tensor {
  const x = randomTensor([batch, ...shape.slice()], testRng(seed));
  for (let i = 0; i < x.size; i += 11) x.data[i] = 0;
  return x;
}

/** A batch of token ids in [0, vocab), deterministic. */
function tokenIds(shape: readonly number[], batch: number, vocab: number): Tensor {
  const x = new Tensor(new Float32Array(batch * shape.reduce((a, b) => a * b, 1)), [batch, ...shape]);
  for (let i = 0; i < x.size; i++) x.data[i] = (i * 7 + 3) % vocab;
  return x;
}

describe('lean inference path (eval-mode Sequential.forward)', () => {
  const threadsBefore = getThreads();
  afterEach(() => {
    setThreads(threadsBefore);
    setThinConvMaxChannels(THIN_CONV_MAX_CHANNELS);
  });
  const threadCounts = [...new Set([1, Math.min(2, availableCores())])];

  it('covers every registered layer', () => {
    expect(layerNames().slice().sort()).toEqual([...new Set(Object.keys(CASES).map(kindOf))].sort());
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name} followed by a ReLU: the same bits as the plain eval forward, on ${threadCounts.join(' and ')} threads`, () => {
      const per: Float32Array[] = [];
      for (const threads of threadCounts) {
        setThreads(threads);
        const model = new Sequential([createLayer(kindOf(name), c.config), new ReLU()], { inputShape: c.shape, seed: 5 });
        // Embedding takes token ids: integers in [0, numEmbeddings).
        const x = name === 'embedding' ? tokenIds(c.shape, 9, 11) : input(c.shape, 9, 6);
        const lean = Float32Array.from(model.forward(x, { training: false }).data);
        expect(bits(lean), `${name}: lean vs plain`).toEqual(bits(plainForward(model, x)));
        // predict runs the same path in batches
        expect(bits(model.predict(x, { batchSize: 4 }).data)).toEqual(bits(lean));
        per.push(lean);
      }
      for (const other of per.slice(1)) expect(bits(other), `${name}: threads`).toEqual(bits(per[0]));
    });
  }

  for (const spec of NETWORKS) {
    it(`${spec.name}: lean forward = plain eval forward, bit for bit, on ${threadCounts.join(' and ')} threads`, () => {
      const per: Float32Array[] = [];
      for (const threads of threadCounts) {
        setThreads(threads);
        const model = buildModel(spec);
        const x = input(spec.inputShape, 37, 8);
        const lean = Float32Array.from(model.forward(x, { training: false }).data);
        expect(bits(lean)).toEqual(bits(plainForward(model, x)));
        per.push(lean);
      }
      for (const other of per.slice(1)) expect(bits(other)).toEqual(bits(per[0]));
    });
  }

  it('Dense fuses a following ReLU in training too: output, dx, dW and db bit-identical to the two layers', () => {
    const run = (fused: boolean): Float32Array[] => {
      const dense = new Dense({ units: 6 });
      const relu = new ReLU();
      dense.build([10], testRng(1));
      relu.build([6], testRng(1));
      const [w, b] = dense.params();
      // unit 2's pre-activation is exactly 0 (zero weights and bias): ReLU's mask must drop its gradient
      w.value.data.fill(0, 20, 30);
      b.value.data[2] = 0;
      const x = input([10], 5, 2);
      x.data[13] = Number.NaN; // sample 1: every unit NaN, the mask passes dy (threshold_backward)
      expect(dense.fuses(relu)).toBe(true);
      const y = fused ? relu.passThrough(dense.forwardFused(x, true, relu)) : relu.forward(dense.forward(x, true), true);
      const dy = randomTensor(y.shape, testRng(3));
      const dx = dense.backward(relu.backward(dy));
      return [Float32Array.from(y.data), Float32Array.from(dx.data), Float32Array.from(w.grad.data), Float32Array.from(b.grad.data), Float32Array.from(dy.data)];
    };
    const plain = run(false);
    const fused = run(true);
    for (let i = 0; i < 4; i++) expect(bits(fused[i]), ['y', 'dx', 'dW', 'db'][i]).toEqual(bits(plain[i]));
    expect(plain[0][2]).toBe(0);
    // db of the zero unit: masked in every sample but the NaN one, whose dy passes
    expect(plain[3][2]).toBe(plain[4][6 + 2]);
    expect(Number.isNaN(plain[0][6])).toBe(true);
  });

  it('a Sequential trains to the same bits with the Dense+ReLU fusion as with the layers apart', () => {
    const train = (fuse: boolean): Float32Array => {
      const layers: Layer[] = [new Dense({ units: 8 }), new ReLU(), new Dense({ units: 3 })];
      if (!fuse) (layers[0] as { fuses: (n: Layer) => boolean }).fuses = () => false;
      const model = new Sequential(layers, { inputShape: [5], seed: 3 });
      model.compile({ optimizer: { name: 'momentum', lr: 0.05, momentum: 0.9 }, loss: 'cross-entropy' });
      const x = input([5], 16, 4);
      const y = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
      for (let s = 0; s < 5; s++) model.trainStep(x, y);
      return Float32Array.from(model.params().flatMap((p) => Array.from(p.value.data)));
    };
    expect(bits(train(true))).toEqual(bits(train(false)));
  });
});

/** The direct convolution in float64 for a Conv2D layer's weights (then the ReLU). */
function directConv(x: Tensor, w: Float32Array, b: Float32Array, F: number, k: number, stride: number, pad: number): { y: Float64Array; outH: number; outW: number } {
  const [batch, C, H, W] = x.shape;
  const outH = Math.floor((H + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((W + 2 * pad - k) / stride) + 1;
  const y = new Float64Array(batch * F * outH * outW);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < F; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let s = b[o];
          for (let c = 0; c < C; c++) {
            for (let a = 0; a < k; a++) {
              for (let e = 0; e < k; e++) {
                const h = i * stride + a - pad;
                const v = j * stride + e - pad;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                s += w[((o * C + c) * k + a) * k + e] * x.data[((n * C + c) * H + h) * W + v];
              }
            }
          }
          y[((n * F + o) * outH + i) * outW + j] = s <= 0 ? 0 : s;
        }
      }
    }
  }
  return { y, outH, outW };
}

describe('Conv2D under the default thin rule against a float64 direct convolution', () => {
  const threadsBefore = getThreads();
  afterEach(() => setThreads(threadsBefore));
  const threadCounts = [...new Set([1, Math.min(2, availableCores())])];

  for (const size of [1, 2, 5, 7, 33]) {
    for (const C of [1, 3]) {
      for (const stride of [1, 2]) {
        for (let pad = 0; pad < 3; pad++) {
          if (size + 2 * pad < 3) continue; // no output
          const F = 1 + ((size + C + pad) % 2); // 1 or 2 filters: the shapes the rule sends to the thin kernel
          it(`${C}×${size}×${size} → ${F}, 3×3, stride ${stride}, pad ${pad}: fused conv+ReLU within 2e-6, threads agree`, () => {
            const per: Float32Array[] = [];
            for (const threads of threadCounts) {
              setThreads(threads);
              const model = new Sequential([new Conv2D({ filters: F, kernelSize: 3, stride, padding: pad }), new ReLU()], { inputShape: [C, size, size], seed: 11 });
              const conv = model.layers[0] as Conv2D;
              expect(isThinConv(conv.geometry!, F)).toBe(stride === 1);
              const x = input([C, size, size], 7, 12);
              const y = Float32Array.from(model.forward(x, { training: false }).data);
              const [w, b] = conv.params();
              const want = directConv(x, w.value.data, b.value.data, F, 3, stride, pad);
              expect(y.length).toBe(want.y.length);
              let worst = 0;
              for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - want.y[i]) / (1 + Math.abs(want.y[i])));
              expect(worst).toBeLessThan(2e-6);
              per.push(y);
            }
            for (const other of per.slice(1)) expect(bits(other)).toEqual(bits(per[0]));
          });
        }
      }
    }
  }
});
