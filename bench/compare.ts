// `npm run bench:compare` (issue 14): tensorkit side by side with PyTorch (each BLAS variant, when python3-torch
// is installed), onnxruntime-node and onnxruntime-web's WebAssembly backend, in one run with the thread counts
// alternated: training img/s of the four assignment networks, inference img/s at batch 256 on tensorkit's own
// exportOnnx models, and (full runs) one Fashion-MNIST epoch of net000. Prints ratios first (then the 2 ÷ 1
// thread training speed-ups and the bytes allocated per steady-state step, from test/perf/heap-probe.ts),
// then the raw figures, and writes bench/results/compare.json (or --out FILE). A peer that is not
// installed (PyTorch, onnxruntime-node, onnxruntime-web) is skipped with the reason printed.
// Usage: npx tsx bench/compare.ts [--quick] [--filter net001] [--python /usr/bin/python3] [--no-epoch] [--out FILE]
//        [--skip pytorch,onnxruntime-node,onnxruntime-web]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as OrtNode from 'onnxruntime-node';
import { loadFashionMnist } from '../src/data/datasets.js';
import { exportOnnx } from '../src/io/files.js';
import { availableCores, setThreads } from '../src/runtime/workers.js';
import { Tensor } from '../src/tensor/tensor.js';
import { argValue, gauge, header, QUICK, Table, time, type Timing } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch, type NetSpec } from './lib/networks.js';
import { timeAsync } from './lib/time-async.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Inference batch of every implementation. */
const INFER_BATCH = 256;
/** The Debian OpenBLAS builds PyTorch is run against, one LD_LIBRARY_PATH each. */
const BLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-openmp', '/usr/lib/x86_64-linux-gnu/openblas-pthread'];

/** One measured figure. `impl` is tensorkit, pytorch, onnxruntime-node or onnxruntime-web. */
interface Row extends Timing {
  readonly impl: string;
  /** BLAS variant (PyTorch only; '' otherwise). */
  readonly variant: string;
  readonly net: string;
  readonly mode: 'train' | 'infer';
  readonly threads: number;
  readonly batch: number;
  readonly imagesPerSecond: number;
}

const filter = argValue('--filter');
const PEERS = ['pytorch', 'onnxruntime-node', 'onnxruntime-web'];
const skipped = new Set((argValue('--skip') ?? '').split(',').filter((p) => p !== ''));
for (const p of skipped) {
  if (!PEERS.includes(p)) {
    console.error(`bench:compare: --skip ${p} is not a peer; known: ${PEERS.join(', ')}`);
    process.exit(2);
  }
}
const python = argValue('--python') ?? process.env.TENSORKIT_PYTHON ?? '/usr/bin/python3';
const outFile = resolve(argValue('--out') ?? join(HERE, 'results', 'compare.json'));
const runEpoch = !QUICK && !process.argv.includes('--no-epoch');
const budgetMs = QUICK ? 100 : 600;
const rounds = QUICK ? 1 : 2;
const threadCounts = [...new Set([1, Math.min(2, availableCores())])];
const nets = NETWORKS.filter((n) => filter === undefined || n.name.includes(filter));
if (nets.length === 0) {
  console.error(`bench:compare: --filter ${filter} matches no network; known: ${NETWORKS.map((n) => n.name).join(', ')}`);
  process.exit(2);
}

const headerLine = header(`threads ${threadCounts.join(' and ')} alternated`);
console.log(headerLine);
const loadBefore = os.loadavg();
console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
const gaugeBefore = gauge();
console.log(`gauge before: 512³ gemm on 1 thread at ${gaugeBefore.toFixed(1)} GFLOP/s`);

// ---- PyTorch availability and its BLAS variants -------------------------------------------------------
interface TorchInfo { available: boolean; version: string | null; note: string; variants: { name: string; dir: string | null }[] }
function probeTorch(): TorchInfo {
  if (skipped.has('pytorch')) return { available: false, version: null, variants: [], note: 'PyTorch skipped (--skip)' };
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`;
    return { available: false, version: null, variants: [], note: `PyTorch skipped: ${python} cannot import torch (${why}); apt-get install python3-torch libopenblas0-openmp libopenblas0-pthread` };
  }
  const variants = BLAS_DIRS.filter((d) => existsSync(join(d, 'libblas.so.3'))).map((dir) => ({ name: dir.split('-').pop() as string, dir }));
  const note = variants.length === 0 ? 'no OpenBLAS variant directories; PyTorch ran on the system libblas' : `BLAS variants: ${variants.map((v) => v.name).join(', ')}`;
  return { available: true, version: probe.stdout.trim(), variants: variants.length === 0 ? [{ name: 'system', dir: null }] : variants, note };
}
const torch = probeTorch();
console.log(torch.available ? `PyTorch ${torch.version} (${python}); ${torch.note}` : torch.note);

interface ChildRow { net: string; batch: number; mode: 'train' | 'infer'; medianMs: number; minMs: number; samples: number }
/** Runs a child process that prints one JSON object on its last stdout line; throws with its stderr. */
function runJsonChild(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { rows: ChildRow[]; [key: string]: unknown } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`bench:compare: ${what} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-2000)}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

const pytorchBlas: Record<string, string[]> = {};
function pytorchRows(threads: number): Row[] {
  const out: Row[] = [];
  for (const v of torch.variants) {
    const env = { ...process.env };
    if (v.dir !== null) env.LD_LIBRARY_PATH = v.dir + (env.LD_LIBRARY_PATH ? `:${env.LD_LIBRARY_PATH}` : '');
    const res = runJsonChild(`PyTorch (${v.name}, ${threads} threads)`, python, [
      join(HERE, 'pytorch', 'train_step.py'), '--threads', String(threads), '--budget', String(budgetMs / 1000),
      '--nets', nets.map((n) => n.name).join(','),
    ], env);
    pytorchBlas[v.name] = res.blas as string[];
    for (const r of res.rows) out.push(row('pytorch', v.name, threads, r));
  }
  return out;
}

// ---- onnxruntime: tensorkit's own exportOnnx models ---------------------------------------------------
/** onnxruntime-node, or null with the reason printed (a dev dependency; its native binding may be missing). */
async function loadOrtNode(): Promise<typeof OrtNode | null> {
  if (skipped.has('onnxruntime-node')) {
    console.log('onnxruntime-node skipped (--skip)');
    return null;
  }
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    console.log(`onnxruntime-node skipped: ${(e as Error).message.split('\n')[0]} (npm install --ignore-scripts onnxruntime-node)`);
    return null;
  }
}
/** Whether onnxruntime-web resolves (the child process imports it); prints why not. */
function hasOrtWeb(): boolean {
  if (skipped.has('onnxruntime-web')) {
    console.log('onnxruntime-web skipped (--skip)');
    return false;
  }
  try {
    createRequire(import.meta.url).resolve('onnxruntime-web');
    return true;
  } catch (e) {
    console.log(`onnxruntime-web skipped: ${(e as Error).message.split('\n')[0]} (npm install onnxruntime-web)`);
    return false;
  }
}
const ortNode = await loadOrtNode();
const ortWeb = hasOrtWeb();
const onnxDir = mkdtempSync(join(os.tmpdir(), 'tensorkit-compare-'));
const onnxPaths = new Map<string, string>();
for (const spec of nets) {
  const path = join(onnxDir, `${spec.name}.onnx`);
  exportOnnx(buildModel(spec), path);
  onnxPaths.set(spec.name, path);
}
const inferInput = (spec: NetSpec): Tensor => {
  const per = spec.inputShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(INFER_BATCH * per);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000;
  return new Tensor(data, [INFER_BATCH, ...spec.inputShape]);
};
const ortNodeSessions = new Map<string, OrtNode.InferenceSession>();
for (const t of ortNode === null ? [] : threadCounts) {
  for (const spec of nets) {
    ortNodeSessions.set(`${spec.name}|${t}`, await ortNode!.InferenceSession.create(onnxPaths.get(spec.name) as string, {
      executionProviders: ['cpu'], intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    }));
  }
}
let ortWebVersion = 'unknown';
function ortWebRows(threads: number): Row[] {
  const job = { threads, budgetMs, batch: INFER_BATCH, models: nets.map((n) => ({ net: n.name, path: onnxPaths.get(n.name), inputShape: n.inputShape })) };
  const res = runJsonChild(`onnxruntime-web (${threads} threads)`, process.execPath, [join(HERE, 'lib', 'ort-web-child.mjs'), JSON.stringify(job)]);
  ortWebVersion = String(res.version);
  return res.rows.map((r) => row('onnxruntime-web', '', threads, r));
}

function row(impl: string, variant: string, threads: number, r: { net: string; batch: number; mode: 'train' | 'infer' } & Timing): Row {
  return {
    impl, variant, net: r.net, mode: r.mode, threads, batch: r.batch,
    medianMs: r.medianMs, minMs: r.minMs, samples: r.samples, imagesPerSecond: (r.batch * 1000) / r.medianMs,
  };
}

// ---- the alternated measurement rounds ----------------------------------------------------------------
// Each (implementation, variant, network, mode, threads) keeps the better median of the rounds, so a burst
// of load on the shared machine in one round does not decide a comparison.
const best = new Map<string, Row>();
const keep = (r: Row): void => {
  const key = `${r.impl}|${r.variant}|${r.net}|${r.mode}|${r.threads}`;
  const old = best.get(key);
  if (old === undefined || r.medianMs < old.medianMs) best.set(key, r);
};
const models = new Map(threadCounts.flatMap((t) => nets.map((spec) => [`${spec.name}|${t}`, buildModel(spec)] as const)));
for (let round = 0; round < rounds; round++) {
  for (const threads of threadCounts) {
    console.log(`round ${round + 1}/${rounds}, ${threads} thread${threads === 1 ? '' : 's'}…`);
    setThreads(threads);
    for (const spec of nets) {
      const model = models.get(`${spec.name}|${threads}`)!;
      const { x, y } = randomBatch(spec);
      const options = { warmup: 3, minSamples: 12, budgetMs };
      keep(row('tensorkit', '', threads, { net: spec.name, batch: spec.batch, mode: 'train', ...(await time(() => model.trainStep(x, y), options)) }));
      const xi = inferInput(spec);
      keep(row('tensorkit', '', threads, { net: spec.name, batch: INFER_BATCH, mode: 'infer', ...(await time(() => model.forward(xi, { training: false }), options)) }));
      const session = ortNodeSessions.get(`${spec.name}|${threads}`);
      if (ortNode !== null && session !== undefined) {
        const feeds = { input: new ortNode.Tensor('float32', xi.data, [...xi.shape]) };
        keep(row('onnxruntime-node', '', threads, { net: spec.name, batch: INFER_BATCH, mode: 'infer', ...(await timeAsync(() => session.run(feeds), budgetMs)) }));
      }
    }
    if (torch.available) for (const r of pytorchRows(threads)) keep(r);
    if (ortWeb) for (const r of ortWebRows(threads)) keep(r);
  }
}
for (const s of ortNodeSessions.values()) await s.release();
rmSync(onnxDir, { recursive: true, force: true });

// ---- one Fashion-MNIST epoch of net000 (full runs only) -----------------------------------------------
interface EpochResult {
  images: number;
  /** Seconds: `loadFashionMnist` (gzip IDX decoding), one epoch of `fit`, one evaluation of the 10k test split. */
  tensorkit: { threads: number; loadSeconds: number; trainSeconds: number; testSeconds: number; accuracy: number }[];
  /** Seconds: the script's data loading, and its training loop plus one 10k test pass. */
  pytorch: { variant: string; threads: number; loadSeconds: number; seconds: number; accuracy: number }[];
  note: string;
}
let epoch: EpochResult | null = null;
if (runEpoch && nets.some((n) => n.name === 'net000')) {
  console.log('one Fashion-MNIST epoch of net000…');
  const spec = NETWORKS.find((n) => n.name === 'net000')!;
  const tk: EpochResult['tensorkit'] = [];
  for (const threads of threadCounts) {
    setThreads(threads);
    const t0 = performance.now();
    const data = loadFashionMnist();
    const t1 = performance.now();
    const model = buildModel(spec);
    await model.fit(data.train.images, data.train.labels, { epochs: 1, batchSize: spec.batch, seed: 1, verbose: false });
    const t2 = performance.now();
    const { accuracy } = model.evaluate(data.test.images, data.test.labels, { batchSize: INFER_BATCH });
    const t3 = performance.now();
    tk.push({ threads, loadSeconds: (t1 - t0) / 1000, trainSeconds: (t2 - t1) / 1000, testSeconds: (t3 - t2) / 1000, accuracy });
  }
  const pt: EpochResult['pytorch'] = [];
  for (const threads of threadCounts) {
    for (const v of torch.variants) {
      const env = { ...process.env };
      if (v.dir !== null) env.LD_LIBRARY_PATH = v.dir + (env.LD_LIBRARY_PATH ? `:${env.LD_LIBRARY_PATH}` : '');
      const r = spawnSync(python, [join(HERE, 'pytorch', 'fmnist_cnn_one_epoch.py'), '0.01', '0', String(threads)], { encoding: 'utf8', env });
      const m = / acc (\S+) time (\S+) load (\S+)/.exec(r.stdout);
      if (r.status !== 0 || m === null) throw new Error(`bench:compare: PyTorch epoch (${v.name}, ${threads} threads) failed: ${r.stderr.trim().slice(-2000)}`);
      pt.push({ variant: v.name, threads, accuracy: Number(m[1]), seconds: Number(m[2]), loadSeconds: Number(m[3]) });
    }
  }
  epoch = {
    images: 60000, tensorkit: tk, pytorch: pt,
    note: 'tensorkit: loadFashionMnist, Sequential.fit (1 epoch, batch 32) and evaluate on the 10k test split; PyTorch (bench/pytorch/fmnist_cnn_one_epoch.py): its data loading, the training loop and one 10k test pass. Ratio = (loading + epoch + test) of tensorkit ÷ the same of PyTorch',
  };
}

// ---- bytes allocated per steady-state step (test/perf/heap-probe.ts, as the allocation test runs it) --
interface AllocRow { trainStep: number; layers: number; infer: number; retained: number; heapBlocks: number }
function allocationProbe(): Record<string, AllocRow> | null {
  const probe = join(HERE, '..', 'test', 'perf', 'heap-probe.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', '--import', 'tsx', probe, '10', '50', '4'],
    { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error !== undefined || r.status !== 0) {
    console.log(`allocation probe failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-500)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, AllocRow>;
}
console.log('allocations per steady-state step…');
const allocations = allocationProbe();

// ---- ratios and output --------------------------------------------------------------------------------
const rows = [...best.values()];
const get = (impl: string, net: string, mode: string, threads: number, variant = ''): Row | undefined =>
  rows.find((r) => r.impl === impl && r.net === net && r.mode === mode && r.threads === threads && r.variant === variant);
const bestTorch = (net: string, mode: string, threads: number): Row | undefined =>
  rows.filter((r) => r.impl === 'pytorch' && r.net === net && r.mode === mode && r.threads === threads)
    .reduce<Row | undefined>((a, r) => (a === undefined || r.imagesPerSecond > a.imagesPerSecond ? r : a), undefined);
const ratio = (a: Row | undefined, b: Row | undefined): number | null => (a === undefined || b === undefined ? null : a.imagesPerSecond / b.imagesPerSecond);
const fmt = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);

const training = nets.flatMap((spec) => threadCounts.map((threads) => {
  const tk = get('tensorkit', spec.name, 'train', threads);
  const pt = bestTorch(spec.name, 'train', threads);
  return { net: spec.name, threads, tensorkit: tk?.imagesPerSecond ?? null, pytorchBest: pt?.imagesPerSecond ?? null, pytorchVariant: pt?.variant ?? null, ratio: ratio(tk, pt) };
}));
const inference = nets.flatMap((spec) => threadCounts.map((threads) => {
  const tk = get('tensorkit', spec.name, 'infer', threads);
  const on = get('onnxruntime-node', spec.name, 'infer', threads);
  const ow = get('onnxruntime-web', spec.name, 'infer', threads);
  const pt = bestTorch(spec.name, 'infer', threads);
  return {
    net: spec.name, threads, tensorkit: tk?.imagesPerSecond ?? null, onnxruntimeNode: on?.imagesPerSecond ?? null, onnxruntimeWeb: ow?.imagesPerSecond ?? null,
    pytorchBest: pt?.imagesPerSecond ?? null, vsOnnxruntimeNode: ratio(tk, on), vsOnnxruntimeWeb: ratio(tk, ow), vsPytorch: ratio(tk, pt),
  };
}));
const many = threadCounts[threadCounts.length - 1];
const threadScaling = many === 1 ? [] : nets.map((spec) => ({
  net: spec.name, threads: many,
  tensorkit: ratio(get('tensorkit', spec.name, 'train', many), get('tensorkit', spec.name, 'train', 1)),
  pytorchBest: ratio(bestTorch(spec.name, 'train', many), bestTorch(spec.name, 'train', 1)),
}));

console.log('\nratios (tensorkit img/s ÷ peer img/s; > 1 = tensorkit faster)');
const ratioTable = new Table([
  ['network', 8, 'l'], ['threads', 7, 'r'], ['train ÷ PyTorch', 15, 'r'], ['infer ÷ ort-node', 16, 'r'], ['infer ÷ ort-web', 15, 'r'], ['infer ÷ PyTorch', 15, 'r'],
]);
for (const t of training) {
  const i = inference.find((r) => r.net === t.net && r.threads === t.threads)!;
  ratioTable.row([t.net, String(t.threads), fmt(t.ratio), fmt(i.vsOnnxruntimeNode), fmt(i.vsOnnxruntimeWeb), fmt(i.vsPytorch)]);
}
if (threadScaling.length > 0) {
  console.log(`\ntraining speed-up, ${many} threads ÷ 1 thread`);
  const s = new Table([['network', 8, 'l'], ['tensorkit', 9, 'r'], ['PyTorch', 9, 'r']]);
  for (const r of threadScaling) s.row([r.net, fmt(r.tensorkit), fmt(r.pytorchBest)]);
}
if (allocations !== null) {
  console.log('\nbytes allocated per steady-state step (batch 4; min over windows; shared-heap blocks over all measured steps)');
  const a = new Table([['network', 8, 'l'], ['trainStep B', 11, 'r'], ['layers B', 9, 'r'], ['inference B', 11, 'r'], ['heap blocks', 11, 'r']]);
  for (const [net, r] of Object.entries(allocations)) {
    if (nets.some((n) => n.name === net)) a.row([net, r.trainStep.toFixed(0), r.layers.toFixed(0), r.infer.toFixed(0), String(r.heapBlocks)]);
  }
}
if (epoch !== null) {
  const total = (e: { loadSeconds: number; trainSeconds?: number; testSeconds?: number; seconds?: number }): number =>
    e.loadSeconds + (e.trainSeconds ?? 0) + (e.testSeconds ?? 0) + (e.seconds ?? 0);
  console.log(`\none Fashion-MNIST epoch of net000 (${epoch.images} images), loading + training + 10k test pass (seconds; tensorkit ÷ PyTorch's best, < 1 = tensorkit faster)`);
  for (const threads of threadCounts) {
    const t = epoch.tensorkit.find((e) => e.threads === threads)!;
    const peers = epoch.pytorch.filter((e) => e.threads === threads);
    const bestPeer = peers.length === 0 ? null : Math.min(...peers.map(total));
    console.log(`${threads}T  tensorkit ${total(t).toFixed(1)} s (load ${t.loadSeconds.toFixed(1)}, train ${t.trainSeconds.toFixed(1)}, test ${t.testSeconds.toFixed(1)}, acc ${t.accuracy.toFixed(3)})` +
      peers.map((e) => `; PyTorch ${e.variant} ${total(e).toFixed(1)} s (load ${e.loadSeconds.toFixed(1)}, acc ${e.accuracy.toFixed(3)})`).join('') +
      (bestPeer === null ? '' : `; ratio ${(total(t) / bestPeer).toFixed(2)}×`));
  }
  if (epoch.pytorch.length > 0) {
    const best = Math.min(...epoch.tensorkit.map(total));
    console.log(`best of each: tensorkit ${best.toFixed(1)} s ÷ PyTorch ${Math.min(...epoch.pytorch.map(total)).toFixed(1)} s = ${(best / Math.min(...epoch.pytorch.map(total))).toFixed(2)}×`);
  }
}
console.log('\nimages/s (median step; train at each network\'s batch, infer at batch 256)');
const raw = new Table([['network', 8, 'l'], ['mode', 5, 'l'], ['threads', 7, 'r'], ['implementation', 26, 'l'], ['median ms', 10, 'r'], ['img/s', 9, 'r']]);
for (const r of [...rows].sort((a, b) => a.net.localeCompare(b.net) || a.mode.localeCompare(b.mode) || a.threads - b.threads || b.imagesPerSecond - a.imagesPerSecond)) {
  raw.row([r.net, r.mode, String(r.threads), r.variant === '' ? r.impl : `${r.impl} (${r.variant})`, r.medianMs.toFixed(3), r.imagesPerSecond.toFixed(0)]);
}
if (!torch.available) console.log(`\n${torch.note}`);

const gaugeAfter = gauge();
const loadAfter = os.loadavg();
console.log(`gauge after: 512³ gemm on 1 thread at ${gaugeAfter.toFixed(1)} GFLOP/s; load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify({
  header: headerLine, date: new Date().toISOString(), quick: QUICK, threads: threadCounts, inferBatch: INFER_BATCH,
  loadAverage: { before: loadBefore, after: loadAfter }, gauge: { gflopsBefore: gaugeBefore, gflopsAfter: gaugeAfter },
  peers: {
    pytorch: { available: torch.available, version: torch.version, python, note: torch.note, variants: torch.variants.map((v) => ({ ...v, loaded: pytorchBlas[v.name] ?? [] })) },
    onnxruntimeNode: { available: ortNode !== null, version: ortNode === null ? null : ortNode.env.versions.node ?? ortNode.env.versions.common },
    onnxruntimeWeb: { available: ortWeb, version: ortWeb ? ortWebVersion : null, backend: 'wasm' },
  },
  networks: nets.map((n) => ({ name: n.name, description: n.description, batch: n.batch })),
  ratios: { training, inference, threadScaling }, allocations, epoch, rows,
}, null, 1)}\n`);
console.log(`wrote ${outFile}`);
