// StepGuard: makes an optimizer step all-or-nothing with respect to non-finite weights. Before the
// step it copies every parameter and the optimizer's slots into buffers it owns (in the shared heap);
// after the step one read-only pass checks the updated weights, and a NaN or infinity restores both.
// The copies and the check are the finite-pass kernel, split over the threads like any kernel (at
// memory speed with SIMD; a loop on the calling thread was ~8% of a small conv net's step).
import type { Optimizer, OptimizerState } from '../optimizers/optimizer.js';
import { copyFloat32, heapFloat32 } from '../plugin/index.js';
import { FINITE_PASS, FINITE_PLANE, finitePlanes } from '../runtime/finite-kernel.js';
import type { Param } from '../tensor/param.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What a guard needs from the optimizer to snapshot its state without allocating: the slot buffers
 * per parameter and the step count (BaseOptimizer and every built-in provide them). The optimizer-wide
 * `globals` record (NAdam's μ product, Eve's d) is read as a plain field when present. Optimizers
 * without these fall back to `stateDict()` before each step (a deep copy: correct, but it allocates).
 */
interface SlottedOptimizer extends Optimizer {
  readonly steps: number;
  slotsOf(paramName: string): Readonly<Record<string, Float32Array>> | undefined;
}

function isSlotted(o: Optimizer): o is SlottedOptimizer {
  const s = o as Partial<SlottedOptimizer>;
  return typeof s.slotsOf === 'function' && typeof s.steps === 'number';
}

/**
 * Snapshots parameters and optimizer state before a step and restores them if the step left a
 * non-finite weight. Buffers are allocated on the first step (and again only if a parameter's size
 * changes), so steady-state training allocates nothing.
 */
export class StepGuard {
  private values: Float32Array[] = [];
  // Per parameter: its slots' copies by slot name, or null where the optimizer had no state for it yet.
  private slots: (Record<string, Float32Array> | null)[] = [];
  private slotsPresent: boolean[] = [];
  private step = 0;
  private globals: Record<string, number> | null = null;
  private fallback: OptimizerState | null = null;
  private bufferCopies: Float32Array[] = [];
  /** The finite pass's flags: 4 floats per plane of the largest array seen. */
  private flags: Float32Array = new Float32Array(0);

  /** `dst.set(src)` through the finite pass (split over the threads); src no longer than dst. */
  private copy(dst: Float32Array, src: Float32Array): void {
    this.ensureFlags(src.length);
    FINITE_PASS.runPlanes(finitePlanes(src.length), FINITE_PLANE, dst, src, this.flags, src.length, 1);
  }

  /** True when every element of `d` is finite: the finite pass without the copy, then its flags. */
  private finite(d: Float32Array): boolean {
    this.ensureFlags(d.length);
    FINITE_PASS.runPlanes(finitePlanes(d.length), FINITE_PLANE, d, d, this.flags, d.length, 0);
    // The flags are +0 or NaN; the sum stays +0 only when all are (no subarray: nothing allocated per call).
    const flags = this.flags;
    let s = 0;
    for (let i = 4 * finitePlanes(d.length) - 1; i >= 0; i--) s += flags[i];
    return s === 0;
  }

  private ensureFlags(n: number): void {
    const need = 4 * finitePlanes(n);
    if (this.flags.length < need) this.flags = heapFloat32(need);
  }

  /** Copies the model's buffers (running statistics), before the training forward changes them. */
  captureBuffers(buffers: readonly { readonly value: Tensor }[]): void {
    if (this.bufferCopies.length !== buffers.length) this.bufferCopies = buffers.map((b) => new Float32Array(b.value.size));
    for (let i = 0; i < buffers.length; i++) {
      const v = buffers[i].value.data;
      if (this.bufferCopies[i].length !== v.length) this.bufferCopies[i] = new Float32Array(v.length);
      this.bufferCopies[i].set(v);
    }
  }

  /** Puts back the buffers of the last {@link captureBuffers}. */
  restoreBuffers(buffers: readonly { readonly value: Tensor }[]): void {
    for (let i = 0; i < buffers.length; i++) buffers[i].value.data.set(this.bufferCopies[i]);
  }

  /** Copies every `params[i].value` and the optimizer's state into the guard's buffers. */
  capture(params: readonly Param[], optimizer: Optimizer): void {
    if (this.values.length !== params.length) {
      this.values = params.map((p) => heapFloat32(p.value.size));
      this.slots = params.map(() => null);
      this.slotsPresent = params.map(() => false);
    }
    for (let i = 0; i < params.length; i++) {
      const v = params[i].value.data;
      if (this.values[i].length !== v.length) this.values[i] = heapFloat32(v.length);
      this.copy(this.values[i], v);
    }
    if (!isSlotted(optimizer)) {
      this.fallback = optimizer.stateDict();
      return;
    }
    this.step = optimizer.steps;
    const globals = (optimizer as unknown as { globals?: Record<string, number> }).globals;
    if (globals !== undefined && globals !== null) {
      if (this.globals === null) this.globals = { ...globals };
      else for (const k in globals) this.globals[k] = globals[k];
    }
    for (let i = 0; i < params.length; i++) {
      const live = optimizer.slotsOf(params[i].name);
      this.slotsPresent[i] = live !== undefined;
      if (live === undefined) continue;
      let mine = this.slots[i];
      if (mine === null) {
        mine = {};
        this.slots[i] = mine;
      }
      for (const name in live) {
        const src = live[name];
        let dst = mine[name];
        if (dst === undefined || dst.length !== src.length) {
          dst = heapFloat32(src.length);
          mine[name] = dst;
        }
        this.copy(dst, src);
      }
    }
  }

  /**
   * Index of the first parameter whose value holds a NaN or an infinity, or -1. One read-only pass
   * over the weights, stopping at the first bad parameter.
   */
  firstNonFinite(params: readonly Param[]): number {
    for (let i = 0; i < params.length; i++) if (!this.finite(params[i].value.data)) return i;
    return -1;
  }

  /** Puts back the weights and the optimizer state of the last {@link capture}. */
  restore(params: readonly Param[], optimizer: Optimizer): void {
    for (let i = 0; i < params.length; i++) copyFloat32(params[i].value.data, this.values[i]);
    if (this.fallback !== null && !isSlotted(optimizer)) {
      optimizer.loadStateDict(this.fallback);
      return;
    }
    // Parameters the optimizer had not seen before the step are left out, so their slots start
    // fresh again on the next step, as they would have.
    const slots: Record<string, Record<string, Float32Array>> = {};
    for (let i = 0; i < params.length; i++) {
      const mine = this.slots[i];
      if (this.slotsPresent[i] && mine !== null) slots[params[i].name] = mine;
    }
    optimizer.loadStateDict({ step: this.step, slots, globals: this.globals === null ? {} : { ...this.globals } });
  }
}
