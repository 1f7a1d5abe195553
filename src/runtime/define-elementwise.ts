// define-elementwise.ts: a plugin's (or a built-in's) own SIMD kernel from an elementwise expression. The expression is
// compiled to a small WebAssembly module over the runtime's memory (and to a bit-identical TypeScript
// twin) and declared in the kernel table, so it runs like a built-in: SIMD on heap arrays, split over
// the worker threads, the twin on ordinary arrays.
import { compileElementwise, type ElementwiseDefinition } from './elementwise-compiler.js';
import { defineKernel, type Kernel } from './kernel-table.js';

export type { Value, Mask, ElementwiseDefinition } from './elementwise-compiler.js';

/**
 * Compiles `def` and declares it as a kernel named `def.name`; returns the kernel, called as
 * `kernel.run(n, array0, …, scalar0, …)` in the order of `def.arrays` and `def.scalars`. Compile once
 * (at module load or in a constructor), not per step. Every operation rounds to float32 like the SIMD
 * instruction (no fused multiply-adds), so results do not depend on the CPU or the thread count.
 *
 * ```ts
 * const lion = defineElementwise({
 *   name: 'lion', arrays: ['p', 'g', 'm'], scalars: ['lr', 'beta1', 'beta2', 'shrink'],
 *   body: ({ p, g, m }, { lr, beta1, beta2, shrink }) => {
 *     const c = m.mul(beta1).add(g.mul(beta1.neg().add(1)));
 *     return { p: p.mul(shrink).sub(c.sign().mul(lr)), m: m.mul(beta2).add(g.mul(beta2.neg().add(1))) };
 *   },
 * });
 * lion.run(p.length, p, g, m, lr, 0.9, 0.99, 1 - lr * weightDecay);
 * ```
 */
export function defineElementwise(def: ElementwiseDefinition): Kernel {
  const shared = compileElementwise(def, { shared: true });
  let unshared: Uint8Array | null = null;
  return defineKernel({
    name: def.name,
    arrays: shared.arrays,
    scalars: shared.scalars,
    twin: shared.twin as (...args: never[]) => void,
    wasmModule: (isShared) => {
      if (isShared) return shared.wasm;
      unshared ??= compileElementwise(def, { shared: false }).wasm;
      return unshared;
    },
  });
}
