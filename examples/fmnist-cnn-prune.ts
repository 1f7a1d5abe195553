// The third assignment's pruning study: train conv 3×3 12 → ReLU → conv 5×5 16 → ReLU → fc 100 → ReLU → fc 10
// on Fashion-MNIST (SGD momentum 0.9, lr 0.01), prune conv1, conv2 and fc1 one unit at a time by weight norm
// while validation accuracy stays within a tolerance, then compare FLOPs and measured inference speed.
// Run: npx tsx examples/fmnist-cnn-prune.ts --out out/fmnist-cnn-prune   (--quick for a seconds-long slice)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Conv2D, Dense, Flatten, ReLU, Rng, Sequential, Tensor, createSchedule, loadFashionMnist, loadModel, saveModel, type EpochLogs } from 'tensorkit';
import { analyzeModel, measureInference, modelSummaryWithFlops, pruneSchedule, unitCounts, type InferenceTiming, type PruneCriterion, type PruneRecord, type PruneStep } from 'tensorkit/analysis';
import { writeRunReport } from 'tensorkit/plots';
import { normalizeArgv } from './lib/cli.js';

/** Learning-rate schedules of the unpruned model's training (see {@link PruneExampleOptions.schedule}). */
export const LR_SCHEDULES = ['cosine', 'step', 'constant'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

/** Options of {@link main}. */
export interface PruneExampleOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  /**
   * Learning-rate schedule of the unpruned model's training, stepped once per epoch from `lr`:
   * `'cosine'` anneals to 0 over `epochs` (torch's CosineAnnealingLR with T_max = epochs), `'step'`
   * divides it by 10 after ⌈epochs / 2⌉ epochs (StepLR), `'constant'` keeps it (the assignment's
   * original setting). Fine-tuning during and after pruning always uses the constant `lr`. Default in
   * the CLI: `'cosine'`.
   */
  schedule: LrScheduleName;
  seed: number;
  /**
   * A step is kept while validation accuracy ≥ baseline − tolerance (a fraction, 0.03 = 3 points). CLI
   * default 0.03: the assignment's bound on the pruned model's accuracy loss.
   */
  tolerance: number;
  /** Mini-batches of fine-tuning after each pruning step, before it is evaluated (0: none). */
  fineTuneBatches: number;
  /**
   * Learning rate of all fine-tuning (after each pruning step and in the final epochs), same momentum.
   * Smaller than `lr` (CLI default 0.001 = lr / 10, the usual retraining rate after pruning): at the
   * full lr, 100 mini-batches pull an annealed model back to the noisier accuracy of constant-lr
   * training, about 2 points below its baseline, which uses up the tolerance before anything is pruned.
   */
  fineTuneLr: number;
  /** Epochs of fine-tuning of the final pruned model on the whole training split (0: none). */
  finalEpochs: number;
  criterion: PruneCriterion;
  /** Output folder for results.json, pruning-steps.csv, summary.txt and the plots. */
  out: string;
  /** Directory with Fashion-MNIST IDX files (default: the vendored copy). */
  data?: string;
  /** A small slice, 1 epoch, 2 steps per layer: runs in seconds. */
  quick: boolean;
  /** Gemm threads for the inference timing (default: `TENSORKIT_THREADS`, else all cores). */
  threads?: number;
  /**
   * Load the unpruned model from this model file (as written to `out/unpruned.safetensors` by an
   * earlier run with the same data options) instead of training it; the epoch table is then empty.
   */
  loadUnpruned?: string;
}

/** One epoch of the unpruned model's training, as written to results.json. */
interface EpochRow {
  epoch: number;
  lr: number;
  loss: number;
  accuracy: number;
  valAccuracy: number;
  testAccuracy: number;
  seconds: number;
}

/** Display names of the pruned layers, by index in the model. */
const PRUNED = { 0: 'conv1', 2: 'conv2', 5: 'fc1' } as const;
type PrunedIndex = keyof typeof PRUNED;

/** The assignment's best configuration, with PyTorch's default initialization. */
export function buildModel(seed: number): Sequential {
  return new Sequential([
    new Conv2D({ filters: 12, kernelSize: 3 }), new ReLU(),
    new Conv2D({ filters: 16, kernelSize: 5 }), new ReLU(),
    new Flatten(),
    new Dense({ units: 100 }), new ReLU(),
    new Dense({ units: 10 }),
  ], { inputShape: [1, 28, 28], seed });
}

/** Rows `idx` of `t` as a new tensor. */
function takeRows(t: Tensor, idx: ArrayLike<number>): Tensor {
  const per = t.size / t.shape[0];
  const out = new Float32Array(idx.length * per);
  for (let r = 0; r < idx.length; r++) out.set(t.data.subarray(idx[r] * per, (idx[r] + 1) * per), r * per);
  return new Tensor(out, [idx.length, ...t.shape.slice(1)]);
}

/** Fraction of `labels` the model's argmax gets right. */
function accuracy(model: Sequential, images: Tensor, labels: Tensor): number {
  const predicted = model.predictClasses(images);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels.data[i]) correct++;
  return correct / predicted.length;
}

/**
 * Inference timing of two models on the same images. After a warm-up of each, single timed passes
 * alternate (original, pruned, original, …) so that load changes on a shared machine hit both models
 * alike; each model's result is the median (and min) over its passes.
 */
function compareSpeed(original: Sequential, pruned: Sequential, images: Tensor, quick: boolean, threads?: number): { original: InferenceTiming; pruned: InferenceTiming } {
  const batchSize = quick ? 100 : 256;
  const warmup = quick ? 1 : 2;
  const repeats = quick ? 2 : 15;
  measureInference(original, images, { batchSize, warmup: 0, repeats: warmup, threads });
  measureInference(pruned, images, { batchSize, warmup: 0, repeats: warmup, threads });
  const passes: [InferenceTiming[], InferenceTiming[]] = [[], []];
  for (let r = 0; r < repeats; r++) {
    passes[0].push(measureInference(original, images, { batchSize, warmup: 0, repeats: 1, threads }));
    passes[1].push(measureInference(pruned, images, { batchSize, warmup: 0, repeats: 1, threads }));
  }
  const merge = (list: InferenceTiming[]): InferenceTiming => {
    const samples = list.map((t) => t.samples[0]);
    const sorted = samples.slice().sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    const msPerBatch = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { ...list[0], warmup, repeats, msPerBatch, minMsPerBatch: sorted[0], imagesPerSecond: (list[0].batchSize * 1000) / msPerBatch, samples };
  };
  return { original: merge(passes[0]), pruned: merge(passes[1]) };
}

/** One pruning step as written to the CSV and JSON. */
interface StepRow {
  step: number;
  layer: string;
  accepted: boolean;
  removedUnit: number;
  c1: number;
  c2: number;
  f1: number;
  valAccuracy: number;
  testAccuracy: number;
  flops: number;
}

/** A small SVG line chart: accuracy (y) against units removed from one layer (x), one line per series. */
export function accuracyPlot(title: string, series: { name: string; color: string; points: [number, number][] }[]): string {
  const width = 560;
  const height = 340;
  const left = 56;
  const right = 130;
  const top = 36;
  const bottom = 44;
  const all = series.flatMap((s) => s.points);
  const xMax = all.reduce((m, p) => Math.max(m, p[0]), 1);
  const yLo = all.reduce((m, p) => Math.min(m, p[1]), Infinity);
  const yHi = all.reduce((m, p) => Math.max(m, p[1]), -Infinity);
  const y0 = Math.max(0, Math.floor(yLo * 50) / 50 - 0.02);
  const y1 = Math.min(1, Math.ceil(yHi * 50) / 50 + 0.02);
  const px = (x: number) => left + (x / xMax) * (width - left - right);
  const py = (y: number) => top + (1 - (y - y0) / (y1 - y0 || 1)) * (height - top - bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">units removed</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(top + height - bottom) / 2})">accuracy</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = y0 + ((y1 - y0) * i) / 5;
    parts.push(`<line x1="${left - 4}" y1="${py(y)}" x2="${width - right}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${(y * 100).toFixed(1)}%</text>`);
  }
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let x = 0; x <= xMax; x += xStep) parts.push(`<text x="${px(x)}" y="${height - bottom + 16}" text-anchor="middle">${x}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    parts.push(`<line x1="${width - right + 12}" y1="${top + 10 + i * 18}" x2="${width - right + 32}" y2="${top + 10 + i * 18}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${width - right + 38}" y="${top + 14 + i * 18}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Trains, prunes, fine-tunes, measures and writes the results; returns the results object. */
export async function main(options: PruneExampleOptions): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const data = loadFashionMnist({ dir: options.data, ...(options.quick ? { trainLimit: 600, testLimit: 200 } : {}) });
  // 10% of the training set, drawn once with the seed, is the validation set the pruning decisions use.
  const perm = new Rng(options.seed).permutation(data.train.images.shape[0]);
  const nVal = Math.round(perm.length * 0.1);
  const xVal = takeRows(data.train.images, perm.subarray(0, nVal));
  const yVal = takeRows(data.train.labels, perm.subarray(0, nVal));
  const xTrain = takeRows(data.train.images, perm.subarray(nVal));
  const yTrain = takeRows(data.train.labels, perm.subarray(nVal));
  const { images: xTest, labels: yTest } = data.test;
  console.log(`Fashion-MNIST: ${xTrain.shape[0]} train, ${nVal} validation, ${xTest.shape[0]} test images`);

  const optimizer = { name: 'momentum', lr: options.lr, momentum: options.momentum };
  const tuneOptimizer = { name: 'momentum', lr: options.fineTuneLr, momentum: options.momentum };
  const model = options.loadUnpruned === undefined ? buildModel(options.seed) : loadModel(options.loadUnpruned).model;
  console.log(modelSummaryWithFlops(model));
  model.compile({ optimizer, loss: 'cross-entropy', metrics: ['accuracy'] });
  const lrSchedule = options.schedule === 'constant' ? undefined
    : options.schedule === 'cosine' ? createSchedule('cosine', model.optimizer!, { tMax: options.epochs })
      : createSchedule('step', model.optimizer!, { stepSize: Math.ceil(options.epochs / 2), gamma: 0.1 });
  // Test accuracy after every epoch, for the report only: no decision looks at it.
  const epochRows: EpochRow[] = [];
  const testEachEpoch = {
    onEpochEnd: (logs: EpochLogs) => {
      const row: EpochRow = {
        epoch: logs.epoch + 1, lr: logs.lr, loss: logs.loss, accuracy: logs.accuracy, valAccuracy: logs.valAccuracy,
        testAccuracy: accuracy(model, xTest, yTest), seconds: logs.seconds,
      };
      epochRows.push(row);
      console.log(`epoch ${row.epoch}: lr ${row.lr.toPrecision(3)}  validation ${(row.valAccuracy * 100).toFixed(2)}%  test ${(row.testAccuracy * 100).toFixed(2)}%`);
    },
  };
  const tTrain = performance.now();
  if (options.loadUnpruned === undefined) {
    await model.fit(xTrain, yTrain, {
      epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, validationData: [xVal, yVal], verbose: true,
      schedule: lrSchedule, callbacks: [testEachEpoch],
    });
  } else {
    console.log(`loaded the unpruned model from ${options.loadUnpruned}`);
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;
  const baseVal = accuracy(model, xVal, yVal);
  const baseTest = accuracy(model, xTest, yTest);
  console.log(`unpruned: validation ${(baseVal * 100).toFixed(2)}%, test ${(baseTest * 100).toFixed(2)}% (${trainSeconds.toFixed(1)} s training)`);

  // Fine-tuning draws its mini-batches from one seeded stream, so the whole run is reproducible.
  const tuneRng = new Rng(options.seed + 1);
  const fineTune = async (m: Sequential): Promise<void> => {
    m.compile({ optimizer: tuneOptimizer, loss: 'cross-entropy', metrics: ['accuracy'] });
    if (options.fineTuneBatches === 0) return;
    const n = Math.min(options.fineTuneBatches * options.batchSize, xTrain.shape[0]);
    const idx = tuneRng.permutation(xTrain.shape[0]).subarray(0, n);
    await m.fit(takeRows(xTrain, idx), takeRows(yTrain, idx), { epochs: 1, batchSize: options.batchSize, seed: options.seed });
  };
  const limit = options.quick ? 2 : Number.POSITIVE_INFINITY;
  const initial = unitCounts(model);
  const steps: PruneStep[] = [];
  for (const layer of [0, 2, 5] as PrunedIndex[]) {
    for (let s = 0; s < Math.min(initial[layer] - 1, limit); s++) steps.push({ layer, count: 1 });
  }
  const rows: StepRow[] = [];
  const schedule = await pruneSchedule(model, {
    steps,
    criterion: options.criterion,
    evaluate: (m) => accuracy(m, xVal, yVal),
    fineTune,
    accept: (metric, baseline) => metric >= baseline - options.tolerance,
    onStep: (r: PruneRecord, candidate: Sequential) => {
      const units = unitCounts(candidate);
      const row: StepRow = {
        step: r.step, layer: PRUNED[r.layer as PrunedIndex], accepted: r.accepted, removedUnit: r.removed[0],
        c1: units[0], c2: units[2], f1: units[5], valAccuracy: r.metric, testAccuracy: accuracy(candidate, xTest, yTest),
        flops: analyzeModel(candidate).totals.flops,
      };
      rows.push(row);
      console.log(`step ${row.step}: ${row.layer} → (${row.c1}, ${row.c2}, ${row.f1})  validation ${(row.valAccuracy * 100).toFixed(2)}%  ` +
        `test ${(row.testAccuracy * 100).toFixed(2)}%  ${r.accepted ? 'kept' : 'rejected: stop pruning this layer'}`);
    },
  });
  const pruned = schedule.model;
  if (options.finalEpochs > 0) {
    pruned.compile({ optimizer: tuneOptimizer, loss: 'cross-entropy', metrics: ['accuracy'] });
    await pruned.fit(xTrain, yTrain, { epochs: options.finalEpochs, batchSize: options.batchSize, seed: options.seed, validationData: [xVal, yVal], verbose: true });
  }
  const final = unitCounts(pruned);
  const finalShape = { c1: final[0], c2: final[2], f1: final[5] };
  const prunedVal = accuracy(pruned, xVal, yVal);
  const prunedTest = accuracy(pruned, xTest, yTest);
  const flopsOriginal = analyzeModel(model).totals.flops;
  const flopsPruned = analyzeModel(pruned).totals.flops;
  const speed = compareSpeed(model, pruned, xTest, options.quick, options.threads);
  const speedup = speed.original.msPerBatch / speed.pruned.msPerBatch;
  console.log(`pruned (${finalShape.c1}, ${finalShape.c2}, ${finalShape.f1}): validation ${(prunedVal * 100).toFixed(2)}%, test ${(prunedTest * 100).toFixed(2)}% ` +
    `(unpruned ${(baseTest * 100).toFixed(2)}%)`);
  console.log(`FLOPs per image ${flopsOriginal.toLocaleString('en-US')} → ${flopsPruned.toLocaleString('en-US')} (${(flopsOriginal / flopsPruned).toFixed(2)}× fewer); ` +
    `inference ${speed.original.msPerBatch.toFixed(2)} → ${speed.pruned.msPerBatch.toFixed(2)} ms per batch of ${speed.original.batchSize}, ` +
    `${speed.original.threads} gemm thread(s) (${speedup.toFixed(2)}× faster)`);

  mkdirSync(options.out, { recursive: true });
  saveModel(model, join(options.out, 'unpruned.safetensors'));
  saveModel(pruned, join(options.out, 'pruned.safetensors'));
  const result = {
    example: 'fmnist-cnn-prune', options, node: process.version,
    trainImages: xTrain.shape[0], validationImages: nVal, testImages: xTest.shape[0], trainSeconds,
    unpruned: { units: { c1: initial[0], c2: initial[2], f1: initial[5] }, validationAccuracy: baseVal, testAccuracy: baseTest, flops: flopsOriginal, params: model.countParams() },
    epochs: epochRows,
    pruned: { units: finalShape, validationAccuracy: prunedVal, testAccuracy: prunedTest, flops: flopsPruned, params: pruned.countParams() },
    flopRatio: flopsOriginal / flopsPruned,
    inference: { original: speed.original, pruned: speed.pruned, speedup },
    steps: rows,
    seconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(options.out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  const header = 'step,layer,accepted,removed_unit,c1,c2,f1,val_accuracy,test_accuracy,flops';
  const csv = rows.map((r) => [r.step, r.layer, r.accepted, r.removedUnit, r.c1, r.c2, r.f1, r.valAccuracy, r.testAccuracy, r.flops].join(','));
  writeFileSync(join(options.out, 'pruning-steps.csv'), `${[header, ...csv].join('\n')}\n`);
  writeFileSync(join(options.out, 'summary.txt'), `Unpruned\n${modelSummaryWithFlops(model)}\n\nPruned\n${modelSummaryWithFlops(pruned)}\n`);
  const charts: string[] = [];
  for (const name of Object.values(PRUNED)) {
    // x = units removed from this layer so far; the first point is the state before its first step.
    const mine = rows.filter((r) => r.layer === name);
    if (mine.length === 0) continue;
    const start = rows.slice(0, rows.indexOf(mine[0])).filter((r) => r.accepted).at(-1) ?? { valAccuracy: baseVal, testAccuracy: baseTest };
    const series = (key: 'valAccuracy' | 'testAccuracy'): [number, number][] => [[0, start[key]], ...mine.map((r, i): [number, number] => [i + 1, r[key]])];
    const svg = accuracyPlot(`${name}: accuracy vs units removed (tolerance ${(options.tolerance * 100).toFixed(1)} points)`, [
      { name: 'validation', color: '#1f77b4', points: series('valAccuracy') },
      { name: 'test', color: '#d62728', points: series('testAccuracy') },
    ]);
    writeFileSync(join(options.out, `prune-${name}.svg`), svg);
    charts.push(`prune-${name}.svg`);
  }
  writeRunReport(options.out, {
    title: 'fmnist-cnn-prune: structured pruning of the Fashion-MNIST CNN',
    description: 'Conv channels and dense neurons with the smallest weight norm are removed one at a time while validation accuracy stays within the tolerance; the physically smaller model is timed against the original.',
    params: { ...options, trainImages: xTrain.shape[0], validationImages: nVal, testImages: xTest.shape[0] },
    metrics: {
      'unpruned test accuracy': `${(100 * baseTest).toFixed(2)}%`, 'pruned test accuracy': `${(100 * prunedTest).toFixed(2)}%`,
      'pruned units (c1, c2, f1)': `(${finalShape.c1}, ${finalShape.c2}, ${finalShape.f1})`,
      'FLOPs per image': `${flopsOriginal.toLocaleString('en-US')} → ${flopsPruned.toLocaleString('en-US')}`, 'FLOP ratio': flopsOriginal / flopsPruned,
      'inference speedup': speedup, 'train seconds': trainSeconds,
    },
    tables: [{
      title: 'Pruning steps',
      columns: ['step', 'layer', 'accepted', 'c1', 'c2', 'f1', 'validation accuracy', 'test accuracy', 'FLOPs'],
      rows: rows.map((r) => [r.step, r.layer, String(r.accepted), r.c1, r.c2, r.f1, r.valAccuracy, r.testAccuracy, r.flops]),
    }],
    charts,
  });
  console.log(`wrote results.json, pruning-steps.csv, summary.txt, ${charts.length} charts, report.html and both models (*.safetensors) to ${options.out} (${result.seconds.toFixed(1)} s)`);
  return result;
}

function parseCli(): PruneExampleOptions {
  const options = {
      epochs: { type: 'string', default: '10' },
      'batch-size': { type: 'string', default: '32' },
      lr: { type: 'string', default: '0.01' },
      momentum: { type: 'string', default: '0.9' },
      schedule: { type: 'string', default: 'cosine' },
      seed: { type: 'string', default: '0' },
      tolerance: { type: 'string', default: '0.03' },
      'fine-tune-batches': { type: 'string', default: '100' },
      'fine-tune-lr': { type: 'string', default: '0.001' },
      'load-unpruned': { type: 'string' },
      'final-epochs': { type: 'string', default: '1' },
      criterion: { type: 'string', default: 'l1' },
      out: { type: 'string', default: 'out/fmnist-cnn-prune' },
      data: { type: 'string' },
      threads: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
  } as const;
  const { values: args } = parseArgs({ args: normalizeArgv(process.argv.slice(2), Object.keys(options)), options });
  if (args.help) {
    console.log(`usage: npx tsx examples/fmnist-cnn-prune.ts [--epochs N] [--batch-size N] [--lr X] [--momentum X]
         [--schedule cosine|step|constant] [--seed N] [--tolerance X] [--fine-tune-batches N] [--fine-tune-lr X]
         [--final-epochs N] [--criterion l1|l2] [--threads N] [--load-unpruned FILE] [--out DIR] [--data DIR] [--quick]`);
    process.exit(0);
  }
  const fail = (message: string): never => {
    console.error(`fmnist-cnn-prune: ${message}`);
    process.exit(2);
  };
  const num = (name: keyof typeof args, min: number, integer: boolean): number => {
    const raw = String(args[name]);
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(raw)}`);
    return v;
  };
  if (args.criterion !== 'l1' && args.criterion !== 'l2') fail(`--criterion must be l1 or l2, got ${JSON.stringify(args.criterion)}`);
  if (!(LR_SCHEDULES as readonly string[]).includes(args.schedule)) fail(`--schedule must be one of ${LR_SCHEDULES.join(', ')}, got ${JSON.stringify(args.schedule)}`);
  const quick = args.quick;
  return {
    epochs: quick ? 1 : num('epochs', 1, true),
    batchSize: num('batch-size', 1, true),
    lr: num('lr', 0, false),
    momentum: num('momentum', 0, false),
    schedule: args.schedule as LrScheduleName,
    seed: num('seed', 0, true),
    tolerance: num('tolerance', 0, false),
    fineTuneBatches: quick ? 2 : num('fine-tune-batches', 0, true),
    fineTuneLr: num('fine-tune-lr', 0, false),
    finalEpochs: quick ? 0 : num('final-epochs', 0, true),
    criterion: args.criterion as PruneCriterion,
    out: args.out,
    data: args.data,
    quick,
    ...(args.threads === undefined ? {} : { threads: num('threads', 1, true) }),
    ...(args['load-unpruned'] === undefined ? {} : { loadUnpruned: args['load-unpruned'] }),
  };
}

// Run only as a script, so the test can import main.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(parseCli());
}
