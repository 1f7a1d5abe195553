// module.ts: loads the runtime's WebAssembly module (kernels.wat, embedded as bytes) and chooses its
// variant: relaxed SIMD (fused multiply-adds) where the engine validates it, else plain SIMD; over a
// shared memory where SharedArrayBuffer exists (worker threads can join), else an unshared one.
import {
  KERNELS_RELAXED_UNSHARED_WASM, KERNELS_RELAXED_WASM, KERNELS_SIMD_UNSHARED_WASM, KERNELS_SIMD_WASM,
} from './kernels-wasm.generated.js';

/** Which module variant runs: `relaxed-simd` (multiply-adds may fuse) or plain `simd`. */
export type WasmVariant = 'relaxed-simd' | 'simd';

// The tsconfig lib (ES2022, no DOM) has no WebAssembly types: declare the little used here.
export interface WasmModule { readonly __wasmModule?: never }
export interface WasmMemory { readonly buffer: ArrayBufferLike }
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

/** The memory's declared maximum (kernels.wat): 65536 pages of 64 KiB, all of wasm32's 4 GiB. */
export const MAX_PAGES = 65536;
/** Bytes per WebAssembly page. */
export const PAGE_BYTES = 65536;

/** A compiled module, its memory and its instance's exports. */
export interface LoadedModule<Exports> {
  readonly variant: WasmVariant;
  readonly shared: boolean;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly exports: Exports;
}

function decodeBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The first of the candidate modules (relaxed before plain SIMD) that validates. */
function pickModule(relaxedBytes: string, simdBytes: string): [Uint8Array, WasmVariant] | null {
  const relaxed = decodeBase64(relaxedBytes);
  if (WebAssembly.validate(relaxed)) return [relaxed, 'relaxed-simd'];
  const simd = decodeBase64(simdBytes);
  if (WebAssembly.validate(simd)) return [simd, 'simd'];
  return null;
}

function instantiate<Exports>(bytes: Uint8Array, variant: WasmVariant, shared: boolean, initialPages: number): LoadedModule<Exports> {
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
  return { variant, shared, module, memory, exports };
}

/**
 * Compiles and instantiates the kernel module over a new memory of `initialPages` pages: the shared
 * variant when SharedArrayBuffer exists and the engine accepts a shared memory, else the unshared
 * one; null when the engine has no WebAssembly SIMD. Synchronous (the module is a few KiB).
 */
export function loadKernelModule<Exports>(initialPages: number): LoadedModule<Exports> | null {
  if (typeof WebAssembly !== 'object') return null;
  if (typeof SharedArrayBuffer === 'function') {
    const picked = pickModule(KERNELS_RELAXED_WASM, KERNELS_SIMD_WASM);
    if (picked !== null) {
      try {
        return instantiate<Exports>(picked[0], picked[1], true, initialPages);
      } catch {
        // An engine that validates the module but refuses a shared memory: use the unshared one.
      }
    }
  }
  const picked = pickModule(KERNELS_RELAXED_UNSHARED_WASM, KERNELS_SIMD_UNSHARED_WASM);
  return picked === null ? null : instantiate<Exports>(picked[0], picked[1], false, initialPages);
}

/** Compiles extra module bytes (a compiled elementwise kernel) for instantiation over the runtime's memory. */
export function compileModule(bytes: Uint8Array): WasmModule {
  return new WebAssembly.Module(bytes);
}

/** Instantiates `module` over `memory` (imports `env.memory`) and returns its exports. */
export function instantiateOver(module: WasmModule, memory: WasmMemory): Record<string, unknown> {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
}
