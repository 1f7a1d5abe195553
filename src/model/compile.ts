// compile's options, shared by Sequential and Module: an optimizer and a loss given by registry name,
// `{ name, ...config }` or instance, and the metric names, each checked with a named error.
import { createLoss, type Loss } from '../losses/index.js';
import { createOptimizer, type Optimizer } from '../optimizers/index.js';
import { METRIC_NAMES } from '../train/metrics.js';

/** A registry name, `{ name, ...config }`, or a ready instance. */
export type Spec<T> = string | ({ name: string } & Record<string, unknown>) | T;

/** Options of `compile` (Sequential and Module). */
export interface CompileOptions {
  readonly optimizer: Spec<Optimizer>;
  readonly loss: Spec<Loss>;
  /** Only `'accuracy'` so far. */
  readonly metrics?: readonly string[];
}

function resolve<T>(what: string, spec: Spec<T>, create: (name: string, config: Record<string, unknown>) => T, isInstance: (v: unknown) => boolean): T {
  if (typeof spec === 'string') return create(spec, {});
  if (isInstance(spec)) return spec as T;
  if (spec && typeof spec === 'object' && typeof (spec as { name?: unknown }).name === 'string') {
    const { name, ...config } = spec as { name: string } & Record<string, unknown>;
    return create(name, config);
  }
  throw new Error(`compile: ${what} must be a registered name, { name, ...config } or an instance, got ${JSON.stringify(spec)}`);
}

/** The optimizer, loss and metrics of `compile(options)`, resolved through the registries and checked. */
export function resolveCompileOptions(options: CompileOptions): { optimizer: Optimizer; loss: Loss; metrics: string[] } {
  if (!options || typeof options !== 'object') throw new Error('compile: options { optimizer, loss } are required');
  const optimizer = resolve('optimizer', options.optimizer, createOptimizer, (v) => typeof (v as Optimizer)?.step === 'function');
  const loss = resolve('loss', options.loss, createLoss, (v) => typeof (v as Loss)?.forward === 'function');
  const metrics = options.metrics ?? ['accuracy'];
  for (const m of metrics) {
    if (!(METRIC_NAMES as readonly string[]).includes(m)) throw new Error(`compile: unknown metric ${JSON.stringify(m)}; known: ${METRIC_NAMES.join(', ')}`);
  }
  return { optimizer, loss, metrics: metrics.slice() };
}
