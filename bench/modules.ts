// Images/s of the four assignment networks written as user modules over ops (bench/lib/modules.ts)
// beside the built-in Sequential of layers (bench/lib/networks.ts), in one process, ratios first
// (ops / layers: 1.00 = parity, the target is ≥ 0.90). A training step is Trainer.trainStep
// (zero grads, forward, cross-entropy, backward, optimizer step); inference is one eval-mode forward.
// The two paths take turns within each round, the order swapped every round, so a burst of load on
// the shared machine hits both alike. Each call is timed by the wall clock and by the process's CPU time
// (user + system, process.cpuUsage): on a loaded machine the wall clock also counts the time the process
// waits for a core, which the CPU time leaves out, so the CPU ratio is the steadier one there.
// Writes bench/results/modules.json.
// Usage: node --import tsx bench/modules.ts [--quick] [--filter net004] [--rounds N]
import { readFileSync } from 'node:fs';
import { buildOpModule, copyWeights } from './lib/modules.js';
import { NETWORKS, buildModel, randomBatch } from './lib/networks.js';
import { QUICK, argValue, header, Table, writeResults } from './lib/harness.js';

interface Stats { readonly medianMs: number; readonly minMs: number; readonly cpuMedianMs: number; readonly cpuMinMs: number }

/** Median and minimum wall and CPU time of each of `fns` over `rounds` rounds after 3 warm-up rounds, taking turns (order alternating). */
function sample(fns: readonly (() => unknown)[], rounds: number): Stats[] {
  const times = fns.map(() => [] as number[]);
  const cpu = fns.map(() => [] as number[]);
  for (let round = -3; round < rounds; round++) {
    for (let j = 0; j < fns.length; j++) {
      const f = (round & 1) === 0 ? j : fns.length - 1 - j;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fns[f]();
      const t1 = performance.now();
      const c = process.cpuUsage(c0);
      if (round >= 0) {
        times[f].push(t1 - t0);
        cpu[f].push((c.user + c.system) / 1000);
      }
    }
  }
  const sorted = (t: number[]): number[] => t.sort((a, b) => a - b);
  return times.map((t, f) => {
    const w = sorted(t);
    const c = sorted(cpu[f]);
    return { medianMs: w[w.length >> 1], minMs: w[0], cpuMedianMs: c[c.length >> 1], cpuMinMs: c[0] };
  });
}

const filter = argValue('--filter');
const rounds = Number(argValue('--rounds') ?? (QUICK ? 5 : 30));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${argValue('--rounds')}`);
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const headerLine = header(`load average ${load()}; ${rounds} rounds`);
console.log(headerLine);
console.log('ops/layers: ratio of images/s from median wall times, (from minimums); cpu: the same from CPU times; ≥ 0.90 meets the target');
const table = new Table([
  ['network', 8, 'l'], ['batch', 5, 'r'], ['mode', 5, 'l'], ['ops/layers', 14, 'r'], ['cpu ops/layers', 14, 'r'],
  ['layers img/s', 12, 'r'], ['ops img/s', 10, 'r'], ['layers ms', 10, 'r'], ['ops ms', 9, 'r'],
]);
const rows: Record<string, unknown>[] = [];
for (const spec of NETWORKS) {
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  const { x, y } = randomBatch(spec);
  const layers = buildModel(spec, 1);
  const module = buildOpModule(spec, 1);
  copyWeights(layers, module);
  const trainable = module.asTrainable();
  for (const mode of ['train', 'infer'] as const) {
    const fns = mode === 'train'
      ? [() => layers.trainStep(x, y), () => module.trainStep(x, y)]
      : [() => layers.forward(x), () => trainable.forward(x)];
    const [l, o] = sample(fns, rounds);
    const ips = (s: Stats): number => (spec.batch * 1000) / s.medianMs;
    const ratio = `${(l.medianMs / o.medianMs).toFixed(2)} (${(l.minMs / o.minMs).toFixed(2)})`;
    const cpuRatio = `${(l.cpuMedianMs / o.cpuMedianMs).toFixed(2)} (${(l.cpuMinMs / o.cpuMinMs).toFixed(2)})`;
    table.row([
      spec.name, String(spec.batch), mode, ratio, cpuRatio, ips(l).toFixed(0), ips(o).toFixed(0), l.medianMs.toFixed(2), o.medianMs.toFixed(2),
    ]);
    rows.push({
      net: spec.name, batch: spec.batch, mode, ratioMedian: l.medianMs / o.medianMs, ratioMin: l.minMs / o.minMs,
      cpuRatioMedian: l.cpuMedianMs / o.cpuMedianMs, cpuRatioMin: l.cpuMinMs / o.cpuMinMs,
      layers: { ...l, imagesPerSecond: ips(l) }, ops: { ...o, imagesPerSecond: ips(o) },
    });
  }
}
console.log(`load average after: ${load()}`);
writeResults('modules', headerLine, { rounds, rows });
