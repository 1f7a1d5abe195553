// Structured pruning: removes whole Conv2D output channels or Dense neurons by weight norm and rewrites
// their consumer, producing a new, physically smaller Sequential; plus a step-by-step pruning schedule.
import type { Layer } from '../layers/layer.js';
import { Sequential, type SequentialConfig } from '../model/sequential.js';
import { shapeSize, Tensor } from '../tensor/tensor.js';
import { analyzeModel } from './counts.js';

/** How a unit's importance is measured: the L1 or L2 norm of its incoming weights (bias excluded). */
export type PruneCriterion = 'l1' | 'l2';

/** Options of {@link pruneChannels} and {@link planPrune}. Give exactly one of `count`, `amount`, `units`. */
export interface PruneOptions {
  /** Index of the Conv2D or Dense layer in `model.layers` whose outputs are pruned. */
  readonly layer: number;
  /** Number of output channels / neurons to remove (0 gives a copy). */
  readonly count?: number;
  /** Fraction in [0, 1) of the units to remove, rounded to the nearest count. */
  readonly amount?: number;
  /** Explicit unit indices to remove (instead of choosing by norm). */
  readonly units?: readonly number[];
  /** Norm that ranks the units (default `'l1'`, as in Li et al. 2017, "Pruning Filters for Efficient ConvNets"). */
  readonly criterion?: PruneCriterion;
}

/** What {@link planPrune} decided: which units go and which layers change. */
export interface PrunePlan {
  /** The pruned layer's index and kind. */
  readonly layer: number;
  readonly kind: string;
  /** Removed and kept unit indices of that layer, ascending. */
  readonly removed: readonly number[];
  readonly kept: readonly number[];
  /** The per-unit norms the choice was made on (NaN-free; by `criterion`). */
  readonly norms: Float64Array;
  /** Index of the Conv2D or Dense layer whose inputs are rewritten. */
  readonly consumer: number;
  /** BatchNorm layers in between whose per-channel state is sliced. */
  readonly batchNorms: readonly number[];
}

/** Layer kinds that act on each channel (or feature) separately, so pruned channels pass through them unchanged. */
export const CHANNELWISE_KINDS: readonly string[] = Object.freeze([
  'relu', 'leaky-relu', 'tanh', 'sigmoid', 'identity', 'dropout', 'max-pool2d', 'avg-pool2d',
]);

const PRUNABLE_KINDS = ['conv2d', 'dense'];

function param(layer: Layer, name: string): Tensor | null {
  for (const p of layer.params()) if (p.name === name) return p.value;
  return null;
}

/**
 * Per-output-unit norms of a Conv2D (`weight [outC, inC, kH, kW]`, one norm per output channel over its
 * inC·kH·kW weights) or Dense (`weight [out, in]`, one per neuron over its `in` weights) layer.
 * L1 = Σ|w|, L2 = √(Σw²); biases are not included.
 */
export function unitNorms(layer: Layer, criterion: PruneCriterion = 'l1'): Float64Array {
  if (!PRUNABLE_KINDS.includes(layer.kind)) {
    throw new Error(`unitNorms: layer kind "${layer.kind}" has no prunable units; expected one of ${PRUNABLE_KINDS.join(', ')}`);
  }
  if (criterion !== 'l1' && criterion !== 'l2') throw new Error(`unitNorms: criterion must be 'l1' or 'l2', got ${JSON.stringify(criterion)}`);
  const w = param(layer, 'weight') as Tensor;
  const units = w.shape[0];
  const per = w.size / units;
  const norms = new Float64Array(units);
  const d = w.data;
  // w[u, ...] occupies [u*per, (u+1)*per).
  for (let u = 0; u < units; u++) {
    let s = 0;
    const base = u * per;
    if (criterion === 'l1') for (let i = 0; i < per; i++) s += Math.abs(d[base + i]);
    else for (let i = 0; i < per; i++) s += d[base + i] * d[base + i];
    norms[u] = criterion === 'l1' ? s : Math.sqrt(s);
  }
  return norms;
}

/** The number of units to remove from `units`, from exactly one of count / amount / units. */
function resolveCount(options: PruneOptions, units: number, what: string): number {
  const given = ['count', 'amount', 'units'].filter((k) => (options as unknown as Record<string, unknown>)[k] !== undefined);
  if (given.length !== 1) throw new Error(`pruneChannels: give exactly one of count, amount or units, got ${given.length ? given.join(', ') : 'none'}`);
  let count: number;
  if (options.count !== undefined) {
    count = options.count;
    if (!Number.isInteger(count) || count < 0) throw new Error(`pruneChannels: count must be a non-negative integer, got ${JSON.stringify(count)}`);
  } else if (options.amount !== undefined) {
    const a = options.amount;
    if (typeof a !== 'number' || !(a >= 0 && a < 1)) throw new Error(`pruneChannels: amount must be a fraction in [0, 1), got ${JSON.stringify(a)}`);
    count = Math.round(a * units);
  } else {
    count = (options.units as readonly number[]).length;
  }
  if (count >= units) {
    throw new Error(`pruneChannels: removing ${count} of the ${units} units of ${what} would leave none; at most ${units - 1} can be removed`);
  }
  return count;
}

/** Indices of the `count` smallest norms (ties: lower index first), ascending. */
function smallest(norms: Float64Array, count: number): number[] {
  const order = Array.from(norms.keys()).sort((a, b) => norms[a] - norms[b] || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}

/**
 * Decides which units of `options.layer` to remove and finds the layers that must change: the
 * BatchNorms in between and the consuming Conv2D or Dense. Throws (naming the layer) if the layer is not
 * Conv2D/Dense, its outputs reach the model's output, a layer in between mixes channels, or no unit would remain.
 */
export function planPrune(model: Sequential, options: PruneOptions): PrunePlan {
  if (!(model instanceof Sequential)) {
    // A Module's channel can feed several ops (a skip connection adds it to another tensor), so removing
    // it means editing every consumer consistently; only the stack of a Sequential is pruned for now.
    const what = model !== null && typeof model === 'object' ? (model as object).constructor.name : typeof model;
    throw new Error(`pruneChannels: model must be a Sequential (got ${what}); user Modules are not pruned yet: in a traced graph one channel can feed `
      + 'several ops (skip connections), and all of them would have to shrink together');
  }
  if (!options || typeof options !== 'object') throw new Error('pruneChannels: options { layer, count | amount | units, criterion } are required');
  const index = options.layer;
  const n = model.layers.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new Error(`pruneChannels: layer must be an index in [0, ${n - 1}], got ${JSON.stringify(index)}`);
  }
  const layer = model.layers[index];
  const what = `layer ${index} (${layer.kind})`;
  if (!PRUNABLE_KINDS.includes(layer.kind)) {
    throw new Error(`pruneChannels: ${what} cannot be pruned; only conv2d output channels and dense neurons can`);
  }
  const criterion = options.criterion ?? 'l1';
  const norms = unitNorms(layer, criterion);
  const units = norms.length;
  const count = resolveCount(options, units, what);
  let removed: number[];
  if (options.units !== undefined) {
    removed = Array.from(new Set(options.units)).sort((a, b) => a - b);
    const bad = removed.find((u) => !Number.isInteger(u) || u < 0 || u >= units);
    if (bad !== undefined) throw new Error(`pruneChannels: unit ${bad} is not an index in [0, ${units - 1}] of ${what}`);
    if (removed.length !== options.units.length) throw new Error(`pruneChannels: units lists an index twice: [${options.units.join(', ')}]`);
  } else {
    removed = smallest(norms, count);
  }
  const gone = new Set(removed);
  const kept: number[] = [];
  for (let u = 0; u < units; u++) if (!gone.has(u)) kept.push(u);

  const batchNorms: number[] = [];
  for (let j = index + 1; j < n; j++) {
    const kind = model.layers[j].kind;
    if (kind === 'conv2d' || kind === 'dense') return { layer: index, kind: layer.kind, removed, kept, norms, consumer: j, batchNorms };
    if (kind === 'batch-norm1d' || kind === 'batch-norm2d') batchNorms.push(j);
    else if (kind !== 'flatten' && !CHANNELWISE_KINDS.includes(kind)) {
      throw new Error(`pruneChannels: cannot carry the pruned units of ${what} through layer ${j} (${kind}), which mixes channels; ` +
        `allowed in between: ${[...CHANNELWISE_KINDS, 'flatten', 'batch-norm1d', 'batch-norm2d'].join(', ')}`);
    }
  }
  throw new Error(`pruneChannels: ${what} feeds the model's output (no conv2d or dense layer after it); its outputs cannot be pruned`);
}

/**
 * Copies the slices `idx` along `axis` of a contiguous tensor into a new tensor
 * (`t[..., idx, ...]` in numpy terms).
 */
export function takeAlong(t: Tensor, axis: number, idx: readonly number[]): Tensor {
  const outer = shapeSize(t.shape.slice(0, axis));
  const inner = shapeSize(t.shape.slice(axis + 1));
  const size = t.shape[axis];
  const shape = t.shape.slice();
  shape[axis] = idx.length;
  const out = new Float32Array(outer * idx.length * inner);
  const src = t.data;
  // t[o, i, r] lives at (o*size + i)*inner + r; each kept slice is `inner` contiguous floats.
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const from = (o * size + idx[k]) * inner;
      out.set(src.subarray(from, from + inner), (o * idx.length + k) * inner);
    }
  }
  return new Tensor(out, shape);
}

/**
 * Applies a {@link PrunePlan}: a new Sequential built through the layer registry from the model's config
 * with fewer units, holding copies of the kept weights (the original is not modified):
 * - the pruned layer keeps rows `kept` of `weight` (axis 0) and `bias`;
 * - BatchNorms in between keep those channels of `weight`, `bias`, `running_mean`, `running_var`;
 * - channel-wise layers (activations, pools, dropout) pass the channels through;
 * - after Flatten, channel c of a `[C, H, W]` map owns the H·W consecutive columns c·H·W … (c+1)·H·W − 1;
 * - the consumer keeps those input channels (Conv2D `weight` axis 1) or input columns (Dense `weight` axis 1).
 * The new model is not compiled: compile it before training or evaluating.
 */
export function applyPrunePlan(model: Sequential, plan: PrunePlan): Sequential {
  const config: SequentialConfig = model.getConfig();
  const prunedConfig = config.layers[plan.layer].config;
  prunedConfig[plan.kind === 'conv2d' ? 'filters' : 'units'] = plan.kept.length;
  const sd = model.stateDict();
  const at = (j: number, name: string) => `${j}.${name}`;
  for (const name of ['weight', 'bias']) {
    const key = at(plan.layer, name);
    if (sd[key]) sd[key] = takeAlong(sd[key], 0, plan.kept);
  }
  // Indices along axis 0 of the current per-sample shape that survive, carried forward layer by layer.
  let kept = plan.kept.slice();
  for (let j = plan.layer + 1; j < plan.consumer; j++) {
    if (plan.batchNorms.includes(j)) {
      for (const name of ['weight', 'bias', 'running_mean', 'running_var']) {
        const key = at(j, name);
        if (sd[key]) sd[key] = takeAlong(sd[key], 0, kept);
      }
    } else if (model.layers[j].kind === 'flatten') {
      const before = j === 0 ? model.inputShape : model.layerShapes[j - 1];
      const spatial = shapeSize(before.slice(1));
      const columns: number[] = [];
      for (const c of kept) for (let s = 0; s < spatial; s++) columns.push(c * spatial + s);
      kept = columns;
    }
  }
  const consumerKey = at(plan.consumer, 'weight');
  sd[consumerKey] = takeAlong(sd[consumerKey], 1, kept);
  let pruned: Sequential;
  try {
    pruned = Sequential.fromConfig(config);
  } catch (e) {
    throw new Error(`pruneChannels: the pruned architecture does not build: ${(e as Error).message}`);
  }
  pruned.loadStateDict(sd);
  return pruned;
}

/**
 * Structured pruning of one layer: removes whole Conv2D output channels or Dense neurons (the ones with
 * the smallest weight norm, or the `units` given) and rewrites their consumer, returning a NEW, physically
 * smaller, uncompiled Sequential. For the kept units the network computes exactly what the original computes
 * with the removed units' contributions to the consumer set to zero.
 *
 * @example
 *   const smaller = pruneChannels(model, { layer: 0, count: 2, criterion: 'l2' }); // 2 fewer conv1 filters
 */
export function pruneChannels(model: Sequential, options: PruneOptions): Sequential {
  return applyPrunePlan(model, planPrune(model, options));
}

/** Output units (filters or neurons) of every Conv2D and Dense layer, by layer index. */
export function unitCounts(model: Sequential): Record<number, number> {
  const out: Record<number, number> = {};
  model.layers.forEach((layer, i) => {
    if (PRUNABLE_KINDS.includes(layer.kind)) out[i] = model.layerShapes[i][0];
  });
  return out;
}

/** One step of a {@link pruneSchedule}. */
export interface PruneStep {
  readonly layer: number;
  readonly count?: number;
  readonly amount?: number;
  /** Overrides the schedule's criterion for this step. */
  readonly criterion?: PruneCriterion;
}

/** Options of {@link pruneSchedule}. */
export interface PruneScheduleOptions {
  readonly steps: readonly PruneStep[];
  /** The metric recorded after each step (e.g. validation accuracy); called on an uncompiled model if you compile in `fineTune`. */
  readonly evaluate: (model: Sequential) => number | Promise<number>;
  /** Called on each freshly pruned model before `evaluate` (e.g. compile and train a few batches). */
  readonly fineTune?: (model: Sequential) => void | Promise<void>;
  /**
   * Whether to keep a step, given its metric and the unpruned baseline. A rejected step is undone and
   * the remaining steps on the same layer are skipped. Default: keep every step.
   */
  readonly accept?: (metric: number, baseline: number) => boolean;
  /** Default criterion of the steps (default `'l1'`). */
  readonly criterion?: PruneCriterion;
  /**
   * Called after each step with its record and the step's pruned (and fine-tuned) model, kept or not:
   * for progress output and extra evaluations such as test accuracy.
   */
  readonly onStep?: (record: PruneRecord, candidate: Sequential) => void | Promise<void>;
}

/** What happened in one schedule step. */
export interface PruneRecord {
  /** 1-based step number among the steps that ran. */
  readonly step: number;
  readonly layer: number;
  readonly kind: string;
  /** Unit indices removed in this step (indices of the layer before the step). */
  readonly removed: readonly number[];
  /** `evaluate` after the step (after fine-tuning). */
  readonly metric: number;
  /** Whether the step was kept (see `accept`). */
  readonly accepted: boolean;
  /** Units of every Conv2D/Dense layer after the step (of the kept model if it was rejected). */
  readonly units: Record<number, number>;
  /** Inference FLOPs per sample of the model after the step (of the kept model if it was rejected). */
  readonly flops: number;
}

/** {@link pruneSchedule}'s result. */
export interface PruneScheduleResult {
  /** The final (last accepted) model. */
  readonly model: Sequential;
  /** `evaluate` on the unpruned model. */
  readonly baseline: number;
  readonly history: readonly PruneRecord[];
}

/**
 * Prunes step by step: each step prunes one layer (by count or amount), optionally fine-tunes, evaluates and
 * records the metric; with `accept`, a step whose metric is not accepted is undone and later steps on the
 * same layer are skipped (so "prune one unit at a time while accuracy stays within a tolerance" is
 * `steps` of count 1 with `accept: (m, base) => m >= base - tol`). The input model is not modified.
 */
export async function pruneSchedule(model: Sequential, options: PruneScheduleOptions): Promise<PruneScheduleResult> {
  if (!options || !Array.isArray(options.steps)) throw new Error('pruneSchedule: options.steps must be an array of { layer, count | amount }');
  if (typeof options.evaluate !== 'function') throw new Error('pruneSchedule: options.evaluate(model) => number is required');
  const baseline = await options.evaluate(model);
  const history: PruneRecord[] = [];
  const exhausted = new Set<number>();
  let current = model;
  for (const step of options.steps) {
    if (exhausted.has(step.layer)) continue;
    const plan = planPrune(current, { layer: step.layer, count: step.count, amount: step.amount, criterion: step.criterion ?? options.criterion });
    const candidate = applyPrunePlan(current, plan);
    await options.fineTune?.(candidate);
    const metric = await options.evaluate(candidate);
    const accepted = options.accept ? options.accept(metric, baseline) : true;
    if (accepted) current = candidate;
    else exhausted.add(step.layer);
    const record: PruneRecord = {
      step: history.length + 1, layer: step.layer, kind: plan.kind, removed: plan.removed, metric, accepted,
      units: unitCounts(current), flops: analyzeModel(current).totals.flops,
    };
    history.push(record);
    await options.onStep?.(record, candidate);
  }
  return { model: current, baseline, history };
}

