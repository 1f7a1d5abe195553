// Steady-state training of a user Module built from layer modules allocates no buffers: no block in
// the shared WebAssembly heap per step, and JS-heap garbage per step (tape nodes, Variables, closures)
// within the same slack the Sequential allocation test uses. The same for the four assignment networks
// written as user modules over ops (bench/lib/modules.ts: conv2d, maxPool2d, relu/tanh, matmul + add,
// flatten), whose op results come from the ModuleTrainable's StepBuffers. Measured in a child process
// (test/perf/module-heap-probe.ts) at batch 4.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Same reasoning as allocation.test.ts: one transient activation of these networks at batch 4 is far
// above this (net003's first conv output is 4·16·28·28·4 B ≈ 200 KB); measured today ≈ 17–22 KB per step
// for layer modules, 9–13 KB for the Sequential path, both swinging with machine load.
const SLACK = 48 * 1024;
// User modules over ops make more garbage per step than layers: a Variable, a Tensor, a tape Node and a
// backward closure per op, with their shape and input lists (measured 33–46 KB per step at batch 4 for
// the four networks, load average 8–9). Still far below one activation of the conv networks at batch 4
// (net000's first conv output is 4·16·26·26·4 B ≈ 173 KB), so an op result left out of the StepBuffers
// and made in JavaScript memory per step would fail this.
const OPS_SLACK = 64 * 1024;

describe('layer-module models: steady-state allocation (child process)', () => {
  const script = fileURLToPath(new URL('./module-heap-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, [
    '--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', '--import', 'tsx', script, '10', '4', 'net001,net003', 'net000,net004,net001,net003',
  ], { encoding: 'utf8', timeout: 240_000 });
  const results = JSON.parse(out.trim().split('\n').pop() as string) as Record<string, { layerModules: number; layerModuleBlocks: number }>
    & { opModules: Record<string, { bytes: number; blocks: number }> };

  it.each(['net001', 'net003'])('%s as layer modules: no heap blocks per step, small JS garbage', (net) => {
    expect(results[net].layerModuleBlocks, `${net}: shared-heap blocks per step`).toBe(0);
    expect(results[net].layerModules, `${net}: JS bytes per trainStep`).toBeLessThan(SLACK);
  });

  it.each(['net000', 'net004', 'net001', 'net003'])('%s as a user module over ops: no heap blocks per step, small JS garbage', (net) => {
    const r = results.opModules[net];
    expect(r, `${net}: measured`).toBeDefined();
    expect(r.blocks, `${net}: shared-heap blocks per step`).toBe(0);
    expect(r.bytes, `${net}: JS bytes per trainStep`).toBeLessThan(OPS_SLACK);
  });
});
