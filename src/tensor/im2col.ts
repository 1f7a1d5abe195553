// im2col / col2im for one NCHW image: unfold convolution patches into a matrix so conv is one gemm.

/** Geometry of a 2-D convolution over one image. */
export interface ConvGeometry {
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

/** Builds a {@link ConvGeometry}, computing the output size as PyTorch does (floor). Throws on an empty output. */
export function convGeometry(
  channels: number, height: number, width: number,
  kH: number, kW: number, strideH = 1, strideW = 1, padH = 0, padW = 0,
): ConvGeometry {
  const outH = Math.floor((height + 2 * padH - kH) / strideH) + 1;
  const outW = Math.floor((width + 2 * padW - kW) / strideW) + 1;
  if (outH <= 0 || outW <= 0) {
    throw new Error(`convolution: kernel ${kH}×${kW} with padding ${padH},${padW} does not fit input ${height}×${width}`);
  }
  return { channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW };
}

/**
 * Unfolds one image `x[C,H,W]` into `out[C·kH·kW, outH·outW]`: row `(c·kH + i)·kW + j` holds the
 * input pixel under kernel tap (i, j) of channel c for every output position; padding reads as 0.
 * `out` must not alias `x`. Returns `out`.
 */
export function im2col(out: Float32Array, x: Float32Array, g: ConvGeometry): Float32Array {
  const { channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const ohw = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const xc = c * height * width;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row++) {
        const ro = row * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padH + i;
          const o = ro + oh * outW;
          if (h < 0 || h >= height) {
            out.fill(0, o, o + outW);
            continue;
          }
          const xr = xc + h * width;
          for (let ow = 0; ow < outW; ow++) {
            const w = ow * strideW - padW + j;
            out[o + ow] = w >= 0 && w < width ? x[xr + w] : 0;
          }
        }
      }
    }
  }
  return out;
}

/**
 * The adjoint of {@link im2col}: sums `col[C·kH·kW, outH·outW]` back into `out[C,H,W]`.
 * Overwrites `out` unless `accumulate`. `out` must not alias `col`. Returns `out`.
 */
export function col2im(out: Float32Array, col: Float32Array, g: ConvGeometry, accumulate = false): Float32Array {
  const { channels, height, width, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  if (!accumulate) out.fill(0, 0, channels * height * width);
  const ohw = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const xc = c * height * width;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row++) {
        const ro = row * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padH + i;
          if (h < 0 || h >= height) continue;
          const o = ro + oh * outW;
          const xr = xc + h * width;
          for (let ow = 0; ow < outW; ow++) {
            const w = ow * strideW - padW + j;
            if (w >= 0 && w < width) out[xr + w] += col[o + ow];
          }
        }
      }
    }
  }
  return out;
}
