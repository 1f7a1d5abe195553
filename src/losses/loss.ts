// The Loss plugin interface and its registry.
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Tensor } from '../tensor/tensor.js';

/** A loss: mean over the batch. Holds only the references of its last forward call (for backward). */
export interface Loss {
  readonly kind: string;
  /** Returns the loss of `pred` (e.g. logits `[batch, classes]`) against `target`. */
  forward(pred: Tensor, target: Tensor): number;
  /** dL/dpred of the last forward: written into `out` if given, else into a loss-owned buffer. */
  backward(out?: Tensor): Tensor;
  getConfig(): Record<string, unknown>;
}

export type LossFactory = (config?: Record<string, unknown>) => Loss;

export const lossRegistry = createRegistry<LossFactory>('loss');

export function registerLoss(name: string, factory: LossFactory, options?: RegisterOptions): void {
  lossRegistry.register(name, factory, options);
}

/** Creates a registered loss (`'cross-entropy'`, `'mse'`, or a user-registered name). */
export function createLoss(name: string, config: Record<string, unknown> = {}): Loss {
  return lossRegistry.get(name)(config);
}

export function lossNames(): string[] {
  return lossRegistry.names();
}

/** Receives the losses' warnings (e.g. probabilities given to a logits loss); `null` drops them. */
export type LossWarningHandler = ((message: string) => void) | null;

let warningHandler: LossWarningHandler = (message) => console.warn(`tensorkit: ${message}`);

/**
 * Sets where the built-in losses' warnings go and returns the previous handler. The default prints
 * them with `console.warn` (prefixed "tensorkit: "); pass a function to collect or raise them, or
 * `null` to silence them. Each loss instance warns at most once per kind of problem.
 */
export function setLossWarningHandler(handler: LossWarningHandler): LossWarningHandler {
  const previous = warningHandler;
  warningHandler = handler;
  return previous;
}

/** Sends a warning to the handler set by {@link setLossWarningHandler}. */
export function lossWarning(message: string): void {
  warningHandler?.(message);
}
