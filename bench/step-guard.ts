// Cost of the training step's non-finite guard (src/train/step-guard.ts) on the assignment networks:
// the snapshot of weights and optimizer slots before optimizer.step plus the finiteness pass after
// it, timed alone and against a whole training step (Sequential.trainStep, which includes it), on
// 1 thread. Writes bench/results/step-guard.json.
// Usage: npx tsx bench/step-guard.ts [--quick] [--filter net000]
import { setThreads } from '../src/runtime/workers.js';
import { StepGuard } from '../src/train/step-guard.js';
import { argValue, header, Table, time, writeResults } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch } from './lib/networks.js';

const filter = argValue('--filter');
setThreads(1);
const headerLine = header('1 thread');
console.log(headerLine);
const table = new Table([
  ['network', 8, 'l'], ['params', 9, 'r'], ['slots', 5, 'r'], ['guard ms', 9, 'r'], ['step ms', 9, 'r'], ['guard %', 8, 'r'],
]);
const rows: Record<string, unknown>[] = [];
for (const spec of NETWORKS) {
  if (filter !== undefined && !spec.name.includes(filter)) continue;
  const model = buildModel(spec);
  const { x, y } = randomBatch(spec);
  model.trainStep(x, y); // allocates the optimizer's slots
  const params = model.params();
  const optimizer = model.optimizer!;
  const slots = Object.keys(optimizer.stateDict().slots[params[0].name] ?? {}).length;
  const count = params.reduce((n, p) => n + p.value.size, 0);
  const guard = new StepGuard();
  const guardTime = await time(() => {
    guard.capture(params, optimizer);
    if (guard.firstNonFinite(params) !== -1) throw new Error('non-finite weights in the benchmark');
  });
  const stepTime = await time(() => model.trainStep(x, y), { budgetMs: 1500 });
  const share = (100 * guardTime.medianMs) / stepTime.medianMs;
  table.row([spec.name, String(count), String(slots), guardTime.medianMs.toFixed(3), stepTime.medianMs.toFixed(2), share.toFixed(1)]);
  rows.push({ net: spec.name, params: count, slots, guardMs: guardTime.medianMs, stepMs: stepTime.medianMs, guardPercent: share });
}
writeResults('step-guard', headerLine, { rows });
