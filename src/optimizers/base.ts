// BaseOptimizer: the shared machinery of every optimizer (slot allocation keyed by param name, step
// counting, weight decay, state save/load), so a subclass only writes its per-parameter update.
import { DECAY, SHRINK, heapFloat32 } from '../plugin/index.js';
import { readBoolean, readNumber } from '../config.js';
import type { Param } from '../tensor/param.js';
import type { Optimizer, OptimizerState, StepContext } from './optimizer.js';

/** Hyperparameters every {@link BaseOptimizer} understands. */
export interface BaseOptimizerConfig {
  /** Learning rate (≥ 0). Public and mutable on the optimizer so schedules can set it. */
  readonly lr: number;
  /** Weight-decay coefficient (≥ 0), scaled per tensor by `param.decayMul` (default 1). */
  readonly weightDecay: number;
  /**
   * `false` (default): L2 decay added to the gradient, `g' = g + weightDecay·decayMul·p`, as
   * torch.optim's `weight_decay`. `true`: decoupled (AdamW-style) decay, `p ← p·(1 − lr·weightDecay·decayMul)`
   * applied before the update, which then sees the raw gradient.
   */
  readonly decoupledWeightDecay: boolean;
}

/** What {@link BaseOptimizer}'s constructor needs besides the hyperparameters. */
export interface BaseOptimizerSpec<S extends string, G extends string> extends BaseOptimizerConfig {
  /** Per-parameter state buffers, each the size of the parameter, zero-initialised (Adam: `['m', 'v']`). */
  readonly slots: readonly S[];
  /** Optimizer-wide numbers and their initial values (Eve: `{ d: 1, fHat: 0 }`); saved in `globals`. */
  readonly globals?: Readonly<Record<G, number>>;
}

const NO_CONTEXT: StepContext = Object.freeze({});

/** Per-parameter bookkeeping: the slot buffers and, when coupled weight decay applies, a decayed-gradient buffer. */
interface ParamState<S extends string> {
  /** Values in the parameter; -1 until known (state loaded for an optimizer without slots). */
  size: number;
  readonly slots: Record<S, Float32Array>;
  decayedGrad: Float32Array | null;
}

/**
 * Validates the options every optimizer shares (`lr`, `weightDecay` and, when `allowDecoupled`,
 * `decoupledWeightDecay`) for a factory named `owner`; callers check unknown keys themselves.
 */
export function readBaseConfig(
  owner: string, config: Record<string, unknown>, defaultLr: number, allowDecoupled: boolean,
): BaseOptimizerConfig {
  return {
    lr: readNumber(owner, config, 'lr', defaultLr, { min: 0 }),
    weightDecay: readNumber(owner, config, 'weightDecay', 0, { min: 0 }),
    decoupledWeightDecay: allowDecoupled ? readBoolean(owner, config, 'decoupledWeightDecay', false) : false,
  };
}

/**
 * Base class for optimizers. A subclass declares its slot names (and optional optimizer-wide
 * `globals`) in the constructor and implements {@link update}, the per-parameter rule over flat
 * `Float32Array`s. The base class:
 * - allocates each parameter's slots once, on the first step that sees it, keyed by `param.name`
 *   (the same `Float32Array` objects are reused for the life of the optimizer);
 * - counts steps: `t` is 1 on the first step and is shared by all parameters (torch counts per
 *   parameter; the two agree unless a parameter joins after the first step);
 * - applies weight decay: coupled (`g' = g + weightDecay·decayMul·p`, torch.optim's `weight_decay`,
 *   computed into a per-parameter buffer so `param.grad` is left untouched) or decoupled
 *   (`p ← p·(1 − lr·weightDecay·decayMul)` before {@link update});
 * - calls {@link beginStep} once per step before any parameter, for optimizer-wide state;
 * - saves and loads state (deep copies, validated against slot names and parameter sizes).
 *
 * `S` is the union of slot names, `G` the union of global names.
 */
export abstract class BaseOptimizer<S extends string = string, G extends string = never> implements Optimizer {
  /** Registry name, e.g. `"adam"`. */
  abstract readonly kind: string;
  /** Learning rate; schedules write it between steps. */
  lr: number;
  readonly weightDecay: number;
  readonly decoupledWeightDecay: boolean;
  /** Slot names, in declaration order. */
  readonly slotNames: readonly S[];
  /** Optimizer-wide state; subclasses read and write it (typically in {@link beginStep}). */
  protected readonly globals: Record<G, number>;
  private readonly initialGlobals: Readonly<Record<G, number>>;
  private readonly states = new Map<string, ParamState<S>>();
  private stepCount = 0;

  protected constructor(spec: BaseOptimizerSpec<S, G>) {
    this.lr = spec.lr;
    this.weightDecay = spec.weightDecay;
    this.decoupledWeightDecay = spec.decoupledWeightDecay;
    this.slotNames = spec.slots.slice();
    this.initialGlobals = { ...(spec.globals ?? {}) } as Record<G, number>;
    this.globals = { ...this.initialGlobals };
  }

  /** Steps taken so far (0 before the first step). */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * Per-parameter update, in place. `value` and `grad` have the same length; `grad` already includes
   * coupled weight decay. `slots` holds this parameter's buffers (same length). `t` is the 1-based
   * step number. Must not allocate: it runs for every parameter on every step.
   */
  protected abstract update(value: Float32Array, grad: Float32Array, slots: Record<S, Float32Array>, t: number): void;

  /** Called once per step, after the step counter advanced to `t` and before any {@link update}. */
  protected beginStep(_ctx: StepContext, _t: number): void {}

  /** Hyperparameters, enough to recreate the optimizer through its factory. */
  abstract getConfig(): Record<string, number | boolean | string>;

  /** Updates every `param.value` in place from `param.grad` (which is not modified). */
  step(params: readonly Param[], ctx: StepContext = NO_CONTEXT): void {
    const t = ++this.stepCount;
    this.beginStep(ctx, t);
    for (let i = 0; i < params.length; i++) {
      const param = params[i];
      const p = param.value.data;
      const g = param.grad.data;
      if (g.length !== p.length) {
        throw new Error(`${this.kind}: param "${param.name}" has ${p.length} values but its grad has ${g.length}`);
      }
      const state = this.stateFor(param.name, p.length);
      const decay = this.weightDecay * (param.decayMul ?? 1);
      if (decay === 0) {
        this.update(p, g, state.slots, t);
      } else if (this.decoupledWeightDecay) {
        const shrink = 1 - this.lr * decay;
        SHRINK.run(p.length, p, shrink);
        this.update(p, g, state.slots, t);
      } else {
        if (state.decayedGrad === null) state.decayedGrad = heapFloat32(p.length);
        const gd = state.decayedGrad;
        DECAY.run(p.length, gd, g, p, decay);
        this.update(p, gd, state.slots, t);
      }
    }
  }

  /** A deep copy of the step count, every parameter's slots and the globals. */
  stateDict(): OptimizerState {
    const slots: Record<string, Record<string, Float32Array>> = {};
    for (const [name, state] of this.states) {
      const copy: Record<string, Float32Array> = {};
      for (const s of this.slotNames) copy[s] = state.slots[s].slice();
      slots[name] = copy;
    }
    return { step: this.stepCount, slots, globals: { ...this.globals } };
  }

  /**
   * Restores a state from {@link stateDict} (copied, so the caller may reuse it). Throws, naming the
   * parameter and slot, if the slot names, globals or sizes do not match this optimizer. Parameters
   * already seen keep their slot buffers (values are copied in); parameters in the state but not yet
   * seen are checked against the parameter size on their first step.
   */
  loadStateDict(state: OptimizerState): void {
    const owner = `${this.kind}.loadStateDict`;
    if (state === null || typeof state !== 'object') throw new Error(`${owner}: state must be an object, got ${String(state)}`);
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`${owner}: step must be a non-negative integer, got ${JSON.stringify(state.step)}`);
    }
    const globals = this.checkGlobals(owner, state.globals ?? {});
    const slots = state.slots;
    if (slots === null || typeof slots !== 'object') throw new Error(`${owner}: slots must be an object, got ${String(slots)}`);
    // Validate everything before mutating, so a bad state leaves the optimizer untouched.
    const sizes = new Map<string, number>();
    for (const [name, record] of Object.entries(slots)) {
      const size = this.checkSlotRecord(owner, name, record);
      const existing = this.states.get(name);
      if (existing !== undefined && size >= 0 && existing.size >= 0 && size !== existing.size) {
        throw new Error(`${owner}: param "${name}" has ${existing.size} values but the saved slots have ${size}`);
      }
      sizes.set(name, size);
    }
    this.stepCount = state.step;
    Object.assign(this.globals, globals);
    const loaded = new Map<string, ParamState<S>>();
    for (const [name, size] of sizes) {
      const record = slots[name];
      const existing = this.states.get(name);
      if (existing !== undefined) {
        for (const s of this.slotNames) existing.slots[s].set(record[s]);
        loaded.set(name, existing);
      } else {
        const copy = {} as Record<S, Float32Array>;
        for (const s of this.slotNames) {
          copy[s] = heapFloat32(record[s].length);
          copy[s].set(record[s]);
        }
        loaded.set(name, { size, slots: copy, decayedGrad: null });
      }
    }
    this.states.clear();
    for (const [name, s] of loaded) this.states.set(name, s);
  }

  /** The slot buffers of a parameter (allocated on its first step), or undefined before that. For tests and tools. */
  slotsOf(paramName: string): Readonly<Record<S, Float32Array>> | undefined {
    return this.states.get(paramName)?.slots;
  }

  private stateFor(name: string, size: number): ParamState<S> {
    let state = this.states.get(name);
    if (state === undefined) {
      const slots = {} as Record<S, Float32Array>;
      for (const s of this.slotNames) slots[s] = heapFloat32(size);
      state = { size, slots, decayedGrad: null };
      this.states.set(name, state);
    } else if (state.size < 0) {
      state.size = size; // loaded from a slotless state: the size is learnt on the first step
    } else if (state.size !== size) {
      throw new Error(`${this.kind}: param "${name}" has ${size} values but its optimizer state has ${state.size}` +
        ' (two params share a name, or a loaded state belongs to another model)');
    }
    return state;
  }

  /** Checks one parameter's saved slots and returns their common length (-1 for an optimizer without slots). */
  private checkSlotRecord(owner: string, name: string, record: unknown): number {
    if (record === null || typeof record !== 'object') {
      throw new Error(`${owner}: slots of param "${name}" must be an object, got ${String(record)}`);
    }
    const keys = Object.keys(record);
    const r = record as Record<string, unknown>;
    const missing = this.slotNames.filter((s) => !(s in r));
    const extra = keys.filter((k) => !(this.slotNames as readonly string[]).includes(k));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(`${owner}: param "${name}" has slots [${keys.join(', ')}], expected [${this.slotNames.join(', ')}]`);
    }
    let size = -1;
    for (const s of this.slotNames) {
      const a = r[s];
      if (!(a instanceof Float32Array)) {
        throw new Error(`${owner}: slot "${s}" of param "${name}" must be a Float32Array, got ${Object.prototype.toString.call(a)}`);
      }
      if (size >= 0 && a.length !== size) {
        throw new Error(`${owner}: slots of param "${name}" differ in length (${size} vs ${a.length} for "${s}")`);
      }
      size = a.length;
    }
    return size;
  }

  private checkGlobals(owner: string, globals: Record<string, number>): Record<G, number> {
    const expected = Object.keys(this.initialGlobals);
    const got = Object.keys(globals);
    if (got.length !== expected.length || got.some((k) => !expected.includes(k))) {
      throw new Error(`${owner}: globals [${got.join(', ')}] do not match the expected [${expected.join(', ')}]`);
    }
    for (const k of got) {
      if (typeof globals[k] !== 'number' || Number.isNaN(globals[k])) {
        throw new Error(`${owner}: global "${k}" must be a number, got ${JSON.stringify(globals[k])}`);
      }
    }
    return { ...globals } as Record<G, number>;
  }
}
