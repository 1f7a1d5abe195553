// Steady-state steps of the new built-in layers (forward + backward + an AdamW step under the warmup
// schedule) allocate nothing in the shared WebAssembly heap and (almost) nothing on the JS heap: each
// runs in a child process (node --expose-gc, 64 MB young generation) by new-layers-probe.ts.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Probe { readonly bytes: number; readonly heapBlocks: number }

// Slack per step, in bytes. Measured: 0.1–2.6 KB per step for these layers, with rare 5 KB windows on a
// loaded machine (background JIT work). A per-step batch buffer would show in heapBlocks; a view or
// small array per row or index would cost ≥ 512 objects · ≥ 56 B ≈ 28 KB per step at these shapes
// (batch 16, T 32), well above the slack. Exact zero is not asserted.
const SLACK = 12 * 1024;

function probe(): Record<string, Probe> {
  const script = fileURLToPath(new URL('./new-layers-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, [
    '--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', '--import', 'tsx', script, '20',
  ], { encoding: 'utf8', timeout: 180_000 });
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, Probe>;
}

describe('steady-state steps of the new layers (test/perf/new-layers-probe.ts in a child process)', () => {
  const results = probe();

  it('no layer allocates in the shared WebAssembly heap after its first steps', () => {
    for (const [name, r] of Object.entries(results)) expect(r.heapBlocks, name).toBe(0);
  });

  it.each([
    'gelu {}', 'gelu {"approximate":"tanh"}', 'silu {}', 'layer-norm {}', 'embedding {"numEmbeddings":50,"embeddingDim":32}',
    'conv1d {"filters":16,"kernelSize":3,"padding":1}', 'global-avg-pool2d {}',
    'multi-head-attention {"embedDim":32,"numHeads":4} ts-gemm', 'multi-head-attention {"embedDim":32,"numHeads":4,"causal":true,"useBias":false} ts-gemm',
  ])('%s: flat JS heap per step', (name) => {
    expect(results[name], `probe printed no result for ${name}`).toBeDefined();
    expect(results[name].bytes, `${name}: bytes per step`).toBeLessThan(SLACK);
  });

  it('strided conv1d allocates no more than the Conv2D it runs on', () => {
    const conv1d = results['conv1d {"filters":16,"kernelSize":4,"stride":2}'].bytes;
    const conv2d = results['conv2d {"filters":16,"kernelSize":[1,4],"stride":[1,2]}'].bytes;
    expect(conv1d).toBeLessThan(conv2d + SLACK);
  });
});
