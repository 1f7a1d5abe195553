// The demo app (examples/browser) in headless Chromium, served by its own server (npm run demo): it trains
// net000 for a few hundred steps in its worker (loss falling, weights bit-identical to the same run in
// Node), classifies strokes drawn with the mouse, and keeps a model through a download, a file upload and
// IndexedDB with the same predictions. No console errors; a screenshot is saved for people to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tk from '../../src/browser.js';
import { loadFashionMnist, locateDataset, readIdx } from '../../src/node.js';
import { DemoServerError, startDemoServer, type DemoServer } from '../../examples/browser/serve.js';
import { buildNet000, compileNet, DEFAULT_SETTINGS, TrainingRun, weightsChecksum } from '../../examples/browser/training.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Written to a temporary file unless asked for; examples/browser/screenshot.png is one made with
// TENSORKIT_DEMO_SCREENSHOT=examples/browser/screenshot.png.
const SCREENSHOT = process.env.TENSORKIT_DEMO_SCREENSHOT ?? join(tmpdir(), 'tensorkit-demo-screenshot.png');
/** The quick setting: 2 000 images × 4 epochs = 252 steps of batch 32; 1 000 test images. */
const TRAIN_LIMIT = 2000;
const EPOCHS = 4;
const TEST_LIMIT = 1000;
const SEED = 3;

/** The page's `window.demo` (see examples/browser/main.ts), as far as the tests read it. */
interface DemoState {
  ready: boolean;
  phase: string;
  isolated: boolean;
  threads: number;
  variant: string | null;
  losses: number[];
  tests: { epoch: number; testAccuracy: number }[];
  steps: number;
  done: null | { stopped: boolean; steps: number; images: number; imagesPerSecond: number; trainImagesPerSecond: number; threads: number; testAccuracy: number; checksum: string; confusion: number[][] };
  probabilities: number[] | null;
  pixels: number[] | null;
  predictions: number;
  classifying: boolean;
  model: { origin: string } | null;
  errors: string[];
}

let server: DemoServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

function demo(): Promise<DemoState> {
  return page.evaluate(() => (globalThis as unknown as { demo: DemoState }).demo);
}

/** Waits until the page has classified the pad after `before` predictions and nothing is queued. */
async function settledPrediction(before: number): Promise<DemoState> {
  await page.waitForFunction((n) => {
    const d = (globalThis as unknown as { demo: DemoState }).demo;
    return d.predictions > n && !d.classifying;
  }, before, { timeout: 20_000 });
  return demo();
}

/** The worker's current model on the pad's current pixels, through the page's own classify(). */
async function reclassify(): Promise<number[]> {
  const { predictions } = await demo();
  await page.evaluate(() => (globalThis as unknown as { demoClassify(): void }).demoClassify());
  return (await settledPrediction(predictions)).probabilities!;
}

beforeAll(async () => {
  server = await startDemoServer({ port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as unknown as { demo?: DemoState }).demo?.ready === true, undefined, { timeout: 30_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the demo app in Chromium', () => {
  it('is served cross-origin isolated, with the WebAssembly kernels in its worker', async () => {
    const state = await demo();
    expect(state.isolated).toBe(true);
    expect(state.variant).toBe('relaxed-simd');
    expect(state.threads).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#chips')).toMatch(/isolated\s*yes/);
  });

  it('trains net000 for 252 steps: loss falls, test accuracy rises, weights bit-identical to Node', async () => {
    await page.selectOption('#train-limit', String(TRAIN_LIMIT));
    await page.fill('#epochs', String(EPOCHS));
    await page.selectOption('#test-limit', String(TEST_LIMIT));
    await page.fill('#seed', String(SEED));
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.done !== null, undefined, { timeout: 90_000 });
    const state = await demo();
    const done = state.done!;
    expect(done.stopped).toBe(false);
    expect(done.steps).toBe(Math.ceil(TRAIN_LIMIT / 32) * EPOCHS);
    expect(state.losses).toHaveLength(done.steps);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(state.losses.slice(0, 20));
    const last = mean(state.losses.slice(-20));
    // Untrained, the loss is about ln 10 = 2.30; after 252 steps of lr 1e-3 it is well below 1.
    expect(first).toBeGreaterThan(2.0);
    expect(last).toBeLessThan(0.6 * first);
    expect(state.tests.map((t) => t.epoch)).toEqual([0, 1, 2, 3]);
    expect(state.tests[3].testAccuracy).toBeGreaterThan(state.tests[0].testAccuracy);
    expect(done.testAccuracy).toBeGreaterThan(0.65);
    // The progress bar reached the end and shows a speed; the confusion matrix covers the test images.
    expect(await page.textContent('#progress-steps')).toBe(`${done.steps} / ${done.steps} steps`);
    expect(await page.textContent('#progress-speed')).toMatch(/^[\d,]+ img\/s$/);
    expect(done.confusion.flat().reduce((a, b) => a + b, 0)).toBe(TEST_LIMIT);
    expect(await page.isVisible('#confusion-card')).toBe(true);
    expect(await page.locator('#matrix tbody tr').count()).toBe(10);

    // The same run in Node, same code and seed, on this process's thread count.
    const data = loadFashionMnist({ trainLimit: TRAIN_LIMIT, testLimit: 1 });
    const settings = { ...DEFAULT_SETTINGS, epochs: EPOCHS, seed: SEED };
    const model = buildNet000(tk, SEED);
    compileNet(model, settings);
    const run = new TrainingRun(tk, model, data.train, settings);
    while (!run.done) run.runFor(1000);
    const nodeLosses = run.takeSteps().losses;
    expect(weightsChecksum(model)).toBe(done.checksum);
    // Losses are doubles from Math.log, which may differ in the last bit between V8 versions (see bundle.test.ts).
    for (let i = 0; i < nodeLosses.length; i++) expect(Math.abs(nodeLosses[i] - state.losses[i])).toBeLessThanOrEqual(1e-14 * nodeLosses[i]);
    console.log(`demo: page ${done.imagesPerSecond.toFixed(0)} img/s (${done.trainImagesPerSecond.toFixed(0)} inside training slices), Node ${(run.images / run.seconds).toFixed(0)} img/s, ${done.threads} thread(s), load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  }, 120_000);

  it('classifies strokes drawn with the mouse: ten probabilities summing to 1, shown as bars', async () => {
    await page.click('#clear');
    const box = (await page.locator('#draw').boundingBox())!;
    const before = (await demo()).predictions;
    // A T-shirt-ish outline: shoulders, sleeves and body.
    const strokes: [number, number][][] = [
      [[0.3, 0.2], [0.7, 0.2], [0.9, 0.4], [0.75, 0.45], [0.72, 0.85], [0.28, 0.85], [0.25, 0.45], [0.1, 0.4], [0.3, 0.2]],
      [[0.4, 0.35], [0.6, 0.35], [0.6, 0.7], [0.4, 0.7]],
    ];
    for (const stroke of strokes) {
      await page.mouse.move(box.x + stroke[0][0] * box.width, box.y + stroke[0][1] * box.height);
      await page.mouse.down();
      for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
      await page.mouse.up();
    }
    const state = await settledPrediction(before);
    const probs = state.probabilities!;
    expect(probs).toHaveLength(10);
    for (const p of probs) expect(p).toBeGreaterThanOrEqual(0);
    expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    // The network saw ink: the pixels are not blank, and lie in [0, 1].
    expect(Math.max(...state.pixels!)).toBeGreaterThan(0.5);
    expect(Math.min(...state.pixels!)).toBeGreaterThanOrEqual(0);
    // Every class has a bar whose width and label show its probability; the largest is highlighted and named.
    // (Structural types: this file compiles without the DOM library.)
    type Row = { dataset: Record<string, string>; classList: { contains(c: string): boolean }; querySelector(s: string): { style: { width: string }; textContent: string | null } };
    const rows = await page.$$eval('#probs li', (lis) => (lis as unknown as Row[]).map((li) => ({
      p: Number(li.dataset.probability),
      width: parseFloat(li.querySelector('.value').style.width),
      text: li.querySelector('.pct').textContent,
      top: li.classList.contains('top'),
    })));
    expect(rows.map((r) => r.p)).toEqual(probs);
    for (const r of rows) {
      expect(Math.abs(r.width - r.p * 100)).toBeLessThan(0.01);
      expect(r.text).toMatch(/^\d+(\.\d)?%$/);
    }
    const best = probs.indexOf(Math.max(...probs));
    expect(rows.findIndex((r) => r.top)).toBe(best);
    expect(await page.textContent('#verdict')).toContain(tk.FASHION_MNIST_CLASSES[best]);
    // The screenshot for people: the trained run's curves, confusion matrix, the drawing and its bars.
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('keeps the model through a download, a file upload and IndexedDB, with the same predictions', async () => {
    const trained = (await demo()).probabilities!;
    const pixels = (await demo()).pixels!;

    // Download: the bytes decode in Node into a model predicting the same probabilities.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toMatch(/^net000-.*\.safetensors$/);
    const file = join(tmpdir(), `tensorkit-demo-${process.pid}.safetensors`);
    await download.saveAs(file);
    const { model: fromFile } = tk.decodeModel(readFileSync(file), file);
    const nodeProbs = Array.from(fromFile.predict(tk.tensor(Float32Array.from(pixels), [1, 1, 28, 28])).data);
    for (let c = 0; c < 10; c++) expect(Math.abs(nodeProbs[c] - trained[c])).toBeLessThanOrEqual(1e-6);

    // IndexedDB: save under a name; it is listed.
    await page.fill('#idb-name', 'demo-test');
    await page.click('#idb-save');
    await page.waitForSelector('#saved li[data-name="demo-test"]');

    // A different short run changes the weights, so the pad's probabilities change.
    await page.selectOption('#train-limit', '2000');
    await page.fill('#epochs', '1');
    await page.fill('#seed', '11');
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.done !== null && (globalThis as unknown as { demo: DemoState }).demo.phase === 'done', undefined, { timeout: 60_000 });
    const other = await reclassify();
    expect(other).not.toEqual(trained);

    await page.fill('#idb-name', 'other');
    await page.click('#idb-save');
    await page.waitForSelector('#saved li[data-name="other"]');

    // Uploading the downloaded file brings the trained weights back: the same probabilities, bit for bit.
    await page.setInputFiles('#model-file', file);
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.model?.origin.startsWith('file ') === true);
    expect(await reclassify()).toEqual(trained);

    // So does IndexedDB, each name its own weights.
    await page.click('#saved li[data-name="other"] button.load');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.model?.origin.includes('other') === true);
    expect(await reclassify()).toEqual(other);
    await page.click('#saved li[data-name="demo-test"] button.load');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.model?.origin.includes('demo-test') === true);
    expect(await reclassify()).toEqual(trained);

    // A name that is not saved fails with a message listing the saved ones (sorted); the model stays.
    const missing = await page.evaluate(() => (globalThis as unknown as { demoCall(body: { type: string; name: string }): Promise<unknown> })
      .demoCall({ type: 'idb-load', name: 'missing' }).then(() => 'loaded', (err: Error) => err.message));
    expect(missing).toBe('WebIoError: IndexedDB model "missing": no model saved under this name (saved: "demo-test", "other")');
    expect((await demo()).model?.origin).toContain('demo-test');

    // Deleting empties the list again.
    await page.click('#saved li[data-name="demo-test"] button.delete');
    await page.waitForSelector('#saved li[data-name="demo-test"]', { state: 'detached' });
    await page.click('#saved li[data-name="other"] button.delete');
    await page.waitForSelector('#saved li.empty');
  }, 120_000);

  it('pauses, resumes and stops a run (a stopped run still gets its confusion matrix); refuses bad settings', async () => {
    // A bad setting is refused in the page with a message, and nothing starts.
    await page.fill('#epochs', '0');
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.errors.length > 0);
    expect((await demo()).errors).toEqual(['Epochs must be a whole number from 1 to 20']);
    expect(await page.textContent('#toast')).toBe('Epochs must be a whole number from 1 to 20');
    expect(await page.isVisible('#toast')).toBe(true);
    expect((await demo()).phase).toBe('done');
    await page.evaluate(() => {
      (globalThis as unknown as { demo: DemoState }).demo.errors.length = 0;
    });

    // 20 epochs of the loaded 2 000 images: far more than the test lets run.
    await page.selectOption('#train-limit', '2000');
    await page.fill('#epochs', '20');
    await page.click('#start');
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as { demo: DemoState }).demo;
      return d.phase === 'training' && d.steps >= 5;
    }, undefined, { timeout: 60_000 });
    await page.click('#pause');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.phase === 'paused');
    expect(await page.textContent('#pause')).toBe('Resume');
    const pausedAt = (await demo()).steps;
    // A request answered by the paused worker (messages are handled in order): no step was taken meanwhile.
    await reclassify();
    expect((await demo()).steps).toBe(pausedAt);
    await page.click('#pause');
    await page.waitForFunction((n) => (globalThis as unknown as { demo: DemoState }).demo.steps > n, pausedAt, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.done !== null, undefined, { timeout: 60_000 });
    const state = await demo();
    expect(state.done!.stopped).toBe(true);
    expect(state.done!.steps).toBeLessThan(Math.ceil(2000 / 32) * 20);
    expect(state.done!.steps).toBe(state.losses.length);
    expect(state.done!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(TEST_LIMIT);
    expect(state.phase).toBe('stopped');
    expect(await page.textContent('#status')).toMatch(/^Stopped · \d+ steps, test accuracy \d+\.\d%$/);
    expect(await page.textContent('#confusion-summary')).toContain('stopped early');
  }, 120_000);

  it('classifies a test image exactly as stored, and logs no console error or warning', async () => {
    const before = (await demo()).predictions;
    await page.click('#sample');
    const state = await settledPrediction(before);
    // The first "Test image" is test image 0 (an ankle boot), sent to the network as the data holds it.
    const images = readIdx(join(locateDataset('fashion-mnist'), 't10k-images-idx3-ubyte.gz'));
    const labels = readIdx(join(locateDataset('fashion-mnist'), 't10k-labels-idx1-ubyte.gz'));
    expect(state.pixels).toEqual(Array.from(images.data.subarray(0, 784), (v) => Math.fround(v / 255)));
    expect(await page.textContent('#verdict')).toContain(`labelled ${tk.FASHION_MNIST_CLASSES[labels.data[0]]}`);
    expect(state.errors).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe('the demo server', () => {
  it('sends the isolation headers, serves the four data files and nothing else from the data directory', async () => {
    const home = await fetch(server.url);
    expect(home.status).toBe(200);
    expect(home.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(home.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const labels = await fetch(new URL('data/fashion-mnist/t10k-labels-idx1-ubyte.gz', server.url));
    expect(labels.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(new Uint8Array(await labels.arrayBuffer())).toEqual(new Uint8Array(readFileSync(join(locateDataset('fashion-mnist'), 't10k-labels-idx1-ubyte.gz'))));
    expect((await fetch(new URL('data/fashion-mnist/SHA256SUMS', server.url))).status).toBe(404);
    expect((await fetch(new URL('data/fashion-mnist/..%2F..%2Fpackage.json', server.url))).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('says so when the port is taken, the port is invalid or the data is missing', async () => {
    await expect(startDemoServer({ port: server.port })).rejects.toThrow(new DemoServerError(`port ${server.port} on 127.0.0.1 is taken: pass another with --port N (or --port 0 for any free port)`));
    await expect(startDemoServer({ port: 70000 })).rejects.toThrow('port must be an integer in [0, 65535], got 70000');
    await expect(startDemoServer({ port: 0, dataDir: tmpdir() })).rejects.toThrow(`Fashion-MNIST file ${join(tmpdir(), 'train-images-idx3-ubyte.gz')} is missing`);
  });
});
