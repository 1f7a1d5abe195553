// buffers.ts: where op results and gradients get their memory. Outside a StepBuffers round each one is
// a fresh shared-heap array (freed when garbage-collected); inside, a repeated computation (a training
// step) gets back the arrays of its previous round in order, so a steady loop allocates nothing.
import { fillFloat32, heapFloat32, heapInt32, heapStats } from '../runtime/heap.js';

let active: StepBuffers | null = null;

/**
 * Shared-heap bytes in live blocks above which op results made outside a {@link StepBuffers} round are
 * ordinary arrays. Heap blocks are freed only when the garbage collector has run and the event loop
 * has turned, so a synchronous loop of ops outside a round would otherwise grow the heap to its 4 GiB
 * cap; past this mark such results go to JavaScript memory, which the collector reclaims by itself
 * (kernels then run their TypeScript twins on them: same bits, slower).
 */
export const OP_HEAP_SOFT_LIMIT = 1 << 30;
let softLimit = OP_HEAP_SOFT_LIMIT;

/** Sets the mark of {@link OP_HEAP_SOFT_LIMIT} (bytes; for tests and memory-tight hosts); returns the previous one. */
export function setOpHeapSoftLimit(bytes: number): number {
  if (!(bytes >= 0)) throw new RangeError(`setOpHeapSoftLimit: bytes must be ≥ 0, got ${bytes}`);
  const previous = softLimit;
  softLimit = bytes;
  return previous;
}

/**
 * A zero-filled float32 array for an op's result, saved state or gradient: from the active
 * {@link StepBuffers} round when there is one, otherwise a fresh shared-heap array (an ordinary one
 * once the heap holds {@link OP_HEAP_SOFT_LIMIT} bytes).
 */
export function opArray(length: number): Float32Array {
  if (active !== null) return active.take(length);
  return heapStats().liveBytes < softLimit ? heapFloat32(length) : new Float32Array(length);
}

/**
 * As {@link opArray}, for an array the caller overwrites in full before anything reads it (a gemm
 * without accumulate, an elementwise map, a copy): a recycled array keeps the previous round's values
 * instead of being zero-filled again, which would cost a pass over memory for nothing. Never use it
 * for an array an op accumulates into or writes only in part: stale values would leak into results.
 */
export function opArrayUninit(length: number): Float32Array {
  if (active !== null) return active.take(length, false);
  return heapStats().liveBytes < softLimit ? heapFloat32(length) : new Float32Array(length);
}

/**
 * As {@link opArray}, for int32 state an op keeps for backward (max pooling's argmax); `overwrite` as
 * {@link opArrayUninit}: the op writes every element, so a recycled array is not zero-filled.
 */
export function opInt32Array(length: number, overwrite = false): Int32Array {
  if (active !== null) {
    const floats = active.take(length, !overwrite); // held by the pool, so the view's block stays allocated
    return new Int32Array(floats.buffer, floats.byteOffset, length);
  }
  return heapStats().liveBytes < softLimit ? heapInt32(length) : new Int32Array(length);
}

/**
 * Recycles the memory of a computation repeated with the same shapes, such as a training step over
 * ops. Requests made inside {@link StepBuffers.run} are numbered from the last {@link StepBuffers.reset};
 * request i gets the array request i got in the previous round when its length matches (zero-filled
 * again, unless the op asked through {@link opArrayUninit} because it overwrites every element), or a
 * new one that replaces it. So after the first round a steady loop allocates no memory
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

  /**
   * Internal: the next array of the round, `length` floats, zero-filled; with `zero` false a recycled
   * array keeps its previous contents (for a caller that overwrites every element).
   */
  take(length: number, zero = true): Float32Array {
    const i = this.next++;
    const reuse = this.arrays[i];
    if (reuse !== undefined && reuse.length === length) {
      if (zero) fillFloat32(reuse, 0);
      return reuse;
    }
    // First round, or this request changed size (the last, smaller batch of an epoch): a new array;
    // the one it replaces is freed when nothing else holds it.
    const fresh = heapFloat32(length);
    this.arrays[i] = fresh;
    return fresh;
  }
}
