// winograd.ts: Winograd convolution F(m×m, 3×3) (m = 2 or 4) for 3×3 stride-1 layers: the engine
// (pack, input / filter / output transforms as kernel-table kernels, products as α² gemms), the
// algorithm switch (`setConvAlgorithm`) and the measured rule that picks it per layer shape; and
// dL/dW by the adjoint of the same algorithm (`setWinogradWeightGrad`).
//
// dL/dW, derived. Per output tile (m×m outputs Y of one image and filter o, the α×α input patch d_c of
// channel c, α = m + 2), the forward is Y = Aᵀ M A with M = Σ_c U_c ⊙ V_c, U_c = G g_{o,c} Gᵀ
// (α×α from the 3×3 filter) and V_c = Bᵀ d_c B. Everything is linear, so with ⟨P, Q⟩ = Σ P⊙Q:
//   ⟨dY, Aᵀ M A⟩ = ⟨A dY Aᵀ, M⟩, hence dM = A·dY·Aᵀ (α×α; dY is zero where the tile's edge is cut);
//   ⟨dM, U ⊙ V⟩ = ⟨dM ⊙ V, U⟩, hence dU_{o,c} = Σ_tiles dM_o ⊙ V_c (elementwise in ξ = (k, l));
//   ⟨dU, G g Gᵀ⟩ = ⟨Gᵀ dU G, g⟩, hence dg_{o,c} = Gᵀ·dU_{o,c}·G (3×3).
// The tile sum commutes with Gᵀ(·)G, so dW = Gᵀ (Σ_tiles dM ⊙ V) G: for each of the α² positions ξ,
// dU[ξ][c, o] = Σ_tiles V[ξ][tile, c]·dM[ξ][tile, o], a gemm V[ξ]ᵀ·dM[ξ] whose depth is the number of
// tiles; then one inverse-filter transform per (c, o). V is the forward's input transform; dM comes
// from the winograd-output-grad kernel and Gᵀ(·)G from winograd-filter-grad (runtime/winograd-kernels.ts).
import { WINOGRAD_GEMM_DESC_WORDS } from '../runtime/conv-tasks.js';
import { heapFloat32, sharedHeap, type SharedHeap } from '../runtime/heap.js';
import { WINOGRAD_GEMM_TASK } from '../runtime/tasks.js';
import { WINOGRAD_FILTER, WINOGRAD_FILTER_GRAD, WINOGRAD_INPUT, WINOGRAD_OUTPUT, WINOGRAD_OUTPUT_GRAD, WINOGRAD_PACK } from '../runtime/winograd-kernels.js';
import { gemm, getGemmBackend } from './gemm.js';

/** Output tile size of a Winograd transform: F(2×2,3×3) or F(4×4,3×3). */
export type WinogradTile = 2 | 4;

/** How Conv2D's 3×3 stride-1 layers convolve: see {@link setConvAlgorithm}. */
export type ConvAlgorithm = 'im2col' | 'winograd2' | 'winograd4' | 'winograd' | 'auto';

const CONV_ALGORITHMS: readonly ConvAlgorithm[] = ['im2col', 'winograd2', 'winograd4', 'winograd', 'auto'];

/**
 * Floats of the transformed input V and products M per group of images (each gemm covers a group):
 * larger groups mean fewer, larger gemm calls (each split over the threads); smaller ones keep V and M
 * in cache between the transforms and the gemms. Measured on 1 thread (CPU time, forward, F(4,3)):
 * 2^19 / 2^20 / 2^21 / 2^22 floats gave 1.69 / 1.71 / 1.83 / 2.08 ms on net000's conv2 and 23.6 /
 * 22.3 / 23.5 / 27.7 ms on net004's; F(2,3) likewise. Not yet measured on 2 threads, where fewer
 * groups mean fewer pool jobs.
 */
export const WINOGRAD_GROUP_FLOATS = 1 << 20;

/**
 * Most floats of the transformed input V kept for the whole batch (a forward engine made with
 * `keepInput`, when the batch runs in several groups), so that dL/dW reuses the forward's V instead
 * of packing and transforming x again (see {@link WinogradConv.weightGrad}). Measured (forward + dW
 * of WinogradConv F(4,3), 1 thread, CPU time, min of interleaved rounds, two runs, load 10):
 * net000 conv2 (V 0.66 M floats, 2 groups of 16) 2.15 / 2.08 ms kept vs 2.37 / 2.37 recomputed;
 * net004 conv2 (V 3.6 M floats, 11 groups of 6) 34.5 / 35.0 vs 33.5 / 35.4, no gain (reading 14 MiB
 * back costs what the recompute did). So 2^20 floats (4 MiB): net000's conv2 is kept, net004's not.
 */
export const WINOGRAD_KEEP_FLOATS = 1 << 20;

let algorithm: ConvAlgorithm = 'auto';

/**
 * Chooses how Conv2D's 3×3 stride-1 convolutions (forward and dL/dx) run, process-wide; returns the
 * previous choice. `'im2col'`: the im2col + gemm path (the reference). `'winograd2'` / `'winograd4'`:
 * Winograd F(2×2,3×3) / F(4×4,3×3) wherever it applies. `'winograd'`: Winograd with the tile size of
 * the measured rule. `'auto'` (default): the measured rule ({@link winogradTileFor}) decides per layer
 * shape, im2col included. dL/dW of a Winograd forward runs by Winograd or the im2col gemm as
 * {@link setWinogradWeightGrad} decides. Layers read the choice at each forward.
 *
 * Error: Winograd sums through transforms with constants (F(4,3): up to 8 and 1/24), so it rounds
 * more than im2col. Measured max |error| relative to the largest magnitude sum Σ|w·x| of an output
 * (random / adversarial inputs with magnitudes 1e-4 … 1e4): F(2,3) 1e-7 / 2e-7, F(4,3) 1.8e-6 /
 * 3.7e-6; relative to the largest |y|, up to 3.4e-7 for F(2,3) and 6.1e-6 for F(4,3). The tests
 * (test/tensor/winograd.test.ts) hold 4e-7 and 8e-6. Non-finite inputs: a NaN or infinity reaches every
 * output whose window holds it, as with im2col, but also the other outputs of its tiles (as NaN: the
 * transforms subtract), within the same image; use `'im2col'` where exact non-finite placement matters.
 */
export function setConvAlgorithm(choice: ConvAlgorithm): ConvAlgorithm {
  if (!CONV_ALGORITHMS.includes(choice)) {
    throw new RangeError(`setConvAlgorithm: algorithm must be one of ${CONV_ALGORITHMS.join(', ')}, got ${String(choice)}`);
  }
  const previous = algorithm;
  algorithm = choice;
  return previous;
}

/** The choice made with {@link setConvAlgorithm} (`'auto'` unless changed). */
export function getConvAlgorithm(): ConvAlgorithm {
  return algorithm;
}

/** The shape of a stride-1 3×3 convolution as the selection rule sees it. */
export interface WinogradShape {
  readonly channels: number;
  readonly filters: number;
  readonly outH: number;
  readonly outW: number;
}

/**
 * The measured rule behind `'auto'` (and the tile size of `'winograd'`): the Winograd tile for a
 * 3×3 stride-1 convolution of this shape, or 0 for im2col. Measured with bench/winograd.ts (1 thread,
 * CPU-time ratios to im2col, forward / forward + backward; bench/RESULTS.md, Winograd section):
 * F(4,3) 1.55 / 1.08 on net000's conv2 (16 → 16, 24²) and 1.93 / 1.46 on net004's conv2 (32 → 64,
 * 28²), F(2,3) below F(4,3) on both; 16 → 4 channels (net003's conv2, 14²) 0.82 / 0.81 and one input
 * channel (every first layer) 0.2–0.4, since the transforms and the 4-channel padding then outweigh the
 * saved multiplications. Below 8 output pixels a side F(4,3) would waste most of its tiles, so F(2,3)
 * is taken there (not measured on the assignment networks, which have none).
 */
export function autoWinogradTile(s: WinogradShape): 0 | WinogradTile {
  if (Math.min(s.channels, s.filters) < 8) return 0;
  return s.outH >= 8 && s.outW >= 8 ? 4 : 2;
}

/**
 * The Winograd tile the current {@link setConvAlgorithm} choice gives a 3×3 stride-1 convolution of
 * this shape, or 0 for the im2col path.
 */
export function winogradTileFor(s: WinogradShape): 0 | WinogradTile {
  switch (algorithm) {
    case 'im2col': return 0;
    case 'winograd2': return 2;
    case 'winograd4': return 4;
    case 'winograd': return autoWinogradTile(s) || (s.outH >= 8 && s.outW >= 8 ? 4 : 2);
    default: return autoWinogradTile(s);
  }
}

/**
 * The tile of dL/dx after a Winograd forward of tile `forwardTile` (0: dx runs the im2col gemm): the
 * forward's, padded or not. dx of an unpadded layer is a padding-2 convolution over more tiles (26²
 * outputs for net000's 24²), and an earlier measurement kept it on im2col (6.3 vs 6.1 ms backward,
 * net000 conv2, 1 thread CPU time); since the dy gather and output transform went to 4×4 transposes and
 * the gemms to one pool job, bench/winograd.ts (1 thread, process CPU time, forward + backward with the
 * fused ReLU, load 8–10) has the Winograd dx ahead there: F(4,3) dx ÷ im2col dx 6.50 / 6.95 ms with the
 * im2col dW and 4.94 / 5.99 ms with the Winograd dW (an earlier --quick run: 6.94 / 7.57 and 5.89 /
 * 7.15); net004's padded conv2 was ahead before (79 vs 101 ms). Two threads were too noisy at that load
 * to decide (the same comparisons went both ways). `padH` and `padW` are kept for the callers.
 */
export function winogradInputGradTile(forwardTile: 0 | WinogradTile, padH: number, padW: number): 0 | WinogradTile {
  void padH; void padW;
  return forwardTile;
}

/** Whether Conv2D computes dL/dW by Winograd: see {@link setWinogradWeightGrad}. */
export type WinogradWeightGrad = 'auto' | 'always' | 'never';

const WEIGHT_GRAD_CHOICES: readonly WinogradWeightGrad[] = ['auto', 'always', 'never'];

let weightGradChoice: WinogradWeightGrad = 'auto';

/**
 * Chooses how dL/dW of a layer whose forward ran Winograd is computed, process-wide; returns the
 * previous choice. `'never'`: the im2col gemm (the reference). `'always'`: the Winograd adjoint
 * ({@link WinogradConv.weightGrad}) with the forward's tile. `'auto'` (default): the measured rule
 * {@link autoWinogradWeightGrad}. Layers whose forward ran im2col always take the im2col dL/dW.
 * Error: measured max |error| relative to the largest Σ|dy·x| of a weight (random / adversarial
 * inputs, see {@link WinogradConv.weightGrad}); the tests hold the bounds stated there.
 */
export function setWinogradWeightGrad(choice: WinogradWeightGrad): WinogradWeightGrad {
  if (!WEIGHT_GRAD_CHOICES.includes(choice)) {
    throw new RangeError(`setWinogradWeightGrad: choice must be one of ${WEIGHT_GRAD_CHOICES.join(', ')}, got ${String(choice)}`);
  }
  const previous = weightGradChoice;
  weightGradChoice = choice;
  return previous;
}

/** The choice made with {@link setWinogradWeightGrad} (`'auto'` unless changed). */
export function getWinogradWeightGrad(): WinogradWeightGrad {
  return weightGradChoice;
}

/**
 * The measured rule behind {@link setWinogradWeightGrad}'s `'auto'`: whether dL/dW of a layer of this
 * shape whose forward ran Winograd with tile `tile` runs the Winograd adjoint: at least 8 input
 * channels and 8 filters (the shapes where `'auto'` runs the forward by Winograd). Measured with
 * bench/winograd.ts (bench/RESULTS.md, Winograd section: commit 058c8d0, 1 thread, process CPU time,
 * load 7.6–7.9): net000 conv2 'auto' forward + backward 4.23 ms with the Winograd dW vs 5.42 with
 * im2col's, net004 conv2 55.2 vs 81.4, training steps 14.00 vs 15.06 (net000) and 61.7 vs 87.0 ms
 * (net004). First measured with --quick (1 thread, process CPU time, forward + backward with the
 * fused ReLU, min of interleaved rounds; load average 8–10), Winograd dW ÷ im2col dW under the same forward and dx:
 * net000 conv2 (16 → 16, 24²) F(4,3) 6.76 / 7.57 ms, F(2,3) 8.10 / 8.32 ms, 'auto' 7.15 / 7.57 ms;
 * net004 conv2 (32 → 64, 28²) F(4,3) 71.0 / 93.6 ms, F(2,3) 97.7 / 109.1 ms, 'auto' 70.8 / 90.9 ms;
 * the training step (Sequential.trainStep) net004 81.9 / 100.9 ms, net000 15.7 / 16.8 ms. Slower on
 * one input channel (the first layers under a forced Winograd forward): net000 conv1 F(4,3) 4.18 /
 * 3.73 ms, net004 conv1 18.5 / 14.1 ms (V then has 4 lanes for 1 channel and the gemms are thin);
 * 16 → 4 (net003 conv2) F(4,3) 4.25 / 4.46 ms but F(2,3) 4.89 / 4.89 ms, left out. Two threads
 * were too noisy on that load to decide anything (wall time, 2 cores shared with other jobs).
 */
export function autoWinogradWeightGrad(tile: WinogradTile, s: WinogradShape): boolean {
  void tile;
  return Math.min(s.channels, s.filters) >= 8;
}

/** The tile of dL/dW after a Winograd forward of tile `forwardTile` (0: dW runs the im2col gemm). */
export function winogradWeightGradTile(forwardTile: 0 | WinogradTile, s: WinogradShape): 0 | WinogradTile {
  if (forwardTile === 0 || weightGradChoice === 'never') return 0;
  if (weightGradChoice === 'always') return forwardTile;
  return autoWinogradWeightGrad(forwardTile, s) ? forwardTile : 0;
}

let gemmJobs = true;

/**
 * Whether the α² gemms of a Winograd group run as one pool job ({@link WinogradConv}'s default, true)
 * or as α² gemm calls (false; each then splits its own output over the threads); returns the previous
 * setting. Both orders of work give bits independent of the thread count. For benchmarks and tests.
 */
export function setWinogradGemmJobs(on: boolean): boolean {
  const previous = gemmJobs;
  gemmJobs = on;
  return previous;
}

const PLAIN = {} as const;
const TRANS_A = { transA: true } as const;
const TRANS_A_ACC = { transA: true, accumulate: true } as const;

/**
 * One Winograd F(m×m, 3×3) convolution of a fixed shape and batch: y[batch, outC, outH, outW] =
 * conv(x[batch, inC, H, W], w) (+ bias, through a ReLU if asked), stride 1, zero padding
 * (padH, padW) ≤ 2, any H and W (edge tiles are cut). Images run in groups (see
 * {@link WINOGRAD_GROUP_FLOATS}); per group: winograd-pack (x into a zero-bordered, channel-blocked
 * copy), winograd-input (V[t, tile, C4]), the α² gemms M[t] = V[t]·U[t] (U[t, C4, O4] from
 * winograd-filter, once per call) as one pool job (see {@link setWinogradGemmJobs}), and
 * winograd-output. Every kernel splits over planes (one thread each) and each gemm runs whole on one
 * thread (or, as separate gemm calls, splits its output), so the bits do not depend on the thread count. Buffers are
 * made once, in the shared heap when there is one (else the kernels' twins run on plain arrays).
 */
export class WinogradConv {
  readonly batch: number;
  readonly m: WinogradTile;
  readonly inC: number;
  readonly outC: number;
  readonly outH: number;
  readonly outW: number;
  /** Images per group. */
  readonly group: number;
  private readonly H: number;
  private readonly W: number;
  private readonly padH: number;
  private readonly padW: number;
  private readonly C4: number;
  private readonly O4: number;
  private readonly tilesH: number;
  private readonly tilesW: number;
  private readonly Hp: number;
  private readonly Wp: number;
  private readonly vSlot: number;
  private readonly mSlot: number;
  private readonly uSlot: number;
  private readonly xb: Float32Array;
  private readonly V: Float32Array;
  private readonly U: Float32Array;
  private readonly M: Float32Array;
  private readonly biasPad: Float32Array;
  /** α²·4 floats per (image, tile row) plane of the input and output transforms. */
  private readonly scratch: Float32Array;
  private readonly vViews: Float32Array[];
  /** Whether V holds the whole batch (each group writes its own rows; see {@link WINOGRAD_KEEP_FLOATS}). */
  readonly keepsInput: boolean;
  private readonly keep: boolean;
  /** V as each group starts it. */
  private readonly vGroups: Float32Array[];
  private readonly uViews: Float32Array[];
  private readonly mViews: Float32Array[];
  /** The x whose transform V holds in full (the last run's, when the batch was one group), or null. */
  private vOf: Float32Array | null = null;
  /** The descriptor of the α² gemms' pool job (winogradGemmTask), in the shared heap when there is one. */
  private readonly gemmDesc: Float32Array;

  /**
   * `keepInput`: keep V for the whole batch when it runs in several groups and V fits
   * {@link WINOGRAD_KEEP_FLOATS} (for an engine whose {@link weightGrad} follows its {@link run}).
   */
  constructor(batch: number, inC: number, outC: number, height: number, width: number, padH: number, padW: number, m: WinogradTile, keepInput = false) {
    if (m !== 2 && m !== 4) throw new RangeError(`WinogradConv: tile must be 2 or 4, got ${String(m)}`);
    if (!(padH >= 0 && padH <= 2 && padW >= 0 && padW <= 2)) throw new RangeError(`WinogradConv: padding must be in [0, 2], got ${padH}, ${padW}`);
    const outH = height + 2 * padH - 2;
    const outW = width + 2 * padW - 2;
    if (outH < 1 || outW < 1) throw new RangeError(`WinogradConv: a ${height}×${width} input with padding ${padH}, ${padW} has no 3×3 output`);
    this.batch = batch;
    this.m = m;
    this.inC = inC;
    this.outC = outC;
    this.outH = outH;
    this.outW = outW;
    this.H = height;
    this.W = width;
    this.padH = padH;
    this.padW = padW;
    this.C4 = Math.ceil(inC / 4) * 4;
    this.O4 = Math.ceil(outC / 4) * 4;
    this.tilesH = Math.ceil(outH / m);
    this.tilesW = Math.ceil(outW / m);
    this.Hp = this.tilesH * m + 2;
    this.Wp = this.tilesW * m + 2;
    const a2 = (m + 2) * (m + 2);
    const tiles = this.tilesH * this.tilesW;
    const perImage = a2 * tiles * (this.C4 + this.O4);
    const maxGroup = Math.max(1, Math.min(batch, Math.floor(WINOGRAD_GROUP_FLOATS / perImage)));
    // Even groups: the last one is not a small remainder.
    this.group = Math.ceil(batch / Math.ceil(batch / maxGroup));
    const T = this.group * tiles;
    this.keep = keepInput && this.group < batch && a2 * batch * tiles * this.C4 <= WINOGRAD_KEEP_FLOATS;
    this.keepsInput = this.keep;
    const vRows = this.keep ? batch * tiles : T;
    // One cache line between slots: slots a multiple of 4 KiB apart would all map to the same cache sets.
    this.vSlot = vRows * this.C4 + 16;
    this.mSlot = T * this.O4 + 16;
    this.uSlot = this.C4 * this.O4;
    this.xb = heapFloat32(this.group * (this.C4 / 4) * this.Hp * this.Wp * 4);
    this.V = heapFloat32(a2 * this.vSlot);
    this.U = heapFloat32(a2 * this.uSlot);
    this.M = heapFloat32(a2 * this.mSlot);
    this.biasPad = heapFloat32(this.O4);
    this.scratch = heapFloat32(this.group * this.tilesH * a2 * 4);
    this.gemmDesc = heapFloat32(WINOGRAD_GEMM_DESC_WORDS);
    this.vViews = [];
    this.uViews = [];
    this.mViews = [];
    for (let t = 0; t < a2; t++) {
      this.vViews.push(this.V.subarray(t * this.vSlot, t * this.vSlot + vRows * this.C4));
      this.uViews.push(this.U.subarray(t * this.uSlot, (t + 1) * this.uSlot));
      this.mViews.push(this.M.subarray(t * this.mSlot, (t + 1) * this.mSlot - 16));
    }
    this.vGroups = [];
    for (let b0 = 0; b0 < batch; b0 += this.group) this.vGroups.push(this.keep ? this.V.subarray(b0 * tiles * this.C4) : this.V);
  }

  /** The α² slices V[t] of the group starting at image b0 (T tiles), for the gemm calls. */
  private vSlices(b0: number, T: number): Float32Array[] {
    if (!this.keep) return this.vViews;
    const off = b0 * this.tilesH * this.tilesW * this.C4;
    return this.vViews.map((v) => v.subarray(off, off + T * this.C4));
  }

  /**
   * y = conv(x, w) (+ bias) (ReLU if `relu`) for the whole batch. `w` is [outC, inC, 3, 3], or with
   * `flipped` the weights of the transposed convolution: [inC, outC, 3, 3] used rotated by 180° and
   * channel-transposed (dL/dx of a forward conv). `y` must not alias `x`. Returns `y`.
   */
  run(y: Float32Array, x: Float32Array, w: Float32Array, flipped: boolean, bias: Float32Array | null, relu: boolean): Float32Array {
    const { m, inC, outC, C4, O4, tilesH, tilesW, Hp, Wp, H, W, padH, padW, outH, outW } = this;
    if (x.length < this.batch * inC * H * W) throw new RangeError(`WinogradConv: x has ${x.length} floats, need ${this.batch * inC * H * W}`);
    if (y.length < this.batch * outC * outH * outW) throw new RangeError(`WinogradConv: y has ${y.length} floats, need ${this.batch * outC * outH * outW}`);
    if (w.length < outC * inC * 9) throw new RangeError(`WinogradConv: w has ${w.length} floats, need ${outC * inC * 9}`);
    const a = m + 2;
    const a2 = a * a;
    const cBlocks = C4 / 4;
    const oBlocks = O4 / 4;
    const sO = flipped ? 9 : inC * 9;
    const sC = flipped ? outC * 9 : 9;
    WINOGRAD_FILTER.runPlanes(inC * oBlocks, 4 * a2 * 6, this.U, w, m, inC, outC, sO, sC, flipped ? 1 : 0, this.uSlot, O4);
    const biasPad = this.biasPad;
    if (bias !== null) for (let o = 0; o < outC; o++) biasPad[o] = bias[o];
    else biasPad.fill(0);
    const tiles = tilesH * tilesW;
    const tileWork = 4 * a2 * 4;
    for (let b0 = 0; b0 < this.batch; b0 += this.group) {
      const G = Math.min(this.group, this.batch - b0);
      WINOGRAD_PACK.runPlanes(G * cBlocks, 4 * H * W, this.xb, x, inC, H, W, padH, padW, Hp, Wp, b0);
      const Vg = this.vGroups[b0 / this.group];
      WINOGRAD_INPUT.runPlanes(G * tilesH, tilesW * cBlocks * tileWork, Vg, this.xb, this.scratch, m, cBlocks, tilesH, tilesW, Hp, Wp, this.vSlot, C4);
      const T = G * tiles;
      // M[t] = V[t]·U[t]: [T × C4]·[C4 × O4]
      if (!this.gemmJob(T, O4, C4, Vg, C4, 1, this.vSlot, this.U, O4, this.uSlot, this.M, this.mSlot, false)) {
        const vs = this.vSlices(b0, T);
        for (let t = 0; t < a2; t++) gemm(this.mViews[t], vs[t], this.uViews[t], T, O4, C4, PLAIN);
      }
      WINOGRAD_OUTPUT.runPlanes(G * tilesH, tilesW * oBlocks * tileWork, y, this.M, biasPad, this.scratch, m, outC, tilesH, tilesW, outH, outW, this.mSlot, O4, relu ? 1 : 0, b0);
    }
    // V holds the transform of all of x when the batch is one group: weightGrad may reuse it.
    this.vOf = (this.group === this.batch || this.keep) && !flipped ? x : null;
    return y;
  }

  /**
   * The α² products C[t] (+)= op(A[t])·B[t] (m×n×k; op(A[t]) read with strides aRs, aCs from
   * A + t·aSlot, B[t] row-major with row stride bRs from B + t·bSlot, C[t] with row stride n from
   * C + t·cSlot) as one pool job (winogradGemmTask), each product whole on one thread; false (nothing
   * done) when there is no shared heap or the TypeScript gemm is selected: the caller then runs gemm.
   * One job rather than α² gemm calls: on 2 threads, each gemm call is a pool dispatch of its own.
   */
  private gemmJob(
    m: number, n: number, k: number, A: Float32Array, aRs: number, aCs: number, aSlot: number,
    B: Float32Array, bRs: number, bSlot: number, C: Float32Array, cSlot: number, accumulate: boolean,
  ): boolean {
    const heap: SharedHeap | null = !gemmJobs || getGemmBackend() === 'ts' ? null : sharedHeap();
    if (heap === null) return false;
    const desc = heap.addressOf(this.gemmDesc);
    const a = heap.addressOf(A);
    const b = heap.addressOf(B);
    const c = heap.addressOf(C);
    if (desc < 0 || a < 0 || b < 0 || c < 0) return false;
    const i32 = heap.i32;
    const d = desc >>> 2;
    i32[d] = m; i32[d + 1] = n; i32[d + 2] = k;
    i32[d + 3] = a; i32[d + 4] = aRs; i32[d + 5] = aCs; i32[d + 6] = 4 * aSlot;
    i32[d + 7] = b; i32[d + 8] = bRs; i32[d + 9] = 1; i32[d + 10] = 4 * bSlot;
    i32[d + 11] = c; i32[d + 12] = n; i32[d + 13] = 4 * cSlot; i32[d + 14] = accumulate ? 1 : 0;
    const a2 = (this.m + 2) * (this.m + 2);
    heap.runTasks(WINOGRAD_GEMM_TASK, desc, a2);
    return true;
  }

  /**
   * gradW[o, c, i, j] += dL/dW of y = conv(x, w) given dy = dL/dy (before bias and ReLU: the caller
   * masks dy by the ReLU), for the whole batch. Per group: V = the input transform of x (reused from
   * the last {@link run} with this same `x` when it held the whole batch: one group, or `keepInput`), dM = winograd-output-grad
   * of dy, and the α² gemms dU[t] (+)= V[t]ᵀ·dM[t] (depth: the group's tiles; accumulated over the
   * groups in order); then winograd-filter-grad adds Gᵀ dU G to gradW. See the file header for the
   * derivation. The summation order is fixed (gemm splits its output, kernels split over planes), so
   * the bits do not depend on the thread count. Overwrites U (the next run recomputes it).
   */
  weightGrad(gradW: Float32Array, x: Float32Array, dy: Float32Array): void {
    const { m, inC, outC, C4, O4, tilesH, tilesW, Hp, Wp, H, W, padH, padW, outH, outW } = this;
    if (x.length < this.batch * inC * H * W) throw new RangeError(`WinogradConv.weightGrad: x has ${x.length} floats, need ${this.batch * inC * H * W}`);
    if (dy.length < this.batch * outC * outH * outW) throw new RangeError(`WinogradConv.weightGrad: dy has ${dy.length} floats, need ${this.batch * outC * outH * outW}`);
    if (gradW.length < outC * inC * 9) throw new RangeError(`WinogradConv.weightGrad: gradW has ${gradW.length} floats, need ${outC * inC * 9}`);
    const a = m + 2;
    const a2 = a * a;
    const cBlocks = C4 / 4;
    const oBlocks = O4 / 4;
    const tiles = tilesH * tilesW;
    const tileWork = 4 * a2 * 4;
    const reuse = this.vOf === x;
    for (let b0 = 0; b0 < this.batch; b0 += this.group) {
      const G = Math.min(this.group, this.batch - b0);
      const Vg = this.vGroups[b0 / this.group];
      if (!reuse) {
        WINOGRAD_PACK.runPlanes(G * cBlocks, 4 * H * W, this.xb, x, inC, H, W, padH, padW, Hp, Wp, b0);
        WINOGRAD_INPUT.runPlanes(G * tilesH, tilesW * cBlocks * tileWork, Vg, this.xb, this.scratch, m, cBlocks, tilesH, tilesW, Hp, Wp, this.vSlot, C4);
      }
      WINOGRAD_OUTPUT_GRAD.runPlanes(G * tilesH, tilesW * oBlocks * tileWork, this.M, dy, this.scratch, m, outC, tilesH, tilesW, outH, outW, this.mSlot, O4, b0);
      const T = G * tiles;
      // dU[t] (+)= V[t]ᵀ·dM[t]: [C4 × T]·[T × O4]
      if (!this.gemmJob(C4, O4, T, Vg, 1, C4, this.vSlot, this.M, O4, this.mSlot, this.U, this.uSlot, b0 > 0)) {
        const flags = b0 === 0 ? TRANS_A : TRANS_A_ACC;
        const vs = this.vSlices(b0, T);
        for (let t = 0; t < a2; t++) gemm(this.uViews[t], vs[t], this.mViews[t], C4, O4, T, flags);
      }
    }
    this.vOf = this.group === this.batch || this.keep ? x : null;
    WINOGRAD_FILTER_GRAD.runPlanes(inC * oBlocks, 4 * a2 * 6, gradW, this.U, m, inC, outC, this.uSlot, O4);
  }
}
