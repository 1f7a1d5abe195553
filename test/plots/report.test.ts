// report.html: tables and inlined charts in the HTML text, and the charts actually rendering in headless Chromium.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plotConfusionMatrix, plotLearningCurves, writeRunReport } from '../../src/plots/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'tensorkit-report-'));
let reportPath = '';

beforeAll(async () => {
  await plotLearningCurves(join(dir, 'curves.svg'), {
    trainLoss: [2.2, 1.6, 1.1, 0.9], trainAccuracy: [0.2, 0.45, 0.6, 0.7], validation: { batch: [2, 4], loss: [1.5, 0.95], accuracy: [0.5, 0.68] },
  });
  await plotConfusionMatrix(join(dir, 'confusion.svg'), [[8, 2], [1, 9]], ['even', 'odd']);
  reportPath = writeRunReport(dir, {
    title: 'Run <1> & co',
    description: 'A tiny run.',
    params: { lr: 0.001, optimizer: 'momentum', batchSize: 32 },
    metrics: { 'test accuracy': 0.912345, 'train seconds': 12.5 },
    tables: [{ title: 'Per epoch', columns: ['epoch', 'loss', 'accuracy'], rows: [[1, 0.51234567, 0.81], [2, 0.4, 0.85]] }],
    charts: ['curves.svg', 'confusion.svg'],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeRunReport', () => {
  it('writes report.html with escaped text, tables, and each chart inlined with unique ids', () => {
    expect(reportPath).toBe(join(dir, 'report.html'));
    const html = readFileSync(reportPath, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Run &lt;1&gt; &amp; co</title>');
    expect(html).toContain('<td>test accuracy</td><td>0.9123</td>');
    expect(html).toContain('<td>optimizer</td><td>momentum</td>');
    expect(html).toContain('<tr><td>1</td><td>0.5123</td><td>0.81</td></tr>');
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect(html).toContain('data-file="confusion.svg"');
    // Vega numbers clip paths clip1, clip2, … in every chart: scoped per chart, every id is unique.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(m[1]);
  });

  it('rejects missing charts and ragged tables, naming them', () => {
    expect(() => writeRunReport(dir, { title: 't', charts: ['nope.svg'] })).toThrow(`writeRunReport: chart nope.svg not found in ${dir}`);
    expect(() => writeRunReport(join(dir, 'other'), { title: 't', tables: [{ title: 'T', columns: ['a', 'b'], rows: [[1]] }] }))
      .toThrow('writeRunReport: table "T" row 0 has 1 cells for 2 columns');
  });

  it('renders every chart with a non-zero size in headless Chromium', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
    // A copy of the report with a probe that measures each inlined chart and writes the result into the DOM.
    const probe = `<script>
      const sizes = [...document.querySelectorAll('figure.chart > svg')].map((svg) => {
        const box = svg.getBBox();
        const marks = svg.querySelectorAll('.role-mark [role="graphics-symbol"]').length;
        return [Math.round(box.width), Math.round(box.height), marks].join('x');
      });
      const out = document.createElement('pre');
      out.id = 'probe';
      out.textContent = 'charts:' + sizes.join(',');
      document.body.appendChild(out);
    </script>`;
    const probePath = join(dir, 'probe.html');
    writeFileSync(probePath, readFileSync(reportPath, 'utf8').replace('</body>', `${probe}\n</body>`));
    const profile = mkdtempSync(join(tmpdir(), 'tensorkit-chromium-'));
    try {
      const { stdout } = await promisify(execFile)(CHROMIUM, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(probePath).href,
      ], { timeout: 60_000, maxBuffer: 16 << 20 });
      const found = /<pre id="probe">charts:([^<]*)<\/pre>/.exec(stdout);
      expect(found, 'the probe script did not run').not.toBeNull();
      const charts = found![1].split(',').map((s) => s.split('x').map(Number));
      expect(charts).toHaveLength(2);
      for (const [width, height] of charts) {
        expect(width).toBeGreaterThan(100);
        expect(height).toBeGreaterThan(100);
      }
      // Curves: 2 panels × (train line + validation line) + 4 validation points; confusion: 4 cells + 4 labels.
      expect(charts[0][2]).toBe(8);
      expect(charts[1][2]).toBe(8);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
