// LayerNorm (PyTorch nn.LayerNorm): normalisation of each sample over its trailing dimensions, with
// an optional elementwise affine map, and its full gradient.
import {
  BatchBuffer, NO_PARAMS, checkGrad, checkInput, checkKeys, createParam, formatShape, readBoolean, readNumber, requireBuilt,
  shapeSize, unbuiltParam, type Param, type Rng, type Tensor,
} from '../plugin/index.js';
import type { Layer } from './layer.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /**
   * The trailing dimensions normalised over, `D` or `[d1, d2, …]` (torch's `normalized_shape`); they
   * must equal the last dimensions of the per-sample input. Default: the last axis of the input.
   */
  readonly normalizedShape?: number | readonly number[];
  /** Added to the variance before the square root. Default 1e-5. */
  readonly eps?: number;
  /** Learn an elementwise `weight` (init 1) and `bias` (init 0) of shape `normalizedShape`. Default true (torch's `elementwise_affine`). */
  readonly affine?: boolean;
}

const LN_KEYS = ['normalizedShape', 'eps', 'affine'];

/**
 * Layer normalisation (Ba, Kiros & Hinton 2016), registered as `'layer-norm'`. The input is viewed as
 * rows of D = prod(normalizedShape) values; per row:
 *
 *     μ = mean(x),  σ² = mean((x − μ)²)  (biased),  x̂ = (x − μ)/√(σ² + eps),  y = weight ⊙ x̂ + bias.
 *
 * Backward per row, with g = dy ⊙ weight:  dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / √(σ² + eps);
 * dweight += Σ_rows dy ⊙ x̂, dbias += Σ_rows dy. The same statistics are used in training and
 * evaluation (no running averages). Means and variances are accumulated in doubles.
 * Shapes: any `[batch, ..., ...normalizedShape]`, output the same; params `weight`, `bias` `normalizedShape`.
 */
export class LayerNorm implements Layer {
  readonly kind = 'layer-norm';
  readonly eps: number;
  readonly affine: boolean;
  /** The configured normalised shape (null: the input's last axis). */
  private readonly configured: number[] | null;
  private normShape: number[];
  private inShape: number[];
  /** Values per row `D` (0 until build). */
  private rowSize: number;
  /** Rows per sample. */
  private rowsPerSample: number;
  private weight: Param;
  private bias: Param;
  private paramList: readonly Param[];
  private out: BatchBuffer;
  private xhat: BatchBuffer;
  /** 1/√(σ² + eps) per row of the last forward. */
  private invStd: BatchBuffer;
  private dx: BatchBuffer;
  /** Double-precision sums of dweight and dbias over the rows, added to the grads once per backward. */
  private dwSum: Float64Array;
  private dbSum: Float64Array;
  private output: Tensor | null;

  constructor(options: LayerNormOptions = {}) {
    const owner = 'LayerNorm';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, LN_KEYS);
    const raw = config.normalizedShape;
    if (raw === undefined) {
      this.configured = null;
    } else {
      const dims = typeof raw === 'number' ? [raw] : raw;
      if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
        throw new Error(`LayerNorm: normalizedShape must be a positive integer or a non-empty array of them, got ${JSON.stringify(raw)}`);
      }
      this.configured = (dims as number[]).slice();
    }
    this.eps = readNumber(owner, config, 'eps', 1e-5, { min: 0, minExclusive: true });
    this.affine = readBoolean(owner, config, 'affine', true);
    this.normShape = [];
    this.inShape = [];
    this.rowSize = 0;
    this.rowsPerSample = 0;
    this.weight = unbuiltParam('weight');
    this.bias = unbuiltParam('bias');
    this.paramList = NO_PARAMS;
    this.out = new BatchBuffer([]);
    this.xhat = new BatchBuffer([]);
    this.invStd = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.dwSum = new Float64Array(0);
    this.dbSum = new Float64Array(0);
    this.output = null;
  }

  /** The normalised shape (the configured one, or after build the input's last axis). */
  get normalizedShape(): readonly number[] {
    return this.configured ?? this.normShape;
  }

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    const norm = layerNormShape(inputShape, this.configured);
    this.normShape = norm;
    this.inShape = inputShape.slice();
    this.rowSize = shapeSize(norm);
    this.rowsPerSample = shapeSize(inputShape) / this.rowSize;
    if (this.affine) {
      this.weight = createParam('weight', norm);
      this.weight.value.data.fill(1);
      this.bias = createParam('bias', norm);
      this.paramList = [this.weight, this.bias];
    } else {
      this.paramList = NO_PARAMS;
    }
    this.out = new BatchBuffer(this.inShape);
    this.xhat = new BatchBuffer(this.inShape);
    this.invStd = new BatchBuffer([this.rowsPerSample]);
    this.dx = new BatchBuffer(this.inShape);
    this.dwSum = new Float64Array(this.rowSize);
    this.dbSum = new Float64Array(this.rowSize);
    this.output = null;
    return this.inShape.slice();
  }

  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('LayerNorm', this.rowSize > 0, 'forward');
    checkInput('LayerNorm', x, this.inShape);
    const batch = x.shape[0];
    const D = this.rowSize;
    const rows = batch * this.rowsPerSample;
    const y = this.out.get(batch);
    const xd = x.data;
    const out = y.data;
    const xhat = this.xhat.get(batch).data;
    const inv = this.invStd.get(batch).data;
    const w = this.affine ? this.weight.value.data : null;
    const b = this.affine ? this.bias.value.data : null;
    // Row r spans [r·D, (r + 1)·D); two passes (mean, then centred squares) for a stable variance.
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let sum = 0;
      for (let j = 0; j < D; j++) sum += xd[o + j];
      const mu = sum / D;
      let sq = 0;
      for (let j = 0; j < D; j++) {
        const d = xd[o + j] - mu;
        sq += d * d;
      }
      const is = 1 / Math.sqrt(sq / D + this.eps);
      inv[r] = is;
      if (w === null || b === null) {
        for (let j = 0; j < D; j++) {
          const h = (xd[o + j] - mu) * is;
          xhat[o + j] = h;
          out[o + j] = h;
        }
      } else {
        for (let j = 0; j < D; j++) {
          const h = (xd[o + j] - mu) * is;
          xhat[o + j] = h;
          out[o + j] = h * w[j] + b[j];
        }
      }
    }
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad('LayerNorm', dy, this.output);
    const batch = dy.shape[0];
    const D = this.rowSize;
    const rows = batch * this.rowsPerSample;
    const g = dy.data;
    const xhat = this.xhat.get(batch).data;
    const inv = this.invStd.get(batch).data;
    const dxT = this.dx.get(batch);
    const dx = dxT.data;
    const w = this.affine ? this.weight.value.data : null;
    const dwSum = this.dwSum;
    const dbSum = this.dbSum;
    if (w !== null) {
      dwSum.fill(0);
      dbSum.fill(0);
    }
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let sumG = 0;
      let sumGXhat = 0;
      for (let j = 0; j < D; j++) {
        const gj = w === null ? g[o + j] : g[o + j] * w[j];
        sumG += gj;
        sumGXhat += gj * xhat[o + j];
      }
      const meanG = sumG / D;
      const meanGXhat = sumGXhat / D;
      const is = inv[r];
      if (w === null) {
        for (let j = 0; j < D; j++) dx[o + j] = (g[o + j] - meanG - xhat[o + j] * meanGXhat) * is;
      } else {
        for (let j = 0; j < D; j++) {
          dx[o + j] = (g[o + j] * w[j] - meanG - xhat[o + j] * meanGXhat) * is;
          dwSum[j] += g[o + j] * xhat[o + j];
          dbSum[j] += g[o + j];
        }
      }
    }
    if (w !== null) {
      const dw = this.weight.grad.data;
      const db = this.bias.grad.data;
      for (let j = 0; j < D; j++) {
        dw[j] += dwSum[j];
        db[j] += dbSum[j];
      }
    }
    return dxT;
  }

  /** `weight` and `bias` (shape `normalizedShape`) when `affine`, else none. */
  params(): readonly Param[] {
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    return { ...(this.configured === null ? {} : { normalizedShape: this.configured.slice() }), eps: this.eps, affine: this.affine };
  }
}

/**
 * The normalised shape LayerNorm uses on a per-sample `inputShape` (the configured trailing dims, or
 * the last axis); throws naming both shapes when they do not fit. Shared with shape inference.
 */
export function layerNormShape(inputShape: readonly number[], configured: readonly number[] | null): number[] {
  if (inputShape.length < 1 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`LayerNorm: expected a non-empty per-sample input shape with positive dimensions, got ${formatShape(inputShape)}`);
  }
  if (configured === null) return [inputShape[inputShape.length - 1]];
  const tail = inputShape.slice(inputShape.length - configured.length);
  if (configured.length > inputShape.length || tail.some((d, i) => d !== configured[i])) {
    throw new Error(`LayerNorm: normalizedShape ${formatShape(configured)} must equal the trailing dimensions of the per-sample input ${formatShape(inputShape)}`);
  }
  return configured.slice();
}
