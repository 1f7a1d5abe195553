// Steady-state training allocates (almost) nothing and retains nothing: each assignment network
// trains in a child process (node --expose-gc, 64 MB young generation, so no scavenge hides
// allocations within a measuring window) run by heap-probe.ts. Batch 4 keeps the test fast; buffers
// are per batch size, so allocation behaviour does not depend on it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Probe {
  /** Bytes allocated per Sequential.trainStep (min over windows). */
  readonly trainStep: number;
  /** Bytes allocated per step through layers, loss and optimizer directly. */
  readonly layers: number;
  /** Heap growth after a full GC over the retain run. */
  readonly retained: number;
}

const STEPS = 10;
const RETAIN_STEPS = 100;
const BATCH = 4;
// Slack, in bytes. A leaked batch buffer per step would retain ≥ RETAIN_STEPS·BATCH·784·4 ≈ 1.25 MB;
// a per-image or per-element allocation in a layer costs ≥ BATCH·~100 B per step and more. What is
// left today (measured 0.1–2.7 KB per step through the layers, 0.4–5 KB through trainStep) is small
// objects outside the layer buffers: gemm dispatch, Sequential.trainStep's option and result objects
// and input-shape checks. Tighten these once those are gone.
const LAYERS_SLACK = 8192;
const TRAIN_STEP_SLACK = 16384;
const RETAINED_SLACK = 512 * 1024;

function probe(): Record<string, Probe> {
  const script = fileURLToPath(new URL('./heap-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, [
    '--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', '--import', 'tsx',
    script, String(STEPS), String(RETAIN_STEPS), String(BATCH),
  ], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, Probe>;
}

describe('steady-state training allocation (test/perf/heap-probe.ts in a child process)', () => {
  const results = probe();

  it.each(['net000', 'net004', 'net001', 'net003'])('%s: flat heap, no per-step buffers', (net) => {
    const r = results[net];
    expect(r, `probe printed no result for ${net}`).toBeDefined();
    expect(r.layers, `${net}: bytes allocated per step by layers + loss + optimizer`).toBeLessThan(LAYERS_SLACK);
    expect(r.trainStep, `${net}: bytes allocated per Sequential.trainStep`).toBeLessThan(TRAIN_STEP_SLACK);
    expect(r.retained, `${net}: heap retained over ${RETAIN_STEPS} steps`).toBeLessThan(RETAINED_SLACK);
  });
});
