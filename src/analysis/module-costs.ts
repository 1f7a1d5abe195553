// Parameter, MAC and FLOP counts of any traceable Module: one row per traced op (a layer module's op
// costs what its layer costs; a plain op by the op-cost registry), per sample, and the summary table.
import type { Layer } from '../layers/layer.js';
import { Module } from '../model/module.js';
import { Sequential } from '../model/sequential.js';
import { traceModule, type TraceOp, type TraceOptions } from '../model/trace.js';
import type { RegisterOptions } from '../registry.js';
import { analyzeModel, layerCost, layerCostRegistry } from './counts.js';

/** Forward cost of one traced op over the whole trace batch (the analysis divides by the batch). */
export interface OpCost {
  readonly macs: number;
  readonly flops: number;
}

/** Cost of one traced op: its input and output values are in `op` (shapes include the batch axis). */
export type OpCostFunction = (op: TraceOp) => OpCost;

// Keyed by the op's tape name, which is camelCase (`logSoftmax`), so not a kebab-case registry.
const opCosts = new Map<string, OpCostFunction>();

/** Registers the forward cost of a plain op by its tape name (`add`, `logSoftmax`), as the built-in ops' are; an existing name throws unless `{ override: true }`. */
export function registerOpCost(op: string, cost: OpCostFunction, options: RegisterOptions = {}): void {
  if (typeof op !== 'string' || op.length === 0) throw new Error(`registerOpCost: op must be a non-empty string, got ${JSON.stringify(op)}`);
  if (typeof cost !== 'function') throw new Error(`registerOpCost: "${op}": cost must be a function`);
  if (opCosts.has(op) && options.override !== true) throw new Error(`registerOpCost: "${op}" is already registered; pass { override: true } to replace it`);
  opCosts.set(op, cost);
}

/** Ops with a registered cost. */
export function opCostNames(): string[] {
  return [...opCosts.keys()].sort();
}

/** `perElement` FLOPs per output element. */
export function elementwiseOpCost(perElement: number): OpCostFunction {
  return (op) => ({ macs: 0, flops: perElement * op.output.value.size });
}

/** Views and copies (reshape, transpose, concat, …): no arithmetic. */
export const freeOpCost: OpCostFunction = () => ({ macs: 0, flops: 0 });

/**
 * matmul, output `[..., m, n]` with inner size k (whatever the transposes): MACs = (output elements)·k,
 * FLOPs = 2·MACs (a multiply and an add per term).
 */
export const matmulOpCost: OpCostFunction = (op) => {
  const a = op.inputs[0].value.shape;
  const out = op.output.value.shape;
  const m = out.length >= 2 ? out[out.length - 2] : 1;
  const k = a.length >= 2 ? (a[a.length - 1] * a[a.length - 2]) / m : a[0];
  const macs = op.output.value.size * k;
  return { macs, flops: 2 * macs };
};

/** sum over n input elements into r results: n − r adds; mean adds r divides: n. */
export const sumOpCost: OpCostFunction = (op) => ({ macs: 0, flops: op.inputs[0].value.size - op.output.value.size });
export const meanOpCost: OpCostFunction = (op) => ({ macs: 0, flops: op.inputs[0].value.size });

/** One row of {@link analyzeModule}: a traced op's cost per sample. */
export interface ModuleAnalysisRow {
  readonly index: number;
  /** The layer module's (or Sequential's) attribute path, or the op name for a plain op. */
  readonly name: string;
  /** The layer kind for a layer module, else the op name. */
  readonly kind: string;
  /** Per-sample output shape (without the batch axis when `batched`). */
  readonly outputShape: readonly number[];
  /** Whether the output's first axis is the batch (the trace's batch size), so `outputShape` is per sample. */
  readonly batched: boolean;
  /** Trainable scalars first used by this op (a shared layer's or parameter's counted once). */
  readonly params: number;
  readonly macs: number;
  readonly flops: number;
  /** False when no cost function is known for the op (its MACs and FLOPs are NaN and left out of the totals). */
  readonly costKnown: boolean;
}

/** {@link analyzeModule}'s result. */
export interface ModuleAnalysis {
  readonly inputShapes: readonly (readonly number[])[];
  readonly rows: readonly ModuleAnalysisRow[];
  readonly totals: { params: number; macs: number; flops: number; unknownRows: number };
}

function layerOpCost(layer: Layer, inShape: readonly number[], outShape: readonly number[]): OpCost {
  // The layer ran on [rows, ...sample] (rows = batch, or batch × tokens for nn.Linear over the last axis).
  const rows = inShape[0];
  const c = layerCost(layer, inShape.slice(1), outShape.slice(1));
  return { macs: c.macs * rows, flops: c.flops * rows };
}

/**
 * Per-op parameters, MACs and forward FLOPs of `module`, per sample, from a trace (see
 * `traceModule` for what a trace can and cannot see). Layer modules cost what their layer's
 * registered cost function says; a Sequential inside costs the sum of its layers; plain ops cost
 * what {@link registerOpCost} registered. An op without a cost function gets NaN costs and
 * `costKnown: false` (left out of the totals), or throws with `unknownCosts: 'throw'`.
 */
export function analyzeModule(module: Module, options: TraceOptions & { unknownCosts?: 'throw' | 'mark' } = {}): ModuleAnalysis {
  const trace = traceModule(module, options);
  const batch = trace.batch;
  const counted = new Set<unknown>();
  const rows: ModuleAnalysisRow[] = [];
  trace.ops.forEach((op, index) => {
    const attrs = op.attrs ?? {};
    let params = 0;
    let cost: OpCost | null = null;
    let kind = op.op;
    const owner = attrs.module;
    if (owner instanceof Sequential) {
      if (!counted.has(owner)) params = owner.countParams();
      const a = analyzeModel(owner, { unknownCosts: 'mark' });
      cost = a.totals.unknownRows > 0 ? null : { macs: a.totals.macs * batch, flops: a.totals.flops * batch };
      kind = 'sequential';
    } else if (owner instanceof Module && attrs.layer !== undefined) {
      const layer = attrs.layer as Layer;
      kind = layer.kind;
      if (!counted.has(owner)) params = owner.countParams();
      if (layerCostRegistry.has(layer.kind)) cost = layerOpCost(layer, attrs.inputShape as number[], attrs.outputShape as number[]);
    } else if (opCosts.has(op.op)) {
      cost = (opCosts.get(op.op) as OpCostFunction)(op);
    }
    if (owner !== undefined) counted.add(owner);
    for (const input of op.inputs) {
      if (input.kind === 'param' && !counted.has(input.value)) {
        counted.add(input.value);
        params += input.value.size;
      }
    }
    if (cost === null && options.unknownCosts === 'throw') {
      throw new Error(`analyzeModule: no cost function for op "${op.op}"${op.modulePath ? ` (${op.modulePath})` : ''}; register one with registerOpCost or registerLayerCost`);
    }
    const shape = op.output.value.shape;
    const batched = shape.length > 0 && shape[0] === batch;
    rows.push({
      index,
      name: op.modulePath ?? op.op,
      kind,
      outputShape: batched ? shape.slice(1) : shape.slice(),
      batched,
      params,
      macs: cost === null ? NaN : cost.macs / batch,
      flops: cost === null ? NaN : cost.flops / batch,
      costKnown: cost !== null,
    });
  });
  const totals = { params: 0, macs: 0, flops: 0, unknownRows: 0 };
  for (const r of rows) {
    totals.params += r.params;
    if (!r.costKnown) totals.unknownRows++;
    else {
      totals.macs += r.macs;
      totals.flops += r.flops;
    }
  }
  // Parameters no traced op used (an unused branch) still count in the total.
  totals.params = module.countParams();
  return { inputShapes: trace.inputs.map((v) => v.value.shape.slice(1)), rows, totals };
}

function int(n: number): string {
  return Number.isNaN(n) ? '?' : n.toLocaleString('en-US');
}

/** A text table of {@link analyzeModule}: index, name, op, output shape, parameters, MACs, FLOPs (per sample), totals. */
export function formatModuleAnalysis(analysis: ModuleAnalysis): string {
  const header = ['#', 'Name', 'Op', 'Output shape', 'Params', 'MACs', 'FLOPs'];
  const shape = (r: ModuleAnalysisRow) => `[${[...(r.batched ? ['batch'] : []), ...r.outputShape].join(', ')}]`;
  const body = analysis.rows.map((r) => [String(r.index), r.name, r.kind, shape(r), int(r.params), int(r.macs), int(r.flops)]);
  const more = analysis.totals.unknownRows > 0 ? '+?' : '';
  const total = ['', 'Total', '', '', int(analysis.totals.params), int(analysis.totals.macs) + more, int(analysis.totals.flops) + more];
  const all = [header, ...body, total];
  const widths = header.map((_, c) => all.reduce((m, r) => Math.max(m, r[c].length), 0));
  const line = (r: string[]) => r.map((cell, c) => (c >= 1 && c <= 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const rule = '-'.repeat(line(header).length);
  const out = [line(header), rule, ...body.map(line), rule, line(total)];
  out.push(`Input: ${analysis.inputShapes.map((s) => `[batch, ${s.join(', ')}]`).join(', ')}`);
  out.push('Counts are per sample; FLOPs = forward (inference).');
  if (analysis.totals.unknownRows > 0) {
    const kinds = [...new Set(analysis.rows.filter((r) => !r.costKnown).map((r) => r.kind))];
    out.push(`? = no cost function for ${kinds.join(', ')} (register one with registerOpCost / registerLayerCost); totals leave those rows out.`);
  }
  const total4 = analysis.totals.params;
  out.push(`Total params: ${total4.toLocaleString('en-US')} (${(total4 * 4 / 1024).toFixed(1)} KiB as float32)`);
  return out.join('\n');
}

/** `module.summary()` with FLOPs: `formatModuleAnalysis(analyzeModule(module))`, unknown costs marked "?". */
export function moduleSummaryWithFlops(module: Module): string {
  return formatModuleAnalysis(analyzeModule(module, { unknownCosts: 'mark' }));
}

/** max / min over n input elements into r results: n − r comparisons (as sum's adds). */
export const extremeOpCost: OpCostFunction = (op) => ({ macs: 0, flops: op.inputs[0].value.size - op.output.value.size });

/**
 * var over n input elements into r results: the mean (n: n − r adds, r divides), n subtractions,
 * n squares, n − r adds and r divides = 4n.
 */
export const varOpCost: OpCostFunction = (op) => ({ macs: 0, flops: 4 * op.inputs[0].value.size });

/**
 * conv2d / conv1d (inputs x, weight [O, C/groups, …kernel], optional bias), output of n elements: each
 * output sums K = weight.size / O products, so MACs = n·K and FLOPs = 2·MACs + n bias adds (the
 * Conv2D layer's count, groups and dilation included; padding taps counted as the layer does).
 */
export const convOpCost: OpCostFunction = (op) => {
  const w = op.inputs[1].value;
  const n = op.output.value.size;
  const macs = n * (w.size / w.shape[0]);
  return { macs, flops: 2 * macs + (op.inputs.length > 2 ? n : 0) };
};

/**
 * maxPool2d: n·(kH·kW − 1) comparisons; avgPool2d: n·kH·kW (kH·kW − 1 adds and a divide), n output
 * elements, as the pooling layers count. The window is the one the op recorded on the tape (node.attrs).
 */
export const poolOpCost: OpCostFunction = (op) => {
  const kernel = op.attrs?.kernel as readonly number[] | undefined;
  if (kernel === undefined) throw new Error(`analyzeModule: op "${op.op}" recorded no window on the tape (a custom op under a built-in name?)`);
  const window = kernel[0] * kernel[1];
  const n = op.output.value.size;
  return { macs: 0, flops: op.op === 'maxPool2d' ? n * (window - 1) : n * window };
};

/**
 * layerNorm on n elements: mean n, variance 3n (subtract, square, add), normalise 2n (subtract,
 * multiply by 1/σ), then n per affine input (weight multiply, bias add): 6n + n·(affine inputs), as
 * the LayerNorm layer.
 */
export const layerNormOpCost: OpCostFunction = (op) => {
  const n = op.output.value.size;
  return { macs: 0, flops: 6 * n + n * (op.inputs.length - 1) };
};

/**
 * batchNorm on n elements: 2n, the BatchNorm layers' inference count (running statistics and the
 * affine folded into one scale and one shift per channel). The trace cannot tell batch statistics
 * (`training: true`) apart, so that case is counted the same.
 */
export const batchNormOpCost: OpCostFunction = (op) => ({ macs: 0, flops: 2 * op.output.value.size });

/**
 * crossEntropy on n logits (rows of C): log-softmax 5 per logit (as logSoftmax), then the target's
 * weighted sum Σ_c t′_c·ℓ_c, a multiply and an add per logit: 7n; plus 1 divide for a scalar (mean)
 * result. Weights and smoothing fold into t′.
 */
export const crossEntropyOpCost: OpCostFunction = (op) => ({
  macs: 0, flops: 7 * op.inputs[0].value.size + (op.output.value.size === 1 && op.output.value.rank === 0 ? 1 : 0),
});

/** mse over n elements: n subtractions, n squares, n − 1 adds, 1 divide = 3n. */
export const mseOpCost: OpCostFunction = (op) => ({ macs: 0, flops: 3 * op.inputs[0].value.size });

/** Built-in op costs (forward FLOPs per output element unless noted). */
export function registerBuiltinOpCosts(): void {
  if (opCosts.has('add')) return;
  for (const op of ['add', 'sub', 'mul', 'div', 'neg', 'abs', 'relu', 'exp', 'log', 'sqrt', 'pow', 'tanh']) registerOpCost(op, elementwiseOpCost(1));
  // sigmoid 1/(1+e^−x): exp, add, divide; leaky ReLU: compare, multiply; clamp: two compares;
  // SiLU x·σ(x): σ + multiply; GELU x·0.5·(1 + erf(x/√2)): scale, erf, add, two multiplies;
  // where: one select per output element; dropout (only recorded in training): a multiply by the mask.
  registerOpCost('sigmoid', elementwiseOpCost(3));
  registerOpCost('leakyRelu', elementwiseOpCost(2));
  registerOpCost('clamp', elementwiseOpCost(2));
  registerOpCost('silu', elementwiseOpCost(4));
  registerOpCost('gelu', elementwiseOpCost(5));
  registerOpCost('where', elementwiseOpCost(1));
  registerOpCost('dropout', elementwiseOpCost(1));
  // softmax per row of c: (c−1) compares, c subtracts, c exps, (c−1) adds, c divides ≈ 5 per element; log-softmax alike.
  registerOpCost('softmax', elementwiseOpCost(5));
  registerOpCost('logSoftmax', elementwiseOpCost(5));
  registerOpCost('matmul', matmulOpCost);
  registerOpCost('sum', sumOpCost);
  registerOpCost('mean', meanOpCost);
  registerOpCost('max', extremeOpCost);
  registerOpCost('min', extremeOpCost);
  registerOpCost('var', varOpCost);
  registerOpCost('conv2d', convOpCost);
  registerOpCost('conv1d', convOpCost);
  registerOpCost('maxPool2d', poolOpCost);
  registerOpCost('avgPool2d', poolOpCost);
  registerOpCost('layerNorm', layerNormOpCost);
  registerOpCost('batchNorm', batchNormOpCost);
  registerOpCost('crossEntropy', crossEntropyOpCost);
  registerOpCost('mse', mseOpCost);
  // Copies and views: no arithmetic (embedding copies a weight row per index).
  for (const op of ['reshape', 'transpose', 'permute', 'squeeze', 'unsqueeze', 'flatten', 'concat', 'stack', 'slice', 'select', 'pad', 'indexSelect', 'embedding']) {
    registerOpCost(op, freeOpCost);
  }
}
