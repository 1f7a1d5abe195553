// `tensorkit report RUNS_DIR`: writes the HTML report with the options applied; bad usage exits 2.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRun } from '../../src/experiments/run.js';
import { captureIo } from '../util/capture-io.js';

describe('tensorkit report', () => {
  it('writes the report for a runs folder with the chosen metric, goal, title and top-k', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tk-report-cli-'));
    for (const [hidden, loss, seconds] of [[32, 0.5, 10], [64, 0.4, 20], [128, 0.45, 40], [256, 0.3, 80]]) {
      const run = createRun({ root, params: { hidden_size: hidden } });
      run.logEpoch({ epoch: 0, epochs: 1, loss, accuracy: 1 - loss, valLoss: loss, valAccuracy: 1 - loss, seconds, lr: 0.1 });
      run.finish({ train_seconds: seconds });
    }
    const io = captureIo();
    const out = join(root, 'r.html');
    expect(await main(['report', root, '--metric', 'val_loss', '--goal', 'minimize', '--top', '2', '--title', 'Losses', '--out', out], io)).toBe(0);
    expect(io.out()).toBe(`report: ${out}\n`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Losses</title>');
    expect(html).toContain('Metric: <b>val_loss</b> (lower is better)');
    const top = /<table id="top-metric">[\s\S]*?<\/table>/.exec(html)![0];
    expect([...top.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1])).toEqual(['hs_256', 'hs_64']);
    expect(html).toContain('data-chart="pareto"');
  });

  it('exits 2 without a folder and 1 for a folder without runs', async () => {
    const io = captureIo();
    expect(await main(['report'], io)).toBe(2);
    expect(io.err()).toMatch(/give one runs folder, got none/);
    const empty = captureIo();
    expect(await main(['report', mkdtempSync(join(tmpdir(), 'tk-empty-'))], empty)).toBe(1);
    expect(empty.err()).toMatch(/no runs under/);
  });
});
