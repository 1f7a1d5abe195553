// Child process of allocation.test.ts (run with node --expose-gc and a large young generation):
// trains each assignment network to a steady state, then measures (1) bytes allocated per step, as the
// growth of heapUsed over steps with no GC in between, through Sequential.trainStep and through the
// layers, loss and optimizer directly, and (2) heap retained after a full GC over many steps.
// Usage: node --expose-gc --min-semi-space-size=64 --import tsx heap-probe.ts STEPS RETAIN_STEPS [BATCH]
// Also counts the blocks allocated in the shared WebAssembly heap (where activations and scratch live,
// outside the JS heap) over the measured steps. Prints one JSON line:
// { [net]: { trainStep, layers, infer, retained, heapBlocks } } (bytes, and blocks; infer = per eval-mode
// Sequential.forward, the lean inference path).
import { buildModel, NETWORKS, randomBatch } from '../../bench/lib/networks.js';
import type { Sequential } from '../../src/model/sequential.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { heapStats } from '../../src/runtime/heap.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('heap-probe: run with node --expose-gc');
const steps = Number(process.argv[2] ?? 50);
const retainSteps = Number(process.argv[3] ?? 200);
/** Batch size override: the networks' own batches make the probe slow, and allocation does not depend on it. */
const batch = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const WARMUP = 60;

/** forward → loss → backward → step through the layers directly (what trainStep does, minus its bookkeeping). */
function layerStep(model: Sequential, x: Tensor, y: Tensor, ctx: { loss: number }): void {
  const layers = model.layers;
  const params = model.params();
  for (let i = 0; i < params.length; i++) params[i].grad.data.fill(0);
  let h = x;
  for (let i = 0; i < layers.length; i++) h = layers[i].forward(h, true);
  const loss = model.loss as NonNullable<Sequential['loss']>;
  ctx.loss = loss.forward(h, y);
  let g = loss.backward();
  for (let i = layers.length - 1; i >= 0; i--) g = layers[i].backward(g);
  (model.optimizer as NonNullable<Sequential['optimizer']>).step(params, ctx);
}

/**
 * Bytes allocated per call of `fn`: heapUsed growth over `n` calls with no GC in between (the young
 * generation is made large enough by the parent), the minimum over `windows` windows so one-off
 * allocations (late JIT tiers, lazily built caches) do not count as steady state.
 */
function allocatedPerCall(fn: () => void, n: number, windows = 6): number {
  let best = Infinity;
  for (let w = 0; w < windows; w++) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) fn();
    const after = process.memoryUsage().heapUsed;
    best = Math.min(best, Math.max(0, after - before) / n);
  }
  return best;
}

/** The options of an inference forward, hoisted so the measured call allocates nothing itself. */
const INFERENCE = { training: false } as const;

const result: Record<string, { trainStep: number; layers: number; infer: number; retained: number; heapBlocks: number }> = {};
for (const spec of NETWORKS) {
  const sized = batch === undefined ? spec : { ...spec, batch };
  const model = buildModel(sized);
  const { x, y } = randomBatch(sized);
  const ctx = { loss: 0 };
  // Warm up both paths: buffers sized on first use, optimizer slots, and the JIT's tiers (whose
  // compilations allocate on the heap too).
  for (let i = 0; i < WARMUP; i++) {
    model.trainStep(x, y);
    layerStep(model, x, y, ctx);
    model.forward(x, INFERENCE);
  }
  const blocksBefore = heapStats().allocations;
  const trainStep = allocatedPerCall(() => model.trainStep(x, y), steps);
  const layers = allocatedPerCall(() => layerStep(model, x, y, ctx), steps);
  const infer = allocatedPerCall(() => model.forward(x, INFERENCE), steps);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < retainSteps; i++) model.trainStep(x, y);
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  result[spec.name] = { trainStep, layers, infer, retained, heapBlocks: heapStats().allocations - blocksBefore };
}
console.log(JSON.stringify(result));
