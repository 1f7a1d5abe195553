// Training speed of net000 in the demo page (its worker, headless Chromium) against the same code in Node
// on the same thread count, interleaved (Node, page, Node, page) so machine load hits both alike.
// Run: node_modules/.bin/node --import tsx examples/browser/measure.ts [--images 2000] [--epochs 2] [--rounds 2]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import * as tk from 'tensorkit';
import { loadFashionMnist } from 'tensorkit/node';
import { startDemoServer } from './serve.js';
import { buildNet000, compileNet, DEFAULT_SETTINGS, TrainingRun } from './training.js';

// --images is one of the page's choices (2000, 10000, 30000, 60000).
const { values } = parseArgs({ options: { images: { type: 'string', default: '2000' }, epochs: { type: 'string', default: '2' }, rounds: { type: 'string', default: '2' } } });
const images = Number(values.images);
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const server = await startDemoServer({ port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as unknown as { demo?: { ready: boolean } }).demo?.ready === true);
  const pageThreads = await page.evaluate(() => (globalThis as unknown as { demo: { threads: number } }).demo.threads);
  tk.setThreads(pageThreads);
  const data = loadFashionMnist({ trainLimit: images, testLimit: 1 });
  console.log(`net000, batch 32, ${images} images × ${epochs} epochs per run, ${tk.getThreads()} thread(s) in Node and ${pageThreads} in the page`);
  for (let r = 0; r < rounds; r++) {
    const model = buildNet000(tk, 1);
    compileNet(model, DEFAULT_SETTINGS);
    const run = new TrainingRun(tk, model, data.train, { ...DEFAULT_SETTINGS, epochs });
    while (!run.done) run.runFor(1000);
    const node = run.images / run.seconds;
    await page.selectOption('#test-limit', '1000');
    await page.selectOption('#train-limit', String(images));
    await page.fill('#epochs', String(epochs));
    await page.click('#start');
    await page.waitForFunction(() => (globalThis as unknown as { demo: { done: unknown } }).demo.done !== null, undefined, { timeout: 600_000 });
    const done = await page.evaluate(() => (globalThis as unknown as { demo: { done: { imagesPerSecond: number; trainImagesPerSecond: number } } }).demo.done);
    console.log(`round ${r + 1}: page/Node ${(done.imagesPerSecond / node).toFixed(2)} (page ${done.imagesPerSecond.toFixed(0)} img/s wall, ${done.trainImagesPerSecond.toFixed(0)} inside slices; Node ${node.toFixed(0)} img/s); load ${load()}`);
  }
} finally {
  await browser.close();
  await server.close();
}
