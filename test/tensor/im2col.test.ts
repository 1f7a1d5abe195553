import { describe, expect, it } from 'vitest';
import { gemmNaive } from '../../src/tensor/gemm.js';
import { col2im, convGeometry, im2col, type ConvGeometry } from '../../src/tensor/im2col.js';
import { assertClose } from '../util/assert-close.js';
import { testRng } from '../util/rng.js';
import { randomArray } from '../util/gemm.js';

/** Direct convolution of one image (the test reference): y[o, oh, ow] = Σ_{c,i,j} w[o,c,i,j]·x[c, oh·s−p+i, ow·s−p+j]. */
function directConv(x: Float32Array, w: Float32Array, outC: number, g: ConvGeometry): Float64Array {
  const { channels: C, height: H, width: W, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const y = new Float64Array(outC * outH * outW);
  for (let o = 0; o < outC; o++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let s = 0;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < kH; i++) {
            for (let j = 0; j < kW; j++) {
              const h = oh * strideH - padH + i;
              const ww = ow * strideW - padW + j;
              if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
              s += w[((o * C + c) * kH + i) * kW + j] * x[(c * H + h) * W + ww];
            }
          }
        }
        y[(o * outH + oh) * outW + ow] = s;
      }
    }
  }
  return y;
}

interface Case {
  readonly C: number; readonly H: number; readonly W: number;
  readonly kH: number; readonly kW: number; readonly stride: number; readonly pad: number;
}

const CASES: Case[] = [];
for (const [kH, kW] of [[1, 1], [3, 3], [5, 5], [2, 3]] as const) {
  for (const stride of [1, 2]) {
    for (const pad of [0, 1, 2]) CASES.push({ C: 2, H: 7, W: 9, kH, kW, stride, pad });
  }
}
CASES.push({ C: 3, H: 6, W: 5, kH: 3, kW: 2, stride: 2, pad: 1 });
CASES.push({ C: 1, H: 4, W: 11, kH: 5, kW: 5, stride: 1, pad: 2 });

const caseName = (c: Case): string => `C${c.C} ${c.H}×${c.W} k${c.kH}×${c.kW} s${c.stride} p${c.pad}`;

describe('convGeometry', () => {
  it('computes PyTorch output sizes (floor) and rejects kernels that do not fit', () => {
    // (28 + 0 − 3)/1 + 1 = 26;  (7 + 2·1 − 3)/2 + 1 = 4;  (9 + 2·1 − 2)/2 + 1 = 5 (floor of 4.5)
    expect(convGeometry(1, 28, 28, 3, 3)).toMatchObject({ outH: 26, outW: 26 });
    expect(convGeometry(2, 7, 9, 3, 2, 2, 2, 1, 1)).toMatchObject({ outH: 4, outW: 5 });
    expect(() => convGeometry(1, 2, 2, 3, 3)).toThrow('kernel 3×3 with padding 0,0 does not fit input 2×2');
  });
});

describe('im2col', () => {
  it('unfolds a hand-checked 1×3×3 image with a 2×2 kernel', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]]; output positions (0,0),(0,1),(1,0),(1,1).
    // Tap (0,0) sees 1,2,4,5; tap (0,1) sees 2,3,5,6; tap (1,0) sees 4,5,7,8; tap (1,1) sees 5,6,8,9.
    const g = convGeometry(1, 3, 3, 2, 2);
    const out = new Float32Array(16);
    expect(im2col(out, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), g)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
  });

  it('reads padding as zero (1×2×2 image, 3×3 kernel, pad 1: centre tap is the image itself)', () => {
    const g = convGeometry(1, 2, 2, 3, 3, 1, 1, 1, 1);
    const out = new Float32Array(9 * 4).fill(NaN);
    im2col(out, Float32Array.of(1, 2, 3, 4), g);
    // tap (0,0) reads x[oh−1, ow−1]: only output (1,1) is inside → [0,0,0,1]; tap (1,1) (row 4) is x.
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 0, 1]);
    expect(Array.from(out.subarray(16, 20))).toEqual([1, 2, 3, 4]);
    expect(Array.from(out.subarray(32, 36))).toEqual([4, 0, 0, 0]);
  });

  it.each(CASES)('conv via im2col + gemm equals direct conv: %s', (c) => {
    const rng = testRng(21);
    const outC = 3;
    const g = convGeometry(c.C, c.H, c.W, c.kH, c.kW, c.stride, c.stride, c.pad, c.pad);
    const x = randomArray(c.C * c.H * c.W, rng);
    const xCopy = x.slice();
    const w = randomArray(outC * c.C * c.kH * c.kW, rng);
    const rowsK = c.C * c.kH * c.kW;
    const ohw = g.outH * g.outW;
    const col = new Float32Array(rowsK * ohw).fill(NaN); // every entry must be written
    im2col(col, x, g);
    const y = gemmNaive(new Float32Array(outC * ohw), w, col, outC, ohw, rowsK);
    // float32 storage of double sums of ≤ 50 products of size ≤ 1: atol 1e-5
    assertClose(y, directConv(x, w, outC, g), { atol: 1e-5, rtol: 1e-5, what: caseName(c) });
    expect(Array.from(x)).toEqual(Array.from(xCopy));
  });

  it('handles stride and padding asymmetric between H and W', () => {
    const rng = testRng(22);
    const g = convGeometry(2, 8, 5, 3, 2, 2, 1, 0, 1);
    const x = randomArray(2 * 8 * 5, rng);
    const w = randomArray(2 * 2 * 3 * 2, rng);
    const col = im2col(new Float32Array(12 * g.outH * g.outW), x, g);
    const y = gemmNaive(new Float32Array(2 * g.outH * g.outW), w, col, 2, g.outH * g.outW, 12);
    assertClose(y, directConv(x, w, 2, g), { atol: 1e-5, rtol: 1e-5 });
  });

  it('rejects buffers that are too small, naming the shapes', () => {
    const g = convGeometry(2, 4, 4, 3, 3);
    expect(() => im2col(new Float32Array(18 * 4), new Float32Array(31), g)).toThrow(
      'im2col: x has 31 elements, image [2, 4, 4] needs 32',
    );
    expect(() => im2col(new Float32Array(10), new Float32Array(32), g)).toThrow(
      'im2col: out has 10 elements, columns [18, 4] need 72',
    );
    expect(() => col2im(new Float32Array(32), new Float32Array(5), g)).toThrow('col2im: col has 5 elements');
  });
});

describe('col2im', () => {
  it.each(CASES)('is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>: %s', (c) => {
    const rng = testRng(31);
    const g = convGeometry(c.C, c.H, c.W, c.kH, c.kW, c.stride, c.stride, c.pad, c.pad);
    const x = randomArray(c.C * c.H * c.W, rng);
    const y = randomArray(c.C * c.kH * c.kW * g.outH * g.outW, rng);
    const yCopy = y.slice();
    const cx = im2col(new Float32Array(y.length), x, g);
    const ty = col2im(new Float32Array(x.length).fill(NaN), y, g);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < y.length; i++) lhs += cx[i] * y[i];
    for (let i = 0; i < x.length; i++) rhs += x[i] * ty[i];
    // col2im sums at most kH·kW values per pixel in float32: relative tolerance 1e-5
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(lhs)));
    expect(Array.from(y)).toEqual(Array.from(yCopy));
  });

  it('hand check: 1×3×3 image, 2×2 kernel: each pixel receives one value per tap covering it', () => {
    // All-ones columns: pixel count = number of (tap, position) pairs reading it:
    // corners 1, edges 2, centre 4.
    const g = convGeometry(1, 3, 3, 2, 2);
    const out = new Float32Array(9);
    expect(col2im(out, new Float32Array(16).fill(1), g)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it('overwrites out by default and adds into it with accumulate', () => {
    const g = convGeometry(1, 3, 3, 2, 2);
    const ones = new Float32Array(16).fill(1);
    const out = new Float32Array(9).fill(10);
    col2im(out, ones, g, true);
    expect(Array.from(out)).toEqual([11, 12, 11, 12, 14, 12, 11, 12, 11]);
    col2im(out, ones, g);
    expect(Array.from(out)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });
});
