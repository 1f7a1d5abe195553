// Winograd convolution F(2×2,3×3) and F(4×4,3×3) (tensor/winograd.ts): hand-derived values, the engine
// against a float64 direct convolution at awkward sizes (1, 2, 5, 7, 33 pixels; 1, 3, 17 channels;
// padding 0, 1, 2; batch 1 and 3) forward and for dL/dx (the flipped, transposed filter), Conv2D through
// setConvAlgorithm against its im2col path (forward, dL/dx, dL/dW) on 1 and 2 threads with the same
// bits for both thread counts, the error bounds per tile size on random and adversarial inputs,
// and zero allocations per steady-state step.
import { afterEach, describe, expect, it } from 'vitest';
import { ReLU } from '../../src/layers/activations.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { heapFloat32, heapStats, sharedHeap } from '../../src/runtime/heap.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { setGemmBackend } from '../../src/tensor/gemm.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { WinogradConv, autoWinogradTile, getConvAlgorithm, setConvAlgorithm, setWinogradWeightGrad, winogradInputGradTile, winogradTileFor } from '../../src/tensor/winograd.js';
import { firstDifference, heapRandom, scaledError } from '../util/float-arrays.js';
import { randomTensor, testRng } from '../util/rng.js';

/**
 * Direct 3×3 stride-1 convolution in float64: y[b, o] = Σ_c,i,j w[o, c, i, j]·x[b, c, h + i − pad, w + j − pad]
 * (+ bias), and alongside, per output, the magnitude sum Σ |w|·|x| over the same taps (the scale
 * of its rounding error). `flipped`: w is [inC = O, outC = C] read rotated, as dL/dx uses it.
 */
function direct(x: Float32Array, w: Float32Array, bias: Float32Array | null, B: number, C: number, O: number, H: number, W: number, pad: number, flipped: boolean): { y: Float64Array; mag: Float64Array } {
  const oH = H + 2 * pad - 2;
  const oW = W + 2 * pad - 2;
  const y = new Float64Array(B * O * oH * oW);
  const mag = new Float64Array(y.length);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      for (let h = 0; h < oH; h++) {
        for (let v = 0; v < oW; v++) {
          let s = bias === null ? 0 : bias[o];
          let a = bias === null ? 0 : Math.abs(bias[o]);
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < 3; i++) {
              for (let j = 0; j < 3; j++) {
                const hh = h + i - pad;
                const vv = v + j - pad;
                if (hh < 0 || hh >= H || vv < 0 || vv >= W) continue;
                const wv = flipped ? w[((c * O + o) * 3 + 2 - i) * 3 + 2 - j] : w[((o * C + c) * 3 + i) * 3 + j];
                const xv = x[((b * C + c) * H + hh) * W + vv];
                s += wv * xv;
                a += Math.abs(wv * xv);
              }
            }
          }
          const at = ((b * O + o) * oH + h) * oW + v;
          y[at] = s;
          mag[at] = a;
        }
      }
    }
  }
  return { y, mag };
}

/**
 * Error bounds per tile size: max |error| / largest magnitude sum Σ|w·x| of an output. Measured over
 * 24 random shapes (1–40 channels, padding 0–2, 5–17 pixels): F(2,3) 9.8e-8 random, 1.9e-7
 * adversarial; F(4,3) 1.8e-6 and 3.7e-6 (its transforms carry constants up to 8 and 1/24). The
 * bounds leave about 2× of margin; a wrong transform coefficient gives errors near 1e-1.
 */
const BOUND = { 2: { random: 4e-7, adversarial: 4e-7 }, 4: { random: 8e-6, adversarial: 8e-6 } } as const;

describe('Winograd engine', () => {
  it('F(2,3) and F(4,3) give the hand-derived 3×3 sums', () => {
    // x[h, w] = 4h + w + 1 (a 4×4 image), w = all ones: y[i, j] = Σ of the 3×3 window starting at (i, j)
    // = 9·(4(i+1) + (j+1) + 1) → 54, 63 / 90, 99.
    const x = heapFloat32(16);
    for (let i = 0; i < 16; i++) x[i] = i + 1;
    const w = heapFloat32(9).fill(1);
    for (const m of [2, 4] as const) {
      const y = heapFloat32(4);
      new WinogradConv(1, 1, 1, 4, 4, 0, 0, m).run(y, x, w, false, null, false);
      // F(2,3)'s transforms are exact on small integers (±1, ½); F(4,3)'s use 1/6, 1/24: a few ulps.
      const tol = m === 2 ? 0 : 1e-4;
      for (const [got, want] of [[y[0], 54], [y[1], 63], [y[2], 90], [y[3], 99]]) expect(Math.abs(got - want)).toBeLessThanOrEqual(tol);
    }
  });

  it('rejects shapes it cannot run, naming them', () => {
    expect(() => new WinogradConv(1, 1, 1, 1, 1, 0, 0, 2)).toThrow(/1×1 input with padding 0, 0 has no 3×3 output/);
    expect(() => new WinogradConv(1, 1, 1, 5, 5, 3, 3, 2)).toThrow(/padding must be in \[0, 2\]/);
    expect(() => new WinogradConv(1, 1, 1, 5, 5, 0, 0, 3 as 2)).toThrow(/tile must be 2 or 4, got 3/);
    expect(() => setConvAlgorithm('fft' as 'auto')).toThrow(/algorithm must be one of im2col, winograd2, winograd4, winograd, auto, got fft/);
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
        const W = size === 33 ? 5 : size; // 33×5: a tall image (33×33 stays for the layer tests)
        const s = seed++;
        it(`${B}×${C}×${H}×${W} → ${O}, pad ${pad}: forward (bias, ReLU) and dL/dx vs float64 direct`, () => {
          const x = heapRandom(B * C * H * W, s);
          const w = heapRandom(O * C * 9, s + 100);
          const bias = heapRandom(O, s + 200);
          const ref = direct(x, w, bias, B, C, O, H, W, pad, false);
          const oH = H + 2 * pad - 2;
          const oW = W + 2 * pad - 2;
          for (const m of [2, 4] as const) {
            const y = heapFloat32(B * O * oH * oW);
            new WinogradConv(B, C, O, H, W, pad, pad, m).run(y, x, w, false, bias, false);
            expect(scaledError(y, ref.y, ref.mag), `F(${m},3) forward`).toBeLessThan(BOUND[m].random);
            const yr = heapFloat32(y.length);
            new WinogradConv(B, C, O, H, W, pad, pad, m).run(yr, x, w, false, bias, true);
            for (let i = 0; i < y.length; i++) if (yr[i] !== (y[i] <= 0 ? 0 : y[i])) throw new Error(`F(${m},3) ReLU at ${i}: ${yr[i]} vs ${y[i]}`);
            // dL/dx: dy [B, O, oH, oW] convolved (pad 2 − pad) with W flipped and transposed → [B, C, H, W]
            const dy = heapRandom(B * O * oH * oW, s + 300);
            const refDx = direct(dy, w, null, B, O, C, oH, oW, 2 - pad, true);
            const dx = heapFloat32(B * C * H * W);
            new WinogradConv(B, O, C, oH, oW, 2 - pad, 2 - pad, m).run(dx, dy, w, true, null, false);
            expect(scaledError(dx, refDx.y, refDx.mag), `F(${m},3) dL/dx`).toBeLessThan(BOUND[m].random);
          }
        });
      }
    }
  }

  for (const m of [2, 4] as const) {
    it(`F(${m},3) error bounds: random and adversarial (magnitudes 1e-4 … 1e4) inputs, 32 channels`, () => {
      const [B, C, O, H, W, pad] = [2, 32, 8, 18, 17, 1];
      for (const adversarial of [false, true]) {
        const x = heapRandom(B * C * H * W, 1, adversarial);
        const w = heapRandom(O * C * 9, 2, adversarial);
        const ref = direct(x, w, null, B, C, O, H, W, pad, false);
        const y = heapFloat32(ref.y.length);
        new WinogradConv(B, C, O, H, W, pad, pad, m).run(y, x, w, false, null, false);
        const err = scaledError(y, ref.y, ref.mag);
        expect(err, adversarial ? 'adversarial' : 'random').toBeLessThan(adversarial ? BOUND[m].adversarial : BOUND[m].random);
        // and not vacuous: the error is not zero (so the bound is what holds it)
        expect(err).toBeGreaterThan(0);
      }
    });
  }
});

describe('Conv2D with setConvAlgorithm', () => {
  const threadsBefore = getThreads();
  afterEach(() => {
    setThreads(threadsBefore);
    setConvAlgorithm('auto');
    setWinogradWeightGrad('auto');
    setGemmBackend('auto');
  });

  interface Case { batch: number; inC: number; size: number; filters: number; pad: number }
  const CASES: Case[] = [
    { batch: 3, inC: 17, size: 33, filters: 3, pad: 1 },
    { batch: 1, inC: 3, size: 7, filters: 17, pad: 0 },
    { batch: 3, inC: 16, size: 26, filters: 16, pad: 0 }, // net000's conv2
    { batch: 2, inC: 32, size: 28, filters: 64, pad: 1 }, // net004's conv2
    { batch: 5, inC: 8, size: 88, filters: 8, pad: 1 }, // several groups of images (see the next test)
  ];

  it('the last case runs in several groups of images for both tile sizes', () => {
    for (const m of [2, 4] as const) expect(new WinogradConv(5, 8, 8, 88, 88, 1, 1, m).group).toBeLessThan(5);
  });

  function step(c: Case, fuseRelu: boolean): { y: Float32Array; dx: Float32Array; dW: Float32Array; db: Float32Array } {
    const rng = testRng(5);
    const layer = new Conv2D({ filters: c.filters, kernelSize: 3, padding: c.pad });
    layer.build([c.inC, c.size, c.size], rng);
    const x = randomTensor([c.batch, c.inC, c.size, c.size], rng);
    const relu = new ReLU();
    const y = fuseRelu ? layer.forwardFused(x, true, relu) : layer.forward(x, true);
    const dy = randomTensor(y.shape, rng);
    const dx = layer.backward(dy);
    const [w, b] = layer.params();
    return { y: Float32Array.from(y.data), dx: Float32Array.from(dx.data), dW: Float32Array.from(w.grad.data), db: Float32Array.from(b.grad.data) };
  }

  function close(got: Float32Array, want: Float32Array, tol: number, what: string): void {
    let worst = 0;
    let scale = 1;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    expect(worst / scale, what).toBeLessThan(tol);
  }

  for (const c of CASES) {
    for (const fuseRelu of [false, true]) {
      it(`batch ${c.batch}, ${c.inC}×${c.size}² → ${c.filters}, pad ${c.pad}${fuseRelu ? ', fused ReLU' : ''}: winograd2/4 vs im2col, 1 and 2 threads`, () => {
        // dW by the im2col gemm here (the Winograd dW has its own tests: winograd-grad.test.ts).
        setWinogradWeightGrad('never');
        setThreads(1);
        setConvAlgorithm('im2col');
        const ref = step(c, fuseRelu);
        for (const alg of ['winograd2', 'winograd4'] as const) {
          setConvAlgorithm(alg);
          setThreads(1);
          const one = step(c, fuseRelu);
          setThreads(2);
          const two = step(c, fuseRelu);
          if (availableCores() >= 2) {
            for (const k of ['y', 'dx', 'dW', 'db'] as const) expect(firstDifference(two[k], one[k]), `${alg} ${k}: 2 threads = 1 thread`).toBe(-1);
          }
          const tol = alg === 'winograd2' ? 2e-6 : 2e-5;
          close(one.y, ref.y, tol, `${alg} y`);
          close(one.dx, ref.dx, tol, `${alg} dx`);
          // dW and db run the im2col gemm either way; dy reaches them masked by the ReLU of Winograd's y,
          // which can differ from im2col's where y ≈ 0: compare loosely there, exactly without the ReLU.
          if (fuseRelu) close(one.dW, ref.dW, 1e-3, `${alg} dW`);
          else expect(firstDifference(one.dW, ref.dW), `${alg} dW`).toBe(-1);
        }
      });
    }
  }

  it("'auto' runs dL/dx by Winograd after a Winograd forward, padded or not (measured faster for both)", () => {
    const dxOf = (alg: 'im2col' | 'auto', pad: number): { y: Float32Array; dx: Float32Array } => {
      setConvAlgorithm(alg);
      const r = step({ batch: 2, inC: 16, size: 12, filters: 16, pad }, false);
      return { y: r.y, dx: r.dx };
    };
    for (const pad of [0, 1]) {
      const ref = dxOf('im2col', pad);
      const auto = dxOf('auto', pad);
      expect(Array.from(auto.y), `pad ${pad}: forward runs Winograd`).not.toEqual(Array.from(ref.y));
      expect(Array.from(auto.dx), `pad ${pad}: dx by Winograd`).not.toEqual(Array.from(ref.dx));
      close(auto.dx, ref.dx, 2e-5, `pad ${pad}: dx`);
    }
  });

  it('runs with the TypeScript gemm (a private heap; the kernels fall back to their twins) to the same tolerance', () => {
    const c = CASES[0];
    setConvAlgorithm('im2col');
    const ref = step(c, true);
    setGemmBackend('ts');
    for (const alg of ['winograd2', 'winograd4'] as const) {
      setConvAlgorithm(alg);
      const got = step(c, true);
      close(got.y, ref.y, alg === 'winograd2' ? 2e-6 : 2e-5, `${alg} y (ts)`);
      close(got.dx, ref.dx, alg === 'winograd2' ? 2e-6 : 2e-5, `${alg} dx (ts)`);
    }
  });

  it("'auto' follows the measured rule; 'winograd' always picks a tile; 5×5 kernels never run Winograd", () => {
    expect(getConvAlgorithm()).toBe('auto');
    const net000conv2 = { channels: 16, filters: 16, outH: 24, outW: 24 };
    expect(winogradTileFor(net000conv2)).toBe(autoWinogradTile(net000conv2));
    expect(autoWinogradTile({ channels: 1, filters: 16, outH: 26, outW: 26 })).toBe(0);
    setConvAlgorithm('winograd');
    expect(winogradTileFor({ channels: 1, filters: 16, outH: 26, outW: 26 })).not.toBe(0);
    expect(winogradInputGradTile(4, 0, 0)).toBe(4);
    setConvAlgorithm('auto');
    expect(winogradInputGradTile(4, 0, 0)).toBe(4);
    expect(winogradInputGradTile(4, 1, 1)).toBe(4);
    expect(winogradInputGradTile(0, 1, 1)).toBe(0);
    setConvAlgorithm('im2col');
    expect(winogradTileFor(net000conv2)).toBe(0);
    // A 5×5 layer under 'winograd4' gives the im2col bits.
    const rng = testRng(9);
    const x = randomTensor([2, 4, 9, 9], rng);
    const run = (): number[] => {
      const layer = new Conv2D({ filters: 3, kernelSize: 5, padding: 1 });
      layer.build([4, 9, 9], testRng(3));
      return Array.from(layer.forward(x, true).data);
    };
    const want = run();
    setConvAlgorithm('winograd4');
    expect(run()).toEqual(want);
  });

  it('a NaN pixel reaches every output whose window holds it (and others of its tile), never another image', () => {
    for (const alg of ['winograd2', 'winograd4'] as const) {
      setConvAlgorithm(alg);
      const rng = testRng(4);
      const layer = new Conv2D({ filters: 8, kernelSize: 3 });
      layer.build([8, 10, 10], rng);
      const x = randomTensor([2, 8, 10, 10], rng);
      x.data[800 + 4 * 10 + 5] = Number.NaN; // image 1, channel 0, row 4, column 5
      const y = layer.forward(x, true).data;
      for (let o = 0; o < 8; o++) {
        for (let h = 0; h < 8; h++) {
          for (let w = 0; w < 8; w++) {
            const inWindow = h <= 4 && 4 <= h + 2 && w <= 5 && 5 <= w + 2;
            if (inWindow) expect(Number.isNaN(y[((8 + o) * 8 + h) * 8 + w]), `${alg} y[1, ${o}, ${h}, ${w}]`).toBe(true);
            expect(Number.isNaN(y[(o * 8 + h) * 8 + w]), `${alg} y[0, ${o}, ${h}, ${w}]`).toBe(false);
          }
        }
      }
    }
  });

  it('allocates nothing per steady-state training step on the Winograd path (dL/dW by im2col and by Winograd)', () => {
    expect(sharedHeap()).not.toBeNull();
    for (const [alg, weightGrad] of [['winograd2', 'never'], ['winograd4', 'never'], ['winograd2', 'always'], ['winograd4', 'always']] as const) {
      setConvAlgorithm(alg);
      setWinogradWeightGrad(weightGrad);
      const rng = testRng(2);
      const layer = new Conv2D({ filters: 16, kernelSize: 3, padding: 1 });
      layer.build([16, 12, 12], rng);
      const x = randomTensor([4, 16, 12, 12], rng);
      const dy = new Tensor(heapFloat32(4 * 16 * 12 * 12).fill(0.5), [4, 16, 12, 12]);
      const relu = new ReLU();
      const once = (): void => { layer.forwardFused(x, true, relu); layer.backward(dy); };
      once();
      once();
      const before = heapStats().allocations;
      for (let i = 0; i < 5; i++) once();
      expect(heapStats().allocations - before, `${alg}, dW ${weightGrad}`).toBe(0);
    }
  });
});
