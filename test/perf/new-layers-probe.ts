// Child process of new-layers-allocation.test.ts (node --expose-gc, large young generation): each new
// built-in layer runs forward + backward to a steady state, then the bytes allocated per step (heapUsed
// growth with no GC in between, the minimum over windows) and the blocks allocated in the shared
// WebAssembly heap are measured; also a full AdamW step under the warmup schedule. Prints one JSON line.
// Usage: node --expose-gc --min-semi-space-size=64 --import tsx new-layers-probe.ts STEPS
import { createLayer } from '../../src/layers/index.js';
import { createOptimizer, createSchedule } from '../../src/optimizers/index.js';
import { heapFloat32, heapStats } from '../../src/runtime/heap.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { setGemmBackend } from '../../src/tensor/gemm.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('new-layers-probe: run with node --expose-gc');
const steps = Number(process.argv[2] ?? 20);
const BATCH = 16;

/** kind, config, per-sample input shape, integer inputs below this (embedding) or 0. */
const CASES: [string, Record<string, unknown>, number[], number][] = [
  // Baselines first (the engine's JIT warms on them): the existing Conv2D (Conv1D's engine) and Dense.
  ['conv2d', { filters: 16, kernelSize: [1, 3], padding: [0, 1] }, [16, 1, 32], 0],
  ['conv2d', { filters: 16, kernelSize: [1, 4], stride: [1, 2] }, [16, 1, 32], 0],
  ['dense', { units: 32 }, [32], 0],
  ['gelu', {}, [32, 32], 0],
  ['gelu', { approximate: 'tanh' }, [32, 32], 0],
  ['silu', {}, [32, 32], 0],
  ['layer-norm', {}, [32, 32], 0],
  ['embedding', { numEmbeddings: 50, embeddingDim: 32 }, [32], 50],
  ['conv1d', { filters: 16, kernelSize: 3, padding: 1 }, [32, 32], 0],
  ['conv1d', { filters: 16, kernelSize: 4, stride: 2 }, [32, 32], 0],
  ['global-avg-pool2d', {}, [16, 8, 8], 0],
  ['multi-head-attention', { embedDim: 32, numHeads: 4 }, [32, 32], 0],
  ['multi-head-attention', { embedDim: 32, numHeads: 4, causal: true, useBias: false }, [32, 32], 0],
];

function perCall(fn: () => void, n: number, windows = 10): number {
  let best = Infinity;
  for (let w = 0; w < windows; w++) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, Math.max(0, process.memoryUsage().heapUsed - before) / n);
  }
  return best;
}

const rng = new Rng(1);
const result: Record<string, { bytes: number; heapBlocks: number }> = {};
// Attention once more on the TypeScript gemm: the WebAssembly gemm allocates ~160 B per call on small
// products (runtime, measured separately), and attention makes ~200 small calls per step.
const RUNS = [...CASES.map((c) => [...c, 'auto'] as const), ...CASES.filter((c) => c[0] === 'multi-head-attention').map((c) => [...c, 'ts'] as const)];
for (const [kind, config, shape, indices, backend] of RUNS) {
  setGemmBackend(backend);
  const layer = createLayer(kind, config);
  const outShape = layer.build(shape, rng);
  const size = shape.reduce((a, b) => a * b, 1);
  // Inputs in the shared heap, as in a model where they are the previous layer's output (plain arrays
  // would send the elementwise kernels to their TypeScript twins).
  const x = new Tensor(heapFloat32(BATCH * size), [BATCH, ...shape]);
  for (let i = 0; i < x.data.length; i++) x.data[i] = indices > 0 ? Math.floor(rng.uniform(0, indices)) : rng.uniform(-1, 1);
  const dy = new Tensor(heapFloat32(BATCH * outShape.reduce((a, b) => a * b, 1)), [BATCH, ...outShape]);
  for (let i = 0; i < dy.data.length; i++) dy.data[i] = rng.uniform(-1, 1);
  const params = layer.params();
  const optimizer = createOptimizer('adamw', { lr: 1e-3, amsgrad: true });
  const schedule = createSchedule('warmup', optimizer, { warmupSteps: 1000, decay: 'cosine', decaySteps: 1000 });
  const step = (): void => {
    for (let i = 0; i < params.length; i++) params[i].grad.data.fill(0);
    layer.forward(x, true);
    layer.backward(dy);
    optimizer.step(params);
    schedule.stepBatch?.();
  };
  for (let i = 0; i < 40; i++) step();
  const blocks = heapStats().allocations;
  const bytes = perCall(step, steps);
  result[`${kind} ${JSON.stringify(config)}${backend === 'ts' ? ' ts-gemm' : ''}`] = { bytes, heapBlocks: heapStats().allocations - blocks };
}
console.log(JSON.stringify(result));
