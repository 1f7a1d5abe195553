// module.ts: loads the runtime's WebAssembly module (kernels.wat, embedded as bytes) and chooses its
// variant: relaxed SIMD (fused multiply-adds) where the engine validates it, else plain SIMD; over a
// shared memory where SharedArrayBuffer exists (worker threads can join), else an unshared one.
// Synchronously, or asynchronously for a browser's main thread (which may refuse to compile big
// modules synchronously).
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
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ readonly exports: object }>;
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
  /** Whether it was compiled and instantiated asynchronously ({@link loadKernelModuleAsync}). */
  readonly compiledAsync: boolean;
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
  return { variant, shared, module, memory, exports, compiledAsync: false };
}

async function instantiateAsync<Exports>(bytes: Uint8Array, variant: WasmVariant, shared: boolean, initialPages: number): Promise<LoadedModule<Exports>> {
  const module = await WebAssembly.compile(bytes);
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared });
  const exports = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
  return { variant, shared, module, memory, exports, compiledAsync: true };
}

/** The candidates in order of preference: [relaxed, simd, shared] (shared first where it may work). */
function candidates(): readonly (readonly [string, string, boolean])[] {
  const unshared = [KERNELS_RELAXED_UNSHARED_WASM, KERNELS_SIMD_UNSHARED_WASM, false] as const;
  return typeof SharedArrayBuffer === 'function' ? [[KERNELS_RELAXED_WASM, KERNELS_SIMD_WASM, true], unshared] : [unshared];
}

/**
 * Compiles and instantiates the kernel module over a new memory of `initialPages` pages: the shared
 * variant when SharedArrayBuffer exists and the engine accepts a shared memory, else the unshared
 * one; null when the engine has no WebAssembly SIMD. Synchronous (the module is a few KiB).
 */
export function loadKernelModule<Exports>(initialPages: number): LoadedModule<Exports> | null {
  if (typeof WebAssembly !== 'object') return null;
  for (const [relaxed, simd, shared] of candidates()) {
    const picked = pickModule(relaxed, simd);
    if (picked === null) continue;
    try {
      return instantiate<Exports>(picked[0], picked[1], shared, initialPages);
    } catch (error) {
      // An engine that validates the module but refuses a shared memory: use the unshared one.
      if (!shared) throw error;
    }
  }
  return null;
}

/**
 * {@link loadKernelModule}, compiling and instantiating with the asynchronous WebAssembly calls: the
 * way that works on any browser's main thread: Chrome long refused to compile a module over 4 KiB
 * synchronously there (this one is ~14 KiB; Chromium 156 accepts it, older versions and other
 * engines need not). Same choice of variant and memory.
 */
export async function loadKernelModuleAsync<Exports>(initialPages: number): Promise<LoadedModule<Exports> | null> {
  if (typeof WebAssembly !== 'object') return null;
  for (const [relaxed, simd, shared] of candidates()) {
    const picked = pickModule(relaxed, simd);
    if (picked === null) continue;
    try {
      return await instantiateAsync<Exports>(picked[0], picked[1], shared, initialPages);
    } catch (error) {
      if (!shared) throw error;
    }
  }
  return null;
}

// Each extra module's bytes, for worker threads that join later (they compile their own copy).
const moduleSources = new WeakMap<WasmModule, Uint8Array>();

/** Compiles extra module bytes (a compiled elementwise kernel) for instantiation over the runtime's memory. */
export function compileModule(bytes: Uint8Array): WasmModule {
  const module = new WebAssembly.Module(bytes);
  moduleSources.set(module, bytes);
  return module;
}

/** The bytes `module` was compiled from by {@link compileModule}, or null for another module. */
export function moduleBytes(module: WasmModule): Uint8Array | null {
  return moduleSources.get(module) ?? null;
}

/** Instantiates `module` over `memory` (imports `env.memory`) and returns its exports. */
export function instantiateOver(module: WasmModule, memory: WasmMemory): Record<string, unknown> {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
}
