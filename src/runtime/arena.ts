// arena.ts: the runtime's memory as a heap: float32 / float64 / int32 views (rebuilt when the memory
// grows), an arena of blocks that layers, parameters and optimizer slots live in (alloc / free, freed
// with their owner by the garbage collector), and bulk fill / copy through the module.
import { MAX_PAGES, PAGE_BYTES, type WasmMemory } from './module.js';

/** The module exports the arena uses. */
export interface ArenaExports {
  ensure(pages: number): number;
  copy(dst: number, src: number, bytes: number): void;
  fill(dst: number, bits: number, count: number): void;
}

/** A typed array that may be a view of the heap (only its buffer and offset matter). */
export type HeapArray = Float32Array | Int32Array;

/** See {@link Arena.stats}. */
export interface HeapStats {
  /** Arena blocks allocated so far (alloc calls, including freed blocks). */
  readonly allocations: number;
  /** Bytes in live blocks. */
  readonly liveBytes: number;
  /** Bytes the arena spans (live blocks and free gaps). */
  readonly arenaBytes: number;
}

const MAX_BYTES = MAX_PAGES * PAGE_BYTES;
/** Arena blocks start on 64-byte (cache-line) boundaries. */
const BLOCK_ALIGN = 64;
/** The float written by fillArray, and its bits. */
const FILL_BITS_F32 = new Float32Array(1);
const FILL_BITS_I32 = new Int32Array(FILL_BITS_F32.buffer);

/**
 * The heap over one module memory. Layout (bytes): [0, base) belongs to the runtime (thread
 * workspaces), then the arena's blocks and free gaps up to `top`; above `top` callers may use the
 * memory transiently (the gemm's operand regions) after {@link reserve}.
 */
export class Arena {
  private readonly memory: WasmMemory;
  private readonly exports: ArenaExports;
  private readonly shared: boolean;
  private readonly base: number;
  private heap: Float32Array;
  private heap64: Float64Array;
  private heap32: Int32Array;
  /** Every buffer object the memory has had (a shared memory's buffer is replaced, not detached, when it grows). */
  private readonly buffers: WeakSet<ArrayBufferLike>;
  /** End of the arena (its blocks and free gaps). */
  private arenaTop: number;
  /** Allocated blocks: address → bytes. */
  private readonly blocks: Map<number, number>;
  /** Free gaps below arenaTop, sorted by address: [address, bytes] pairs. */
  private readonly gaps: [number, number][];
  /** Frees the blocks of owners that were garbage-collected without releasing them. */
  private readonly registry: FinalizationRegistry<number[]>;
  /** Calls of {@link alloc} so far. */
  allocations = 0;
  /** Bytes in live blocks (kept as a count so that reading it costs nothing). */
  liveBytes = 0;
  /** Called after the memory grew (the views were rebuilt). */
  onGrow: (() => void) | null = null;

  constructor(memory: WasmMemory, exports: ArenaExports, shared: boolean, base: number) {
    this.memory = memory;
    this.exports = exports;
    this.shared = shared;
    this.base = base;
    this.heap = new Float32Array(memory.buffer);
    this.heap64 = new Float64Array(memory.buffer, 0, memory.buffer.byteLength / 8);
    this.heap32 = new Int32Array(memory.buffer);
    this.buffers = new WeakSet([memory.buffer]);
    this.arenaTop = base;
    this.blocks = new Map();
    this.gaps = [];
    this.registry = new FinalizationRegistry((addresses) => { for (const a of addresses) this.free(a); });
  }

  /** The heap as float32 / float64 / int32 views (rebuilt when the memory grows: read them again after an alloc). */
  get f32(): Float32Array { return this.heap; }
  get f64(): Float64Array { return this.heap64; }
  get i32(): Int32Array { return this.heap32; }
  /** End of the arena: memory above it is free for transient use (see {@link reserve}). */
  get top(): number { return this.arenaTop; }

  /** Whether `array` is a view of this memory (an arena block) and the memory is shared, so kernels and threads can use it in place. */
  inHeap(array: HeapArray): boolean {
    const buffer = array.buffer;
    return this.shared && (buffer === this.heap.buffer || this.buffers.has(buffer));
  }

  /** The byte address of `array` when it is a view of the heap, else −1. */
  addressOf(array: HeapArray): number {
    return this.inHeap(array) ? array.byteOffset : -1;
  }

  /** Grows the memory to hold `bytes`; throws naming `what` when wasm32 cannot. */
  reserve(bytes: number, what: string): void {
    if (bytes > MAX_BYTES || this.exports.ensure(Math.ceil(bytes / PAGE_BYTES)) === 0) {
      throw new RangeError(`tensorkit runtime: cannot grow WebAssembly memory to ${bytes} bytes for ${what} (the limit is 4 GiB)`);
    }
    if (this.heap.byteLength !== this.memory.buffer.byteLength) {
      // Grown: the old view is detached (unshared) or too short (shared). Rebuild the views.
      this.heap = new Float32Array(this.memory.buffer);
      this.heap64 = new Float64Array(this.memory.buffer, 0, this.memory.buffer.byteLength / 8);
      this.heap32 = new Int32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
      this.onGrow?.();
    }
  }

  /** Fills `array` with `value`: through the module when it is a view of this memory (fast), else TypedArray fill. */
  fillArray(array: Float32Array, value: number): void {
    if (array.length === 0) return;
    if (!this.inHeap(array)) {
      array.fill(value);
      return;
    }
    FILL_BITS_F32[0] = value;
    this.exports.fill(array.byteOffset, FILL_BITS_I32[0], array.length);
  }

  /** dst.set(src) (src no longer than dst), through the module's memory.copy when both are views of this memory. */
  copyArray(dst: Float32Array, src: Float32Array): void {
    if (this.inHeap(dst) && this.inHeap(src)) this.exports.copy(dst.byteOffset, src.byteOffset, src.length << 2);
    else dst.set(src);
  }

  /**
   * Allocates a zero-filled block of at least `bytes` bytes (64-byte aligned) and returns its
   * address; it stays put until freed (growing the memory never moves it). With `owner`, the block is
   * freed when the owner is garbage-collected, unless {@link free}d first.
   */
  alloc(bytes: number, owner?: object): number {
    const size = Math.ceil(Math.max(bytes, 1) / BLOCK_ALIGN) * BLOCK_ALIGN;
    let address = -1;
    for (let g = 0; g < this.gaps.length; g++) {
      const [start, length] = this.gaps[g];
      if (length < size) continue;
      address = start;
      if (length === size) this.gaps.splice(g, 1);
      else this.gaps[g] = [start + size, length - size];
      break;
    }
    if (address < 0) {
      address = this.arenaTop;
      this.reserve(address + size, `a heap block of ${bytes} bytes`);
      this.arenaTop = address + size;
    }
    this.blocks.set(address, size);
    this.allocations++;
    this.liveBytes += size;
    this.exports.fill(address, 0, size >>> 2);
    if (owner !== undefined) this.registry.register(owner, [address], owner);
    return address;
  }

  /** Frees the block at `address` when `owner` is garbage-collected. */
  freeWith(owner: object, address: number): void {
    this.registry.register(owner, [address]);
  }

  /** Frees a block of {@link alloc} (unknown addresses are ignored); `owner` cancels its GC hook. */
  free(address: number, owner?: object): void {
    if (owner !== undefined) this.registry.unregister(owner);
    const size = this.blocks.get(address);
    if (size === undefined) return;
    this.blocks.delete(address);
    this.liveBytes -= size;
    let g = 0;
    while (g < this.gaps.length && this.gaps[g][0] < address) g++;
    this.gaps.splice(g, 0, [address, size]);
    // Merge with the neighbours, then give a gap at the top back to the transient region.
    if (g + 1 < this.gaps.length && this.gaps[g][0] + this.gaps[g][1] === this.gaps[g + 1][0]) {
      this.gaps[g][1] += this.gaps[g + 1][1];
      this.gaps.splice(g + 1, 1);
    }
    if (g > 0 && this.gaps[g - 1][0] + this.gaps[g - 1][1] === this.gaps[g][0]) {
      this.gaps[g - 1][1] += this.gaps[g][1];
      this.gaps.splice(g, 1);
      g--;
    }
    const last = this.gaps[this.gaps.length - 1];
    if (last !== undefined && last[0] + last[1] === this.arenaTop) {
      this.arenaTop = last[0];
      this.gaps.pop();
    }
  }

  /** Arena accounting: blocks allocated so far (calls), bytes in live blocks, bytes of the arena (blocks and gaps). */
  stats(): HeapStats {
    return { allocations: this.allocations, liveBytes: this.liveBytes, arenaBytes: this.arenaTop - this.base };
  }
}
