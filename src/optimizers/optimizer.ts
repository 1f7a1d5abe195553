// The Optimizer plugin interface, its state format and its registry.
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Param } from '../tensor/param.js';

/** Context of one optimizer step. */
export interface StepContext {
  /** The current mini-batch loss, for loss-driven methods such as Eve. */
  readonly loss?: number;
}

/** Serializable optimizer state: step count, per-parameter slots, optimizer-wide numbers. */
export interface OptimizerState {
  step: number;
  slots: Record<string, Record<string, Float32Array>>;
  globals: Record<string, number>;
}

/** An optimizer: owns its per-parameter slots and step counter, and nothing else. */
export interface Optimizer {
  readonly kind: string;
  /** Learning rate; schedules write it between steps. */
  lr: number;
  /** Updates every `param.value` in place from `param.grad`. */
  step(params: readonly Param[], ctx?: StepContext): void;
  getConfig(): Record<string, number | boolean | string>;
  stateDict(): OptimizerState;
  loadStateDict(state: OptimizerState): void;
}

export type OptimizerFactory = (config?: Record<string, unknown>) => Optimizer;

export const optimizerRegistry = createRegistry<OptimizerFactory>('optimizer');

/** Registers an optimizer by name; `createOptimizer(name)` and `compile({ optimizer: name })` then find it. */
export function registerOptimizer(name: string, factory: OptimizerFactory, options?: RegisterOptions): void {
  optimizerRegistry.register(name, factory, options);
}

/** Creates a registered optimizer from its name and a partial config (merged onto its defaults). */
export function createOptimizer(name: string, config: Record<string, unknown> = {}): Optimizer {
  return optimizerRegistry.get(name)(config);
}

export function optimizerNames(): string[] {
  return optimizerRegistry.names();
}
