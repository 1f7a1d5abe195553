// BatchNorm1d and BatchNorm2d (PyTorch nn.BatchNorm1d / nn.BatchNorm2d): per-channel normalisation with
// batch statistics in training, running statistics in eval, and the full batch-norm gradient.
import { checkKeys, readBoolean, readNumber } from '../config.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import { formatShape, type Tensor, zeros } from '../tensor/tensor.js';
import type { Buffer, Layer } from './layer.js';
import { BatchBuffer, NO_PARAMS, checkGrad, checkInput, requireBuilt, unbuiltParam } from '../plugin/index.js';

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d} (PyTorch's defaults). */
export interface BatchNormConfig {
  /** Weight of the new batch statistic in the running averages: `r = (1 − momentum)·r + momentum·stat`. Default 0.1. */
  readonly momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  readonly eps?: number;
  /** Learn a per-channel scale `weight` (init 1) and shift `bias` (init 0). Default true. */
  readonly affine?: boolean;
}

const BN_KEYS = ['momentum', 'eps', 'affine'] as const;

/**
 * Batch normalisation over an input viewed as `[batch, C, S]` (S = spatial size, 1 for `[batch, C]`):
 *
 *   training: μ_c, σ²_c = mean and biased variance of channel c over the batch and S;
 *             y = weight_c · (x − μ_c) / √(σ²_c + eps) + bias_c;
 *             running_mean ← (1 − m)·running_mean + m·μ_c,
 *             running_var  ← (1 − m)·running_var  + m·σ²_c·n/(n − 1)   (unbiased, n = batch·S);
 *             num_batches_tracked += 1.
 *   eval:     the same y with running_mean / running_var in place of μ_c / σ²_c.
 *
 * Backward in training is the full gradient through μ and σ²:
 *   dx = weight·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), dweight += Σ dy·x̂, dbias += Σ dy;
 * after an eval forward it is the per-channel affine map dx = dy·weight·invStd_running.
 */
abstract class BatchNormBase implements Layer {
  abstract readonly kind: string;
  readonly momentum: number;
  readonly eps: number;
  readonly affine: boolean;
  /** Class name used in error messages. */
  protected readonly owner: string;
  /** Channels `C` (0 until build). */
  private channels: number;
  /** Elements per channel per sample `S` (product of the spatial dims). */
  private spatial: number;
  /** Per-sample input shape (empty until build). */
  private inShape: number[];
  private weight: Param;
  private bias: Param;
  private paramList: readonly Param[];
  private runningMean: Tensor;
  private runningVar: Tensor;
  private numBatchesTracked: Tensor;
  /** Per-channel mean and 1/√(var + eps) used by the last forward (batch or running statistics). */
  private mean: Float64Array;
  private invStd: Float64Array;
  /** Whether the last forward used batch statistics (selects the backward formula). */
  private lastTraining: boolean;
  private out: BatchBuffer;
  /** The normalised input x̂ of the last forward, kept for backward. */
  private xhat: BatchBuffer;
  private dx: BatchBuffer;
  /** The last forward's output (null before the first forward). */
  private output: Tensor | null;

  protected constructor(owner: string, config: BatchNormConfig) {
    const c = config as unknown as Record<string, unknown>;
    checkKeys(owner, c, BN_KEYS);
    this.momentum = readNumber(owner, c, 'momentum', 0.1, { min: 0, max: 1 });
    this.eps = readNumber(owner, c, 'eps', 1e-5, { min: 0, minExclusive: true });
    this.affine = readBoolean(owner, c, 'affine', true);
    this.owner = owner;
    this.channels = 0;
    this.spatial = 0;
    this.inShape = [];
    this.weight = unbuiltParam('weight');
    this.bias = unbuiltParam('bias');
    this.paramList = NO_PARAMS;
    this.runningMean = zeros([0]);
    this.runningVar = zeros([0]);
    this.numBatchesTracked = zeros([]);
    this.mean = new Float64Array(0);
    this.invStd = new Float64Array(0);
    this.lastTraining = false;
    this.out = new BatchBuffer([]);
    this.xhat = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.output = null;
  }

  /** Checks the per-sample input shape; subclasses state which ranks they accept. */
  protected abstract checkInputShape(inputShape: readonly number[]): void;

  build(inputShape: readonly number[], _rng: Rng): readonly number[] {
    this.checkInputShape(inputShape);
    const channels = inputShape[0];
    let spatial = 1;
    for (let i = 1; i < inputShape.length; i++) spatial *= inputShape[i];
    if (!Number.isInteger(channels) || channels < 1 || !(spatial >= 1)) {
      throw new Error(`${this.owner}: input shape ${formatShape(inputShape)} must have positive dimensions`);
    }
    this.channels = channels;
    this.spatial = spatial;
    this.inShape = inputShape.slice();
    if (this.affine) {
      const w = zeros([channels]);
      w.data.fill(1);
      this.weight = { name: 'weight', value: w, grad: zeros([channels]) };
      this.bias = { name: 'bias', value: zeros([channels]), grad: zeros([channels]) };
      this.paramList = [this.weight, this.bias];
    }
    this.runningMean = zeros([channels]);
    this.runningVar = zeros([channels]);
    this.runningVar.data.fill(1);
    this.numBatchesTracked = zeros([]);
    this.mean = new Float64Array(channels);
    this.invStd = new Float64Array(channels);
    this.out = new BatchBuffer(this.inShape);
    this.xhat = new BatchBuffer(this.inShape);
    this.dx = new BatchBuffer(this.inShape);
    this.output = null;
    return this.inShape.slice();
  }

  /** `weight` and `bias` `[C]` when `affine`, else none. */
  params(): readonly Param[] {
    return this.paramList;
  }

  /** Running statistics under PyTorch's state-dict names: `running_mean`, `running_var` `[C]`, `num_batches_tracked` `[]`. */
  buffers(): readonly Buffer[] {
    return [
      { name: 'running_mean', value: this.runningMean },
      { name: 'running_var', value: this.runningVar },
      { name: 'num_batches_tracked', value: this.numBatchesTracked },
    ];
  }

  getConfig(): Record<string, unknown> {
    return { momentum: this.momentum, eps: this.eps, affine: this.affine };
  }

  forward(x: Tensor, training: boolean): Tensor {
    requireBuilt(this.owner, this.channels > 0, 'forward');
    checkInput(this.owner, x, this.inShape);
    const batch = x.shape[0];
    const C = this.channels;
    const S = this.spatial;
    const n = batch * S;
    if (training && n <= 1) {
      throw new Error(`${this.owner}: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`);
    }
    const y = this.out.get(batch);
    const xd = x.data;
    const out = y.data;
    const xhat = this.xhat.get(batch).data;
    const mean = this.mean;
    const invStd = this.invStd;
    if (training) {
      this.batchStatistics(xd, batch, n);
    } else {
      const rm = this.runningMean.data;
      const rv = this.runningVar.data;
      for (let c = 0; c < C; c++) {
        mean[c] = rm[c];
        invStd[c] = 1 / Math.sqrt(rv[c] + this.eps);
      }
    }
    const w = this.affine ? this.weight.value.data : null;
    const b = this.affine ? this.bias.value.data : null;
    // x[b,c,s] lives at (b*C + c)*S + s.
    for (let c = 0; c < C; c++) {
      const mu = mean[c];
      const is = invStd[c];
      const scale = w === null ? 1 : w[c];
      const shift = b === null ? 0 : b[c];
      for (let i = 0; i < batch; i++) {
        const o = (i * C + c) * S;
        for (let s = 0; s < S; s++) {
          const h = (xd[o + s] - mu) * is;
          xhat[o + s] = h;
          out[o + s] = h * scale + shift;
        }
      }
    }
    this.lastTraining = training;
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad(this.owner, dy, this.output);
    const batch = dy.shape[0];
    const C = this.channels;
    const S = this.spatial;
    const n = batch * S;
    const g = dy.data;
    const xhat = this.xhat.get(batch).data;
    const dxT = this.dx.get(batch);
    const dx = dxT.data;
    const w = this.affine ? this.weight.value.data : null;
    const dw = this.affine ? this.weight.grad.data : null;
    const db = this.affine ? this.bias.grad.data : null;
    for (let c = 0; c < C; c++) {
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let i = 0; i < batch; i++) {
        const o = (i * C + c) * S;
        for (let s = 0; s < S; s++) {
          sumDy += g[o + s];
          sumDyXhat += g[o + s] * xhat[o + s];
        }
      }
      if (dw !== null && db !== null) {
        dw[c] += sumDyXhat;
        db[c] += sumDy;
      }
      const k = (w === null ? 1 : w[c]) * this.invStd[c];
      // Training: the batch mean and variance depend on x, which subtracts their projections.
      const meanDy = this.lastTraining ? sumDy / n : 0;
      const meanDyXhat = this.lastTraining ? sumDyXhat / n : 0;
      for (let i = 0; i < batch; i++) {
        const o = (i * C + c) * S;
        for (let s = 0; s < S; s++) dx[o + s] = k * (g[o + s] - meanDy - xhat[o + s] * meanDyXhat);
      }
    }
    return dxT;
  }

  /** Fills `mean`/`invStd` with the batch statistics and updates the running ones. Two passes, in doubles. */
  private batchStatistics(x: Float32Array, batch: number, n: number): void {
    const C = this.channels;
    const S = this.spatial;
    const m = this.momentum;
    const rm = this.runningMean.data;
    const rv = this.runningVar.data;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = 0; i < batch; i++) {
        const o = (i * C + c) * S;
        for (let s = 0; s < S; s++) sum += x[o + s];
      }
      const mu = sum / n;
      let sq = 0;
      for (let i = 0; i < batch; i++) {
        const o = (i * C + c) * S;
        for (let s = 0; s < S; s++) {
          const d = x[o + s] - mu;
          sq += d * d;
        }
      }
      const variance = sq / n;
      this.mean[c] = mu;
      this.invStd[c] = 1 / Math.sqrt(variance + this.eps);
      rm[c] = (1 - m) * rm[c] + m * mu;
      rv[c] = (1 - m) * rv[c] + m * (sq / (n - 1));
    }
    this.numBatchesTracked.data[0] += 1;
  }
}

/**
 * Batch normalisation over `[batch, features]` (or `[batch, C, L]`, per channel C), PyTorch
 * `nn.BatchNorm1d`, kind `'batch-norm1d'`. Equations: see BatchNormBase above.
 * Params `weight`, `bias` `[C]`; buffers `running_mean`, `running_var` `[C]`, `num_batches_tracked` `[]`.
 */
export class BatchNorm1d extends BatchNormBase {
  readonly kind = 'batch-norm1d';

  constructor(config: BatchNormConfig = {}) {
    super('BatchNorm1d', config);
  }

  protected checkInputShape(inputShape: readonly number[]): void {
    if (inputShape.length !== 1 && inputShape.length !== 2) {
      throw new Error(`BatchNorm1d: expected a per-sample input shape [features] or [channels, length], got ${formatShape(inputShape)}`);
    }
  }
}

/**
 * Batch normalisation over `[batch, C, H, W]` per channel, PyTorch `nn.BatchNorm2d`, kind
 * `'batch-norm2d'`. Equations: see BatchNormBase above.
 * Params `weight`, `bias` `[C]`; buffers `running_mean`, `running_var` `[C]`, `num_batches_tracked` `[]`.
 */
export class BatchNorm2d extends BatchNormBase {
  readonly kind = 'batch-norm2d';

  constructor(config: BatchNormConfig = {}) {
    super('BatchNorm2d', config);
  }

  protected checkInputShape(inputShape: readonly number[]): void {
    if (inputShape.length !== 3) {
      throw new Error(`BatchNorm2d: expected a per-sample input shape [channels, height, width], got ${formatShape(inputShape)}`);
    }
  }
}
