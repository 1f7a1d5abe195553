// Conv2D's direct "thin" path (ThinConv, tensor/conv2d-engine.ts; kernels thin-conv / thin-conv-grad):
// against a direct float64 convolution and the wide im2col path at awkward sizes (1, 2, 5, 7, 33
// pixels; 1 and 3 channels; 1, 2 and 5–8 filters; every padding 0..k−1; batch 1, 7, 33; and rows of 8–33 pixels for the
// interior runs, 1–7 filters, 1–3 channels, 3×3 and 5×5), bit-identical between 1 and 2
// threads and between the SIMD kernels and their TypeScript twins, and wired into Conv2D by the rule.
import { afterEach, describe, expect, it } from 'vitest';
import { Conv2D } from '../../src/layers/conv2d.js';
import { THIN_CONV, THIN_CONV_GRAD } from '../../src/runtime/kernel-table.js';
import { heapFloat32, isHeapArray, sharedHeap } from '../../src/runtime/heap.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { THIN_CONV_MAX_CHANNELS, ThinConv, WideConv, isThinConv, setThinConvMaxChannels, sharedConvHeap } from '../../src/tensor/conv2d-engine.js';
import { convGeometry, type ConvGeometry } from '../../src/tensor/im2col.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testRng } from '../util/rng.js';

interface Case { batch: number; C: number; H: number; W: number; F: number; k: [number, number]; pad: [number, number]; bias: boolean; relu: boolean }

/** The awkward cases: every size × channels × padding (3×3), batches rotating over 1, 7, 33, plus 2×3 and 5×5 kernels. */
function cases(): Case[] {
  const out: Case[] = [];
  const batches = [1, 7, 33];
  let n = 0;
  for (const size of [1, 2, 5, 7, 33]) {
    for (const C of [1, 3]) {
      for (let p = 0; p < 3; p++) {
        if (size + 2 * p < 3) continue; // no output
        const batch = size === 33 && batches[n % 3] === 33 ? 7 : batches[n % 3];
        out.push({ batch, C, H: size, W: size, F: [1, 2, 5, 6, 7, 8][n % 6], k: [3, 3], pad: [p, p], bias: n % 2 === 0, relu: n % 3 === 1 });
        n++;
      }
    }
  }
  for (let ph = 0; ph < 2; ph++) {
    for (let pw = 0; pw < 3; pw++) out.push({ batch: 33, C: 2, H: 5, W: 7, F: 4, k: [2, 3], pad: [ph, pw], bias: true, relu: pw === 1 });
  }
  for (let p = 0; p < 5; p++) out.push({ batch: 7, C: 1, H: 7, W: 33, F: 3, k: [5, 5], pad: [p, p], bias: p !== 2, relu: p === 3 });
  out.push({ batch: 33, C: 1, H: 28, W: 28, F: 16, k: [3, 3], pad: [1, 1], bias: true, relu: true }); // net004-like
  return out.concat(runCases());
}

/**
 * Rows wide enough for the kernel's interior runs (16 outputs for blocks of 1–2 filters, 12 for 3, 8 for
 * 4, the last run shifted left): every filter count 1–7 (blocks of 4 plus 1–3), 1–3 channels, 3×3 and
 * 5×5 with every padding, widths 8–33 (runs that fit once, overlap, or not at all), rows of the pruned
 * example's conv2 (3 → 6, 5×5, 26 wide).
 */
function runCases(): Case[] {
  const out: Case[] = [];
  let n = 0;
  for (const W of [8, 12, 19, 33]) {
    for (const F of [1, 2, 3, 4, 5, 6, 7]) {
      const k = n % 2 === 0 ? 5 : 3;
      const pad = n % k;
      out.push({ batch: 1 + (n % 3), C: 1 + (n % 3), H: 6, W, F, k: [k, k], pad: [(n >> 1) % k, pad], bias: n % 4 !== 3, relu: n % 3 !== 2 });
      n++;
    }
  }
  out.push({ batch: 5, C: 3, H: 26, W: 26, F: 6, k: [5, 5], pad: [0, 0], bias: true, relu: true });
  out.push({ batch: 5, C: 1, H: 28, W: 28, F: 3, k: [3, 3], pad: [0, 0], bias: true, relu: true });
  return out;
}

/** A heap array (SIMD kernels run on it) with uniform values in [−1, 1). */
function filled(n: number, seed: number): Float32Array {
  const rng = testRng(seed);
  const a = heapFloat32(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

interface Data { g: ConvGeometry; x: Float32Array; w: Float32Array; b: Float32Array | null; dy: Float32Array }

function data(c: Case): Data {
  const g = convGeometry(c.C, c.H, c.W, c.k[0], c.k[1], 1, 1, c.pad[0], c.pad[1]);
  return {
    g,
    x: filled(c.batch * c.C * c.H * c.W, 1),
    w: filled(c.F * c.C * c.k[0] * c.k[1], 2),
    b: c.bias ? filled(c.F, 3) : null,
    dy: filled(c.batch * c.F * g.outH * g.outW, 4),
  };
}

interface Result { y: Float32Array; dx: Float32Array; dW: Float32Array; db: Float32Array }

/** Forward then backward (dx asked) on the thin or the wide engine; two steps, as training reuses the state. */
function runEngine(c: Case, d: Data, thin: boolean): Result {
  const dW = heapFloat32(d.w.length);
  const db = heapFloat32(c.F);
  let y: Tensor;
  let dx: Tensor | null = null;
  if (thin) {
    const e = new ThinConv(c.batch, c.F, d.g);
    e.forward(d.x, d.w, d.b, c.relu);
    y = e.forward(d.x, d.w, d.b, c.relu);
    dx = e.backward(d.dy, d.w, dW, c.bias ? db : null, true);
  } else {
    const e = new WideConv(c.batch, c.F, c.bias, d.g, sharedConvHeap());
    y = e.forward(d.x, d.w, d.b, c.relu);
    dx = e.backward(d.dy, dW, c.bias ? db : null, true);
    const r = { y: Float32Array.from(y.data), dx: Float32Array.from((dx as Tensor).data), dW: Float32Array.from(dW), db: Float32Array.from(db) };
    e.release();
    return r;
  }
  return { y: Float32Array.from(y.data), dx: Float32Array.from((dx as Tensor).data), dW: Float32Array.from(dW), db: Float32Array.from(db) };
}

/** The direct convolution in float64 (with the ReLU and its mask when c.relu), and its gradients for dy. */
function direct(c: Case, d: Data): { y: Float64Array; dx: Float64Array; dW: Float64Array; db: Float64Array } {
  const { outH, outW } = d.g;
  const [kH, kW] = c.k;
  const [pH, pW] = c.pad;
  const y = new Float64Array(c.batch * c.F * outH * outW);
  const dx = new Float64Array(d.x.length);
  const dW = new Float64Array(d.w.length);
  const db = new Float64Array(c.F);
  for (let n = 0; n < c.batch; n++) {
    for (let o = 0; o < c.F; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let s = d.b === null ? 0 : d.b[o];
          for (let ch = 0; ch < c.C; ch++) {
            for (let a = 0; a < kH; a++) {
              for (let e = 0; e < kW; e++) {
                const h = i + a - pH;
                const v = j + e - pW;
                if (h < 0 || h >= c.H || v < 0 || v >= c.W) continue;
                s += d.w[((o * c.C + ch) * kH + a) * kW + e] * d.x[((n * c.C + ch) * c.H + h) * c.W + v];
              }
            }
          }
          const yi = ((n * c.F + o) * outH + i) * outW + j;
          y[yi] = c.relu && s <= 0 ? 0 : s;
          const g = c.relu && s <= 0 ? 0 : d.dy[yi];
          db[o] += g;
          for (let ch = 0; ch < c.C; ch++) {
            for (let a = 0; a < kH; a++) {
              for (let e = 0; e < kW; e++) {
                const h = i + a - pH;
                const v = j + e - pW;
                if (h < 0 || h >= c.H || v < 0 || v >= c.W) continue;
                const xi = ((n * c.C + ch) * c.H + h) * c.W + v;
                const wi = ((o * c.C + ch) * kH + a) * kW + e;
                dW[wi] += g * d.x[xi];
                dx[xi] += g * d.w[wi];
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, dW, db };
}

/** Largest |got − want| / (scale + |want|), scale = the largest |want| (sums of many terms cancel). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 2e-6): void {
  expect(got.length, what).toBe(want.length);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  expect(worst, what).toBeLessThan(tol);
}

function bits(a: Float32Array): number[] {
  return Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
}

describe('Conv2D thin path (direct SIMD convolution)', () => {
  const threadsBefore = getThreads();
  afterEach(() => {
    setThreads(threadsBefore);
    setThinConvMaxChannels(THIN_CONV_MAX_CHANNELS);
  });

  it('runs its SIMD kernels on the shared heap (else the comparisons would test the twins twice)', () => {
    expect(sharedHeap()).not.toBeNull();
    expect(isHeapArray(heapFloat32(4))).toBe(true);
  });

  for (const c of cases()) {
    const name = `batch ${c.batch}, ${c.C}×${c.H}×${c.W} → ${c.F}, kernel ${c.k.join('×')}, pad ${c.pad.join(',')}` +
      `${c.bias ? '' : ', no bias'}${c.relu ? ', fused ReLU' : ''}`;
    it(`${name}: 1 and 2 threads bit-identical, close to float64 and to the wide path`, () => {
      const d = data(c);
      setThreads(1);
      const one = runEngine(c, d, true);
      setThreads(2);
      const two = runEngine(c, d, true);
      if (availableCores() >= 2) {
        expect(bits(two.y)).toEqual(bits(one.y));
        expect(bits(two.dx)).toEqual(bits(one.dx));
        expect(bits(two.dW)).toEqual(bits(one.dW));
        expect(bits(two.db)).toEqual(bits(one.db));
      }
      const want = direct(c, d);
      expectClose(one.y, want.y, 'y');
      expectClose(one.dx, want.dx, 'dx');
      expectClose(one.dW, want.dW, 'dW', 1e-5);
      if (c.bias) expectClose(one.db, want.db, 'db', 1e-5);
      const wide = runEngine(c, d, false);
      expectClose(one.y, wide.y, 'y vs wide');
      expectClose(one.dx, wide.dx, 'dx vs wide');
      expectClose(one.dW, wide.dW, 'dW vs wide', 1e-5);
    });
  }

  it('the SIMD kernels and their TypeScript twins give the same bits (forward, dW / db partials)', () => {
    const base = cases().length - runCases().length;
    for (const c of [cases()[7], cases()[16], cases()[20], cases()[base - 7], cases()[base - 2], ...runCases()]) {
      const d = data(c);
      const { channels: C, height: H, width: W, kH, kW, padH, padW, outH, outW } = d.g;
      const F = c.F;
      const bias = d.b ?? heapFloat32(F);
      const ySimd = heapFloat32(c.batch * F * outH * outW);
      const yTwin = new Float32Array(ySimd.length);
      const planes = c.batch * Math.ceil(F / 4);
      THIN_CONV.runPlanes(planes, 1 << 14, ySimd, d.x, d.w, bias, C, H, W, kH, kW, padH, padW, outH, outW, F, c.relu ? 1 : 0);
      THIN_CONV.runPlanes(planes, 1 << 14, yTwin, Float32Array.from(d.x), Float32Array.from(d.w), Float32Array.from(bias),
        C, H, W, kH, kW, padH, padW, outH, outW, F, c.relu ? 1 : 0);
      expect(bits(ySimd)).toEqual(bits(yTwin));
      expectClose(ySimd, direct(c, d).y, 'kernel y');
      const G = 3;
      const chunks = Math.ceil(c.batch / G);
      const dWSimd = heapFloat32(chunks * F * C * kH * kW);
      const dbSimd = heapFloat32(chunks * F);
      const dWTwin = new Float32Array(dWSimd.length);
      const dbTwin = new Float32Array(dbSimd.length);
      THIN_CONV_GRAD.runPlanes(chunks * F, 1 << 14, dWSimd, dbSimd, d.dy, d.x, C, H, W, kH, kW, padH, padW, outH, outW, F, c.batch, G);
      THIN_CONV_GRAD.runPlanes(chunks * F, 1 << 14, dWTwin, dbTwin, Float32Array.from(d.dy), Float32Array.from(d.x),
        C, H, W, kH, kW, padH, padW, outH, outW, F, c.batch, G);
      expect(bits(dWSimd)).toEqual(bits(dWTwin));
      expect(bits(dbSimd)).toEqual(bits(dbTwin));
    }
  });

  it('a NaN pixel stays NaN through the fused ReLU, as on the wide path', () => {
    const c: Case = { batch: 2, C: 1, H: 9, W: 9, F: 4, k: [3, 3], pad: [1, 1], bias: true, relu: true };
    const d = data(c);
    d.x[40] = Number.NaN; // image 0, row 4, column 4
    const thin = runEngine(c, d, true);
    const wide = runEngine(c, d, false);
    for (let i = 0; i < thin.y.length; i++) expect(Number.isNaN(thin.y[i]), `y[${i}]`).toBe(Number.isNaN(wide.y[i]));
    expect(Number.isNaN(thin.y[3 * 9 + 3])).toBe(true);
    expect(Number.isNaN(thin.y[4 * 81 + 3 * 9 + 3])).toBe(false); // image 1
  });

  it('Conv2D takes the thin path by the rule (input channels, stride 1, padding ≤ k − 1) and matches the wide path', () => {
    const x = new Tensor(filled(7 * 1 * 12 * 12, 6), [7, 1, 12, 12]);
    const outcome = (maxChannels: number): Float32Array[] => {
      setThinConvMaxChannels(maxChannels);
      const layer = new Conv2D({ filters: 6, kernelSize: 3, padding: 1 });
      layer.build([1, 12, 12], testRng(9));
      const y = layer.forwardRelu(x, true);
      const dy = new Tensor(filled(y.size, 8), y.shape);
      const dx = layer.backward(dy, true);
      const [w, b] = layer.params();
      return [Float32Array.from(y.data), Float32Array.from(dx.data), Float32Array.from(w.grad.data), Float32Array.from(b.grad.data)];
    };
    const wide = outcome(0);
    const thin = outcome(3);
    expect(bits(thin[0])).not.toEqual(bits(wide[0])); // another summation order: really another path
    for (let i = 0; i < 4; i++) expectClose(thin[i], wide[i], `output ${i}`, 1e-5);
    const g = (C: number, stride: number, pad: number, k = 3): ConvGeometry => convGeometry(C, 8, 8, k, k, stride, stride, pad, pad);
    setThinConvMaxChannels(2);
    expect(isThinConv(g(1, 1, 1), 16)).toBe(true);
    expect(isThinConv(g(2, 1, 2), 16)).toBe(true);
    expect(isThinConv(g(3, 1, 1), 1)).toBe(false);
    expect(isThinConv(g(1, 2, 1), 1)).toBe(false);
    expect(isThinConv(g(1, 1, 3), 1)).toBe(false);
    setThinConvMaxChannels(0);
    expect(isThinConv(g(1, 1, 1), 1)).toBe(false);
    // The default, measured rule (bench/conv.ts engine table): ≤ 3 channels and 1 filter, or 2 filters of a 3×3 kernel.
    expect(setThinConvMaxChannels('auto')).toBe(0);
    expect(isThinConv(g(1, 1, 0), 1)).toBe(true);
    expect(isThinConv(g(3, 1, 1), 1)).toBe(true);
    expect(isThinConv(g(1, 1, 2, 5), 1)).toBe(true);
    expect(isThinConv(g(1, 1, 1), 2)).toBe(true);
    expect(isThinConv(g(1, 1, 0, 5), 2)).toBe(false);
    expect(isThinConv(g(1, 1, 1), 3)).toBe(false);
    expect(isThinConv(g(1, 1, 1), 16)).toBe(false);
    expect(isThinConv(g(4, 1, 1), 1)).toBe(false);
    expect(isThinConv(g(1, 2, 1), 1)).toBe(false);
    expect(isThinConv(g(1, 1, 3), 1)).toBe(false);
    expect(() => setThinConvMaxChannels(-1)).toThrow(/channels must be an integer ≥ 0 or 'auto', got -1/);
    // Eval mode (training false): up to 8 filters of a 5×5 kernel, 6 of an unpadded 3×3, 3 of a padded one.
    expect(isThinConv(g(3, 1, 0, 5), 8, false)).toBe(true);
    expect(isThinConv(g(3, 1, 2, 5), 8, false)).toBe(true);
    expect(isThinConv(g(3, 1, 0, 5), 9, false)).toBe(false);
    expect(isThinConv(g(1, 1, 0), 6, false)).toBe(true);
    expect(isThinConv(g(1, 1, 0), 7, false)).toBe(false);
    expect(isThinConv(g(2, 1, 1), 3, false)).toBe(true);
    expect(isThinConv(g(2, 1, 1), 4, false)).toBe(false);
    expect(isThinConv(g(4, 1, 0, 5), 1, false)).toBe(false);
    expect(isThinConv(g(1, 2, 0), 1, false)).toBe(false);
    expect(isThinConv(g(3, 1, 0, 5), 6)).toBe(false); // training: the training rule
  });

  it('an eval-mode forward takes the thin path by the inference rule, a training forward the wide one', () => {
    // The pruned example's conv2: 3 → 6 filters, 5×5, valid.
    const x = new Tensor(filled(5 * 3 * 26 * 26, 10), [5, 3, 26, 26]);
    const layer = new Conv2D({ filters: 6, kernelSize: 5 });
    layer.build([3, 26, 26], testRng(4));
    const [w, b] = layer.params();
    const evalY = Float32Array.from(layer.forwardRelu(x, false).data);
    const trainY = Float32Array.from(layer.forwardRelu(x, true).data);
    const g = layer.geometry as ConvGeometry;
    const thin = new ThinConv(5, 6, g).forward(x.data, w.value.data, b.value.data, true);
    const wide = new WideConv(5, 6, true, g, sharedConvHeap());
    const wideY = Float32Array.from(wide.forward(x.data, w.value.data, b.value.data, true).data);
    wide.release();
    expect(bits(evalY)).toEqual(bits(thin.data));
    expect(bits(trainY)).toEqual(bits(wideY));
    expect(bits(evalY)).not.toEqual(bits(trainY));
    expectClose(evalY, trainY, 'eval vs training forward', 1e-5);
  });
});
