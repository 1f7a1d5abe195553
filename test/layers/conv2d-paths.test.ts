// Conv2D's stride-1 path run three ways — on the shared WebAssembly heap with 1 thread, with 2 threads
// (the per-chunk tasks of runtime/conv-tasks.ts on the gemm pool's workers), and on a private heap with the
// TypeScript gemm — against each other (the threaded run bit for bit) and against a direct float64
// convolution, at awkward sizes: batch 1 / 7 / 33, odd images, padding, several images per chunk.
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ReLU } from '../../src/layers/activations.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { CONV_COLUMN_BUDGET } from '../../src/tensor/conv2d-engine.js';
import { setGemmBackend } from '../../src/tensor/gemm.js';
import { setConvAlgorithm, setWinogradWeightGrad } from '../../src/tensor/winograd.js';
import { heapFloat32, sharedHeap } from '../../src/runtime/heap.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { randomTensor, testRng } from '../util/rng.js';

interface Case { batch: number; inC: number; H: number; W: number; filters: number; k: [number, number]; pad: [number, number]; bias: boolean }

const CASES: Case[] = [
  { batch: 1, inC: 1, H: 5, W: 7, filters: 3, k: [3, 3], pad: [0, 0], bias: true },
  { batch: 7, inC: 3, H: 30, W: 29, filters: 5, k: [3, 2], pad: [1, 1], bias: true }, // 7 chunks of 1 image
  { batch: 33, inC: 2, H: 20, W: 20, filters: 9, k: [2, 2], pad: [1, 0], bias: false }, // 11 chunks of 3 images
  { batch: 4, inC: 16, H: 26, W: 26, filters: 16, k: [3, 3], pad: [0, 0], bias: true }, // net000's conv2
  { batch: 6, inC: 4, H: 24, W: 25, filters: 6, k: [5, 5], pad: [2, 2], bias: true },
];

interface Result { y: Float32Array; dx: Float32Array; dW: Float32Array; db: Float32Array | null }

/** Forward and backward of one layer with fixed weights, input and upstream gradient, under the current settings. */
function run(c: Case): Result {
  const rng = testRng(7);
  const layer = new Conv2D({ filters: c.filters, kernelSize: c.k, padding: c.pad, useBias: c.bias });
  layer.build([c.inC, c.H, c.W], rng);
  const x = randomTensor([c.batch, c.inC, c.H, c.W], rng);
  const y = layer.forward(x, true);
  const dy = randomTensor(y.shape, rng);
  // Two steps, so the second reuses the layer's state as training does.
  layer.forward(x, true);
  const dx = layer.backward(dy);
  const [w, b] = layer.params();
  return { y: Float32Array.from(y.data), dx: Float32Array.from(dx.data), dW: Float32Array.from(w.grad.data), db: c.bias ? Float32Array.from(b.grad.data) : null };
}

/** Direct convolution in float64: y, and dx / dW / db for the same dy as {@link run}. */
function direct(c: Case): { y: Float64Array; dx: Float64Array; dW: Float64Array; db: Float64Array } {
  const rng = testRng(7);
  const layer = new Conv2D({ filters: c.filters, kernelSize: c.k, padding: c.pad, useBias: c.bias });
  layer.build([c.inC, c.H, c.W], rng);
  const x = randomTensor([c.batch, c.inC, c.H, c.W], rng).data;
  const [kH, kW] = c.k;
  const [pH, pW] = c.pad;
  const oH = c.H + 2 * pH - kH + 1;
  const oW = c.W + 2 * pW - kW + 1;
  const dy = randomTensor([c.batch, c.filters, oH, oW], rng).data;
  const w = layer.params()[0].value.data;
  const bias = c.bias ? layer.params()[1].value.data : null;
  const y = new Float64Array(c.batch * c.filters * oH * oW);
  const dx = new Float64Array(x.length);
  const dW = new Float64Array(w.length);
  const db = new Float64Array(c.filters);
  for (let n = 0; n < c.batch; n++) {
    for (let o = 0; o < c.filters; o++) {
      for (let i = 0; i < oH; i++) {
        for (let j = 0; j < oW; j++) {
          const yi = ((n * c.filters + o) * oH + i) * oW + j;
          let s = bias === null ? 0 : bias[o];
          db[o] += dy[yi];
          for (let ch = 0; ch < c.inC; ch++) {
            for (let a = 0; a < kH; a++) {
              for (let e = 0; e < kW; e++) {
                const h = i + a - pH;
                const v = j + e - pW;
                if (h < 0 || h >= c.H || v < 0 || v >= c.W) continue;
                const xi = ((n * c.inC + ch) * c.H + h) * c.W + v;
                const wi = ((o * c.inC + ch) * kH + a) * kW + e;
                s += w[wi] * x[xi];
                dW[wi] += dy[yi] * x[xi];
                dx[xi] += dy[yi] * w[wi];
              }
            }
          }
          y[yi] = s;
        }
      }
    }
  }
  return { y, dx, dW, db };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst, what).toBeLessThan(2e-5);
}

describe('Conv2D stride-1 paths', () => {
  const threadsBefore = getThreads();
  afterEach(() => {
    setThreads(threadsBefore);
    setGemmBackend('auto');
  });

  it('splits the test cases into several chunks (so 2 threads really share them)', () => {
    expect(CONV_COLUMN_BUDGET).toBe(1 << 17); // the chunk sizes noted in CASES assume this budget
  });

  it('runs on the shared heap when WebAssembly SIMD with shared memory is available', () => {
    // On Node 20+ both are available; the comparisons below would otherwise test one path twice.
    expect(sharedHeap()).not.toBeNull();
  });

  for (const c of CASES) {
    const name = `batch ${c.batch}, ${c.inC}×${c.H}×${c.W} → ${c.filters}, kernel ${c.k.join('×')}, pad ${c.pad.join(',')}${c.bias ? '' : ', no bias'}`;
    it(`${name}: 1 thread, 2 threads (bit-identical), TypeScript gemm, direct float64`, () => {
      // dW by the im2col gemm: the Winograd dW's error is bounded relative to Σ|dy·x|, not per element
      // as here (its tests: test/tensor/winograd-grad.test.ts).
      const weightGradBefore = setWinogradWeightGrad('never');
      onTestFinished(() => { setWinogradWeightGrad(weightGradBefore); });
      setThreads(1);
      const one = run(c);
      setThreads(2);
      const two = run(c);
      setThreads(1);
      setGemmBackend('ts');
      const ts = run(c);
      setGemmBackend('auto');
      if (availableCores() >= 2) {
        expect(Array.from(two.y)).toEqual(Array.from(one.y));
        expect(Array.from(two.dx)).toEqual(Array.from(one.dx));
        expect(Array.from(two.dW)).toEqual(Array.from(one.dW));
        if (c.bias) expect(Array.from(two.db as Float32Array)).toEqual(Array.from(one.db as Float32Array));
      }
      const want = direct(c);
      for (const [label, r] of [['wasm', one], ['ts', ts]] as const) {
        expectClose(r.y, want.y, `${label} y`);
        expectClose(r.dx, want.dx, `${label} dx`);
        expectClose(r.dW, want.dW, `${label} dW`);
        if (c.bias) expectClose(r.db as Float32Array, want.db, `${label} db`);
      }
    });
  }

  it('fuses a following ReLU (forwardRelu + passThrough) with the bits of the separate layers, on 1 and 2 threads', () => {
    const c = CASES[3];
    const outcome = (fused: boolean): number[][] => {
      const rng = testRng(11);
      const conv = new Conv2D({ filters: c.filters, kernelSize: c.k, padding: c.pad });
      conv.build([c.inC, c.H, c.W], rng);
      const relu = new ReLU();
      relu.build([c.filters, c.H - 2, c.W - 2], rng);
      const x = randomTensor([c.batch, c.inC, c.H, c.W], rng);
      const y = fused ? relu.passThrough(conv.forwardRelu(x, true)) : relu.forward(conv.forward(x, true), true);
      const dy = randomTensor(y.shape, rng);
      const dx = conv.backward(relu.backward(dy));
      const [w, b] = conv.params();
      return [Array.from(y.data), Array.from(dx.data), Array.from(w.grad.data), Array.from(b.grad.data)];
    };
    for (const threads of [1, 2]) {
      setThreads(threads);
      const separate = outcome(false);
      expect(separate[0].some((v) => v === 0) && separate[0].some((v) => v > 0)).toBe(true); // the mask matters
      expect(outcome(true)).toEqual(separate);
    }
  });

  it('a NaN pixel stays NaN through the fused ReLU (SIMD store and TypeScript store, 1 and 2 threads) and reaches dW, with the separate layers\' bits', () => {
    const c = CASES[3];
    const outcome = (fused: boolean): Float32Array[] => {
      const rng = testRng(11);
      const conv = new Conv2D({ filters: c.filters, kernelSize: c.k, padding: c.pad });
      conv.build([c.inC, c.H, c.W], rng);
      const relu = new ReLU();
      relu.build([c.filters, c.H - 2, c.W - 2], rng);
      const x = randomTensor([c.batch, c.inC, c.H, c.W], rng);
      x.data[1 * c.inC * c.H * c.W + 5 * c.W + 7] = Number.NaN; // image 1, channel 0, row 5, column 7
      const y = fused ? relu.passThrough(conv.forwardRelu(x, true)) : relu.forward(conv.forward(x, true), true);
      const dy = randomTensor(y.shape, rng);
      const dx = conv.backward(relu.backward(dy));
      const [w, b] = conv.params();
      return [y.data, dx.data, w.grad.data, b.grad.data].map((a) => Float32Array.from(a));
    };
    const nanCount = (a: Float32Array): number => a.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    const runs: [number, 'auto' | 'ts'][] = [[1, 'auto'], [2, 'auto'], [1, 'ts']];
    // The exact NaN placement is im2col's (Winograd spreads a NaN over its tile: test/tensor/winograd.test.ts).
    const algorithmBefore = setConvAlgorithm('im2col');
    onTestFinished(() => { setConvAlgorithm(algorithmBefore); });
    for (const [threads, backend] of runs) {
      setThreads(threads);
      setGemmBackend(backend);
      const separate = outcome(false);
      const [y, dx, dW, db] = outcome(true);
      // The NaN pixel touches a 3×3 window of each of the 16 output planes of image 1, all of them NaN
      // after the ReLU (torch.relu keeps NaN), and no other output.
      expect(nanCount(y), `${threads} threads, ${backend}`).toBe(16 * 9);
      expect(nanCount(separate[0])).toBe(16 * 9);
      // Backward: a NaN y passes its (finite) dy (threshold_backward), so db and dx stay finite, as in
      // torch; dW = Σ dy·x is NaN exactly for input channel 0 (every tap meets the interior pixel).
      const taps = c.k[0] * c.k[1];
      for (let i = 0; i < dW.length; i++) expect(Number.isNaN(dW[i]), `dW[${i}]`).toBe(Math.floor(i / taps) % c.inC === 0);
      expect(db.every(Number.isFinite) && dx.every(Number.isFinite)).toBe(true);
      for (const [got, want] of [[y, separate[0]], [dx, separate[1]], [dW, separate[2]], [db, separate[3]]]) {
        for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))).toBe(true);
      }
    }
  });

  it('keeps the outputs of the last three batch sizes valid (training, evaluation and a last partial batch alternate)', () => {
    const rng = testRng(3);
    const layer = new Conv2D({ filters: 4, kernelSize: 3 });
    layer.build([2, 8, 8], rng);
    const xs = [5, 3, 2].map((b) => randomTensor([b, 2, 8, 8], rng));
    const ys = xs.map((x) => Float32Array.from(layer.forward(x, false).data));
    for (let i = 0; i < xs.length; i++) expect(Array.from(layer.forward(xs[i], false).data)).toEqual(Array.from(ys[i]));
  });

  it('reads inputs and gradients that live in the heap in place, with the bits of copies (also its own output fed back in)', () => {
    const c = CASES[3]; // net000's conv2 shape, several chunks
    for (const threads of [1, 2]) {
      setThreads(threads);
      const build = (): Conv2D => {
        const layer = new Conv2D({ filters: c.inC, kernelSize: c.k, padding: [1, 1] }); // output shape = input shape
        layer.build([c.inC, c.H, c.W], testRng(21));
        return layer;
      };
      const rng = testRng(22);
      const x = randomTensor([c.batch, c.inC, c.H, c.W], rng);
      const dy = randomTensor([c.batch, c.inC, c.H, c.W], rng);
      const xHeap = new Tensor(heapFloat32(x.size), x.shape);
      xHeap.data.set(x.data);
      const dyHeap = new Tensor(heapFloat32(dy.size), dy.shape);
      dyHeap.data.set(dy.data);
      const plain = build();
      const inHeap = build();
      const result = (layer: Conv2D, xs: Tensor, dys: Tensor): number[][] => {
        const y = Array.from(layer.forward(xs, true).data);
        const dx = Array.from(layer.backward(dys).data);
        return [y, dx, ...layer.params().map((p) => Array.from(p.grad.data))];
      };
      const want = result(plain, x, dy);
      expect(result(inHeap, xHeap, dyHeap)).toEqual(want);
      // Its own output as the next input: the layer copies inputs that overlap its outputs.
      const again = build();
      const y1 = again.forward(x, false);
      const y2 = Array.from(again.forward(y1, false).data);
      const check = build();
      const y1Copy = new Tensor(Float32Array.from(check.forward(x, false).data), y1.shape);
      expect(y2).toEqual(Array.from(check.forward(y1Copy, false).data));
    }
  });
});
