// Winograd dL/dW (WinogradConv.weightGrad, setWinogradWeightGrad; tensor/winograd.ts): hand-derived
// values, the engine against a float64 direct weight gradient at awkward sizes (1, 2, 5, 7, 33 pixels;
// 1, 3, 17 channels; padding 0, 1, 2; batch 1 and 3) with the error bound relative to Σ|dy·x|, the
// kernels' WebAssembly against their TypeScript twins (same bits), several image groups, Conv2D with
// the Winograd dL/dW against its im2col one and a float64 reference on 1 and 2 threads (same bits for
// both), the TypeScript gemm, PyTorch 1.13 references (test/reference/winograd_grad.py), the 'auto'
// rule, and zero allocations per steady-state step.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ReLU } from '../../src/layers/activations.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { heapFloat32, sharedHeap } from '../../src/runtime/heap.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { setGemmBackend } from '../../src/tensor/gemm.js';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  WinogradConv, autoWinogradWeightGrad, getWinogradWeightGrad, setConvAlgorithm, setWinogradGemmJobs, setWinogradWeightGrad, winogradWeightGradTile,
} from '../../src/tensor/winograd.js';
import { firstDifference, heapRandom, scaledError } from '../util/float-arrays.js';
import { randomTensor, testRng } from '../util/rng.js';

/**
 * The weight gradient of a 3×3 stride-1 convolution in float64: dW[o, c, i, j] = Σ_b,h,w
 * dy[b, o, h, w]·x[b, c, h + i − pad, w + j − pad], and alongside the magnitude sum Σ|dy·x| over the same terms.
 */
function directGrad(x: ArrayLike<number>, dy: ArrayLike<number>, B: number, C: number, O: number, H: number, W: number, pad: number): { g: Float64Array; mag: Float64Array } {
  const oH = H + 2 * pad - 2;
  const oW = W + 2 * pad - 2;
  const g = new Float64Array(O * C * 9);
  const mag = new Float64Array(g.length);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          let s = 0;
          let a = 0;
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < oH; h++) {
              const hh = h + i - pad;
              if (hh < 0 || hh >= H) continue;
              for (let w = 0; w < oW; w++) {
                const ww = w + j - pad;
                if (ww < 0 || ww >= W) continue;
                const p = dy[((b * O + o) * oH + h) * oW + w] * x[((b * C + c) * H + hh) * W + ww];
                s += p;
                a += Math.abs(p);
              }
            }
          }
          g[((o * C + c) * 3 + i) * 3 + j] = s;
          mag[((o * C + c) * 3 + i) * 3 + j] = a;
        }
      }
    }
  }
  return { g, mag };
}

/**
 * Error bounds of dL/dW per tile size: max |error| / largest Σ|dy·x| of a weight. Measured over 12
 * random shapes (1–32 channels, 1–17 filters, padding 0–2, 5–24 pixels, batch 1–3): F(2,3) 1.2e-7
 * random, 3.1e-7 adversarial; F(4,3) 7.0e-7 and 2.5e-6. The bounds leave about 2× of margin; a wrong
 * transform coefficient gives errors near 1e-1.
 */
const BOUND = { 2: 6e-7, 4: 5e-6 } as const;

afterEach(() => {
  setWinogradGemmJobs(true);
  setWinogradWeightGrad('auto');
  setConvAlgorithm('auto');
  setGemmBackend('auto');
});

describe('Winograd dL/dW engine', () => {
  it('F(2,3) and F(4,3) give the hand-derived weight gradient', () => {
    // x[h, w] = 4h + w + 1 (a 4×4 image), dy = ones over the 2×2 output (padding 0): dW[i, j] = the sum
    // of the 2×2 block of x at (i, j) = x[i, j] + x[i, j+1] + x[i+1, j] + x[i+1, j+1] = 16i + 4j + 14.
    const x = heapFloat32(16);
    for (let i = 0; i < 16; i++) x[i] = i + 1;
    const dy = heapFloat32(4).fill(1);
    for (const m of [2, 4] as const) {
      const g = heapFloat32(9);
      new WinogradConv(1, 1, 1, 4, 4, 0, 0, m).weightGrad(g, x, dy);
      // F(2,3)'s adjoint transforms are exact on small integers (±1, ½); F(4,3)'s use 1/6, 1/24: a few ulps.
      const tol = m === 2 ? 0 : 1e-4;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) expect(Math.abs(g[i * 3 + j] - (16 * i + 4 * j + 14)), `F(${m},3) dW[${i}, ${j}]`).toBeLessThanOrEqual(tol);
      }
    }
    // Padding 1, dy = ones over the 4×4 output: dW[i, j] = the sum of x over rows and columns the tap
    // reaches: tap (0, 0) misses the last row and column (Σ of the top-left 3×3 block = 54).
    for (const m of [2, 4] as const) {
      const g = heapFloat32(9);
      new WinogradConv(1, 1, 1, 4, 4, 1, 1, m).weightGrad(g, x, heapFloat32(16).fill(1));
      expect(Math.abs(g[0] - 54), `F(${m},3) pad 1 dW[0, 0]`).toBeLessThanOrEqual(m === 2 ? 0 : 1e-4);
      expect(Math.abs(g[4] - 136), `F(${m},3) pad 1 dW[1, 1] (all of x)`).toBeLessThanOrEqual(m === 2 ? 0 : 1e-4);
    }
  });

  it('rejects short operands and unknown choices, naming them', () => {
    const e = new WinogradConv(2, 3, 4, 5, 5, 1, 1, 2);
    expect(() => e.weightGrad(heapFloat32(108), heapFloat32(10), heapFloat32(200))).toThrow(/weightGrad: x has 10 floats, need 150/);
    expect(() => e.weightGrad(heapFloat32(108), heapFloat32(150), heapFloat32(10))).toThrow(/weightGrad: dy has 10 floats, need 200/);
    expect(() => e.weightGrad(heapFloat32(10), heapFloat32(150), heapFloat32(200))).toThrow(/weightGrad: gradW has 10 floats, need 108/);
    expect(() => setWinogradWeightGrad('sometimes' as 'auto')).toThrow(/choice must be one of auto, always, never, got sometimes/);
  });

  const sizes = [1, 2, 5, 7, 33];
  const channels: [number, number][] = [[1, 3], [3, 17], [17, 1]];
  let seed = 10;
  for (const size of sizes) {
    for (const [C, O] of channels) {
      for (const pad of [0, 1, 2]) {
        if (size + 2 * pad < 3) continue;
        const B = (size + C + pad) % 2 === 0 ? 1 : 3;
        const H = size;
        const W = size === 33 ? 5 : size;
        const s = seed++;
        it(`${B}×${C}×${H}×${W} → ${O}, pad ${pad}: dL/dW vs float64 direct`, () => {
          const oH = H + 2 * pad - 2;
          const oW = W + 2 * pad - 2;
          const x = heapRandom(B * C * H * W, s);
          const dy = heapRandom(B * O * oH * oW, s + 300);
          const ref = directGrad(x, dy, B, C, O, H, W, pad);
          for (const m of [2, 4] as const) {
            const g = heapFloat32(O * C * 9);
            new WinogradConv(B, C, O, H, W, pad, pad, m).weightGrad(g, x, dy);
            expect(scaledError(g, ref.g, ref.mag), `F(${m},3) dW`).toBeLessThan(BOUND[m]);
          }
        });
      }
    }
  }

  for (const m of [2, 4] as const) {
    it(`F(${m},3) error bound: random and adversarial (magnitudes 1e-4 … 1e4) inputs, 32 channels`, () => {
      const [B, C, O, H, W, pad] = [2, 32, 8, 18, 17, 1];
      for (const adversarial of [false, true]) {
        const x = heapRandom(B * C * H * W, 1, adversarial);
        const dy = heapRandom(B * O * H * W, 2, adversarial);
        const ref = directGrad(x, dy, B, C, O, H, W, pad);
        const g = heapFloat32(O * C * 9);
        new WinogradConv(B, C, O, H, W, pad, pad, m).weightGrad(g, x, dy);
        const err = scaledError(g, ref.g, ref.mag);
        expect(err, adversarial ? 'adversarial' : 'random').toBeLessThan(BOUND[m]);
        expect(err).toBeGreaterThan(0); // not vacuous: the bound is what holds it
      }
    });
  }

  it('adds to gradW (one float32 add per weight) and reuses the forward transform of the same x', () => {
    const [B, C, O, H, W, pad] = [3, 5, 6, 9, 8, 1];
    const x = heapRandom(B * C * H * W, 3);
    const dy = heapRandom(B * O * H * W, 4);
    const w = heapRandom(O * C * 9, 5);
    for (const m of [2, 4] as const) {
      const e = new WinogradConv(B, C, O, H, W, pad, pad, m);
      const fresh = heapFloat32(O * C * 9);
      e.weightGrad(fresh, x, dy);
      const start = heapRandom(O * C * 9, 6);
      const added = Float32Array.from(start);
      e.weightGrad(added, x, dy);
      for (let i = 0; i < added.length; i++) if (added[i] !== Math.fround(start[i] + fresh[i])) throw new Error(`F(${m},3) gradW[${i}]: ${added[i]} ≠ ${start[i]} + ${fresh[i]}`);
      // After a forward of x the input transform is reused: the same bits.
      e.run(heapFloat32(B * O * H * W), x, w, false, null, false);
      const reused = heapFloat32(O * C * 9);
      e.weightGrad(reused, x, dy);
      expect(firstDifference(reused, fresh), `F(${m},3) reused V`).toBe(-1);
    }
  });

  it('an engine that keeps the batch\'s input transform (keepInput, several groups) gives the bits of one that recomputes it', () => {
    const [B, C, O, H, W, pad] = [5, 8, 7, 88, 88, 1];
    const x = heapRandom(B * C * H * W, 11);
    const x2 = heapRandom(B * C * H * W, 12);
    const dy = heapRandom(B * O * H * W, 13);
    const w = heapRandom(O * C * 9, 14);
    const keeps = new WinogradConv(B, C, O, H, W, pad, pad, 4, true);
    const plain = new WinogradConv(B, C, O, H, W, pad, pad, 4);
    expect(keeps.keepsInput).toBe(true);
    expect(keeps.group).toBeLessThan(B);
    expect(plain.keepsInput).toBe(false);
    // V for 5 images of F(2,3) tiles (1.24 M floats) is over WINOGRAD_KEEP_FLOATS: not kept.
    expect(new WinogradConv(B, C, O, H, W, pad, pad, 2, true).keepsInput).toBe(false);
    const y = heapFloat32(B * O * H * W);
    const want = heapFloat32(O * C * 9);
    plain.run(y, x, w, false, null, false);
    plain.weightGrad(want, x, dy);
    const got = heapFloat32(O * C * 9);
    keeps.run(y, x, w, false, null, false);
    keeps.weightGrad(got, x, dy);
    expect(firstDifference(got, want), 'dW from the kept V').toBe(-1);
    // Another x than the forward's: recomputed, still the same bits as the plain engine.
    const want2 = heapFloat32(O * C * 9);
    plain.weightGrad(want2, x2, dy);
    const got2 = heapFloat32(O * C * 9);
    keeps.weightGrad(got2, x2, dy);
    expect(firstDifference(got2, want2), 'dW of another x').toBe(-1);
    expect(firstDifference(got2, got), 'and not the kept one').not.toBe(-1);
  });

  it('the WebAssembly kernels give their TypeScript twins\' bits (forward and dW), over several groups of images and at cut edge tiles', () => {
    expect(sharedHeap()).not.toBeNull();
    // [B, C, O, H, W, pad]: whole 4×4 tiles with 4 + 3 filters (the transposed fast path and the
    // lane-by-lane one), and cut edge tiles (25 outputs a side) with 8 filters.
    const shapes = [[5, 8, 7, 88, 88, 1], [3, 5, 8, 27, 26, 0]] as const;
    for (const [B, C, O, H, W, pad] of shapes) {
      const oH = H + 2 * pad - 2;
      const oW = W + 2 * pad - 2;
      for (const m of [2, 4] as const) {
        const e = new WinogradConv(B, C, O, H, W, pad, pad, m);
        if (H === 88) expect(e.group, 'several groups').toBeLessThan(B);
        const x = heapRandom(B * C * H * W, 7);
        const dy = heapRandom(B * O * oH * oW, 8);
        const w = heapRandom(O * C * 9, 9);
        const bias = heapRandom(O, 10);
        const yHeap = heapFloat32(B * O * oH * oW);
        e.run(yHeap, x, w, false, bias, true);
        // y outside the heap: the output kernel runs its twin (x too: the pack's twin).
        const yPlain = new Float32Array(yHeap.length);
        e.run(yPlain, Float32Array.from(x), w, false, bias, true);
        expect(firstDifference(yPlain, yHeap), `${H}×${W} F(${m},3) forward: twins = WebAssembly`).toBe(-1);
        const inHeap = heapFloat32(O * C * 9);
        e.weightGrad(inHeap, x, dy);
        // Operands outside the heap: the pack, output-grad and filter-grad kernels run their twins.
        const plain = new Float32Array(O * C * 9);
        e.weightGrad(plain, Float32Array.from(x), Float32Array.from(dy));
        expect(firstDifference(plain, inHeap), `${H}×${W} F(${m},3) dW: twins = WebAssembly`).toBe(-1);
        const ref = directGrad(x, dy, B, C, O, H, W, pad);
        expect(scaledError(inHeap, ref.g, ref.mag), `F(${m},3) dW`).toBeLessThan(BOUND[m]);
      }
    }
  });
});

describe('Conv2D with the Winograd dL/dW', () => {
  const threadsBefore = getThreads();
  afterEach(() => setThreads(threadsBefore));

  interface Case { batch: number; inC: number; size: number; filters: number; pad: number }
  const CASES: Case[] = [
    { batch: 3, inC: 17, size: 33, filters: 3, pad: 1 },
    { batch: 1, inC: 3, size: 7, filters: 17, pad: 0 },
    { batch: 3, inC: 16, size: 26, filters: 16, pad: 0 }, // net000's conv2
    { batch: 2, inC: 32, size: 28, filters: 64, pad: 1 }, // net004's conv2
    { batch: 5, inC: 8, size: 88, filters: 8, pad: 1 }, // several groups of images
  ];

  interface Step { x: Float32Array; y: Float32Array; dy: Float32Array; dx: Float32Array; dW: Float32Array; db: Float32Array }
  function step(c: Case, fuseRelu: boolean): Step {
    const rng = testRng(5);
    const layer = new Conv2D({ filters: c.filters, kernelSize: 3, padding: c.pad });
    layer.build([c.inC, c.size, c.size], rng);
    const x = randomTensor([c.batch, c.inC, c.size, c.size], rng);
    const relu = new ReLU();
    const y = fuseRelu ? layer.forwardFused(x, true, relu) : layer.forward(x, true);
    const dy = randomTensor(y.shape, rng);
    const dx = layer.backward(dy);
    const [w, b] = layer.params();
    return {
      x: Float32Array.from(x.data), y: Float32Array.from(y.data), dy: Float32Array.from(dy.data), dx: Float32Array.from(dx.data),
      dW: Float32Array.from(w.grad.data), db: Float32Array.from(b.grad.data),
    };
  }

  for (const c of CASES) {
    for (const fuseRelu of [false, true]) {
      it(`batch ${c.batch}, ${c.inC}×${c.size}² → ${c.filters}, pad ${c.pad}${fuseRelu ? ', fused ReLU' : ''}: Winograd dW vs im2col dW and float64, 1 and 2 threads`, () => {
        for (const alg of ['winograd2', 'winograd4'] as const) {
          setConvAlgorithm(alg);
          setThreads(1);
          setWinogradWeightGrad('never');
          const ref = step(c, fuseRelu);
          setWinogradWeightGrad('always');
          const one = step(c, fuseRelu);
          setThreads(2);
          const two = step(c, fuseRelu);
          if (availableCores() >= 2) {
            for (const k of ['y', 'dx', 'dW', 'db'] as const) expect(firstDifference(two[k], one[k]), `${alg} ${k}: 2 threads = 1 thread`).toBe(-1);
          }
          // The same forward: y, dx and db keep their bits; dW is the Winograd one, not im2col's.
          for (const k of ['y', 'dx', 'db'] as const) expect(firstDifference(one[k], ref[k]), `${alg} ${k}`).toBe(-1);
          expect(firstDifference(one.dW, ref.dW), `${alg} dW differs from im2col's`).not.toBe(-1);
          const dyUsed = fuseRelu ? one.dy.map((v, i) => (one.y[i] <= 0 ? 0 : v)) : one.dy;
          const want = directGrad(one.x, dyUsed, c.batch, c.inC, c.filters, c.size, c.size, c.pad);
          const m = alg === 'winograd2' ? 2 : 4;
          expect(scaledError(one.dW, want.g, want.mag), `${alg} dW vs float64`).toBeLessThan(BOUND[m]);
          expect(scaledError(ref.dW, want.g, want.mag), 'im2col dW vs float64').toBeLessThan(BOUND[2]);
        }
      });
    }
  }

  it('the α² gemms as one pool job (default) or as α² gemm calls: both within the bounds, 1 and 2 threads bit-identical', () => {
    const c = CASES[3];
    setWinogradWeightGrad('always');
    setConvAlgorithm('winograd4');
    const results: Step[] = [];
    for (const jobs of [true, false]) {
      setWinogradGemmJobs(jobs);
      setThreads(1);
      const one = step(c, true);
      setThreads(2);
      const two = step(c, true);
      if (availableCores() >= 2) {
        for (const k of ['y', 'dx', 'dW', 'db'] as const) expect(firstDifference(two[k], one[k]), `jobs ${jobs} ${k}: 2 threads = 1 thread`).toBe(-1);
      }
      const dyUsed = one.dy.map((v, i) => (one.y[i] <= 0 ? 0 : v));
      const want = directGrad(one.x, dyUsed, c.batch, c.inC, c.filters, c.size, c.size, c.pad);
      expect(scaledError(one.dW, want.g, want.mag), `jobs ${jobs} dW`).toBeLessThan(BOUND[4]);
      results.push(one);
    }
    // The forward products have depth C4 = 32: one gemm call either way, the same bits.
    expect(firstDifference(results[0].y, results[1].y), 'y: one job = gemm calls').toBe(-1);
  });

  it('runs with the TypeScript gemm (a private heap; the kernels fall back to their twins) to the same bound', () => {
    const c = CASES[0];
    setGemmBackend('ts');
    setWinogradWeightGrad('always');
    for (const alg of ['winograd2', 'winograd4'] as const) {
      setConvAlgorithm(alg);
      const got = step(c, true);
      const dyUsed = got.dy.map((v, i) => (got.y[i] <= 0 ? 0 : v));
      const want = directGrad(got.x, dyUsed, c.batch, c.inC, c.filters, c.size, c.size, c.pad);
      expect(scaledError(got.dW, want.g, want.mag), `${alg} dW (ts)`).toBeLessThan(BOUND[alg === 'winograd2' ? 2 : 4]);
    }
  });

  interface RefCase {
    batch: number; channels: number; filters: number; height: number; width: number; padding: number;
    x: number[]; weight: number[]; bias: number[]; dy: number[]; dW: number[]; db: number[]; dWMagnitude: number[];
  }
  const ref = JSON.parse(readFileSync(new URL('../reference/winograd_grad.json', import.meta.url), 'utf8')) as { cases: RefCase[] };
  for (const r of ref.cases) {
    it(`PyTorch 1.13: ${r.batch}×${r.channels}×${r.height}×${r.width} → ${r.filters}, pad ${r.padding}: dW and db`, () => {
      setWinogradWeightGrad('always');
      for (const alg of ['winograd2', 'winograd4'] as const) {
        setConvAlgorithm(alg);
        const layer = new Conv2D({ filters: r.filters, kernelSize: 3, padding: r.padding });
        layer.build([r.channels, r.height, r.width], testRng(1));
        const [w, b] = layer.params();
        w.value.data.set(r.weight);
        b.value.data.set(r.bias);
        const y = layer.forward(new Tensor(Float32Array.from(r.x), [r.batch, r.channels, r.height, r.width]), true);
        layer.backward(new Tensor(Float32Array.from(r.dy), y.shape));
        expect(scaledError(w.grad.data, r.dW, r.dWMagnitude), `${alg} dW`).toBeLessThan(BOUND[alg === 'winograd2' ? 2 : 4]);
        for (let o = 0; o < r.filters; o++) expect(b.grad.data[o], `${alg} db[${o}]`).toBeCloseTo(r.db[o], 4);
      }
    });
  }

  it("'auto' follows the measured rule; 'never' and 'always' override it; im2col forwards keep the im2col dW", () => {
    expect(getWinogradWeightGrad()).toBe('auto');
    const net000conv2 = { channels: 16, filters: 16, outH: 24, outW: 24 };
    const net004conv2 = { channels: 32, filters: 64, outH: 28, outW: 28 };
    for (const s of [net000conv2, net004conv2]) {
      for (const t of [2, 4] as const) {
        expect(autoWinogradWeightGrad(t, s), 'measured faster').toBe(true);
        expect(winogradWeightGradTile(t, s)).toBe(t);
      }
      expect(winogradWeightGradTile(0, s)).toBe(0);
    }
    // One input channel (measured slower) and 16 → 4 (mixed): the im2col dW.
    expect(winogradWeightGradTile(4, { channels: 1, filters: 16, outH: 26, outW: 26 })).toBe(0);
    expect(winogradWeightGradTile(4, { channels: 16, filters: 4, outH: 14, outW: 14 })).toBe(0);
    setWinogradWeightGrad('never');
    expect(winogradWeightGradTile(4, net004conv2)).toBe(0);
    setWinogradWeightGrad('always');
    expect(winogradWeightGradTile(4, net004conv2)).toBe(4);
    expect(winogradWeightGradTile(2, { channels: 1, filters: 1, outH: 1, outW: 1 })).toBe(2);
    expect(winogradWeightGradTile(0, net004conv2)).toBe(0);
    // An im2col forward under 'always': dW has the im2col bits.
    const c = CASES[2];
    setConvAlgorithm('im2col');
    setWinogradWeightGrad('never');
    const want = step(c, true);
    setWinogradWeightGrad('always');
    expect(firstDifference(step(c, true).dW, want.dW)).toBe(-1);
  });

});
