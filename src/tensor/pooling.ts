// 2-D max and average pooling kernels over NCHW batches (forward and backward), PyTorch-compatible:
// floor output size (ceil_mode false), padding at most half the kernel, max ignores pads, avg counts them.

import { fillFloat32 } from '../runtime/heap.js';
import { MAX_POOL2, MAX_POOL2_BACKWARD } from '../runtime/kernel-table.js';

/** Geometry of a 2-D pooling over a whole NCHW batch. Build it with {@link poolGeometry}. */
export interface PoolGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly outH: number;
  readonly outW: number;
}

function checkDim(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`pool2d: ${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * Builds a {@link PoolGeometry} for input `[batch, channels, height, width]` with a `kH×kW` window.
 * Output size is PyTorch's floor rule: `outH = floor((height + 2·padH − kH) / strideH) + 1`.
 * Throws (like PyTorch) if a padding exceeds half its kernel size or the window does not fit.
 */
export function poolGeometry(
  batch: number, channels: number, height: number, width: number,
  kH: number, kW: number, strideH = kH, strideW = kW, padH = 0, padW = 0,
): PoolGeometry {
  checkDim('batch', batch, 0);
  checkDim('channels', channels, 1);
  checkDim('height', height, 1);
  checkDim('width', width, 1);
  checkDim('kH', kH, 1);
  checkDim('kW', kW, 1);
  checkDim('strideH', strideH, 1);
  checkDim('strideW', strideW, 1);
  checkDim('padH', padH, 0);
  checkDim('padW', padW, 0);
  if (2 * padH > kH || 2 * padW > kW) {
    throw new Error(
      `pool2d: padding must be at most half the kernel size, got padding ${padH}×${padW} for kernel ${kH}×${kW}`,
    );
  }
  const outH = Math.floor((height + 2 * padH - kH) / strideH) + 1;
  const outW = Math.floor((width + 2 * padW - kW) / strideW) + 1;
  if (outH <= 0 || outW <= 0) {
    throw new Error(
      `pool2d: kernel ${kH}×${kW} with padding ${padH}×${padW} does not fit input ${height}×${width} (output ${outH}×${outW})`,
    );
  }
  return { batch, channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW };
}

/** Element count of the input `[batch, C, H, W]` of a geometry. */
function inputSize(g: PoolGeometry): number {
  return g.batch * g.channels * g.height * g.width;
}

/** Element count of the output `[batch, C, outH, outW]` of a geometry. */
function outputSize(g: PoolGeometry): number {
  return g.batch * g.channels * g.outH * g.outW;
}

function checkLength(kernel: string, name: string, arr: ArrayLike<number>, need: number): void {
  if (arr.length < need) throw new Error(`${kernel}: ${name} has ${arr.length} elements, the geometry needs ${need}`);
}

/**
 * Max pooling: `out[b,c,oh,ow] = max x[b,c,h,w]` over the window, padding never wins (it reads as −∞).
 * `argmax` receives the flat index into `x` of each maximum (the first one on ties, as PyTorch; a NaN
 * propagates, as PyTorch). `x` is `[batch, C, H, W]`, `out` and `argmax` are `[batch, C, outH, outW]`.
 * `out` must not alias `x`. Allocates nothing. Returns `out`.
 */
export function maxPool2dForward(out: Float32Array, argmax: Int32Array, x: Float32Array, g: PoolGeometry): Float32Array {
  const inSize = inputSize(g);
  const outSize = outputSize(g);
  checkLength('maxPool2dForward', 'x', x, inSize);
  checkLength('maxPool2dForward', 'out', out, outSize);
  checkLength('maxPool2dForward', 'argmax', argmax, outSize);
  const { height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  if (kH === 2 && kW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    maxPool2x2(out, argmax, x, g);
    return out;
  }
  const planes = g.batch * g.channels;
  const hw = height * width;
  const ohw = outH * outW;
  // x[p,h,w] lives at p*hw + h*width + w, with p = b*C + c; out[p,oh,ow] at p*ohw + oh*outW + ow.
  for (let p = 0; p < planes; p++) {
    const xp = p * hw;
    const op = p * ohw;
    for (let oh = 0; oh < outH; oh++) {
      // Clip the window to the image: padding never holds the max, so skipping it is exact.
      const h0 = oh * strideH - padH;
      const hStart = h0 < 0 ? 0 : h0;
      const hEnd = h0 + kH > height ? height : h0 + kH;
      const orow = op + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * strideW - padW;
        const wStart = w0 < 0 ? 0 : w0;
        const wEnd = w0 + kW > width ? width : w0 + kW;
        let max = -Infinity;
        let best = xp + hStart * width + wStart;
        for (let h = hStart; h < hEnd; h++) {
          const xr = xp + h * width;
          for (let w = wStart; w < wEnd; w++) {
            const v = x[xr + w];
            // Strict > keeps the first max on ties; v !== v lets NaN through like PyTorch.
            if (v > max || v !== v) {
              max = v;
              best = xr + w;
            }
          }
        }
        out[orow + ow] = max;
        argmax[orow + ow] = best;
      }
    }
  }
  return out;
}

/**
 * The common 2×2, stride 2, unpadded max pool (the kernel table's MAX_POOL2 and its twin in runtime/twins.ts: the same results
 * as the general loop, branch-free), split by planes over the gemm threads when the arrays live in
 * the shared heap and the batch is large enough. On real activations the general loop's `v > max`
 * branches are coin flips the CPU mispredicts (7× the cost of the memory traffic).
 */
function maxPool2x2(out: Float32Array, argmax: Int32Array, x: Float32Array, g: PoolGeometry): void {
  const { height, width, outH, outW } = g;
  const planes = g.batch * g.channels;
  MAX_POOL2.runPlanes(planes, height * width, out, argmax, x, height, width, outH, outW);
}

/**
 * Max pooling backward: overwrites `dx[batch, C, H, W]` with zeros, then scatter-adds each
 * `dy[batch, C, outH, outW]` element onto the input position recorded in `argmax` by
 * {@link maxPool2dForward} (overlapping windows sharing a max add up). `dx` must not alias `dy`.
 * Allocates nothing. Returns `dx`.
 */
export function maxPool2dBackward(dx: Float32Array, dy: Float32Array, argmax: Int32Array, g: PoolGeometry): Float32Array {
  const inSize = inputSize(g);
  const outSize = outputSize(g);
  checkLength('maxPool2dBackward', 'dx', dx, inSize);
  checkLength('maxPool2dBackward', 'dy', dy, outSize);
  checkLength('maxPool2dBackward', 'argmax', argmax, outSize);
  const { height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  if (kH === 2 && kW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    // Windows do not overlap: every dx element is written once, no zero fill first.
    const planes = g.batch * g.channels;
    MAX_POOL2_BACKWARD.runPlanes(planes, height * width, dx, dy, argmax, height, width, outH, outW);
    return dx;
  }
  fillFloat32(inSize === dx.length ? dx : dx.subarray(0, inSize), 0);
  for (let i = 0; i < outSize; i++) dx[argmax[i]] += dy[i];
  return dx;
}

/**
 * Average pooling: `out[b,c,oh,ow]` = (sum of the window's in-image values) / divisor. With
 * `countIncludePad` (PyTorch's default) the divisor is `kH·kW`, i.e. padding counts as zeros;
 * otherwise it is the number of in-image elements of the window. `x` is `[batch, C, H, W]`, `out` is
 * `[batch, C, outH, outW]`. `out` must not alias `x`. Allocates nothing. Returns `out`.
 */
export function avgPool2dForward(out: Float32Array, x: Float32Array, g: PoolGeometry, countIncludePad = true): Float32Array {
  const inSize = inputSize(g);
  const outSize = outputSize(g);
  checkLength('avgPool2dForward', 'x', x, inSize);
  checkLength('avgPool2dForward', 'out', out, outSize);
  const { height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const planes = g.batch * g.channels;
  const hw = height * width;
  const ohw = outH * outW;
  for (let p = 0; p < planes; p++) {
    const xp = p * hw;
    const op = p * ohw;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const hStart = h0 < 0 ? 0 : h0;
      const hEnd = h0 + kH > height ? height : h0 + kH;
      const orow = op + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * strideW - padW;
        const wStart = w0 < 0 ? 0 : w0;
        const wEnd = w0 + kW > width ? width : w0 + kW;
        let sum = 0;
        for (let h = hStart; h < hEnd; h++) {
          const xr = xp + h * width;
          for (let w = wStart; w < wEnd; w++) sum += x[xr + w];
        }
        // In floor mode every window ends inside the padded image, so the padded count is kH·kW.
        const divisor = countIncludePad ? kH * kW : (hEnd - hStart) * (wEnd - wStart);
        out[orow + ow] = sum / divisor;
      }
    }
  }
  return out;
}

/**
 * Average pooling backward: overwrites `dx[batch, C, H, W]`, spreading each
 * `dy[batch, C, outH, outW]` element evenly (÷ divisor, as in {@link avgPool2dForward}) over the
 * in-image part of its window. `dx` must not alias `dy`. Allocates nothing. Returns `dx`.
 */
export function avgPool2dBackward(dx: Float32Array, dy: Float32Array, g: PoolGeometry, countIncludePad = true): Float32Array {
  const inSize = inputSize(g);
  const outSize = outputSize(g);
  checkLength('avgPool2dBackward', 'dx', dx, inSize);
  checkLength('avgPool2dBackward', 'dy', dy, outSize);
  const { height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const planes = g.batch * g.channels;
  const hw = height * width;
  const ohw = outH * outW;
  fillFloat32(inSize === dx.length ? dx : dx.subarray(0, inSize), 0);
  for (let p = 0; p < planes; p++) {
    const xp = p * hw;
    const op = p * ohw;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const hStart = h0 < 0 ? 0 : h0;
      const hEnd = h0 + kH > height ? height : h0 + kH;
      const orow = op + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * strideW - padW;
        const wStart = w0 < 0 ? 0 : w0;
        const wEnd = w0 + kW > width ? width : w0 + kW;
        const divisor = countIncludePad ? kH * kW : (hEnd - hStart) * (wEnd - wStart);
        const share = dy[orow + ow] / divisor;
        for (let h = hStart; h < hEnd; h++) {
          const xr = xp + h * width;
          for (let w = wStart; w < wEnd; w++) dx[xr + w] += share;
        }
      }
    }
  }
  return dx;
}
