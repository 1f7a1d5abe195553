// The sweep comparison report: Pareto front and importance hand-checked, and every chart drawing in headless Chromium.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterImportance, paretoFront, writeSweepReport } from '../../src/experiments/report.js';
import { createRun } from '../../src/experiments/run.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = mkdtempSync(join(tmpdir(), 'tk-sweep-report-'));
let reportPath = '';
const CHARTS = ['parallel', 'importance', 'pareto', 'progress', 'curves'];

beforeAll(async () => {
  // 8 runs: accuracy rises with batch size and is higher for relu; time grows with batch size.
  const acts = ['relu', 'tanh'];
  for (let i = 0; i < 8; i++) {
    const batch = [16, 32, 64, 128][i % 4];
    const activation = acts[Math.floor(i / 4)];
    const run = createRun({ root, params: { learning_rate: 10 ** -(2 + (i % 3)), batch_size: batch, activation } });
    const base = 0.7 + 0.03 * Math.log2(batch / 16) + (activation === 'relu' ? 0.05 : 0);
    for (let e = 0; e < 3; e++) {
      run.logEpoch({ epoch: e, epochs: 3, loss: 1 - base, accuracy: base, valLoss: 1 - base, valAccuracy: base - 0.02 * (2 - e), seconds: 1, lr: 0.01 });
    }
    run.finish({ test_accuracy: base - 0.01, train_seconds: 10 + batch / 8 + (activation === 'relu' ? 0 : 5) });
  }
  reportPath = await writeSweepReport(root, { title: 'Test <sweep>', top: 3, curves: 4, chartsDir: join(root, 'charts') });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('paretoFront and parameterImportance', () => {
  it('finds the non-dominated runs, sorted by time', () => {
    // (time, metric): A(1, .5) B(2, .7) C(3, .6) D(4, .9) E(2, .7): C is dominated by B; E ties B (neither strictly better).
    expect(paretoFront([1, 2, 3, 4, 2], [0.5, 0.7, 0.6, 0.9, 0.7])).toEqual([0, 1, 4, 3]);
    // Minimizing: lower is better, so the slower runs with lower values are all optimal.
    expect(paretoFront([1, 2, 3], [0.5, 0.4, 0.3], false)).toEqual([0, 1, 2]);
    expect(paretoFront([1, 2, 3], [0.5, 0.4, 0.3], true)).toEqual([0]);
  });

  it('gives Spearman ρ for numbers (signed) and η for categories', () => {
    const res = parameterImportance([
      { key: 'up', numeric: true, values: [1, 2, 3, 4] },
      { key: 'down', numeric: true, values: [8, 4, 2, 1] },
      { key: 'cat', numeric: false, values: ['a', 'a', 'b', 'b'] },
    ], [0.1, 0.2, 0.3, 0.4]);
    expect(res.find((r) => r.param === 'up')).toMatchObject({ kind: 'spearman', value: 1 });
    expect(res.find((r) => r.param === 'down')?.value).toBeCloseTo(-1, 12);
    // η² = between / total = (2·0.1² + 2·0.1²) / (0.15² + 0.05² + 0.05² + 0.15²) = 0.04 / 0.05 = 0.8.
    expect(res.find((r) => r.param === 'cat')?.value).toBeCloseTo(Math.sqrt(0.8), 12);
  });
});

describe('writeSweepReport', () => {
  it('writes one self-contained page with every chart, the tables and no network references', () => {
    const html = readFileSync(reportPath, 'utf8');
    expect(reportPath).toBe(join(root, 'report.html'));
    expect(html).toContain('<title>Test &lt;sweep&gt;</title>');
    for (const id of CHARTS) expect(html).toContain(`data-chart="${id}"`);
    expect((html.match(/<svg /g) ?? []).length).toBe(CHARTS.length);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
    // Top-3 by val_accuracy = 0.7 + 0.03·log2(batch/16) + 0.05·relu: 0.84 (128 relu), 0.81 (64 relu), 0.79 (128 tanh).
    const top = /<table id="top-metric">[\s\S]*?<\/table>/.exec(html)![0];
    expect([...top.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1])).toEqual(['lr_0.01_bs_128_ac_relu', 'lr_1.0e-4_bs_64_ac_relu', 'lr_0.001_bs_128_ac_tanh']);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('also writes each chart as a standalone SVG file when given chartsDir', () => {
    for (const id of CHARTS) {
      const svg = readFileSync(join(root, 'charts', `${id}.svg`), 'utf8');
      expect(svg.startsWith('<svg'), id).toBe(true);
      expect(svg, id).toContain('</svg>');
    }
  });

  it('rejects a folder without runs', async () => {
    await expect(writeSweepReport(mkdtempSync(join(tmpdir(), 'tk-empty-')))).rejects.toThrow(/report: no runs under/);
  });

  it('draws every chart in headless Chromium and sorts the runs table on a header click', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
    const probe = `<script>
      const charts = [...document.querySelectorAll('figure.chart')].map((fig) => {
        const svg = fig.querySelector('svg');
        const box = svg.getBBox();
        const marks = svg.querySelectorAll('.role-mark [role="graphics-symbol"], .role-mark path, .role-mark line').length;
        return [fig.dataset.chart, Math.round(box.width), Math.round(box.height), marks].join(':');
      });
      const table = document.getElementById('runs');
      const th = [...table.querySelectorAll('th')].find((h) => h.textContent === 'val_accuracy');
      th.click(); th.click();
      const first = table.tBodies[0].rows[0].cells[0].textContent;
      const out = document.createElement('pre');
      out.id = 'probe';
      out.textContent = 'charts=' + charts.join(',') + ';first=' + first;
      document.body.appendChild(out);
    </script>`;
    const probePath = join(root, 'probe.html');
    writeFileSync(probePath, readFileSync(reportPath, 'utf8').replace('</body>', `${probe}\n</body>`));
    const profile = mkdtempSync(join(tmpdir(), 'tk-chromium-'));
    try {
      const { stdout } = await promisify(execFile)(CHROMIUM, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(probePath).href,
      ], { timeout: 60_000, maxBuffer: 16 << 20 });
      const found = /<pre id="probe">charts=([^;]*);first=([^<]*)<\/pre>/.exec(stdout);
      expect(found, 'the probe script did not run').not.toBeNull();
      const charts = found![1].split(',').map((s) => s.split(':'));
      expect(charts.map((c) => c[0])).toEqual(CHARTS);
      for (const [id, width, height, marks] of charts) {
        expect(Number(width), id).toBeGreaterThan(100);
        expect(Number(height), id).toBeGreaterThan(40);
        expect(Number(marks), id).toBeGreaterThan(0);
      }
      // Two clicks sort val_accuracy descending: the best run comes first.
      expect(found![2]).toBe('lr_0.01_bs_128_ac_relu');
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
