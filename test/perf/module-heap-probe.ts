// Child process of module-allocation.test.ts (node --expose-gc, large young generation): each assignment
// network as (a) a Sequential, (b) a user Module of layer modules (`nn.layer` over the same layer kinds),
// (c) net001 written from ops (matmul + add + tanh with Parameters), and (d) for OPS_NETS the user modules
// over ops of bench/lib/modules.ts (conv2d, maxPool2d, relu/tanh, matmul, flatten); measures bytes
// allocated in the JS heap per trainStep (no GC inside a window, minimum over windows) and blocks
// allocated in the shared WebAssembly heap per step. Prints one JSON line
// { [net]: { sequential, layerModules, layerModuleBlocks }, opsNet001: { bytes, blocks }, opModules: { [net]: { bytes, blocks } } }.
// Usage: node --expose-gc --min-semi-space-size=64 --import tsx module-heap-probe.ts STEPS [BATCH] [NETS] [OPS_NETS] (lists comma-separated)
import { buildOpModule } from '../../bench/lib/modules.js';
import { NETWORKS, randomBatch } from '../../bench/lib/networks.js';
import { Module, Parameter, Rng, Sequential, Variable, nn, ops, type LayerModule } from '../../src/index.js';
import { heapStats } from '../../src/runtime/heap.js';
import type { Tensor } from '../../src/tensor/tensor.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('module-heap-probe: run with node --expose-gc');
const steps = Number(process.argv[2] ?? 10);
const batch = Number(process.argv[3] ?? 4);
const only = process.argv[4]?.split(',');
const opsNets = process.argv[5]?.split(',') ?? [];
const WARMUP = 60;

class Stack extends Module {
  layers: LayerModule[];
  constructor(layers: LayerModule[]) {
    super();
    this.layers = layers;
  }
  forward(x: Variable): Variable {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = this.layers[i].forward(h);
    return h;
  }
}

/** net001 from ops: flatten (reshape), three tanh(x·Wᵀ + b) layers and a linear head, with Parameters. */
class OpsMlp extends Module {
  w: Parameter[];
  b: Parameter[];
  constructor() {
    super();
    const rng = new Rng(1);
    const sizes = [784, 128, 128, 128, 10];
    this.w = sizes.slice(1).map((n, i) => Parameter.init([sizes[i], n], 'xavier-uniform', rng));
    this.b = sizes.slice(1).map((n) => Parameter.zeros([n]));
  }
  forward(x: Variable): Variable {
    let h = x.reshape([x.shape[0], 784]);
    for (let i = 0; i < 4; i++) {
      h = h.matmul(this.w[i]).add(this.b[i]);
      if (i < 3) h = h.tanh();
    }
    return h;
  }
}

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

function measure(model: { trainStep(x: Tensor, y: Tensor): unknown }, x: Tensor, y: Tensor): { bytes: number; blocks: number } {
  for (let i = 0; i < WARMUP; i++) model.trainStep(x, y);
  const blocksBefore = heapStats().allocations;
  const bytes = allocatedPerCall(() => model.trainStep(x, y), steps);
  return { bytes: Math.round(bytes), blocks: (heapStats().allocations - blocksBefore) / (6 * steps) };
}

const result: Record<string, unknown> = {};
const opModules: Record<string, { bytes: number; blocks: number }> = {};
for (const spec of NETWORKS) {
  if (!opsNets.includes(spec.name)) continue;
  const { x, y } = randomBatch({ ...spec, batch });
  opModules[spec.name] = measure(buildOpModule(spec, 1), x, y);
}
result.opModules = opModules;
for (const spec of NETWORKS) {
  if (only !== undefined && !only.includes(spec.name)) continue;
  const sized = { ...spec, batch };
  const { x, y } = randomBatch(sized);
  const seq = new Sequential(spec.layers(), { inputShape: spec.inputShape, seed: 1 });
  seq.compile({ optimizer: { ...spec.optimizer }, loss: 'cross-entropy' });
  const mod = new Stack(spec.layers().map((l) => nn.layer(l.kind, l.getConfig()))).build([spec.inputShape.slice()]);
  mod.compile({ optimizer: { ...spec.optimizer }, loss: 'cross-entropy' });
  const s = measure(seq, x, y);
  const m = measure(mod, x, y);
  result[spec.name] = { sequential: s.bytes, layerModules: m.bytes, layerModuleBlocks: m.blocks };
  if (spec.name === 'net001') {
    const o = new OpsMlp();
    o.compile({ optimizer: { ...spec.optimizer }, loss: 'cross-entropy' });
    const r = measure(o, x, y);
    result.opsNet001 = { bytes: r.bytes, blocks: r.blocks };
  }
}
console.log(JSON.stringify(result));
