// WideConv.forwardInto / backwardInto, which conv2d's stride-1 path uses to have the engine write y and
// dx straight into the op's arrays: the same bits as forward / backward into the engine's own arrays,
// on the im2col tasks and on both Winograd tiles, with and without a bias; an array that does not qualify
// (outside the heap, misaligned, wrong length) is refused with nothing computed.
import { afterEach, describe, expect, test } from 'vitest';
import { WideConv, convGeometry, heapFloat32, setConvAlgorithm, sharedConvHeap, type ConvAlgorithm } from '../../src/plugin/index.js';

function filled(n: number, f: (i: number) => number): Float32Array {
  const a = heapFloat32(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

const bits = (a: Float32Array): number[] => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

describe('WideConv into the caller\'s arrays', () => {
  let previous: ConvAlgorithm | null = null;
  afterEach(() => {
    if (previous !== null) setConvAlgorithm(previous);
    previous = null;
  });

  test.each([
    ['im2col', true], ['im2col', false], ['winograd2', true], ['winograd4', false],
  ] as const)('%s, bias %s: forwardInto and backwardInto give the bits of forward and backward', (algorithm, useBias) => {
    previous = setConvAlgorithm(algorithm);
    const batch = 3;
    const channels = 5;
    const filters = 6;
    const g = convGeometry(channels, 9, 8, 3, 3, 1, 1, 1, 1);
    const wide = new WideConv(batch, filters, useBias, g, sharedConvHeap());
    try {
      const x = filled(batch * channels * 72, (i) => Math.sin(0.37 * i));
      const w = filled(filters * channels * 9, (i) => Math.cos(0.71 * i));
      const b = useBias ? filled(filters, (i) => 0.1 * i - 0.2) : null;
      const dy = filled(batch * filters * 72, (i) => Math.sin(1.3 * i + 0.5));
      const y = filled(batch * filters * 72, () => 1e6); // stale values must all be overwritten
      const dx = filled(batch * channels * 72, () => -1e6);
      expect(wide.forwardInto(y, x, w, b)).toBe(true);
      const gw = heapFloat32(w.length);
      const gb = useBias ? heapFloat32(filters) : null;
      expect(wide.backwardInto(dx, dy, gw, gb)).toBe(true);

      const yRef = wide.forward(x, w, b, false).data.slice();
      const gwRef = heapFloat32(w.length);
      const gbRef = useBias ? heapFloat32(filters) : null;
      const dxRef = (wide.backward(dy, gwRef, gbRef, true) as { data: Float32Array }).data.slice();
      expect(bits(y)).toEqual(bits(yRef));
      expect(bits(dx)).toEqual(bits(dxRef));
      expect(bits(gw)).toEqual(bits(gwRef));
      if (gb !== null && gbRef !== null) expect(bits(gb)).toEqual(bits(gbRef));
    } finally {
      wide.release();
    }
  });

  test('an array outside the heap, misaligned or of the wrong length is refused, nothing written', () => {
    const g = convGeometry(2, 6, 6, 3, 3, 1, 1, 1, 1);
    const wide = new WideConv(2, 3, false, g, sharedConvHeap());
    try {
      const x = filled(2 * 2 * 36, (i) => i % 7);
      const w = filled(3 * 2 * 9, (i) => i % 5);
      const n = 2 * 3 * 36;
      const plain = new Float32Array(n);
      expect(wide.forwardInto(plain, x, w, null)).toBe(false);
      const big = heapFloat32(n + 16);
      const shifted = big.subarray(1, n + 1);
      expect(wide.forwardInto(shifted, x, w, null)).toBe(false);
      expect(wide.forwardInto(heapFloat32(n - 1), x, w, null)).toBe(false);
      expect(Array.from(big).every((v) => v === 0)).toBe(true);
      wide.forward(x, w, null, false);
      expect(wide.backwardInto(new Float32Array(2 * 2 * 36), filled(n, () => 1), heapFloat32(w.length), null)).toBe(false);
    } finally {
      wide.release();
    }
  });
});
