// tensorkit's threads in a real headless Chromium: a page served with the cross-origin isolation headers
// (COOP/COEP) trains net000 inside a dedicated worker that owns the pool (nested Web Workers over the
// shared memory); the same page served without them runs one thread. Both runs' weights must be
// bit-identical to Node's for the same seed, on one thread and on several; the page's main thread
// loads the WebAssembly asynchronously (ready()) and trains on one thread; no console errors.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '../../src/browser.js';
import * as plugin from '../../src/plugin/index.js';
import { runLateKernel, trainNet000, type LateKernelResult, type NetRunResult } from './net-run.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = fileURLToPath(new URL('./', import.meta.url));
const STEPS = 4;

/** What the page exposes: its main thread's run and the worker's. */
interface PageResult {
  readonly isolated: boolean;
  readonly mainThread: { info: core.RuntimeInfo; compiledAsyncAtReady: boolean; losses: number[] };
  readonly worker: { ok: true; isolated: boolean; beforeReady: core.RuntimeInfo | null; result: NetRunResult; lateKernel: LateKernelResult } | { ok: false; error: string };
}

/** The isolation headers that make a page cross-origin isolated (SharedArrayBuffer, shared memory). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

let server: Server;
let base = '';
let browser: Browser;

/** Bundles a script for the browser, `tensorkit` resolved to the browser entry of the source tree. */
async function bundle(entry: string): Promise<string> {
  const built = await esbuild.build({
    entryPoints: [`${here}${entry}`], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
    // package.json's sideEffects list names dist/ files: from src/ the registrations would be shaken out.
    ignoreAnnotations: true,
    alias: {
      tensorkit: fileURLToPath(new URL('../../src/browser.ts', import.meta.url)),
      'tensorkit/plugin': fileURLToPath(new URL('../../src/plugin/index.ts', import.meta.url)),
    },
  });
  return built.outputFiles[0].text;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>threads</title><script type="module" src="./threads-page.js"></script>'],
    '/threads-page.js': ['text/javascript', await bundle('threads-page.ts')],
    '/threads-worker.js': ['text/javascript', await bundle('threads-worker.ts')],
  };
  // /isolated/… is served with the isolation headers, /plain/… without.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, mode, ...rest] = url.pathname.split('/');
    const file = files[`/${rest.join('/')}`];
    if ((mode !== 'isolated' && mode !== 'plain') || file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[0], ...(mode === 'isolated' ? ISOLATION : {}) }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Opens /mode/ and returns what the page exposed, with every console error and page error seen. */
async function runPage(mode: 'isolated' | 'plain', query = ''): Promise<{ result: PageResult; problems: string[]; cores: number }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  try {
    await page.goto(`${base}/${mode}/?steps=${STEPS}${query}`);
    await page.waitForFunction(() => {
      const g = globalThis as { threadsResult?: unknown; threadsError?: unknown };
      return g.threadsResult !== undefined || g.threadsError !== undefined;
    }, undefined, { timeout: 90_000 });
    const error = await page.evaluate(() => (globalThis as { threadsError?: string }).threadsError);
    expect(error).toBeUndefined();
    const result = await page.evaluate(() => (globalThis as unknown as { threadsResult: PageResult }).threadsResult);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    return { result, problems, cores };
  } finally {
    await page.close();
  }
}

/** net000 in Node from the source tree on `threads` threads. */
async function nodeRun(threads: number): Promise<NetRunResult> {
  const before = core.getThreads();
  core.setThreads(threads);
  try {
    return await trainNet000(core, STEPS);
  } finally {
    core.setThreads(before);
  }
}

describe('threads in the browser', () => {
  let fromNode: NetRunResult;
  let lateFromNode: LateKernelResult;
  beforeAll(async () => {
    fromNode = await nodeRun(Math.min(2, core.availableCores()));
    lateFromNode = runLateKernel(core, plugin, 'threads-test-late');
    // Node's own runs agree across thread counts (the property the browser runs are held to).
    expect((await nodeRun(1)).hashes).toEqual(fromNode.hashes);
  }, 60_000);

  it('a cross-origin isolated page trains net000 in a worker on Web Workers, bit-identical to Node', async () => {
    const { result, problems, cores } = await runPage('isolated');
    expect(problems).toEqual([]);
    expect(result.isolated).toBe(true);
    if (!result.worker.ok) throw new Error(result.worker.error);
    const { info } = result.worker.result;
    expect(result.worker.isolated).toBe(true);
    // The worker owns a pool of Web Workers: all cores, the memory shared, a started pool of cores − 1 workers.
    expect(info.sharedMemory).toBe(true);
    expect(info.threads).toBe(Math.min(cores, 255));
    if (cores > 1) expect(info.poolWorkers).toBe(info.threads - 1);
    console.log(`isolated page: ${info.threads} threads, ${info.workerShares} shares run on Web Workers, ${result.worker.result.imagesPerSecond.toFixed(0)} img/s`);
    expect(result.worker.result.lastLoss).toBeLessThan(result.worker.result.firstLoss);
    expect(info.variant).toBe(fromNode.info.variant);
    expect(result.worker.result.hashes).toEqual(fromNode.hashes);
    expect(result.worker.result.weightSumSquares).toBe(fromNode.weightSumSquares);
    // A kernel compiled after the pool started reaches its Web Workers as a message: same bits.
    expect(result.worker.lateKernel.hash).toBe(lateFromNode.hash);
    console.log(`kernel compiled after the pool started: ${result.worker.lateKernel.workerShares} shares run on Web Workers (Node: ${lateFromNode.workerShares} on worker threads)`);
    // The page's main thread: compiled asynchronously, one thread, no pool, trained.
    expect(result.mainThread.compiledAsyncAtReady).toBe(true);
    expect(result.mainThread.info).toMatchObject({ compiledAsync: true, threads: 1, poolWorkers: 0, workerShares: 0 });
    expect(result.mainThread.info.singleThreadReason).toMatch(/main thread, which may not block/);
    expect(info.singleThreadReason).toBe(cores > 1 ? null : 'one core');
    expect(result.mainThread.losses[2]).toBeLessThan(result.mainThread.losses[0]);
  }, 120_000);

  it('without ready() first, the worker trains on one thread until the pool starts, then on all, with the same bits', async () => {
    const { result, problems, cores } = await runPage('isolated', '&ready=0');
    expect(problems).toEqual([]);
    if (!result.worker.ok) throw new Error(result.worker.error);
    const { info } = result.worker.result;
    // The runtime was loaded by the first step, synchronously (allowed in a worker).
    expect(info.compiledAsync).toBe(false);
    expect(result.worker.beforeReady).toMatchObject({ compiledAsync: false, sharedMemory: true, threads: Math.min(cores, 255) });
    if (cores > 1) expect(info.poolWorkers).toBe(info.threads - 1);
    expect(result.worker.result.hashes).toEqual(fromNode.hashes);
    expect(result.worker.result.weightSumSquares).toBe(fromNode.weightSumSquares);
    expect(result.worker.lateKernel.hash).toBe(lateFromNode.hash);
  }, 120_000);

  it('a page without the isolation headers runs one thread in the worker, with the same bits', async () => {
    const { result, problems } = await runPage('plain');
    expect(problems).toEqual([]);
    expect(result.isolated).toBe(false);
    if (!result.worker.ok) throw new Error(result.worker.error);
    expect(result.worker.isolated).toBe(false);
    expect(result.worker.result.info).toMatchObject({ sharedMemory: false, threads: 1, poolWorkers: 0, workerShares: 0, compiledAsync: true });
    expect(result.worker.result.info.singleThreadReason).toMatch(/SharedArrayBuffer is not available .*Cross-Origin-Embedder-Policy/);
    expect(result.worker.result.hashes).toEqual(fromNode.hashes);
    expect(result.worker.result.weightSumSquares).toBe(fromNode.weightSumSquares);
    expect(result.worker.lateKernel).toEqual({ hash: lateFromNode.hash, workerShares: 0 });
    expect(result.mainThread.info).toMatchObject({ compiledAsync: true, threads: 1, poolWorkers: 0 });
  }, 120_000);
});
