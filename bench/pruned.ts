// Issue 14's "pruned-model speedup vs its FLOP ratio": the pruning example's network (conv 3×3 12 → ReLU →
// conv 5×5 16 → ReLU → fc 100 → ReLU → fc 10, examples/fmnist-cnn-prune.ts) and its pruned (3, 6, 21)
// version, random weights of the same shapes (speed does not depend on the values), eval-mode forward at
// batch 256 on 1 and 2 threads. Prints the speedup ÷ FLOP ratio first (the target is ≥ 0.8), then each
// model's per-layer forward times (Conv2D+ReLU pairs fused as Sequential runs them). All cases take
// turns within each round, the order reversed every other round, so a burst of load on the shared
// machine hits them alike. Writes bench/results/pruned.json.
// With --engines, the pruned model also runs with its thin convolutions forced onto the direct kernel
// (setThinConvMaxChannels(3)) and forced onto the im2col gemm (0), as two more rows.
// With --grid, only the engine grid behind isThinConv's inference rule: ThinConv vs WideConv forward + ReLU
// on one thread, 1–3 channels × 1–16 filters × 3×3 / 5×5 × pad 0 / 1, 28² at the batch given, alternated.
// Usage: node --import tsx bench/pruned.ts [--quick] [--rounds N] [--batch 256] [--units 3,6,21] [--engines] [--grid]
import { readFileSync } from 'node:fs';
import { analyzeModel } from '../src/analysis/index.js';
import { ReLU } from '../src/layers/activations.js';
import { Conv2D } from '../src/layers/conv2d.js';
import { Dense } from '../src/layers/dense.js';
import { Flatten } from '../src/layers/flatten.js';
import { Sequential } from '../src/model/sequential.js';
import { getThreads, setThreads } from '../src/runtime/workers.js';
import { heapFloat32 } from '../src/runtime/heap.js';
import { ThinConv, WideConv, setThinConvMaxChannels, sharedConvHeap } from '../src/tensor/conv2d-engine.js';
import { convGeometry } from '../src/tensor/im2col.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { QUICK, argValue, header, Table, writeResults } from './lib/harness.js';

/** The example's network with (conv1 filters, conv2 filters, fc1 units); (12, 16, 100) is the unpruned one. */
function buildNet(c1: number, c2: number, f1: number, seed: number): Sequential {
  return new Sequential([
    new Conv2D({ filters: c1, kernelSize: 3 }), new ReLU(),
    new Conv2D({ filters: c2, kernelSize: 5 }), new ReLU(),
    new Flatten(),
    new Dense({ units: f1 }), new ReLU(),
    new Dense({ units: 10 }),
  ], { inputShape: [1, 28, 28], seed });
}

/** One forward step as Sequential.forwardRange takes it: a layer, or a layer with the ReLU it fuses. */
interface Step {
  readonly name: string;
  run(h: Tensor): Tensor;
}

/** The steps of `model`'s eval-mode forward, in order (the same calls, the same fusions). */
function stepsOf(model: Sequential): Step[] {
  const layers = model.layers;
  const steps: Step[] = [];
  const names = new Map<string, number>();
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const next = i + 1 < layers.length ? layers[i + 1] : null;
    const count = (names.get(layer.kind) ?? 0) + 1;
    names.set(layer.kind, count);
    const base = `${i} ${layer.kind}${layer.kind === 'conv2d' || layer.kind === 'dense' ? count : ''}`;
    if (next !== null && next.passThrough !== undefined && layer.forwardFused !== undefined && layer.fuses?.(next) === true) {
      const pass = next.passThrough.bind(next);
      const fused = layer.forwardFused.bind(layer);
      steps.push({ name: `${base}+${next.kind}`, run: (h) => pass(fused(h, false, next)) });
      i++;
    } else {
      steps.push({ name: base, run: (h) => layer.forward(h, false) });
    }
  }
  return steps;
}

interface Stats { readonly medianMs: number; readonly minMs: number }

function stats(samples: number[]): Stats {
  const s = samples.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { medianMs: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, minMs: s[0] };
}

const rounds = Number(argValue('--rounds') ?? (QUICK ? 5 : 21));
const batch = Number(argValue('--batch') ?? 256);
const units = (argValue('--units') ?? '3,6,21').split(',').map(Number);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${argValue('--rounds')}`);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${argValue('--batch')}`);
if (units.length !== 3 || !units.every((u) => Number.isInteger(u) && u >= 1)) throw new Error(`--units must be three positive integers c1,c2,f1, got ${argValue('--units')}`);
const threadCounts = [1, 2];
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The engine grid (--grid): wide ÷ thin forward + ReLU time, medians of alternated calls, one thread. */
function grid(): void {
  setThreads(1);
  const gridHeader = header(`load average ${load()}; engine grid, batch ${batch}, 1 thread, ${rounds} rounds`);
  console.log(gridHeader);
  console.log('wide ÷ thin forward+ReLU (> 1: the direct kernel is faster), medians (minimums)');
  const table = new Table([['C', 2, 'r'], ['k', 2, 'r'], ['pad', 3, 'r'], ...[1, 2, 3, 4, 5, 6, 8, 12, 16].map((f) => [`F ${f}`, 11, 'r'] as [string, number, 'r'])]);
  const rows: Record<string, unknown>[] = [];
  const rng = new Rng(3);
  const fill = (n: number): Float32Array => { const a = heapFloat32(n); for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1); return a; };
  for (const C of [1, 2, 3]) {
    for (const k of [3, 5]) {
      for (const pad of [0, 1]) {
        const cells: string[] = [String(C), String(k), String(pad)];
        const g = convGeometry(C, 28, 28, k, k, 1, 1, pad, pad);
        const x = fill(batch * C * 28 * 28);
        for (const F of [1, 2, 3, 4, 5, 6, 8, 12, 16]) {
          const w = fill(F * C * k * k);
          const b = fill(F);
          const wide = new WideConv(batch, F, true, g, sharedConvHeap());
          const thin = new ThinConv(batch, F, g);
          const tw: number[] = [];
          const tt: number[] = [];
          for (let r = -2; r < rounds; r++) {
            const order = (r & 1) === 0 ? [0, 1] : [1, 0];
            for (const e of order) {
              const t0 = performance.now();
              if (e === 0) wide.forward(x, w, b, true);
              else thin.forward(x, w, b, true);
              if (r >= 0) (e === 0 ? tw : tt).push(performance.now() - t0);
            }
          }
          wide.release();
          const sw = stats(tw);
          const st = stats(tt);
          rows.push({ C, k, pad, F, wideMs: sw.medianMs, thinMs: st.medianMs, wideMinMs: sw.minMs, thinMinMs: st.minMs });
          cells.push(`${(sw.medianMs / st.medianMs).toFixed(2)} (${(sw.minMs / st.minMs).toFixed(2)})`);
        }
        table.row(cells);
      }
    }
  }
  console.log(`load average after: ${load()}`);
  writeResults('pruned-grid', gridHeader, { batch, rounds, rows });
}

if (process.argv.includes('--grid')) {
  grid();
  process.exit(0);
}

const prunedName = `pruned (${units.join(', ')})`;
const models: { name: string; model: Sequential; thin: number | 'auto' }[] = [
  { name: 'unpruned (12, 16, 100)', model: buildNet(12, 16, 100, 1), thin: 'auto' },
  { name: prunedName, model: buildNet(units[0], units[1], units[2], 1), thin: 'auto' },
];
if (process.argv.includes('--engines')) {
  models.push({ name: `${prunedName} all thin`, model: buildNet(units[0], units[1], units[2], 1), thin: 3 });
  models.push({ name: `${prunedName} all gemm`, model: buildNet(units[0], units[1], units[2], 1), thin: 0 });
}
const flops = models.map((m) => analyzeModel(m.model).totals.flops);
const flopRatio = flops[0] / flops[1];
const rng = new Rng(2);
const xData = new Float32Array(batch * 28 * 28);
for (let i = 0; i < xData.length; i++) xData[i] = rng.uniform(0, 1);
const x = new Tensor(xData, [batch, 1, 28, 28]);
const steps = models.map((m) => stepsOf(m.model));

const loadBefore = load();
const headerLine = header(`load average ${loadBefore}; batch ${batch}; ${rounds} rounds`);
console.log(headerLine);
console.log(`FLOPs / image: unpruned ${flops[0].toLocaleString('en-US')}, pruned ${flops[1].toLocaleString('en-US')}: FLOP ratio ${flopRatio.toFixed(2)}×`);

// times[threadIndex][modelIndex][stepIndex]: per-step samples; whole: the whole forward's samples.
const times = threadCounts.map(() => steps.map((s) => s.map(() => [] as number[])));
const whole = threadCounts.map(() => steps.map(() => [] as number[]));
// CPU time of the process (all threads) over the same whole forwards: on 1 thread it is the forward's own
// work, which a busy machine delays (wall time) but does not inflate much.
const cpu = threadCounts.map(() => steps.map(() => [] as number[]));
const stepCpu = threadCounts.map(() => steps.map((s) => s.map(() => [] as number[])));
const previousThreads = getThreads();
try {
  for (let round = -3; round < rounds; round++) {
    for (let ti = 0; ti < threadCounts.length; ti++) {
      setThreads(threadCounts[ti]);
      for (let j = 0; j < models.length; j++) {
        const mi = (round & 1) === 0 ? j : models.length - 1 - j;
        setThinConvMaxChannels(models[mi].thin);
        // The whole forward as a user calls it, then the same steps one by one, timed each.
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        models[mi].model.forward(x);
        const t1 = performance.now();
        const c1 = process.cpuUsage(c0);
        if (round >= 0) cpu[ti][mi].push((c1.user + c1.system) / 1000);
        let h = x;
        const list = steps[mi];
        for (let s = 0; s < list.length; s++) {
          const ca = process.cpuUsage();
          const a = performance.now();
          h = list[s].run(h);
          const b = performance.now();
          const cb = process.cpuUsage(ca);
          if (round >= 0) {
            times[ti][mi][s].push(b - a);
            stepCpu[ti][mi][s].push((cb.user + cb.system) / 1000);
          }
        }
        if (round >= 0) whole[ti][mi].push(t1 - t0);
      }
    }
  }
} finally {
  setThreads(previousThreads);
  setThinConvMaxChannels('auto');
}

console.log('speedup = unpruned ÷ pruned forward time at the same thread count, from medians (from minimums); speedup ÷ FLOP ratio ≥ 0.80 meets the target;');
console.log('by CPU time: the same from the process CPU time of the same forwards (medians), meaningful on 1 thread');
const summary = new Table([
  ['threads', 7, 'r'], ['speedup ÷ FLOP ratio', 20, 'r'], ['speedup', 16, 'r'], ['unpruned ms', 11, 'r'], ['pruned ms', 9, 'r'],
  ['by CPU time', 11, 'r'], ['CPU ms', 13, 'r'],
]);
const results: Record<string, unknown>[] = [];
for (let ti = 0; ti < threadCounts.length; ti++) {
  const [u, p, ...others] = whole[ti].map(stats);
  const speedup = u.medianMs / p.medianMs;
  const speedupMin = u.minMs / p.minMs;
  const [uc, pc] = cpu[ti].map(stats);
  const cpuRatio = uc.medianMs / pc.medianMs / flopRatio;
  summary.row([
    String(threadCounts[ti]), `${(speedup / flopRatio).toFixed(3)} (${(speedupMin / flopRatio).toFixed(3)})`,
    `${speedup.toFixed(2)}× (${speedupMin.toFixed(2)}×)`, u.medianMs.toFixed(2), p.medianMs.toFixed(2),
    cpuRatio.toFixed(3), `${uc.medianMs.toFixed(1)} / ${pc.medianMs.toFixed(2)}`,
  ]);
  for (let k = 0; k < others.length; k++) {
    const oc = stats(cpu[ti][k + 2]);
    console.log(`        ${models[k + 2].name}: ${others[k].medianMs.toFixed(2)} ms, speedup ÷ FLOP ratio ${(u.medianMs / others[k].medianMs / flopRatio).toFixed(3)}`
      + ` (${(u.minMs / others[k].minMs / flopRatio).toFixed(3)}); by CPU time ${(uc.medianMs / oc.medianMs / flopRatio).toFixed(3)} (${oc.medianMs.toFixed(2)} ms)`);
  }
  results.push({
    threads: threadCounts[ti], flopRatio, speedup, speedupMin, ratio: speedup / flopRatio, ratioMin: speedupMin / flopRatio,
    unprunedMs: u.medianMs, prunedMs: p.medianMs, unprunedMinMs: u.minMs, prunedMinMs: p.minMs,
    cpuRatio, unprunedCpuMs: uc.medianMs, prunedCpuMs: pc.medianMs,
    engines: others.map((o, k) => ({
      model: models[k + 2].name, ms: o.medianMs, minMs: o.minMs, ratio: u.medianMs / o.medianMs / flopRatio,
      cpuMs: stats(cpu[ti][k + 2]).medianMs, cpuRatio: uc.medianMs / stats(cpu[ti][k + 2]).medianMs / flopRatio,
    })),
    layers: models.map((m, mi) => ({
      model: m.name,
      steps: steps[mi].map((s, si) => ({ step: s.name, ...stats(times[ti][mi][si]), cpuMedianMs: stats(stepCpu[ti][mi][si]).medianMs })),
    })),
  });
}

for (let mi = 0; mi < models.length; mi++) {
  console.log(`\n${models[mi].name}: per-layer forward, median ms per batch of ${batch} (share of the summed steps); wall time, and CPU time on 1 thread`);
  const table = new Table([
    ['step', 22, 'l'], ...threadCounts.map((t) => [`${t} thread${t > 1 ? 's' : ''}`, 16, 'r'] as [string, number, 'r']),
    ['1 thread, CPU ms', 16, 'r'],
  ]);
  const medians = threadCounts.map((_, ti) => steps[mi].map((_, si) => stats(times[ti][mi][si]).medianMs));
  medians.push(steps[mi].map((_, si) => stats(stepCpu[0][mi][si]).medianMs));
  const totals = medians.map((m) => m.reduce((a, b) => a + b, 0));
  for (let si = 0; si < steps[mi].length; si++) {
    table.row([steps[mi][si].name, ...medians.map((m, ti) => `${m[si].toFixed(3)} (${((100 * m[si]) / totals[ti]).toFixed(0)}%)`)]);
  }
  table.row(['sum of steps', ...totals.map((t) => `${t.toFixed(3)}`)]);
}
const loadAfter = load();
console.log(`\nload average after: ${loadAfter}`);
writeResults('pruned', headerLine, { batch, rounds, units, flops, flopRatio, loadBefore, loadAfter, results });
