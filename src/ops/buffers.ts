// buffers.ts: where op results and gradients get their memory. Outside a StepBuffers round each one is
// a fresh shared-heap array (freed when garbage-collected); inside, a repeated computation (a training
// step) gets back the arrays of its previous round in order, so a steady loop allocates nothing.
import { fillFloat32, heapFloat32 } from '../runtime/heap.js';

let active: StepBuffers | null = null;

/**
 * A zero-filled float32 array for an op's result, saved state or gradient: from the active
 * {@link StepBuffers} round when there is one, otherwise a fresh shared-heap array.
 */
export function opArray(length: number): Float32Array {
  return active === null ? heapFloat32(length) : active.take(length);
}

/**
 * Recycles the memory of a computation repeated with the same shapes, such as a training step over
 * ops. Requests made inside {@link StepBuffers.run} are numbered from the last {@link StepBuffers.reset};
 * request i gets the array request i got in the previous round when its length matches (zero-filled
 * again), or a new one that replaces it. So after the first round a steady loop allocates no memory
 * and the shared heap stays the size of one step, instead of growing until the garbage collector and
 * the event loop get round to freeing arrays.
 *
 * The contract, as with a layer's output buffer: op results made in a round stay valid until the next
 * `reset` of the same StepBuffers. Copy a result (`value.data.slice()`) to keep it longer. Only op
 * results and gradients come from here; parameters, a layer's own buffers and `.grad` of leaves are
 * allocated as usual and live as long as their owners.
 *
 * `fit`, `evaluate` and `predict` of a Module use one for training steps and one for evaluation. In a
 * loop of your own:
 * ```ts
 * const buffers = new StepBuffers();
 * for (const [x, y] of batches) {
 *   buffers.reset();
 *   buffers.run(() => { ops.crossEntropy(model.forward(x), y).backward(); });
 *   optimizer.step(model.params());
 * }
 * ```
 */
export class StepBuffers {
  private readonly arrays: Float32Array[] = [];
  private next = 0;

  /** Starts a new round: the next requests get the previous round's arrays again, from the first. */
  reset(): void {
    this.next = 0;
  }

  /** Runs `fn` with op results drawn from this pool (continuing the current round); restores the previous pool after. */
  run<T>(fn: () => T): T {
    const previous = active;
    active = this;
    try {
      return fn();
    } finally {
      active = previous;
    }
  }

  /** Arrays held (the length of the longest round so far). */
  get size(): number {
    return this.arrays.length;
  }

  /** Internal: the next array of the round, `length` floats, zero-filled. */
  take(length: number): Float32Array {
    const i = this.next++;
    const reuse = this.arrays[i];
    if (reuse !== undefined && reuse.length === length) {
      fillFloat32(reuse, 0);
      return reuse;
    }
    // First round, or this request changed size (the last, smaller batch of an epoch): a new array;
    // the one it replaces is freed when nothing else holds it.
    const fresh = heapFloat32(length);
    this.arrays[i] = fresh;
    return fresh;
  }
}
