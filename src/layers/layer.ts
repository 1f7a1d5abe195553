// The Layer plugin interface and its registry.
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Param } from '../tensor/param.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** A named non-trainable tensor saved in the state dict (BatchNorm's `running_mean`, …). */
export interface Buffer {
  readonly name: string;
  readonly value: Tensor;
}

/**
 * A layer: owns its parameters, their gradients, the activations it caches for backward and its
 * scratch buffers. Shapes exclude the batch axis in `build`, include it in `forward`/`backward`.
 */
export interface Layer {
  /** Registry name, e.g. `"conv2d"`. */
  readonly kind: string;
  /** Allocates parameters for a per-sample input shape (e.g. `[1, 28, 28]`); returns the per-sample output shape. */
  build(inputShape: readonly number[], rng: Rng): readonly number[];
  /** Forward pass on `[batch, ...inputShape]`; the result is a layer-owned buffer valid until the next forward. */
  forward(x: Tensor, training: boolean): Tensor;
  /**
   * Backward pass from dL/dy; accumulates parameter gradients (+=) and returns a layer-owned dL/dx.
   * With `needInputGrad === false` (the model's first layer with parameters, in a training step) a
   * layer may skip computing dL/dx; the returned tensor's contents are then unspecified.
   */
  backward(dy: Tensor, needInputGrad?: boolean): Tensor;
  /** Trainable parameters with local names (`"weight"`, `"bias"`); empty for parameter-free layers. */
  params(): readonly Param[];
  /** Non-trainable state saved in the state dict (optional). */
  buffers?(): readonly Buffer[];
  /** Enough configuration to rebuild the layer through the registry. */
  getConfig(): Record<string, unknown>;
  /**
   * Fusion hook (optional): whether {@link forwardFused} can apply `next`, the layer that follows in a
   * model, in the same pass (Conv2D and Dense absorb a following ReLU). A model then calls
   * `next.passThrough(this.forwardFused(x, training, next))` instead of the two forwards, and backward
   * as usual: `next.backward` passes dy through and this layer's backward applies `next`'s part.
   */
  fuses?(next: Layer): boolean;
  /** Forward with `next` fused in; only called where {@link fuses} returned true. Same bits as the two forwards. */
  forwardFused?(x: Tensor, training: boolean, next: Layer): Tensor;
  /**
   * Takes `y`, computed by the previous layer's {@link forwardFused}, as this layer's output; the next
   * backward then returns dy unchanged (the previous layer applies this layer's gradient).
   */
  passThrough?(y: Tensor): Tensor;
}

/** Builds a layer from a (partial) config. */
export type LayerFactory = (config?: Record<string, unknown>) => Layer;

/** The layer registry. */
export const layerRegistry = createRegistry<LayerFactory>('layer');

/** Registers a layer factory by name (lower-case kebab), as the built-ins do. */
export function registerLayer(name: string, factory: LayerFactory, options?: RegisterOptions): void {
  layerRegistry.register(name, factory, options);
}

/** Creates a registered layer from its name and config. */
export function createLayer(name: string, config: Record<string, unknown> = {}): Layer {
  return layerRegistry.get(name)(config);
}

/** Names of registered layers. */
export function layerNames(): string[] {
  return layerRegistry.names();
}
