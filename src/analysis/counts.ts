// Per-layer and whole-model cost accounting: parameters, multiply-accumulates, FLOPs (inference and a
// training step) and activation memory, with one documented cost function per layer kind, kept in a registry.
import type { Layer } from '../layers/layer.js';
import type { Sequential } from '../model/sequential.js';
import { createRegistry, type RegisterOptions } from '../registry.js';

/**
 * The cost of one layer for ONE sample (multiply every number by the batch size for a batch).
 *
 * Conventions, shared by every built-in cost function:
 * - One FLOP is one scalar add, subtract, multiply, divide, comparison or transcendental (exp, tanh).
 *   A multiply-accumulate (MAC) is 2 FLOPs.
 * - `flops` is an inference (eval-mode) forward pass; `trainForwardFlops` is the training-mode forward
 *   (batch statistics, dropout masks); `backwardFlops` is the backward pass as tensorkit runs it, which
 *   includes dL/dx of the first layer (Sequential.backward always returns it). A training step is
 *   `trainForwardFlops + backwardFlops`; the optimizer update (a few FLOPs per parameter) is not included.
 * - Terms that are per channel rather than per element (BatchNorm's 1/√(σ² + ε)) are left out.
 */
export interface LayerCost {
  /** Multiply-accumulates of the layer's matrix product (Dense, Conv2D); 0 for the others. */
  readonly macs: number;
  /** Inference forward FLOPs. */
  readonly flops: number;
  /** Training-mode forward FLOPs. */
  readonly trainForwardFlops: number;
  /** Backward FLOPs (parameter gradients and dL/dx). */
  readonly backwardFlops: number;
  /**
   * Floats per sample the training forward writes into layer-owned memory and keeps until backward:
   * the output buffer plus saved state (BatchNorm's x̂, Dropout's mask). 0 for views (Flatten, Identity).
   */
  readonly activations: number;
}

/**
 * Computes a layer's per-sample {@link LayerCost} from the built layer and its per-sample input and
 * output shapes (without the batch axis).
 */
export type LayerCostFunction = (layer: Layer, inputShape: readonly number[], outputShape: readonly number[]) => LayerCost;

/** Cost functions by layer kind; the built-ins register through {@link registerLayerCost} like user code. */
export const layerCostRegistry = createRegistry<LayerCostFunction>('layer cost');

/** Registers the cost function of a layer kind (the layer's registry name), e.g. for a custom layer. */
export function registerLayerCost(kind: string, cost: LayerCostFunction, options?: RegisterOptions): void {
  layerCostRegistry.register(kind, cost, options);
}

/** The per-sample cost of `layer` given its per-sample input and output shapes; throws for a kind without a cost function. */
export function layerCost(layer: Layer, inputShape: readonly number[], outputShape: readonly number[]): LayerCost {
  if (!layerCostRegistry.has(layer.kind)) {
    throw new Error(`layerCost: no cost function for layer kind "${layer.kind}"; register one with registerLayerCost("${layer.kind}", fn). Known: ${layerCostRegistry.names().join(', ')}`);
  }
  return layerCostRegistry.get(layer.kind)(layer, inputShape, outputShape);
}

/** One row of {@link analyzeModel}: a layer's cost per sample. */
export interface LayerAnalysis extends LayerCost {
  /** Position in the model (the state-dict index). */
  readonly index: number;
  readonly kind: string;
  /** Per-sample input and output shapes (no batch axis). */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Trainable scalars. */
  readonly params: number;
  /** Non-trainable state-dict scalars (BatchNorm's running statistics). */
  readonly bufferElements: number;
  /** A training step: `trainForwardFlops + backwardFlops`. */
  readonly trainFlops: number;
  /** `activations` × 4 bytes (float32). */
  readonly activationBytes: number;
  /**
   * False for a layer kind without a registered cost function (analysed with `unknownCosts: 'mark'`):
   * its MACs, FLOPs and activations are then NaN (shown as "?") and left out of the totals.
   */
  readonly costKnown: boolean;
}

/** Options of {@link analyzeModel}. */
export interface AnalyzeOptions {
  /**
   * What a layer kind without a cost function does: `'throw'` (default; the error names the kind and
   * {@link registerLayerCost}) or `'mark'` (the row gets NaN costs and `costKnown: false`).
   */
  readonly unknownCosts?: 'throw' | 'mark';
}

/** Whole-model sums of the rows (per sample). */
export interface AnalysisTotals {
  readonly params: number;
  readonly bufferElements: number;
  readonly macs: number;
  readonly flops: number;
  readonly trainForwardFlops: number;
  readonly backwardFlops: number;
  readonly trainFlops: number;
  readonly activations: number;
  readonly activationBytes: number;
  /** Rows whose costs are unknown (left out of the sums above). */
  readonly unknownRows: number;
}

/** {@link analyzeModel}'s result. */
export interface ModelAnalysis {
  readonly inputShape: readonly number[];
  readonly rows: readonly LayerAnalysis[];
  readonly totals: AnalysisTotals;
}

function countElements(tensors: readonly { value: { size: number } }[]): number {
  let n = 0;
  for (const t of tensors) n += t.value.size;
  return n;
}

const UNKNOWN_COST: LayerCost = { macs: NaN, flops: NaN, trainForwardFlops: NaN, backwardFlops: NaN, activations: NaN };

/** Per-layer and total parameters, MACs, FLOPs and activation memory of a built model, per sample. */
export function analyzeModel(model: Sequential, options: AnalyzeOptions = {}): ModelAnalysis {
  const rows: LayerAnalysis[] = [];
  let inputShape = model.inputShape;
  model.layers.forEach((layer, index) => {
    const outputShape = model.layerShapes[index];
    let cost: LayerCost;
    const known = layerCostRegistry.has(layer.kind);
    if (!known && options.unknownCosts === 'mark') cost = UNKNOWN_COST;
    else {
      try {
        cost = layerCost(layer, inputShape, outputShape);
      } catch (e) {
        throw new Error(`analyzeModel: layer ${index}: ${(e as Error).message}`);
      }
    }
    rows.push({
      index,
      kind: layer.kind,
      inputShape: inputShape.slice(),
      outputShape: outputShape.slice(),
      params: countElements(layer.params()),
      bufferElements: countElements(layer.buffers?.() ?? []),
      macs: cost.macs,
      flops: cost.flops,
      trainForwardFlops: cost.trainForwardFlops,
      backwardFlops: cost.backwardFlops,
      trainFlops: cost.trainForwardFlops + cost.backwardFlops,
      activations: cost.activations,
      activationBytes: 4 * cost.activations,
      costKnown: known,
    });
    inputShape = outputShape;
  });
  return { inputShape: model.inputShape.slice(), rows, totals: sumRows(rows) };
}

/** Sums the numeric columns of analysis rows. */
export function sumRows(rows: readonly LayerAnalysis[]): AnalysisTotals {
  const t = { params: 0, bufferElements: 0, macs: 0, flops: 0, trainForwardFlops: 0, backwardFlops: 0, trainFlops: 0, activations: 0, activationBytes: 0, unknownRows: 0 };
  for (const r of rows) {
    t.params += r.params;
    t.bufferElements += r.bufferElements;
    if (r.costKnown === false) {
      t.unknownRows++;
      continue;
    }
    t.macs += r.macs;
    t.flops += r.flops;
    t.trainForwardFlops += r.trainForwardFlops;
    t.backwardFlops += r.backwardFlops;
    t.trainFlops += r.trainFlops;
    t.activations += r.activations;
    t.activationBytes += r.activationBytes;
  }
  return t;
}

/** An integer with thousands separators (`4,646,400`); `?` for NaN (an unknown cost). */
function int(n: number): string {
  return Number.isNaN(n) ? '?' : n.toLocaleString('en-US');
}

/** Bytes as B / KiB / MiB; `?` for NaN. */
function bytes(n: number): string {
  if (Number.isNaN(n)) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

/**
 * A text table of the analysis, one row per layer: index, kind, output shape, parameters, MACs,
 * forward FLOPs, training-step FLOPs and activation memory (all per sample), then the totals.
 */
export function formatAnalysis(analysis: ModelAnalysis | readonly LayerAnalysis[]): string {
  const rows = Array.isArray(analysis) ? (analysis as readonly LayerAnalysis[]) : (analysis as ModelAnalysis).rows;
  const totals = sumRows(rows);
  const header = ['#', 'Layer (kind)', 'Output shape', 'Params', 'MACs', 'FLOPs', 'Train FLOPs', 'Act. memory'];
  const body = rows.map((r) => [
    String(r.index), r.kind, `[batch, ${r.outputShape.join(', ')}]`, int(r.params), int(r.macs), int(r.flops),
    int(r.trainFlops), bytes(r.activationBytes),
  ]);
  // With unknown rows the sums are lower bounds: "+?" says so.
  const more = totals.unknownRows > 0 ? '+?' : '';
  const total = ['', 'Total', '', int(totals.params), int(totals.macs) + more, int(totals.flops) + more, int(totals.trainFlops) + more, bytes(totals.activationBytes) + more];
  const all = [header, ...body, total];
  const widths = header.map((_, c) => all.reduce((m, r) => Math.max(m, r[c].length), 0));
  // Text columns (kind, shape) are left-aligned, numbers right-aligned.
  const line = (r: string[]) => r.map((cell, c) => (c === 1 || c === 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const rule = '-'.repeat(line(header).length);
  const out = [line(header), rule, ...body.map(line), rule, line(total)];
  if (!Array.isArray(analysis)) out.push(`Input: [batch, ${(analysis as ModelAnalysis).inputShape.join(', ')}]`);
  out.push('Counts are per sample; FLOPs = forward (inference), Train FLOPs = training forward + backward.');
  if (totals.unknownRows > 0) {
    const kinds = [...new Set(rows.filter((r) => r.costKnown === false).map((r) => r.kind))];
    out.push(`? = no cost function for ${kinds.join(', ')} (register one with registerLayerCost); totals leave ${totals.unknownRows === 1 ? 'that row' : 'those rows'} out.`);
  }
  return out.join('\n');
}

/**
 * `model.summary()` with MAC, FLOP and activation-memory columns: `formatAnalysis(analyzeModel(model))`.
 * A layer kind without a cost function (a custom layer) keeps its row with "?" in the cost columns.
 */
export function modelSummaryWithFlops(model: Sequential): string {
  return formatAnalysis(analyzeModel(model, { unknownCosts: 'mark' }));
}

