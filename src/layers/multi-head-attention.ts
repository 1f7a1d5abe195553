// MultiHeadAttention (PyTorch nn.MultiheadAttention, batch_first=True, self-attention): the packed
// input projection, scaled dot-product attention per head with an optional causal mask, the output
// projection, and the hand-written backward of all three.
import {
  BatchBuffer, checkGrad, checkInput, checkKeys, colSums, computeFans, copySpec, createParam, formatShape, gemm, readBoolean,
  readNumber, requireBuilt, resolveInit, softmaxRows, unbuiltParam, type InitializerSpec, type Param, type ResolvedInit, type Rng,
  type Tensor,
} from '../plugin/index.js';
import { DEFAULT_WEIGHT_INIT } from './dense.js';
import type { Layer } from './layer.js';

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Model width E, the last axis of the input (required, integer ≥ 1, divisible by `numHeads`). */
  readonly embedDim: number;
  /** Number of heads H (required, integer ≥ 1); each head attends over E/H channels. */
  readonly numHeads: number;
  /** Add `in_proj_bias` and `out_proj.bias` (default true, torch's `bias`). */
  readonly useBias?: boolean;
  /** Mask out future positions: query t attends to keys 0…t only (default false). */
  readonly causal?: boolean;
  /** Initializer of `in_proj_weight` (default torch's: xavier-uniform). */
  readonly inProjInit?: InitializerSpec;
  /** Initializer of `out_proj.weight` (default torch's Linear init: kaiming-uniform with a = √5). */
  readonly outProjInit?: InitializerSpec;
}

const MHA_KEYS = ['embedDim', 'numHeads', 'useBias', 'causal', 'inProjInit', 'outProjInit'];

// gemm flags, hoisted so a training step creates no option objects.
const NN = {} as const;
const NT = { transB: true } as const;
const TN = { transA: true } as const;
const NT_ACC = { transB: true, accumulate: true } as const;
const TN_ACC = { transA: true, accumulate: true } as const;

/** Per-(sample, head) views of the head-major buffers for one batch size, made once per buffer set. */
interface HeadViews {
  /** The q buffer the views were made from (the cache key: a new buffer means new views). */
  readonly key: Float32Array;
  readonly q: Float32Array[];
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  readonly p: Float32Array[];
  readonly o: Float32Array[];
  readonly dq: Float32Array[];
  readonly dk: Float32Array[];
  readonly dv: Float32Array[];
}

/**
 * Multi-head self-attention (Vaswani et al. 2017), registered as `'multi-head-attention'`, with the
 * parameters and semantics of `torch.nn.MultiheadAttention(embedDim, numHeads, bias, batch_first=True)`
 * called as `mha(x, x, x, need_weights=False, attn_mask=causal)` (no dropout). Input and output
 * `[batch, T, E]`; with d = E/H and X the `[batch·T, E]` rows:
 *
 *     [Q | K | V] = X·in_proj_weightᵀ + in_proj_bias          (in_proj_weight [3E, E], in_proj_bias [3E])
 *     per sample and head h (columns h·d … h·d + d − 1 of Q, K, V):
 *       S = (Q_h / √d)·K_hᵀ  (+ −∞ above the diagonal when causal),  P = softmax_rows(S),  O_h = P·V_h
 *     Y = [O_1 | … | O_H]·out_proj.weightᵀ + out_proj.bias    (out_proj.weight [E, E], out_proj.bias [E])
 *
 * Backward runs the same chain in reverse (dS = P ⊙ (dP − rowsum(dP ⊙ P))). Params, in torch's
 * state-dict order and names: `in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`.
 * Every product goes through gemm; all buffers are layer-owned and reused across steps.
 */
export class MultiHeadAttention implements Layer {
  readonly kind = 'multi-head-attention';
  readonly embedDim: number;
  readonly numHeads: number;
  readonly useBias: boolean;
  readonly causal: boolean;
  private readonly inProjInit: ResolvedInit;
  private readonly outProjInit: ResolvedInit;
  /** Sequence length T (0 until build). */
  private seqLen: number;
  private inWeight: Param;
  private inBias: Param;
  private outWeight: Param;
  private outBias: Param;
  private paramList: Param[];
  private qkv: BatchBuffer;
  private qh: BatchBuffer;
  private kh: BatchBuffer;
  private vh: BatchBuffer;
  private probs: BatchBuffer;
  private oh: BatchBuffer;
  private ctx: BatchBuffer;
  private out: BatchBuffer;
  private dctx: BatchBuffer;
  private dqh: BatchBuffer;
  private dkh: BatchBuffer;
  private dvh: BatchBuffer;
  private dqkv: BatchBuffer;
  private dx: BatchBuffer;
  /** One head's dP / dS [T, T], reused for every head. */
  private dScores: Float32Array;
  private views: HeadViews | null;
  private input: Tensor | null;
  private output: Tensor | null;

  constructor(options: MultiHeadAttentionOptions) {
    const owner = 'MultiHeadAttention';
    const config = options as unknown as Record<string, unknown>;
    checkKeys(owner, config, MHA_KEYS);
    this.embedDim = readNumber(owner, config, 'embedDim', Number.NaN, { min: 1, integer: true });
    this.numHeads = readNumber(owner, config, 'numHeads', Number.NaN, { min: 1, integer: true });
    if (this.embedDim % this.numHeads !== 0) {
      throw new Error(`MultiHeadAttention: embedDim must be divisible by numHeads, got embedDim ${this.embedDim} and numHeads ${this.numHeads}`);
    }
    this.useBias = readBoolean(owner, config, 'useBias', true);
    this.causal = readBoolean(owner, config, 'causal', false);
    this.inProjInit = resolveInit(owner, 'inProjInit', config.inProjInit, 'xavier-uniform');
    this.outProjInit = resolveInit(owner, 'outProjInit', config.outProjInit, DEFAULT_WEIGHT_INIT);
    this.seqLen = 0;
    this.inWeight = unbuiltParam('in_proj_weight');
    this.inBias = unbuiltParam('in_proj_bias');
    this.outWeight = unbuiltParam('out_proj.weight');
    this.outBias = unbuiltParam('out_proj.bias');
    this.paramList = [];
    const none = new BatchBuffer([]);
    this.qkv = this.qh = this.kh = this.vh = this.probs = this.oh = this.ctx = this.out = none;
    this.dctx = this.dqh = this.dkh = this.dvh = this.dqkv = this.dx = none;
    this.dScores = new Float32Array(0);
    this.views = null;
    this.input = null;
    this.output = null;
  }

  /** Allocates the projections for a per-sample input `[T, embedDim]`; returns `[T, embedDim]`. */
  build(inputShape: readonly number[], rng: Rng): readonly number[] {
    const E = this.embedDim;
    if (inputShape.length !== 2 || !inputShape.every((d) => Number.isInteger(d) && d >= 1) || inputShape[1] !== E) {
      throw new Error(`MultiHeadAttention: expected a per-sample input shape [sequenceLength, ${E}], got ${formatShape(inputShape)}`);
    }
    const T = inputShape[0];
    const H = this.numHeads;
    const d = E / H;
    this.seqLen = T;
    this.inWeight = createParam('in_proj_weight', [3 * E, E]);
    this.inProjInit.init(this.inWeight.value, computeFans(this.inWeight.value.shape), rng);
    this.outWeight = createParam('out_proj.weight', [E, E]);
    this.outProjInit.init(this.outWeight.value, computeFans(this.outWeight.value.shape), rng);
    this.paramList = [this.inWeight];
    if (this.useBias) {
      // torch zeroes both biases in _reset_parameters.
      this.inBias = createParam('in_proj_bias', [3 * E]);
      this.outBias = createParam('out_proj.bias', [E]);
      this.paramList = [this.inWeight, this.inBias, this.outWeight, this.outBias];
    } else {
      this.paramList = [this.inWeight, this.outWeight];
    }
    this.qkv = new BatchBuffer([T, 3 * E]);
    this.qh = new BatchBuffer([H, T, d]);
    this.kh = new BatchBuffer([H, T, d]);
    this.vh = new BatchBuffer([H, T, d]);
    this.probs = new BatchBuffer([H, T, T]);
    this.oh = new BatchBuffer([H, T, d]);
    this.ctx = new BatchBuffer([T, E]);
    this.out = new BatchBuffer([T, E]);
    this.dctx = new BatchBuffer([T, E]);
    this.dqh = new BatchBuffer([H, T, d]);
    this.dkh = new BatchBuffer([H, T, d]);
    this.dvh = new BatchBuffer([H, T, d]);
    this.dqkv = new BatchBuffer([T, 3 * E]);
    this.dx = new BatchBuffer([T, E]);
    this.dScores = new Float32Array(T * T);
    this.views = null;
    this.input = null;
    this.output = null;
    return [T, E];
  }

  /** The attention probabilities P `[batch, H, T, T]` of the last forward (a layer-owned buffer; for inspection). */
  get attentionWeights(): Tensor | null {
    return this.output === null ? null : this.probs.get(this.output.shape[0]);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    requireBuilt('MultiHeadAttention', this.seqLen > 0, 'forward');
    checkInput('MultiHeadAttention', x, [this.seqLen, this.embedDim]);
    const batch = x.shape[0];
    const T = this.seqLen;
    const E = this.embedDim;
    const H = this.numHeads;
    const d = E / H;
    const rows = batch * T;
    const v = this.viewsFor(batch);
    // [Q | K | V] = X·Wᵀ + b.
    const qkv = this.qkv.get(batch).data;
    if (this.useBias) {
      const b = this.inBias.value.data;
      for (let r = 0; r < rows; r++) qkv.set(b, r * 3 * E);
      gemm(qkv, x.data, this.inWeight.value.data, rows, 3 * E, E, NT_ACC);
    } else {
      gemm(qkv, x.data, this.inWeight.value.data, rows, 3 * E, E, NT);
    }
    // Split into heads: q[b, h, t, i] = qkv[(b·T + t)·3E + h·d + i] / √d (k and v at +E, +2E, unscaled).
    const sqrtD = Math.fround(Math.sqrt(d));
    const qh = this.qh.get(batch).data;
    const kh = this.kh.get(batch).data;
    const vh = this.vh.get(batch).data;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const dst = (b * H + h) * T * d;
        for (let t = 0; t < T; t++) {
          const src = (b * T + t) * 3 * E + h * d;
          const o = dst + t * d;
          for (let i = 0; i < d; i++) {
            qh[o + i] = qkv[src + i] / sqrtD;
            kh[o + i] = qkv[src + E + i];
            vh[o + i] = qkv[src + 2 * E + i];
          }
        }
      }
    }
    const heads = batch * H;
    const probs = this.probs.get(batch).data;
    for (let n = 0; n < heads; n++) gemm(v.p[n], v.q[n], v.k[n], T, T, d, NT);
    if (this.causal) {
      // Row t of each head's scores keeps keys 0…t.
      for (let n = 0; n < heads; n++) {
        const s = v.p[n];
        for (let t = 0; t < T - 1; t++) s.fill(-Infinity, t * T + t + 1, (t + 1) * T);
      }
    }
    softmaxRows(probs, probs, heads * T, T);
    for (let n = 0; n < heads; n++) gemm(v.o[n], v.p[n], v.v[n], T, d, T, NN);
    // Merge heads: ctx[(b·T + t)·E + h·d + i] = o[b, h, t, i].
    const oh = this.oh.get(batch).data;
    const ctx = this.ctx.get(batch).data;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const src = (b * H + h) * T * d;
        for (let t = 0; t < T; t++) {
          const o = src + t * d;
          const dst = (b * T + t) * E + h * d;
          for (let i = 0; i < d; i++) ctx[dst + i] = oh[o + i];
        }
      }
    }
    const y = this.out.get(batch);
    if (this.useBias) {
      const b = this.outBias.value.data;
      for (let r = 0; r < rows; r++) y.data.set(b, r * E);
      gemm(y.data, ctx, this.outWeight.value.data, rows, E, E, NT_ACC);
    } else {
      gemm(y.data, ctx, this.outWeight.value.data, rows, E, E, NT);
    }
    this.input = x;
    this.output = y;
    return y;
  }

  backward(dyT: Tensor, needInputGrad = true): Tensor {
    checkGrad('MultiHeadAttention', dyT, this.output);
    const x = this.input as Tensor;
    const batch = dyT.shape[0];
    const T = this.seqLen;
    const E = this.embedDim;
    const H = this.numHeads;
    const d = E / H;
    const rows = batch * T;
    const dy = dyT.data;
    const v = this.viewsFor(batch);
    // Output projection: dWo += dyᵀ·ctx, dbo += Σ dy, dctx = dy·Wo.
    const ctx = this.ctx.get(batch).data;
    gemm(this.outWeight.grad.data, dy, ctx, E, E, rows, TN_ACC);
    if (this.useBias) colSums(this.outBias.grad.data, dy, rows, E, true);
    const dctx = this.dctx.get(batch).data;
    gemm(dctx, dy, this.outWeight.value.data, rows, E, E, NN);
    // dO in head-major layout, reusing the o buffer (its forward values are no longer needed).
    const doh = this.oh.get(batch).data;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const dst = (b * H + h) * T * d;
        for (let t = 0; t < T; t++) {
          const src = (b * T + t) * E + h * d;
          const o = dst + t * d;
          for (let i = 0; i < d; i++) doh[o + i] = dctx[src + i];
        }
      }
    }
    const ds = this.dScores;
    const heads = batch * H;
    for (let n = 0; n < heads; n++) {
      const p = v.p[n];
      gemm(ds, v.o[n], v.v[n], T, T, d, NT); //   dP = dO·Vᵀ
      gemm(v.dv[n], p, v.o[n], T, d, T, TN); //    dV = Pᵀ·dO
      // dS = P ⊙ (dP − rowsum(dP ⊙ P)); masked entries have P = 0 and so dS = 0.
      for (let t = 0; t < T; t++) {
        const o = t * T;
        let dot = 0;
        for (let j = 0; j < T; j++) dot += ds[o + j] * p[o + j];
        for (let j = 0; j < T; j++) ds[o + j] = p[o + j] * (ds[o + j] - dot);
      }
      gemm(v.dq[n], ds, v.k[n], T, d, T, NN); //   d(Q/√d) = dS·K
      gemm(v.dk[n], ds, v.q[n], T, d, T, TN); //   dK = dSᵀ·(Q/√d)
    }
    // Scatter into dqkv [rows, 3E], dividing dQ by √d.
    const sqrtD = Math.fround(Math.sqrt(d));
    const dqh = this.dqh.get(batch).data;
    const dkh = this.dkh.get(batch).data;
    const dvh = this.dvh.get(batch).data;
    const dqkv = this.dqkv.get(batch).data;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const src = (b * H + h) * T * d;
        for (let t = 0; t < T; t++) {
          const dst = (b * T + t) * 3 * E + h * d;
          const o = src + t * d;
          for (let i = 0; i < d; i++) {
            dqkv[dst + i] = dqh[o + i] / sqrtD;
            dqkv[dst + E + i] = dkh[o + i];
            dqkv[dst + 2 * E + i] = dvh[o + i];
          }
        }
      }
    }
    // Input projection: dWin += dqkvᵀ·X, dbin += Σ dqkv, dX = dqkv·Win.
    gemm(this.inWeight.grad.data, dqkv, x.data, 3 * E, E, rows, TN_ACC);
    if (this.useBias) colSums(this.inBias.grad.data, dqkv, rows, 3 * E, true);
    const dx = this.dx.get(batch);
    if (needInputGrad) gemm(dx.data, dqkv, this.inWeight.value.data, rows, E, 3 * E, NN);
    return dx;
  }

  /** `in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias` (biases only with `useBias`). Throws before build. */
  params(): readonly Param[] {
    requireBuilt('MultiHeadAttention', this.seqLen > 0, 'params');
    return this.paramList;
  }

  getConfig(): Record<string, unknown> {
    return {
      embedDim: this.embedDim, numHeads: this.numHeads, useBias: this.useBias, causal: this.causal,
      inProjInit: copySpec(this.inProjInit.spec), outProjInit: copySpec(this.outProjInit.spec),
    };
  }

  /** The per-head views for `batch`, remade only when the buffers change (a new batch size). */
  private viewsFor(batch: number): HeadViews {
    const q = this.qh.get(batch).data;
    if (this.views !== null && this.views.key === q && this.views.q.length === batch * this.numHeads) return this.views;
    const T = this.seqLen;
    const d = this.embedDim / this.numHeads;
    const heads = batch * this.numHeads;
    const split = (a: Float32Array, size: number): Float32Array[] => {
      const out: Float32Array[] = [];
      for (let n = 0; n < heads; n++) out.push(a.subarray(n * size, (n + 1) * size));
      return out;
    };
    this.views = {
      key: q,
      q: split(q, T * d),
      k: split(this.kh.get(batch).data, T * d),
      v: split(this.vh.get(batch).data, T * d),
      p: split(this.probs.get(batch).data, T * T),
      o: split(this.oh.get(batch).data, T * d),
      dq: split(this.dqh.get(batch).data, T * d),
      dk: split(this.dkh.get(batch).data, T * d),
      dv: split(this.dvh.get(batch).data, T * d),
    };
    return this.views;
  }
}

