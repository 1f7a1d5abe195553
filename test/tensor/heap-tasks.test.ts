// The shared WebAssembly heap: arena blocks (alloc / free / reuse), gemm on operands that live in
// the heap (used in place), and the elementwise kernels split over threads (parallelRange), which
// must give the bits of the single-thread kernels.
import { afterEach, describe, expect, it } from 'vitest';
import { gemm, gemmNaive } from '../../src/tensor/gemm.js';
import { RANGE_MIN_PARALLEL, copyFloat32, fillFloat32, heapFloat32, heapInt32, parallelPlanes, parallelRange, sharedHeap } from '../../src/tensor/gemm-wasm.js';
import { maxPool2dBackward, maxPool2dForward, poolGeometry } from '../../src/tensor/pool.js';
import {
  RANGE_DECAY, RANGE_NADAM, RANGE_NAG, RANGE_RMSPROP, RANGE_SHRINK, RANGE_SIGMOID, decayKernel, sigmoidKernel, nadamKernel, nagKernel, rmspropKernel, shrinkKernel,
  RANGE_ADAM, RANGE_MAXPOOL2, RANGE_MAXPOOL2_BACKWARD, RANGE_MOMENTUM, RANGE_RELU, RANGE_RELU_BACKWARD, RANGE_SGD, RANGE_TANH, adamKernel, momentumKernel, reluBackwardKernel,
  maxPool2x2BackwardKernel, maxPool2x2Kernel, reluKernel, sgdKernel, tanhKernel,
} from '../../src/tensor/heap-tasks.js';
import { availableCores, getThreads, setThreads } from '../../src/tensor/threads.js';
import { testRng } from '../util/rng.js';

const multiCore = availableCores() >= 2;

function randomHeap(n: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = testRng(seed);
  const a = heapFloat32(n);
  for (let i = 0; i < n; i++) a[i] = low + (high - low) * rng.next();
  return a;
}

describe('shared heap arena', () => {
  it('hands out zeroed, disjoint, 64-byte aligned blocks and reuses freed ones', () => {
    const heap = sharedHeap();
    expect(heap).not.toBeNull();
    if (heap === null) return;
    const a = heap.alloc(100);
    const b = heap.alloc(1000);
    const c = heap.alloc(10);
    for (const x of [a, b, c]) expect(x % 64).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 128);
    expect(c).toBeGreaterThanOrEqual(b + 1024);
    heap.f32.fill(7, b >> 2, (b + 1000) >> 2);
    heap.free(b);
    const d = heap.alloc(500); // fits the freed gap
    expect(d).toBe(b);
    expect(Array.from(heap.f32.subarray(d >> 2, (d + 500) >> 2)).every((v) => v === 0)).toBe(true);
    heap.free(a);
    heap.free(d);
    heap.free(c);
    heap.free(c); // unknown now: ignored
    // Everything freed merges back: the next block starts where the first one did.
    const e = heap.alloc(64);
    expect(e).toBe(a);
    heap.free(e);
  });

  it('heapFloat32 returns views of the heap that gemm uses in place, with the same results', () => {
    const [m, n, k] = [7, 33, 65];
    const a = randomHeap(m * k, 1);
    const b = randomHeap(k * n, 2);
    const out = heapFloat32(m * n);
    const want = gemmNaive(new Float32Array(m * n), Float32Array.from(a), Float32Array.from(b), m, n, k);
    gemm(out, a, b, m, n, k);
    const plain = gemm(new Float32Array(m * n), Float32Array.from(a), Float32Array.from(b), m, n, k);
    expect(Array.from(out)).toEqual(Array.from(plain));
    for (let i = 0; i < want.length; i++) expect(Math.abs(out[i] - want[i])).toBeLessThan(1e-4);
    // Accumulating into a heap-resident output, from a mix of heap and ordinary operands.
    gemm(out, Float32Array.from(a), b, m, n, k, { accumulate: true });
    for (let i = 0; i < want.length; i++) expect(Math.abs(out[i] - 2 * want[i])).toBeLessThan(2e-4);
  });
});

describe('fillFloat32 and copyFloat32 (through the module on heap arrays)', () => {
  it('fill heap and ordinary arrays with any value, odd lengths included', () => {
    for (const n of [1, 3, 4, 5, 33, 1000]) {
      for (const value of [0, 1.5, -0, Number.NaN, -Infinity]) {
        const inHeap = heapFloat32(n + 2).subarray(1, n + 1);
        const plain = new Float32Array(n + 2).subarray(1, n + 1);
        inHeap.fill(7);
        fillFloat32(inHeap, value);
        fillFloat32(plain, value);
        const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
        expect(bits(inHeap), `n=${n} value=${value}`).toEqual(bits(new Float32Array(n).fill(value)));
        expect(bits(plain)).toEqual(bits(inHeap));
        // The neighbours are untouched.
        const whole = new Float32Array(inHeap.buffer, inHeap.byteOffset - 4, n + 2);
        expect([whole[0], whole[n + 1]]).toEqual([0, 0]);
      }
    }
  });

  it('copy between heap arrays (memory.copy) and ordinary ones', () => {
    const src = randomHeap(1001, 12);
    const dst = heapFloat32(1001);
    copyFloat32(dst, src);
    expect(Array.from(dst)).toEqual(Array.from(src));
    const plain = new Float32Array(1001);
    copyFloat32(plain, src);
    expect(Array.from(plain)).toEqual(Array.from(src));
    const back = heapFloat32(1001);
    copyFloat32(back, plain);
    expect(Array.from(back)).toEqual(Array.from(src));
    // A shorter source fills the front, like TypedArray set.
    const head = heapFloat32(5);
    copyFloat32(head, src.subarray(0, 3));
    expect(Array.from(head)).toEqual([src[0], src[1], src[2], 0, 0]);
  });
});

describe.skipIf(!multiCore)('parallelRange on 2 threads', () => {
  const before = getThreads();
  afterEach(() => setThreads(before));
  const n = RANGE_MIN_PARALLEL * 3 + 17; // several chunks and a ragged end

  it('declines work on arrays outside the heap (the caller then runs the kernel); runs small work and one thread on the caller', () => {
    setThreads(2);
    const x = randomHeap(n, 3);
    const out = heapFloat32(n);
    expect(parallelRange(RANGE_RELU, n, out, new Float32Array(n), null, null)).toBe(false);
    expect(parallelRange(RANGE_RELU, 100, out, x, null, null)).toBe(true);
    expect(parallelRange(RANGE_RELU, 0, out, x, null, null)).toBe(true);
    setThreads(1);
    expect(parallelRange(RANGE_RELU, n, out, x, null, null)).toBe(true);
  });

  it('the SIMD optimizer kernels (all six, weight decay), ReLU and tanh give the TypeScript kernels\' bits at every length (4-lane body and 1-lane tail), on 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      setThreads(threads);
      for (const len of [1, 2, 3, 4, 5, 7, 8, 33, 65, RANGE_MIN_PARALLEL + 3]) {
        const g = randomHeap(len, 20 + len, -3, 3);
        g[0] = len > 1 ? -0 : g[0];
        const p = randomHeap(len, 40 + len);
        const pWant = Float32Array.from(p);
        expect(parallelRange(RANGE_SGD, len, p, g, null, null, 0.037)).toBe(true);
        sgdKernel(pWant, 0, g, 0, len, 0.037);
        expect(Array.from(p)).toEqual(Array.from(pWant));
        const b = randomHeap(len, 60 + len);
        const bWant = Float32Array.from(b);
        expect(parallelRange(RANGE_MOMENTUM, len, p, g, b, null, 0.3, 0.85)).toBe(true);
        momentumKernel(pWant, 0, g, 0, bWant, 0, len, 0.3, 0.85);
        expect(Array.from(p)).toEqual(Array.from(pWant));
        expect(Array.from(b)).toEqual(Array.from(bWant));
        const m = randomHeap(len, 80 + len);
        const v = randomHeap(len, 90 + len, 0, 1e-6);
        const mWant = Float32Array.from(m);
        const vWant = Float32Array.from(v);
        const args = [0.8, 0.99, 1e-7, 0.01 / (1 - 0.8 ** 2), 1 / Math.sqrt(1 - 0.99 ** 2)] as const;
        expect(parallelRange(RANGE_ADAM, len, p, g, m, v, ...args)).toBe(true);
        adamKernel(pWant, 0, g, 0, mWant, 0, vWant, 0, len, ...args);
        expect([Array.from(p), Array.from(m), Array.from(v)]).toEqual([Array.from(pWant), Array.from(mWant), Array.from(vWant)]);
        expect(parallelRange(RANGE_NAG, len, p, g, b, null, 0.05, 0.9)).toBe(true);
        nagKernel(pWant, 0, g, 0, bWant, 0, len, 0.05, 0.9);
        expect([Array.from(p), Array.from(b)]).toEqual([Array.from(pWant), Array.from(bWant)]);
        for (const mu of [0, 0.7]) {
          expect(parallelRange(RANGE_RMSPROP, len, p, g, v, mu === 0 ? null : b, 0.01, 0.95, 1e-6, mu)).toBe(true);
          rmspropKernel(pWant, 0, g, 0, vWant, 0, mu === 0 ? null : bWant, 0, len, 0.01, 0.95, 1e-6, mu);
          expect([Array.from(p), Array.from(v), Array.from(b)]).toEqual([Array.from(pWant), Array.from(vWant), Array.from(bWant)]);
        }
        const nadamArgs = [0.9, 0.999, 1e-8, 1 / Math.sqrt(1 - 0.999 ** 3), -0.0123, -0.456] as const;
        expect(parallelRange(RANGE_NADAM, len, p, g, m, v, ...nadamArgs)).toBe(true);
        nadamKernel(pWant, 0, g, 0, mWant, 0, vWant, 0, len, ...nadamArgs);
        expect([Array.from(p), Array.from(m), Array.from(v)]).toEqual([Array.from(pWant), Array.from(mWant), Array.from(vWant)]);
        const gd = heapFloat32(len);
        const gdWant = new Float32Array(len);
        expect(parallelRange(RANGE_DECAY, len, gd, g, p, null, 0.013)).toBe(true);
        decayKernel(gdWant, 0, g, 0, pWant, 0, len, 0.013);
        expect(Array.from(gd)).toEqual(Array.from(gdWant));
        expect(parallelRange(RANGE_SHRINK, len, p, null, null, null, 1 - 1e-3 * 0.3)).toBe(true);
        shrinkKernel(pWant, 0, len, 1 - 1e-3 * 0.3);
        expect(Array.from(p)).toEqual(Array.from(pWant));
        const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
        const r = heapFloat32(len);
        const rWant = new Float32Array(len);
        g[len - 1] = len > 2 ? Number.NaN : g[len - 1];
        expect(parallelRange(RANGE_RELU, len, r, g, null, null)).toBe(true);
        reluKernel(new Int32Array(rWant.buffer), 0, g, new Int32Array(g.buffer, g.byteOffset, len), 0, len);
        expect(bits(r)).toEqual(bits(rWant));
        expect(parallelRange(RANGE_RELU_BACKWARD, len, r, p, g, null)).toBe(true);
        reluBackwardKernel(new Int32Array(rWant.buffer), 0, new Int32Array(p.buffer, p.byteOffset, len), 0, g, 0, len);
        expect(bits(r)).toEqual(bits(rWant));
        const y = heapFloat32(len);
        const yWant = new Float32Array(len);
        expect(parallelRange(RANGE_TANH, len, y, g, null, null)).toBe(true);
        tanhKernel(yWant, 0, g, 0, len);
        expect(Array.from(y)).toEqual(Array.from(yWant));
      }
    }
  });

  it('the SIMD 2×2 max pooling gives the TypeScript kernel\'s bits: every NaN pattern, ties, -0, ±Infinity, odd sizes', () => {
    // Planes of 2 × (2·outW + 1) with outW = 21 (5 groups of 4 windows and a 1-window tail, and an odd column).
    const outW = 21;
    const W = 2 * outW + 1;
    const H = 5; // two window rows and an odd last row
    const planes = 40;
    const inSize = planes * H * W;
    const outSize = planes * 2 * outW;
    const x = randomHeap(inSize, 31);
    // Window (p, oh, ow): put NaN at the positions given by the bits of (p·2·outW + oh·outW + ow) mod 16,
    // ties / signed zeros / infinities in others.
    for (let p = 0; p < planes; p++) {
      for (let oh = 0; oh < 2; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const w = p * 2 * outW + oh * outW + ow;
          const at = [0, 1, W, W + 1].map((o) => p * H * W + 2 * oh * W + 2 * ow + o);
          const kind = Math.floor(w / 16) % 4;
          at.forEach((i, k) => {
            if (((w % 16) >> k) & 1) x[i] = Number.NaN;
            else if (kind === 1) x[i] = 0.5; // ties
            else if (kind === 2) x[i] = k % 2 ? -0 : 0;
            else if (kind === 3) x[i] = k === 1 ? -Infinity : k === 2 ? Infinity : x[i];
          });
        }
      }
    }
    const dy = randomHeap(outSize, 32);
    dy[7] = -0;
    for (const threads of [1, 2]) {
      setThreads(threads);
      const out = heapFloat32(outSize);
      const am = heapInt32(outSize);
      expect(parallelPlanes(RANGE_MAXPOOL2, planes, H * W, out, am, x, H, W, 2, outW)).toBe(true);
      const outWant = new Float32Array(outSize);
      const amWant = new Int32Array(outSize);
      maxPool2x2Kernel(outWant, 0, amWant, 0, x, 0, 0, planes, H, W, 2, outW);
      expect(Array.from(am)).toEqual(Array.from(amWant));
      expect(Array.from(new Int32Array(out.buffer, out.byteOffset, outSize))).toEqual(Array.from(new Int32Array(outWant.buffer)));
      const dx = heapFloat32(inSize).fill(7);
      expect(parallelPlanes(RANGE_MAXPOOL2_BACKWARD, planes, H * W, dx, dy, am, H, W, 2, outW)).toBe(true);
      const dxWant = new Float32Array(inSize).fill(7);
      maxPool2x2BackwardKernel(dxWant, 0, dy, 0, amWant, 0, 0, planes, H, W, 2, outW);
      expect(Array.from(new Int32Array(dx.buffer, dx.byteOffset, inSize))).toEqual(Array.from(new Int32Array(dxWant.buffer)));
    }
  });

  it('sigmoid (SIMD, float64 inside) equals the TypeScript kernel on dense sweeps and at the edges', () => {
    const len = 1 << 18;
    const x = heapFloat32(len);
    for (const threads of [1, 2]) {
      setThreads(threads);
      for (const [lo, hi] of [[-110, 110], [-20, 20], [-1, 1]] as const) {
        for (let i = 0; i < len; i++) x[i] = lo + ((hi - lo) * i) / len;
        const edges = [-0, 0, Number.NaN, Infinity, -Infinity, 1e-40, -3e-39, 1e-8, -103.2, -103.3, -104, -105, 88, -88, 17, -87.5];
        edges.forEach((e, i) => { x[i * 7] = e; });
        const y = heapFloat32(len);
        const want = new Float32Array(len);
        expect(parallelRange(RANGE_SIGMOID, len, y, x, null, null)).toBe(true);
        sigmoidKernel(want, 0, x, 0, len);
        let bad = 0;
        for (let i = 0; i < len; i++) if (!Object.is(y[i], want[i])) bad++;
        expect(bad, `[${lo}, ${hi}] on ${threads} thread(s)`).toBe(0);
      }
    }
  });

  it('tanh (SIMD, float64 inside) equals Math.tanh rounded to float32 on a dense sweep and at the edges', () => {
    const len = 1 << 18;
    const x = heapFloat32(len);
    for (let i = 0; i < len; i++) x[i] = -12 + (24 * i) / len;
    const edges = [-0, 0, Number.NaN, Infinity, -Infinity, 1e-40, -3e-39, 1e-8, -1e-3, 9.01, 9.02, 10, 11, 20, 21, 88, -100];
    edges.forEach((e, i) => { x[i * 7] = e; });
    for (const threads of [1, 2]) {
      setThreads(threads);
      const y = heapFloat32(len);
      expect(parallelRange(RANGE_TANH, len, y, x, null, null)).toBe(true);
      let bad = 0;
      for (let i = 0; i < len; i++) if (!Object.is(y[i], Math.fround(Math.tanh(x[i])))) bad++;
      expect(bad).toBe(0);
      // Geometric spread from 1e-8 to 1e3, both signs.
      for (let i = 0; i < len; i++) x[i] = (i % 2 ? -1 : 1) * 10 ** (-8 + (11 * i) / len);
      expect(parallelRange(RANGE_TANH, len, y, x, null, null)).toBe(true);
      for (let i = 0; i < len; i++) if (!Object.is(y[i], Math.fround(Math.tanh(x[i])))) bad++;
      expect(bad).toBe(0);
    }
  });

  it('gives the single-thread kernels\' bits for relu, relu backward, sgd, momentum and adam', () => {
    setThreads(2);
    const x = randomHeap(n, 4);
    x[5] = -0;
    x[6] = Number.NaN;
    const dy = randomHeap(n, 5);
    const i32 = (a: Float32Array): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length);

    const out = heapFloat32(n);
    expect(parallelRange(RANGE_RELU, n, out, x, null, null)).toBe(true);
    const want = new Float32Array(n);
    reluKernel(i32(want), 0, x, i32(x), 0, n);
    expect(Array.from(i32(out))).toEqual(Array.from(i32(want)));

    expect(parallelRange(RANGE_RELU_BACKWARD, n, out, dy, x, null)).toBe(true);
    reluBackwardKernel(i32(want), 0, i32(dy), 0, x, 0, n);
    expect(Array.from(i32(out))).toEqual(Array.from(i32(want)));

    const p = randomHeap(n, 6);
    const pWant = Float32Array.from(p);
    expect(parallelRange(RANGE_SGD, n, p, dy, null, null, 0.1)).toBe(true);
    sgdKernel(pWant, 0, dy, 0, n, 0.1);
    expect(Array.from(p)).toEqual(Array.from(pWant));

    const buf = randomHeap(n, 7);
    const bufWant = Float32Array.from(buf);
    expect(parallelRange(RANGE_MOMENTUM, n, p, dy, buf, null, 0.01, 0.9)).toBe(true);
    momentumKernel(pWant, 0, dy, 0, bufWant, 0, n, 0.01, 0.9);
    expect(Array.from(p)).toEqual(Array.from(pWant));
    expect(Array.from(buf)).toEqual(Array.from(bufWant));

    const m = randomHeap(n, 8);
    const v = randomHeap(n, 9, 0, 1);
    const mWant = Float32Array.from(m);
    const vWant = Float32Array.from(v);
    const args = [0.9, 0.999, 1e-8, 0.001 / (1 - 0.9 ** 3), 1 / Math.sqrt(1 - 0.999 ** 3)] as const;
    expect(parallelRange(RANGE_ADAM, n, p, dy, m, v, ...args)).toBe(true);
    adamKernel(pWant, 0, dy, 0, mWant, 0, vWant, 0, n, ...args);
    expect(Array.from(p)).toEqual(Array.from(pWant));
    expect(Array.from(m)).toEqual(Array.from(mWant));
    expect(Array.from(v)).toEqual(Array.from(vWant));
  });

  it('splits 2×2 max pooling by planes with the bits of one thread (odd sizes, ties, NaN, -0)', () => {
    const g = poolGeometry(8, 16, 23, 25, 2, 2, 2, 2, 0, 0);
    const inSize = 8 * 16 * 23 * 25;
    const outSize = 8 * 16 * 11 * 12;
    const x = randomHeap(inSize, 13);
    for (let i = 0; i < inSize; i += 97) x[i] = x[i + 1]; // ties
    x[5] = Number.NaN;
    x[1000] = -0;
    const dy = randomHeap(outSize, 14);
    dy[3] = -0;
    const run = (threads: number): number[][] => {
      setThreads(threads);
      const out = heapFloat32(outSize);
      const argmax = heapInt32(outSize);
      const dx = heapFloat32(inSize).fill(9);
      maxPool2dForward(out, argmax, x, g);
      maxPool2dBackward(dx, dy, argmax, g);
      const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
      return [bits(out), Array.from(argmax), bits(dx)];
    };
    const one = run(1);
    expect(run(2)).toEqual(one);
    // Against the general path's semantics: dx is zero except dy at each argmax (+0 for a -0 gradient).
    const want = new Float32Array(inSize);
    for (let i = 0; i < outSize; i++) want[one[1][i]] += dy[i];
    expect(one[2]).toEqual(Array.from(new Int32Array(want.buffer)));
  });
});

