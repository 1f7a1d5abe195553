// Steady-state training of a user Module built from layer modules allocates no buffers: no block in
// the shared WebAssembly heap per step, and JS-heap garbage per step (tape nodes, Variables, closures)
// within the same slack the Sequential allocation test uses. Measured in a child process
// (test/perf/module-heap-probe.ts) on two assignment networks at batch 4.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Same reasoning as allocation.test.ts: one transient activation of these networks at batch 4 is far
// above this (net003's first conv output is 4·16·28·28·4 B ≈ 200 KB); measured today ≈ 17–22 KB per step
// for layer modules, 9–13 KB for the Sequential path, both swinging with machine load.
const SLACK = 48 * 1024;

describe('layer-module models: steady-state allocation (child process)', () => {
  const script = fileURLToPath(new URL('./module-heap-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, [
    '--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', '--import', 'tsx', script, '10', '4', 'net001,net003',
  ], { encoding: 'utf8', timeout: 240_000 });
  const results = JSON.parse(out.trim().split('\n').pop() as string) as Record<string, { layerModules: number; layerModuleBlocks: number }>;

  it.each(['net001', 'net003'])('%s as layer modules: no heap blocks per step, small JS garbage', (net) => {
    expect(results[net].layerModuleBlocks, `${net}: shared-heap blocks per step`).toBe(0);
    expect(results[net].layerModules, `${net}: JS bytes per trainStep`).toBeLessThan(SLACK);
  });
});
