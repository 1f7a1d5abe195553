// Embedding (PyTorch nn.Embedding): a lookup table from integer indices, given as a float tensor
// [batch, T], to rows of a learnt [numEmbeddings, embeddingDim] weight.
import {
  BatchBuffer, checkGrad, checkInput, checkKeys, copySpec, createParam, formatShape, readNumber, requireBuilt, resolveInit,
  unbuiltParam, type InitializerSpec, type Param, type ResolvedInit, type Rng, type Tensor,
} from '../plugin/index.js';
import type { Layer } from './layer.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** Size of the table, i.e. indices run over [0, numEmbeddings) (required, integer ≥ 1). */
  readonly numEmbeddings: number;
  /** Length of each row (required, integer ≥ 1). */
  readonly embeddingDim: number;
  /**
   * An index whose row is initialised to zeros and never receives a gradient (torch's `padding_idx`);
   * negative values count from the end. Default: none.
   */
  readonly paddingIdx?: number;
  /** Weight initializer; default PyTorch's N(0, 1) (`random-normal`). */
  readonly weightInit?: InitializerSpec;
}

const EMBEDDING_KEYS = ['numEmbeddings', 'embeddingDim', 'paddingIdx', 'weightInit'];

/** PyTorch's `nn.Embedding` init: N(0, 1). */
export const DEFAULT_EMBEDDING_INIT: InitializerSpec = 'random-normal';

/**
 * A lookup table, registered as `'embedding'`. Input `[batch, T]` holding integer values in
 * [0, numEmbeddings) as floats (a model's input tensor is float); output `[batch, T, embeddingDim]`
 * with `y[b, t] = weight[x[b, t]]`; param `weight` `[numEmbeddings, embeddingDim]`.
 * Backward: `dweight[x[b, t]] += dy[b, t]` (skipping `paddingIdx`). The indices are not
 * differentiable: the returned dx is zeros, as the gradient torch would give a float input.
 * A non-integer, NaN or out-of-range index throws naming its position and value.
 */
export class Embedding implements Layer {
  readonly kind = 'embedding';
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** Normalised (non-negative) padding index, or -1 for none. */
  readonly paddingIdx: number;
  private readonly weightInit: ResolvedInit;
  private seqLen: number;
  private weight: Param;
  private paramList: readonly Param[];
  private out: BatchBuffer;
  private dx: BatchBuffer;
  /** Whether the dx buffer of the current batch size has been zeroed (it is never written otherwise). */
  private dxBatch: number;
  private input: Tensor | null;
  private output: Tensor | null;

  constructor(options: EmbeddingOptions) {
    const owner = 'Embedding';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, EMBEDDING_KEYS);
    this.numEmbeddings = readNumber(owner, config, 'numEmbeddings', Number.NaN, { min: 1, integer: true });
    this.embeddingDim = readNumber(owner, config, 'embeddingDim', Number.NaN, { min: 1, integer: true });
    const V = this.numEmbeddings;
    const pad = config.paddingIdx === undefined
      ? -1
      : readNumber(owner, config, 'paddingIdx', 0, { min: -V, max: V, maxExclusive: true, integer: true });
    this.paddingIdx = pad < 0 && config.paddingIdx !== undefined ? pad + V : pad;
    this.weightInit = resolveInit(owner, 'weightInit', config.weightInit, DEFAULT_EMBEDDING_INIT);
    this.seqLen = 0;
    this.weight = unbuiltParam('weight');
    this.paramList = [];
    this.out = new BatchBuffer([]);
    this.dx = new BatchBuffer([]);
    this.dxBatch = -1;
    this.input = null;
    this.output = null;
  }

  /** Allocates `weight [numEmbeddings, embeddingDim]` for a per-sample input `[T]`; returns `[T, embeddingDim]`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    if (inputShape.length !== 1 || !Number.isInteger(inputShape[0]) || inputShape[0] < 1) {
      throw new Error(`Embedding: expected a per-sample input shape [sequenceLength] of indices, got ${formatShape(inputShape)}`);
    }
    this.seqLen = inputShape[0];
    const shape = [this.numEmbeddings, this.embeddingDim];
    this.weight = createParam('weight', shape);
    this.weightInit.init(this.weight.value, { fanIn: this.embeddingDim, fanOut: this.numEmbeddings }, rng);
    if (this.paddingIdx >= 0) this.weight.value.data.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
    this.paramList = [this.weight];
    this.out = new BatchBuffer([this.seqLen, this.embeddingDim]);
    this.dx = new BatchBuffer([this.seqLen]);
    this.dxBatch = -1;
    this.input = null;
    this.output = null;
    return [this.seqLen, this.embeddingDim];
  }

  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('Embedding', this.seqLen > 0, 'forward');
    checkInput('Embedding', x, [this.seqLen]);
    const xd = x.data;
    const n = xd.length;
    const V = this.numEmbeddings;
    const D = this.embeddingDim;
    // Validate every index before writing anything, so a bad batch leaves no half-written output.
    for (let i = 0; i < n; i++) {
      const v = xd[i];
      if (!(Number.isInteger(v) && v >= 0 && v < V)) {
        throw new Error(`Embedding: index at [${Math.floor(i / this.seqLen)}, ${i % this.seqLen}] must be an integer in [0, ${V}), got ${v}`);
      }
    }
    const y = this.out.get(x.shape[0]);
    const out = y.data;
    const w = this.weight.value.data;
    // An indexed copy, not set(subarray()): a view per index would allocate in every step.
    for (let i = 0; i < n; i++) {
      const row = xd[i] * D;
      const o = i * D;
      for (let j = 0; j < D; j++) out[o + j] = w[row + j];
    }
    this.input = x;
    this.output = y;
    return y;
  }

  backward(dy: Tensor): Tensor {
    checkGrad('Embedding', dy, this.output);
    const xd = (this.input as Tensor).data;
    const g = dy.data;
    const dw = this.weight.grad.data;
    const D = this.embeddingDim;
    const pad = this.paddingIdx;
    // Rows are accumulated in input order, as torch's CPU embedding_backward does for repeated indices.
    for (let i = 0; i < xd.length; i++) {
      const idx = xd[i];
      if (idx === pad) continue;
      const row = idx * D;
      const o = i * D;
      for (let j = 0; j < D; j++) dw[row + j] += g[o + j];
    }
    const batch = dy.shape[0];
    const dx = this.dx.get(batch);
    if (this.dxBatch !== batch) {
      dx.data.fill(0);
      this.dxBatch = batch;
    }
    return dx;
  }

  /** `weight`; throws before build. */
  params(): readonly Param[] {
    requireBuilt('Embedding', this.seqLen > 0, 'params');
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    return {
      numEmbeddings: this.numEmbeddings,
      embeddingDim: this.embeddingDim,
      ...(this.paddingIdx >= 0 ? { paddingIdx: this.paddingIdx } : {}),
      weightInit: copySpec(this.weightInit.spec),
    };
  }
}
