// The shared WebAssembly heap and the kernel table: arena blocks (alloc / free / reuse), gemm on
// operands that live in the heap (used in place), and every built-in kernel of the table, whose SIMD
// code split over threads must give the bits of its TypeScript twin.
import { afterEach, describe, expect, it } from 'vitest';
import { gemm, gemmNaive } from '../../src/tensor/gemm.js';
import { copyFloat32, fillFloat32, heapFloat32, heapInt32, sharedHeap } from '../../src/runtime/heap.js';
import {
  ADAM, DECAY, KERNEL_MIN_PARALLEL, MAX_POOL2, MAX_POOL2_BACKWARD, MOMENTUM, NADAM, NAG, RELU, RELU_BACKWARD, RMSPROP, RMSPROP_MOMENTUM,
  SGD, SHRINK, SIGMOID, TANH, defineKernel, getKernel, kernelNames,
} from '../../src/runtime/kernel-table.js';
import { maxPool2dBackward, maxPool2dForward, poolGeometry } from '../../src/tensor/pooling.js';
import {
  adamTwin, decayTwin, maxPool2BackwardTwin, maxPool2Twin, momentumTwin, nadamTwin, nagTwin, reluBackwardTwin, reluTwin,
  rmspropMomentumTwin, rmspropTwin, sgdTwin, shrinkTwin, sigmoidTwin, tanhTwin,
} from '../../src/runtime/twins.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
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

describe('the kernel table', () => {
  it('declares each built-in once, by name, and refuses duplicates and bad arities', () => {
    const names = kernelNames();
    expect(new Set(names).size).toBe(names.length);
    for (const k of [RELU, ADAM, MAX_POOL2]) expect(getKernel(k.name)).toBe(k);
    expect(() => defineKernel({ name: 'adam', arrays: 4, scalars: 7, twin: adamTwin })).toThrow(/exists already/);
    expect(() => defineKernel({ name: 'x-bad-arrays', arrays: 9, scalars: 0, twin: reluTwin })).toThrow(/arrays must be an integer in \[1, 8\]/);
    expect(() => defineKernel({ name: 'x-bad-scalars', arrays: 1, scalars: 13, twin: reluTwin })).toThrow(/scalars must be an integer in \[0, 12\]/);
    expect(() => SGD.run(4, new Float32Array(4), 'g' as unknown as Float32Array, 0.1)).toThrow(/operand 1 must be a typed array/);
    expect(() => SGD.run(4, new Float32Array(4), new Float32Array(4), 'lr' as unknown as number)).toThrow(/operand 2 must be a number/);
    expect(() => MAX_POOL2.run(4, new Float32Array(4))).toThrow(/runPlanes/);
    expect(() => SGD.run(5, heapFloat32(5), heapFloat32(4), 0.1)).toThrow(/operand 1 has 4 elements, fewer than n = 5/);
  });

  it('a user kernel declared with only a twin runs it on heap and ordinary arrays alike', () => {
    const axpby = defineKernel({
      name: 'test-axpby', arrays: 3, scalars: 2,
      twin: (out: Float32Array, a: Float32Array, b: Float32Array, n: number, alpha: number, beta: number) => {
        for (let i = 0; i < n; i++) out[i] = alpha * a[i] + beta * b[i];
      },
    });
    const a = randomHeap(100, 1);
    const b = randomHeap(100, 2);
    const out = heapFloat32(100);
    axpby.run(100, out, a, b, 2, -1);
    for (let i = 0; i < 100; i++) expect(out[i]).toBe(Math.fround(2 * a[i] - b[i]));
    const plain = new Float32Array(100);
    axpby.run(100, plain, Float32Array.from(a), Float32Array.from(b), 2, -1);
    expect(Array.from(plain)).toEqual(Array.from(out));
  });
});

describe.skipIf(!multiCore)('built-in kernels on 1 and 2 threads', () => {
  const before = getThreads();
  afterEach(() => setThreads(before));
  const n = KERNEL_MIN_PARALLEL * 3 + 17; // several chunks and a ragged end
  const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

  it('the SIMD optimizer kernels (all six, weight decay), ReLU and tanh give their twins\' bits at every length (4-lane body and 1-lane tail), on 1 and 2 threads, and on ordinary arrays', () => {
    for (const threads of [1, 2]) {
      setThreads(threads);
      for (const len of [1, 2, 3, 4, 5, 7, 8, 33, 65, KERNEL_MIN_PARALLEL + 3]) {
        const g = randomHeap(len, 20 + len, -3, 3);
        g[0] = len > 1 ? -0 : g[0];
        const p = randomHeap(len, 40 + len);
        const pWant = Float32Array.from(p);
        const pPlain = Float32Array.from(p);
        SGD.run(len, p, g, 0.037);
        sgdTwin(pWant, g, len, 0.037);
        SGD.run(len, pPlain, Float32Array.from(g), 0.037); // not in the heap: the twin runs
        expect(Array.from(p)).toEqual(Array.from(pWant));
        expect(Array.from(pPlain)).toEqual(Array.from(pWant));
        const b = randomHeap(len, 60 + len);
        const bWant = Float32Array.from(b);
        MOMENTUM.run(len, p, g, b, 0.3, 0.85);
        momentumTwin(pWant, g, bWant, len, 0.3, 0.85);
        expect(Array.from(p)).toEqual(Array.from(pWant));
        expect(Array.from(b)).toEqual(Array.from(bWant));
        const m = randomHeap(len, 80 + len);
        const v = randomHeap(len, 90 + len, 0, 1e-6);
        const mWant = Float32Array.from(m);
        const vWant = Float32Array.from(v);
        const args = [0.8, 0.99, 1 - 0.8, 1 - 0.99, 1e-7, 0.01 / (1 - 0.8 ** 2), 1 / Math.sqrt(1 - 0.99 ** 2)] as const;
        ADAM.run(len, p, g, m, v, ...args);
        adamTwin(pWant, g, mWant, vWant, len, ...args);
        expect([Array.from(p), Array.from(m), Array.from(v)]).toEqual([Array.from(pWant), Array.from(mWant), Array.from(vWant)]);
        NAG.run(len, p, g, b, 0.05, 0.9);
        nagTwin(pWant, g, bWant, len, 0.05, 0.9);
        expect([Array.from(p), Array.from(b)]).toEqual([Array.from(pWant), Array.from(bWant)]);
        RMSPROP.run(len, p, g, v, 0.01, 0.95, 1 - 0.95, 1e-6);
        rmspropTwin(pWant, g, vWant, len, 0.01, 0.95, 1 - 0.95, 1e-6);
        expect([Array.from(p), Array.from(v)]).toEqual([Array.from(pWant), Array.from(vWant)]);
        RMSPROP_MOMENTUM.run(len, p, g, v, b, 0.01, 0.95, 1 - 0.95, 1e-6, 0.7);
        rmspropMomentumTwin(pWant, g, vWant, bWant, len, 0.01, 0.95, 1 - 0.95, 1e-6, 0.7);
        expect([Array.from(p), Array.from(v), Array.from(b)]).toEqual([Array.from(pWant), Array.from(vWant), Array.from(bWant)]);
        const nadamArgs = [0.9, 0.999, 1 - 0.9, 1 - 0.999, 1e-8, 1 / Math.sqrt(1 - 0.999 ** 3), -0.0123, -0.456] as const;
        NADAM.run(len, p, g, m, v, ...nadamArgs);
        nadamTwin(pWant, g, mWant, vWant, len, ...nadamArgs);
        expect([Array.from(p), Array.from(m), Array.from(v)]).toEqual([Array.from(pWant), Array.from(mWant), Array.from(vWant)]);
        const gd = heapFloat32(len);
        const gdWant = new Float32Array(len);
        DECAY.run(len, gd, g, p, 0.013);
        decayTwin(gdWant, g, pWant, len, 0.013);
        expect(Array.from(gd)).toEqual(Array.from(gdWant));
        SHRINK.run(len, p, 1 - 1e-3 * 0.3);
        shrinkTwin(pWant, len, 1 - 1e-3 * 0.3);
        expect(Array.from(p)).toEqual(Array.from(pWant));
        const r = heapFloat32(len);
        const rWant = new Float32Array(len);
        g[len - 1] = len > 2 ? Number.NaN : g[len - 1];
        RELU.run(len, r, g);
        reluTwin(rWant, g, len);
        expect(bits(r)).toEqual(bits(rWant));
        // A NaN passes through the forward (torch.relu) in the 4-lane body and in the tail alike, and
        // the backward passes dy where x is NaN (threshold_backward: x ≤ 0 ? 0 : dy).
        if (len > 2) expect(Number.isNaN(r[len - 1]), `relu(NaN) at len ${len}`).toBe(true);
        RELU_BACKWARD.run(len, r, p, g);
        reluBackwardTwin(rWant, p, g, len);
        expect(bits(r)).toEqual(bits(rWant));
        if (len > 2) expect(r[len - 1]).toBe(p[len - 1]);
        const y = heapFloat32(len);
        const yWant = new Float32Array(len);
        TANH.run(len, y, g);
        tanhTwin(yWant, g, len);
        expect(Array.from(y)).toEqual(Array.from(yWant));
      }
    }
  });

  it('the SIMD 2×2 max pooling gives its twin\'s bits: every NaN pattern, ties, -0, ±Infinity, odd sizes', () => {
    // Planes of 2 × (2·outW + 1) with outW = 21 (5 groups of 4 windows and a 1-window tail, and an odd column).
    const outW = 21;
    const W = 2 * outW + 1;
    const H = 5; // two window rows and an odd last row
    const planes = 40;
    const inSize = planes * H * W;
    const outSize = planes * 2 * outW;
    const x = randomHeap(inSize, 31);
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
      MAX_POOL2.runPlanes(planes, H * W, out, am, x, H, W, 2, outW);
      const outWant = new Float32Array(outSize);
      const amWant = new Int32Array(outSize);
      maxPool2Twin(outWant, amWant, x, 0, planes, H, W, 2, outW);
      expect(Array.from(am)).toEqual(Array.from(amWant));
      expect(bits(out)).toEqual(bits(outWant));
      const dx = heapFloat32(inSize).fill(7);
      MAX_POOL2_BACKWARD.runPlanes(planes, H * W, dx, dy, am, H, W, 2, outW);
      const dxWant = new Float32Array(inSize).fill(7);
      maxPool2BackwardTwin(dxWant, dy, amWant, 0, planes, H, W, 2, outW);
      expect(bits(dx)).toEqual(bits(dxWant));
    }
  });

  it('sigmoid (SIMD, float64 inside) equals its twin on dense sweeps and at the edges', () => {
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
        SIGMOID.run(len, y, x);
        sigmoidTwin(want, x, len);
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
      TANH.run(len, y, x);
      let bad = 0;
      for (let i = 0; i < len; i++) if (!Object.is(y[i], Math.fround(Math.tanh(x[i])))) bad++;
      expect(bad).toBe(0);
      // Geometric spread from 1e-8 to 1e3, both signs.
      for (let i = 0; i < len; i++) x[i] = (i % 2 ? -1 : 1) * 10 ** (-8 + (11 * i) / len);
      TANH.run(len, y, x);
      for (let i = 0; i < len; i++) if (!Object.is(y[i], Math.fround(Math.tanh(x[i])))) bad++;
      expect(bad).toBe(0);
    }
  });

  it('gives the twins\' bits for relu, relu backward, sgd, momentum and adam on work split in many chunks', () => {
    setThreads(2);
    const x = randomHeap(n, 4);
    x[5] = -0;
    x[6] = Number.NaN;
    new Int32Array(x.buffer, x.byteOffset + 7 * 4, 1)[0] = 0xffc00001 | 0; // a negative NaN with a payload
    const dy = randomHeap(n, 5);
    const out = heapFloat32(n);
    const want = new Float32Array(n);
    RELU.run(n, out, x);
    reluTwin(want, x, n);
    expect(bits(out)).toEqual(bits(want));
    // NaN keeps its bits (sign and payload included); −0 becomes +0.
    expect([bits(out)[6], bits(out)[7], bits(out)[5]]).toEqual([bits(x)[6], bits(x)[7], 0]);
    RELU_BACKWARD.run(n, out, dy, x);
    reluBackwardTwin(want, dy, x, n);
    expect(bits(out)).toEqual(bits(want));
    expect([out[5], out[6], out[7]]).toEqual([0, dy[6], dy[7]]);
    const p = randomHeap(n, 6);
    const pWant = Float32Array.from(p);
    SGD.run(n, p, dy, 0.1);
    sgdTwin(pWant, dy, n, 0.1);
    expect(Array.from(p)).toEqual(Array.from(pWant));
    const buf = randomHeap(n, 7);
    const bufWant = Float32Array.from(buf);
    MOMENTUM.run(n, p, dy, buf, 0.01, 0.9);
    momentumTwin(pWant, dy, bufWant, n, 0.01, 0.9);
    expect(Array.from(p)).toEqual(Array.from(pWant));
    expect(Array.from(buf)).toEqual(Array.from(bufWant));
    const m = randomHeap(n, 8);
    const v = randomHeap(n, 9, 0, 1);
    const mWant = Float32Array.from(m);
    const vWant = Float32Array.from(v);
    const args = [0.9, 0.999, 1 - 0.9, 1 - 0.999, 1e-8, 0.001 / (1 - 0.9 ** 3), 1 / Math.sqrt(1 - 0.999 ** 3)] as const;
    ADAM.run(n, p, dy, m, v, ...args);
    adamTwin(pWant, dy, mWant, vWant, n, ...args);
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
