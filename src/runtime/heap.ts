// heap.ts: the shared heap as the library and plugins use it: arrays allocated in the runtime's shared
// WebAssembly memory (so gemm uses them in place, the kernel table runs SIMD code on them and worker
// threads can share the work), freed with the array by the garbage collector; fill and copy that stay
// fast on shared memory; and the lower-level view engines such as Conv2D's use.
import type { HeapArray, HeapStats } from './arena.js';
import type { HeapCopy, HeapGemm } from './conv-tasks.js';
import { sharedRuntime, type Runtime } from './tasks.js';

export type { HeapArray, HeapStats } from './arena.js';

/**
 * The shared heap at the level of addresses (null without a shared memory): views of the whole memory
 * (`f32`, `f64`, `i32`, replaced when it grows: read them again after an `alloc`), blocks (`alloc` /
 * `free`), the module's gemm and copy on addresses, and `runTasks` for the task ids of tasks.ts.
 */
export interface SharedHeap {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly gemm: HeapGemm;
  readonly copy: HeapCopy;
  /** Thread slots (one per core): a task runs in slot 0 (the caller) … slots − 1, each with its own scratch. */
  readonly slots: number;
  alloc(bytes: number, owner?: object): number;
  free(address: number, owner?: object): void;
  runTasks(op: number, desc: number, chunks: number): void;
  /** The byte address of `array` when it is a view of the heap, else −1. */
  addressOf(array: HeapArray): number;
}

class HeapView implements SharedHeap {
  constructor(readonly rt: Runtime) {}
  get f32(): Float32Array { return this.rt.arena.f32; }
  get f64(): Float64Array { return this.rt.arena.f64; }
  get i32(): Int32Array { return this.rt.arena.i32; }
  get gemm(): HeapGemm { return this.rt.gemmAt; }
  get copy(): HeapCopy { return this.rt.copyAt; }
  get slots(): number { return this.rt.slots; }
  alloc(bytes: number, owner?: object): number { return this.rt.arena.alloc(bytes, owner); }
  free(address: number, owner?: object): void { this.rt.arena.free(address, owner); }
  runTasks(op: number, desc: number, chunks: number): void { this.rt.runTasks(op, desc, chunks); }
  addressOf(array: HeapArray): number { return this.rt.arena.addressOf(array); }
}

let view: HeapView | null = null;

/** See {@link SharedHeap}. */
export function sharedHeap(): SharedHeap | null {
  const rt = sharedRuntime();
  if (rt === null) return null;
  if (view === null || view.rt !== rt) view = new HeapView(rt);
  return view;
}

/**
 * A zero-filled Float32Array of `length` floats in the shared heap when there is one, so gemm uses it
 * in place, kernels run their SIMD code on it and worker threads can share the work; its block is
 * freed when the array is garbage-collected. Falls back to an ordinary Float32Array without a shared
 * heap or when the heap cannot grow (wasm32 caps it at 4 GiB). Keep the returned array referenced
 * while any view of it (subarray) is in use: the block is freed when this object goes, not its views.
 */
export function heapFloat32(length: number): Float32Array {
  const rt = sharedRuntime();
  if (rt === null || length === 0) return new Float32Array(length);
  let address: number;
  try {
    address = rt.arena.alloc(4 * length);
  } catch {
    return new Float32Array(length);
  }
  const array = rt.arena.f32.subarray(address >>> 2, (address >>> 2) + length);
  rt.arena.freeWith(array, address);
  return array;
}

/** Int views of heap blocks → the float views that own the blocks. */
const HEAP_INT_OWNERS = new WeakMap<Int32Array, Float32Array>();

/** A zero-filled Int32Array of `length` values in the shared heap (see {@link heapFloat32}, same fallback and lifetime rule). */
export function heapInt32(length: number): Int32Array {
  const floats = heapFloat32(length);
  const ints = new Int32Array(floats.buffer, floats.byteOffset, length);
  // The block is freed with the float view: keep it reachable from the int view.
  HEAP_INT_OWNERS.set(ints, floats);
  return ints;
}

/** Whether `array` lives in the shared heap (so kernels run their SIMD code on it, split over threads). */
export function isHeapArray(array: HeapArray): boolean {
  const rt = sharedRuntime();
  return rt !== null && rt.arena.inHeap(array);
}

/** Arena accounting of the shared heap (zeros without one): steady-state training allocates no blocks. */
export function heapStats(): HeapStats {
  const rt = sharedRuntime();
  return rt !== null ? rt.arena.stats() : { allocations: 0, liveBytes: 0, arenaBytes: 0 };
}

/**
 * `array.fill(value)`, but through the WebAssembly module when the array lives in the shared heap:
 * engines fill a shared buffer element by element with atomic stores (measured 25× slower).
 */
export function fillFloat32(array: Float32Array, value: number): void {
  const rt = sharedRuntime();
  if (rt !== null) rt.arena.fillArray(array, value);
  else array.fill(value);
}

/** `dst.set(src)` (src no longer than dst), through memory.copy when both live in the shared heap. */
export function copyFloat32(dst: Float32Array, src: Float32Array): void {
  const rt = sharedRuntime();
  if (rt !== null && src.length <= dst.length) rt.arena.copyArray(dst, src);
  else dst.set(src);
}
