// The Winograd kernels of the kernel table (runtime/winograd-kernels.ts; dL/dW's two adjoints as well): each one's SIMD code in the
// shared heap, on 1 thread and split plane by plane over 2, must give the bits of its TypeScript twin
// run on plain arrays, for F(2,3) and F(4,3), at awkward sizes (odd channel counts, edge tiles).
import { afterEach, describe, expect, it } from 'vitest';
import { heapFloat32, sharedHeap } from '../../src/runtime/heap.js';
import { KERNEL_CHUNK } from '../../src/runtime/kernel-table.js';
import {
  WINOGRAD_FILTER, WINOGRAD_FILTER_GRAD, WINOGRAD_INPUT, WINOGRAD_OUTPUT, WINOGRAD_OUTPUT_GRAD, WINOGRAD_PACK,
} from '../../src/runtime/winograd-kernels.js';
import { getThreads, setThreads } from '../../src/runtime/workers.js';
import { testRng } from '../util/rng.js';

/** Random floats over a wide range of magnitudes and both signs (so rounding differences would show). */
function wide(n: number, seed: number): Float32Array {
  const rng = testRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() < 0.5 ? -1 : 1) * Math.exp(8 * rng.next() - 4);
  return a;
}

function inHeap(a: Float32Array): Float32Array {
  const h = heapFloat32(a.length);
  h.set(a);
  return h;
}

function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let diff = -1;
  for (let i = 0; i < w.length && diff < 0; i++) if (g[i] !== w[i]) diff = i;
  expect(diff, `${what}: first differing element`).toBe(-1);
}

// planeSize = KERNEL_CHUNK makes every plane its own share, so 2 threads really split the planes.
const ONE_PER_SHARE = KERNEL_CHUNK;

describe('Winograd kernels: SIMD (1 and 2 threads) vs TypeScript twin, bit for bit', () => {
  const before = getThreads();
  afterEach(() => setThreads(before));

  it('has a shared heap (else both sides would run the twin)', () => {
    expect(sharedHeap()).not.toBeNull();
  });

  for (const m of [2, 4] as const) {
    for (const [C, O, H, W, pad] of [[17, 5, 7, 9, 1], [3, 17, 2, 1, 2], [8, 8, 13, 6, 0]] as const) {
      const outH = H + 2 * pad - 2;
      const outW = W + 2 * pad - 2;
      const tilesH = Math.ceil(outH / m);
      const tilesW = Math.ceil(outW / m);
      const Hp = tilesH * m + 2;
      const Wp = tilesW * m + 2;
      const a2 = (m + 2) ** 2;
      const C4 = Math.ceil(C / 4) * 4;
      const O4 = Math.ceil(O / 4) * 4;
      const G = 3;
      const T = G * tilesH * tilesW;
      const name = `F(${m},3), ${C}→${O} channels, ${H}×${W}, pad ${pad}`;

      it(`${name}: pack, input, filter and output transforms`, () => {
        const x = wide(G * C * H * W, 1);
        const w = wide(O * C * 9, 2);
        const bias = wide(O4, 3);
        const M = wide(a2 * T * O4, 4);
        const xbLen = G * (C4 / 4) * Hp * Wp * 4;
        const sLen = G * tilesH * a2 * 4;
        for (const threads of [1, 2]) {
          setThreads(threads);
          // pack: x → xb (the border must stay as it was: 0)
          const xbTwin = new Float32Array(xbLen);
          WINOGRAD_PACK.runPlanes(G * (C4 / 4), ONE_PER_SHARE, xbTwin, x, C, H, W, pad, pad, Hp, Wp, 0);
          const xbSimd = heapFloat32(xbLen);
          WINOGRAD_PACK.runPlanes(G * (C4 / 4), ONE_PER_SHARE, xbSimd, inHeap(x), C, H, W, pad, pad, Hp, Wp, 0);
          expectBits(xbSimd, xbTwin, `pack, ${threads} threads`);
          if (pad > 0) expect(xbTwin[0], "border").toBe(0);
          // input transform
          const vTwin = new Float32Array(a2 * T * C4);
          WINOGRAD_INPUT.runPlanes(G * tilesH, ONE_PER_SHARE, vTwin, xbTwin, new Float32Array(sLen), m, C4 / 4, tilesH, tilesW, Hp, Wp, T * C4, C4);
          const vSimd = heapFloat32(a2 * T * C4);
          WINOGRAD_INPUT.runPlanes(G * tilesH, ONE_PER_SHARE, vSimd, xbSimd, heapFloat32(sLen), m, C4 / 4, tilesH, tilesW, Hp, Wp, T * C4, C4);
          expectBits(vSimd, vTwin, `input, ${threads} threads`);
          // filter transform, plain and flipped (dL/dx: w read as [C][O] rotated)
          for (const flip of [0, 1]) {
            const sO = flip === 1 ? 9 : C * 9;
            const sC = flip === 1 ? O * 9 : 9;
            const uTwin = new Float32Array(a2 * C4 * O4);
            WINOGRAD_FILTER.runPlanes(C * (O4 / 4), ONE_PER_SHARE, uTwin, w, m, C, O, sO, sC, flip, C4 * O4, O4);
            const uSimd = heapFloat32(a2 * C4 * O4);
            WINOGRAD_FILTER.runPlanes(C * (O4 / 4), ONE_PER_SHARE, uSimd, inHeap(w), m, C, O, sO, sC, flip, C4 * O4, O4);
            expectBits(uSimd, uTwin, `filter (flip ${flip}), ${threads} threads`);
          }
          // output transform, with and without the ReLU, onto a y that starts non-zero
          for (const relu of [0, 1]) {
            const yTwin = wide(G * O * outH * outW, 5);
            const ySimd = inHeap(yTwin);
            WINOGRAD_OUTPUT.runPlanes(G * tilesH, ONE_PER_SHARE, yTwin, Float32Array.from(M), bias, new Float32Array(sLen), m, O, tilesH, tilesW, outH, outW, T * O4, O4, relu, 0);
            WINOGRAD_OUTPUT.runPlanes(G * tilesH, ONE_PER_SHARE, ySimd, inHeap(M), inHeap(bias), heapFloat32(sLen), m, O, tilesH, tilesW, outH, outW, T * O4, O4, relu, 0);
            expectBits(ySimd, yTwin, `output (relu ${relu}), ${threads} threads`);
          }
        }
      });

      it(`${name}: dy transform (winograd-output-grad) and filter gradient (winograd-filter-grad)`, () => {
        const dy = wide(G * O * outH * outW, 6);
        const dU = wide(a2 * C4 * O4, 7);
        const dW0 = wide(O * C * 9, 8);
        const sLen = G * tilesH * a2 * 4;
        for (const threads of [1, 2]) {
          setThreads(threads);
          // dM starts non-zero: every element (padding lanes o ≥ O included, as 0) must be written
          const mTwin = wide(a2 * T * O4, 9);
          const mSimd = inHeap(mTwin);
          WINOGRAD_OUTPUT_GRAD.runPlanes(G * tilesH, ONE_PER_SHARE, mTwin, dy, new Float32Array(sLen), m, O, tilesH, tilesW, outH, outW, T * O4, O4, 0);
          WINOGRAD_OUTPUT_GRAD.runPlanes(G * tilesH, ONE_PER_SHARE, mSimd, inHeap(dy), heapFloat32(sLen), m, O, tilesH, tilesW, outH, outW, T * O4, O4, 0);
          expectBits(mSimd, mTwin, `output-grad, ${threads} threads`);
          for (let o = O; o < O4; o++) expect(mTwin[o], `output-grad padding lane ${o}`).toBe(0);
          // the filter gradient adds onto a dW that starts non-zero and transforms dU in place
          const wTwin = Float32Array.from(dW0);
          const uTwin = Float32Array.from(dU);
          WINOGRAD_FILTER_GRAD.runPlanes(C * (O4 / 4), ONE_PER_SHARE, wTwin, uTwin, m, C, O, C4 * O4, O4);
          const wSimd = inHeap(dW0);
          const uSimd = inHeap(dU);
          WINOGRAD_FILTER_GRAD.runPlanes(C * (O4 / 4), ONE_PER_SHARE, wSimd, uSimd, m, C, O, C4 * O4, O4);
          expectBits(wSimd, wTwin, `filter-grad dW, ${threads} threads`);
          expectBits(uSimd, uTwin, `filter-grad dU, ${threads} threads`);
        }
      });
    }
  }
});
