// The browser entry as an application gets it: a page importing `tensorkit` and `tensorkit/plugin`,
// bundled by esbuild for the browser from a staged copy of the package (its real package.json, export
// conditions and sideEffects; dist transpiled from src), then run in headless Chromium, where it trains
// an MLP whose final weights must match the same run in Node bit for bit.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '../../src/browser.js';
import * as plugin from '../../src/plugin/index.js';
import { trainMlp, type MlpRunResult } from './mlp-run.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tensorkit-browser-'));
const app = join(dir, 'app');
const pkg = join(dir, 'node_modules', 'tensorkit');

/** Every .ts file under `d`, recursively. */
function sources(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
}

/** An `import … 'node:…'`, `import('node:…')` or `require('node:…')` left in bundled code. */
const NODE_IMPORT = /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(\s*["']node:|\bimport\s*["']node:/;

beforeAll(async () => {
  // The package as npm would install it: package.json as is, dist/ as tsc lays it out (one .js per .ts).
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const src = join(root, 'src');
  await esbuild.build({ entryPoints: sources(src), outdir: join(pkg, 'dist'), outbase: src, format: 'esm', platform: 'neutral', logLevel: 'silent' });
  mkdirSync(app, { recursive: true });
  for (const file of ['page.ts', 'mlp-run.ts']) copyFileSync(join(here, file), join(app, file));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `entry` for the browser (minified off, so the output can be searched). */
function bundle(entry: string, outfile?: string): Promise<esbuild.BuildResult<{ metafile: true; write: false }>> {
  return esbuild.build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', outfile: outfile ?? join(app, 'out.js') });
}

describe('the browser entry', () => {
  it('bundles a page importing tensorkit and tensorkit/plugin with no errors, no warnings and no node: import', async () => {
    const result = await bundle(join(app, 'page.ts'));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(NODE_IMPORT);
    // The `browser` condition picked the core entry: the Node-only part is not in the bundle at all.
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(join(dir, 'node_modules/tensorkit'), join(dir, p)));
    expect(inputs).toContain('dist/browser.js');
    for (const nodeOnly of ['dist/index.js', 'dist/node.js', 'dist/io/files.js', 'dist/io/atomic.js', 'dist/data/idx-file.js', 'dist/data/datasets.js', 'dist/train/csv-logger.js']) {
      expect(inputs).not.toContain(nodeOnly);
    }
    // analysis registers summary()'s FLOP columns for its side effect; the bundle must keep it.
    expect(inputs).toContain('dist/analysis/index.js');
  });

  it('keeps the Node-only names behind tensorkit/node, which does not bundle for the browser', async () => {
    writeFileSync(join(app, 'node-page.ts'), `import { loadModel } from 'tensorkit/node';\nconsole.log(loadModel);\n`);
    const failure = await bundle(join(app, 'node-page.ts')).then(() => null, (err: esbuild.BuildFailure) => err);
    expect(failure).not.toBeNull();
    expect(failure!.errors.map((e) => e.text).join('\n')).toMatch(/Could not resolve "node:fs"/);
  });

  it('trains an MLP in headless Chromium, loss falling, bit-identical to the same run in Node', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
    const built = await bundle(join(app, 'page.ts'), join(app, 'page.js'));
    const files: Record<string, [string, string]> = {
      '/': ['text/html', `<!doctype html><html><head><meta charset="utf-8"><title>tensorkit in the browser</title><link rel="icon" href="data:,">
<style>body{font:16px system-ui;margin:2em}#status.ok{color:#070}#status.bad{color:#b00}pre{background:#f4f4f4;padding:1em}</style></head>
<body><h1>tensorkit in the browser</h1><p id="status">running…</p><pre id="details"></pre><script type="module" src="/page.js"></script></body></html>`],
      '/page.js': ['text/javascript', built.outputFiles[0].text],
    };
    const server: Server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (file === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const problems: string[] = [];
    let fromPage: MlpRunResult;
    try {
      const page = await browser.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => {
        const g = globalThis as { tensorkitResult?: unknown; tensorkitError?: unknown };
        return g.tensorkitResult !== undefined || g.tensorkitError !== undefined;
      }, undefined, { timeout: 60_000 });
      const error = await page.evaluate(() => (globalThis as { tensorkitError?: string }).tensorkitError);
      expect(error).toBeUndefined();
      fromPage = await page.evaluate(() => (globalThis as unknown as { tensorkitResult: MlpRunResult }).tensorkitResult);
      expect(await page.evaluate(() => (globalThis as unknown as { tensorkitFiles: string[] }).tensorkitFiles)).toEqual([
        expect.stringMatching(/^model file round trip: \d+ bytes, same predictions$/), 'gzipped IDX decoded: shape [2, 3]',
      ]);
      const shot = process.env.TENSORKIT_BROWSER_SCREENSHOT ?? join(dir, 'page.png');
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot });
      expect(existsSync(shot)).toBe(true);
      expect(await page.textContent('#status')).toBe('tensorkit trained in the browser: loss fell');
    } finally {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(problems).toEqual([]);
    expect(fromPage.lastLoss).toBeLessThan(fromPage.firstLoss * 0.5);
    expect(fromPage.threads).toBe(1);

    // The same run in Node, on one thread.
    const threads = plugin.getThreads();
    plugin.setThreads(1);
    let fromNode: MlpRunResult;
    try {
      fromNode = trainMlp(core, plugin);
    } finally {
      plugin.setThreads(threads);
    }
    // Chromium and Node 24 run the same V8 WebAssembly engine; both validate the relaxed-SIMD variant.
    expect(fromPage.variant).toBe('relaxed-simd');
    expect(fromPage.variant).toBe(fromNode.variant);
    expect(fromPage.weights).toEqual(fromNode.weights);
    expect(fromPage.checksum).toBe(fromNode.checksum);
    // The loss is a double summed from Math.exp / Math.log, which are not the same functions in every V8:
    // Chromium 156's are correctly rounded, Node 24's (V8 13.6, fdlibm) are 1 ulp off on ~10% of inputs.
    // The weights do not see it (the gradient goes through float32 probabilities); the loss may differ
    // in its last bits, hence relative 1e-14 here.
    expect(Math.abs(fromPage.firstLoss - fromNode.firstLoss)).toBeLessThanOrEqual(1e-14 * fromNode.firstLoss);
    expect(Math.abs(fromPage.lastLoss - fromNode.lastLoss)).toBeLessThanOrEqual(1e-14 * fromNode.lastLoss);
  }, 120_000);
});
