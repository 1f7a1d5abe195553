// The Initializer plugin interface and its registry: pure fill functions.
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** Fan sizes of a weight: for Dense `[out, in]` fanIn = in; for Conv2D fanIn = inC·kH·kW, fanOut = outC·kH·kW. */
export interface Fan {
  readonly fanIn: number;
  readonly fanOut: number;
}

/** Fills `out` in place. */
export type Initializer = (out: Tensor, fan: Fan, rng: Rng) => void;

/** Makes an initializer from a (partial) config, e.g. `{ gain: 2 }` or `{ std: 0.01 }`. */
export type InitializerFactory = (config?: Record<string, unknown>) => Initializer;

export const initializerRegistry = createRegistry<InitializerFactory>('initializer');

export function registerInitializer(name: string, factory: InitializerFactory, options?: RegisterOptions): void {
  initializerRegistry.register(name, factory, options);
}

/** An initializer spec: a registered name, or `{ name, ...config }`. */
export type InitializerSpec = string | ({ name: string } & Record<string, unknown>);

/** Resolves a name or `{ name, ...config }` to an initializer function. */
export function createInitializer(spec: InitializerSpec, config: Record<string, unknown> = {}): Initializer {
  if (typeof spec === 'string') return initializerRegistry.get(spec)(config);
  if (spec && typeof spec === 'object' && typeof spec.name === 'string') {
    const { name, ...rest } = spec;
    return initializerRegistry.get(name)({ ...rest, ...config });
  }
  throw new Error(`initializer must be a name or { name, ...config }, got ${JSON.stringify(spec)}`);
}

export function initializerNames(): string[] {
  return initializerRegistry.names();
}
