// Float64 reference math for the nn op tests: direct (loop-per-output) convolution, pooling, layer and
// batch normalisation, embedding, written independently of src/ops (no im2col, no gemm), and central
// finite differences over them.

/** Geometry of a direct convolution; pads are top/left, the output size is given. */
export interface Conv64 {
  batch: number; inC: number; height: number; width: number;
  outC: number; kH: number; kW: number; groups: number;
  strideH: number; strideW: number; padTop: number; padLeft: number; dilH: number; dilW: number;
  outH: number; outW: number;
}

/** y[n, o, oh, ow] = b[o] + Σ w[o, c, i, j]·x[n, g·cg + c, oh·sH − pT + i·dH, ow·sW − pL + j·dW]. */
export function conv64(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, g: Conv64): Float64Array {
  const cg = g.inC / g.groups;
  const og = g.outC / g.groups;
  const y = new Float64Array(g.batch * g.outC * g.outH * g.outW);
  let at = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outC; o++) {
      const grp = Math.floor(o / og);
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          let s = b === null ? 0 : b[o];
          for (let c = 0; c < cg; c++) {
            for (let i = 0; i < g.kH; i++) {
              const h = oh * g.strideH - g.padTop + i * g.dilH;
              if (h < 0 || h >= g.height) continue;
              for (let j = 0; j < g.kW; j++) {
                const ww = ow * g.strideW - g.padLeft + j * g.dilW;
                if (ww < 0 || ww >= g.width) continue;
                s += w[((o * cg + c) * g.kH + i) * g.kW + j] * x[((n * g.inC + grp * cg + c) * g.height + h) * g.width + ww];
              }
            }
          }
          y[at++] = s;
        }
      }
    }
  }
  return y;
}

/** Geometry of a pooling over [planes, H, W]. */
export interface Pool64 {
  planes: number; height: number; width: number; kH: number; kW: number;
  strideH: number; strideW: number; padH: number; padW: number; outH: number; outW: number;
}

/** Max pooling, padding ignored. */
export function maxPool64(x: ArrayLike<number>, g: Pool64): Float64Array {
  const y = new Float64Array(g.planes * g.outH * g.outW);
  let at = 0;
  for (let p = 0; p < g.planes; p++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        let m = -Infinity;
        for (let i = 0; i < g.kH; i++) {
          for (let j = 0; j < g.kW; j++) {
            const h = oh * g.strideH - g.padH + i;
            const w = ow * g.strideW - g.padW + j;
            if (h >= 0 && h < g.height && w >= 0 && w < g.width) m = Math.max(m, x[(p * g.height + h) * g.width + w]);
          }
        }
        y[at++] = m;
      }
    }
  }
  return y;
}

/** Average pooling: divisor kH·kW (includePad) or the in-image count. */
export function avgPool64(x: ArrayLike<number>, g: Pool64, includePad: boolean): Float64Array {
  const y = new Float64Array(g.planes * g.outH * g.outW);
  let at = 0;
  for (let p = 0; p < g.planes; p++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        let s = 0;
        let count = 0;
        for (let i = 0; i < g.kH; i++) {
          for (let j = 0; j < g.kW; j++) {
            const h = oh * g.strideH - g.padH + i;
            const w = ow * g.strideW - g.padW + j;
            if (h >= 0 && h < g.height && w >= 0 && w < g.width) {
              s += x[(p * g.height + h) * g.width + w];
              count++;
            }
          }
        }
        y[at++] = s / (includePad ? g.kH * g.kW : count);
      }
    }
  }
  return y;
}

/** Layer norm over rows of d: (x − μ)/√(σ² + eps)·w + b. */
export function layerNorm64(x: ArrayLike<number>, d: number, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mu = 0;
    for (let j = 0; j < d; j++) mu += x[r * d + j];
    mu /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j] - mu) ** 2;
    v /= d;
    for (let j = 0; j < d; j++) {
      y[r * d + j] = (x[r * d + j] - mu) / Math.sqrt(v + eps) * (w === null ? 1 : w[j]) + (b === null ? 0 : b[j]);
    }
  }
  return y;
}

/** Batch norm of [N, C, S] with batch statistics (stats null) or the given mean/var. */
export function batchNorm64(
  x: ArrayLike<number>, n: number, c: number, s: number, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number,
  stats: { mean: ArrayLike<number>; variance: ArrayLike<number> } | null,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let ch = 0; ch < c; ch++) {
    let mu: number;
    let v: number;
    if (stats === null) {
      mu = 0;
      for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) mu += x[(i * c + ch) * s + k];
      mu /= n * s;
      v = 0;
      for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) v += (x[(i * c + ch) * s + k] - mu) ** 2;
      v /= n * s;
    } else {
      mu = stats.mean[ch];
      v = stats.variance[ch];
    }
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < s; k++) {
        const at = (i * c + ch) * s + k;
        y[at] = (x[at] - mu) / Math.sqrt(v + eps) * (w === null ? 1 : w[ch]) + (b === null ? 0 : b[ch]);
      }
    }
  }
  return y;
}

/** Σ gy·f(inputs) in doubles. */
export function weightedSum(y: ArrayLike<number>, gy: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * gy[i];
  return s;
}

/**
 * Central differences of `loss` (float64) with respect to every element of `x` (a Float64Array the
 * loss reads), step h.
 */
export function numericGrad(loss: () => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const lp = loss();
    x[i] = orig - h;
    const lm = loss();
    x[i] = orig;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

/** max|a − n| / max(max|n|, floor): the error measure of the gradient checks. */
export function relError(a: ArrayLike<number>, n: ArrayLike<number>, floor = 1e-3): number {
  let worst = 0;
  let scale = floor;
  for (let i = 0; i < n.length; i++) scale = Math.max(scale, Math.abs(n[i]));
  for (let i = 0; i < n.length; i++) worst = Math.max(worst, Math.abs(a[i] - n[i]));
  if (a.length !== n.length) return Infinity;
  return worst / scale;
}
