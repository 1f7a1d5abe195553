// The in-page benchmark (npm run bench:browser): serves bench/browser/ with the cross-origin isolation
// headers, opens it in headless Chromium and times, in a dedicated worker per case, tensorkit on 1 and
// on all threads against TensorFlow.js's cpu, wasm and webgl backends on the four assignment networks
// (training and inference img/s). Then net000 training in the page against Node on the same thread
// counts, alternating (Node, page, Node, page) so load drifts hit both. tfjs-backend-wasm's .wasm
// files are served from node_modules: nothing downloads. Writes bench/results/browser.json.
// Usage: npx tsx bench/browser/run.ts [--quick] [--filter net001] [--budget MS] [--skip-tfjs-cpu] [--parity-only] [--rounds N]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { getThreads, setThreads, availableCores } from '../../src/runtime/workers.js';
import { argValue, header, QUICK, writeResults } from '../lib/harness.js';
import { buildModel, network, NETWORKS, randomBatch } from '../lib/networks.js';
import type { BenchCase, BenchResult, Timed } from './engines.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = fileURLToPath(new URL('./', import.meta.url));
const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const budgetMs = Number(argValue('--budget') ?? (QUICK ? 300 : 3000));
const filter = argValue('--filter');
const skipCpu = process.argv.includes('--skip-tfjs-cpu');
const parityOnly = process.argv.includes('--parity-only');
const cores = availableCores();

async function bundle(entry: string): Promise<string> {
  const built = await esbuild.build({
    entryPoints: [`${here}${entry}`], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
    // package.json's sideEffects names dist/ files: from src/ the registrations would be shaken out.
    ignoreAnnotations: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return built.outputFiles[0].text;
}

const files: Record<string, [string, string | Buffer]> = {
  '/': ['text/html', '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>tensorkit vs TensorFlow.js</title><pre id="table"></pre><script type="module" src="./page.js"></script>'],
  '/page.js': ['text/javascript', await bundle('page.ts')],
  '/worker.js': ['text/javascript', await bundle('worker.ts')],
};
for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  files[`/tfjs-wasm/${name}`] = ['application/wasm', readFileSync(`${wasmDir}${name}`)];
}
const server = createServer((req, res) => {
  const file = files[new URL(req.url ?? '/', 'http://x').pathname];
  if (file === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'content-type': file[0], 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
  }).end(file[1]);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

// No --disable-gpu: WebGL is then SwiftShader (software) on a machine without a GPU, which the
// renderer string in each webgl row says.
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist',
    '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page: Page = await browser.newPage();
const problems: string[] = [];
page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
page.on('pageerror', (err) => problems.push(err.message));
await page.goto(url);
await page.waitForFunction(() => (globalThis as { benchRun?: unknown }).benchRun !== undefined);
const browserVersion = browser.version();

function inPage(c: Omit<BenchCase, 'wasmBase'>): Promise<BenchResult> {
  return page.evaluate((arg) => (globalThis as unknown as { benchRun(c: unknown): Promise<BenchResult> }).benchRun(arg), c);
}

/** Median/min of one call after one warm-up call, until 5 samples and the budget (as engines.ts). */
function timeNode(fn: () => unknown): Timed {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while ((times.length < 5 || performance.now() - start < budgetMs) && times.length < 1000) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return { medianMs: times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2, minMs: times[0], samples: times.length };
}

function rate(t: BenchResult['train'], batch: number): number | null {
  return 'error' in t ? null : (batch * 1000) / t.medianMs;
}
const fmt = (v: number | null, err?: string): string => (v === null ? `✗ ${err ?? ''}`.trim() : v >= 100 ? v.toFixed(0) : v.toFixed(1));

const load = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');
const loadBefore = load();
const headerLine = header(`headless Chromium ${browserVersion}; each case in a dedicated worker; budget ${budgetMs} ms per measurement; load ${loadBefore}`);
console.log(headerLine);

// 1. Every engine on every network, in the page.
const results: BenchResult[] = [];
const engines: { engine: BenchCase['engine']; threads: number }[] = [
  { engine: 'tensorkit', threads: 1 }, { engine: 'tensorkit', threads: cores },
  ...(skipCpu ? [] : [{ engine: 'cpu' as const, threads: 1 }]),
  { engine: 'wasm', threads: 1 }, { engine: 'wasm', threads: cores }, { engine: 'webgl', threads: 1 },
];
console.log('\n| network | engine | threads | train img/s | inference img/s | detail |\n|---|---|---|---|---|---|');
for (const spec of NETWORKS) {
  if (parityOnly || (filter !== undefined && !spec.name.includes(filter))) continue;
  for (const e of engines) {
    let r: BenchResult;
    try {
      r = await inPage({ net: spec.name, engine: e.engine, threads: e.threads, budgetMs });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      r = { net: spec.name, engine: e.engine === 'tensorkit' ? 'tensorkit' : `tfjs-${e.engine}`, threads: e.threads, batch: spec.batch, train: { error: message }, infer: { error: message }, detail: '' };
    }
    results.push(r);
    console.log(`| ${r.net} | ${r.engine} | ${r.threads} | ${fmt(rate(r.train, r.batch), 'error' in r.train ? r.train.error : '')} | ${fmt(rate(r.infer, r.batch), 'error' in r.infer ? r.infer.error : '')} | ${r.detail} |`);
  }
}

// 2. net000 training, page against Node on the same thread counts, alternating (Node, page) for
// --rounds rounds. On a loaded machine the medians swing by 2× between runs; the best step (min) of
// each side is the steadier figure, and both are printed.
const rounds = Number(argValue('--rounds') ?? 3);
const net000 = network('net000');
const { x, y } = randomBatch(net000);
const threadCounts = cores > 1 ? [1, cores] : [1];
interface Parity { threads: number; node: Timed[]; page: Timed[] }
const parity: Parity[] = threadCounts.map((threads) => ({ threads, node: [], page: [] }));
const previous = getThreads();
for (let round = 0; round < rounds; round++) {
  for (const row of parity) {
    setThreads(row.threads);
    const model = buildModel(net000);
    row.node.push(timeNode(() => model.trainStep(x, y)));
    const r = await inPage({ net: 'net000', engine: 'tensorkit', threads: row.threads, budgetMs });
    if ('error' in r.train) throw new Error(`net000 in the page: ${r.train.error}`);
    row.page.push(r.train);
  }
}
setThreads(previous);
const perSecond = (ms: number): number => (net000.batch * 1000) / ms;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
console.log(`\n| net000 training, ${rounds} rounds | Node img/s, median step per run | page img/s, median step per run | page / Node (median of runs) | page / Node (best step) |\n|---|---|---|---|---|`);
for (const row of parity) {
  const nodeRates = row.node.map((t) => perSecond(t.medianMs));
  const pageRates = row.page.map((t) => perSecond(t.medianMs));
  const bestNode = perSecond(Math.min(...row.node.map((t) => t.minMs)));
  const bestPage = perSecond(Math.min(...row.page.map((t) => t.minMs)));
  console.log(`| ${row.threads} thread${row.threads > 1 ? 's' : ''} | ${nodeRates.map((v) => v.toFixed(0)).join(', ')} | ${pageRates.map((v) => v.toFixed(0)).join(', ')} | ` +
    `${(100 * median(pageRates) / median(nodeRates)).toFixed(0)}% | ${(100 * bestPage / bestNode).toFixed(0)}% (${bestPage.toFixed(0)} vs ${bestNode.toFixed(0)}) |`);
}
const loadAfter = load();
console.log(`\nload average before ${loadBefore}, after ${loadAfter}`);
if (problems.length > 0) console.log(`page errors:\n${problems.join('\n')}`);
writeResults(parityOnly ? 'browser-parity' : 'browser', headerLine, { browser: browserVersion, budgetMs, loadBefore, loadAfter, results, parity, problems });
await browser.close();
server.close();
