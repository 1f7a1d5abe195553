// `tensorkit runs list|show|compare|export` over a runs folder, and `tensorkit train` recording a tracked run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { quietEpipe } from '../../src/cli/epipe.js';
import { formatCell, formatNumber, formatTable, splitPositionals, truncate } from '../../src/cli/runs.js';
import { runTrain } from '../../src/cli/train.js';
import { createRun } from '../../src/experiments/run.js';
import { readMetrics } from '../../src/experiments/store.js';
import { parseCsv } from '../../src/train/csv.js';
import { captureIo } from '../util/capture-io.js';

const root = mkdtempSync(join(tmpdir(), 'tk-runs-cli-'));

beforeAll(() => {
  const table: [string, number, number, number][] = [['adam', 0.001, 0.9, 30], ['adam', 0.01, 0.8, 20], ['sgd', 0.1, 0.86, 10], ['nadam', 0.001, 0.88, 40]];
  for (const [optimizer, lr, acc, seconds] of table) {
    const run = createRun({ root, params: { optimizer, lr, batch_size: 32 } });
    run.logEpoch({ epoch: 0, epochs: 1, loss: 1 - acc, accuracy: acc, valLoss: 1 - acc, valAccuracy: acc, seconds, lr });
    run.finish({ test_accuracy: acc - 0.01, train_seconds: seconds });
  }
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('tensorkit runs', () => {
  it('lists runs with the varying parameters and main metrics, filtered and sorted', async () => {
    const all = await cli('runs', 'list', root);
    expect(all.code).toBe(0);
    const header = all.out.split('\n')[0].split(/\s+/);
    expect(header).toEqual(['name', 'status', 'optimizer', 'lr', 'val_accuracy', 'best_val_accuracy', 'test_accuracy', 'train_seconds']);
    expect(all.out).toMatch(/4 runs\n$/);
    const filtered = await cli('runs', 'list', root, '--where', "params.optimizer == 'adam' and metrics.val_accuracy > 0.85");
    // One run is left, so no parameter varies: name, status, then val_accuracy, best_val_accuracy, test_accuracy, train_seconds.
    expect(filtered.out.split('\n').filter((l) => l.startsWith('op_'))).toEqual(['op_adam_lr_0.001_bs_32  finished  0.9           0.9                0.89           30']);
    const sorted = await cli('runs', 'list', root, '--sort', '-val_accuracy', '--columns', 'name,val_accuracy', '--limit', '2');
    expect(sorted.out.split('\n').slice(2, 4).map((l) => l.split(/\s+/))).toEqual([['op_adam_lr_0.001_bs_32', '0.9'], ['op_nadam_lr_0.001_bs_32', '0.88']]);
    const byTime = await cli('runs', 'list', root, '--sort', 'train_seconds', '--columns', 'name');
    expect(byTime.out.split('\n')[2]).toBe('op_sgd_lr_0.1_bs_32');
  });

  it('exports CSV and JSON', async () => {
    const csv = parseCsv((await cli('runs', 'export', root, '--where', "params.optimizer != 'sgd'")).out);
    expect(csv).toHaveLength(4);
    expect(csv[0]).toEqual(expect.arrayContaining(['name', 'params.optimizer', 'params.lr', 'metrics.val_accuracy', 'metrics.test_accuracy', 'metrics.train_seconds']));
    const file = join(root, 'runs.json');
    expect((await cli('runs', 'export', root, '--format', 'json', '--out', file)).out).toBe(`wrote 4 runs to ${file}\n`);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toHaveLength(4);
    expect(json[0]).toMatchObject({ name: 'op_adam_lr_0.001_bs_32', params: { optimizer: 'adam' }, metrics: { status: 'finished', val_accuracy: 0.9 } });
  });

  it('shows one run and compares runs, marking the differing keys', async () => {
    const show = await cli('runs', 'show', 'op_sgd_lr_0.1_bs_32', '--root', root);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/params\.optimizer\s+sgd/);
    expect(show.out).toMatch(/epochs\nepoch\s+loss/);
    const cmp = await cli('runs', 'compare', join(root, 'op_sgd_lr_0.1_bs_32'), join(root, 'op_adam_lr_0.01_bs_32'));
    expect(cmp.out).toMatch(/\* params\.optimizer\s+sgd\s+adam/);
    expect(cmp.out).toMatch(/ {2}params\.batch_size\s+32\s+32/);
  });

  it('reports bad usage with exit status 2 and a message', async () => {
    const bad = await cli('runs', 'list', root, '--where', "params.optimizer = 'adam'");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--where: use == to compare at position 18/);
    expect((await cli('runs', 'list', root, '--sort', 'nope')).err).toMatch(/unknown column "nope"/);
    expect((await cli('runs', 'fly')).err).toMatch(/unknown runs command "fly"; known: list, show, compare, export/);
    expect((await cli('runs', 'show', 'missing', '--root', root)).code).toBe(2);
    expect((await cli('runs', 'list', join(root, 'none'))).err).toMatch(/is not a folder/);
  });

  it('splits positionals from option values', () => {
    expect(splitPositionals(['list', '--sort', '-x', 'dir', '--where=a == 1'], [{ key: 'sort', long: 'sort', type: 'string', help: '' }]))
      .toEqual({ positionals: ['list', 'dir'], options: ['--sort', '-x', '--where=a == 1'] });
  });
});

describe('tensorkit runs: issue 13', () => {
  it('--where takes bare names: optimizer is params.optimizer, val_accuracy is metrics.val_accuracy', async () => {
    const bare = await cli('runs', 'list', root, '--where', "optimizer == 'adam' and val_accuracy > 0.85", '--columns', 'name');
    expect(bare.err).toBe('');
    expect(bare.out.split('\n').slice(2, -2)).toEqual(['op_adam_lr_0.001_bs_32']);
    // Case, _ and - do not matter: batch-size finds params.batch_size.
    const loose = await cli('runs', 'list', root, '--where', 'Batch-Size == 32 and params.lr < 0.01', '--columns', 'name');
    expect(loose.out.split('\n').slice(2, -2)).toEqual(['op_adam_lr_0.001_bs_32', 'op_nadam_lr_0.001_bs_32']);
    // lr is both a parameter and a metric (the epoch's lr): ambiguous, so an error naming both.
    const ambiguous = await cli('runs', 'list', root, '--where', 'lr > 0');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(/--where: "lr" is ambiguous: it could be params\.lr or metrics\.lr; write the full path/);
    const unknown = await cli('runs', 'list', root, '--where', "optimiser == 'adam'");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown name "optimiser"; known names — params: batch_size, lr, optimizer; metrics: .*val_accuracy/);
    // Full paths keep working.
    expect((await cli('runs', 'list', root, '--where', 'params.lr == 0.1', '--columns', 'name')).out).toMatch(/op_sgd/);
  });

  it('uses one number format everywhere', () => {
    expect([0.0005, 1e-8, 0.01, 0.88, 12.345678, 30, 123456789, 1.23456e-5, -0.00012, NaN, Infinity].map(formatNumber))
      .toEqual(['5e-4', '1e-8', '0.01', '0.88', '12.35', '30', '123456789', '1.235e-5', '-1.2e-4', 'NaN', 'inf']);
    expect(formatCell([0.0005, 0.1234567, 3])).toBe('[5e-4,0.1235,3]');
    expect(formatCell({ lr: 1e-8, name: 'adam' })).toBe('{"lr":1e-8,"name":"adam"}');
    expect(formatCell(null)).toBe('');
    expect(formatCell(true)).toBe('true');
  });

  it('caps cells with … and fits a table into a width', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    const long = 'x'.repeat(500);
    const capped = formatTable(['key', 'a', 'b'], [['k', long, long]], { maxCell: 40 });
    // The first column (a run name to copy) is never cut.
    expect(formatTable(['name', 'v'], [['n'.repeat(60), long]], { maxCell: 40, width: 80 })).toContain('n'.repeat(60));
    for (const line of capped.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(3 + 2 + 40 + 2 + 40);
    expect(capped).toContain(`${'x'.repeat(39)}…`);
    const fitted = formatTable(['key', 'a', 'b'], [['k', long, long]], { maxCell: 40, width: 60 });
    for (const line of fitted.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(formatTable(['a'], [[long]])).toContain(long);
    // Many rows: no spread of rows into Math.max (300k rows would overflow the stack).
    expect(formatTable(['n'], Array.from({ length: 300_000 }, (_, i) => [i])).split('\n')).toHaveLength(300_003);
  });

  it('runs compare cuts long values (the architecture) and fits the terminal; --full shows them', async () => {
    const wideRoot = mkdtempSync(join(tmpdir(), 'tk-runs-wide-'));
    for (const units of [8, 16]) {
      const run = createRun({ root: wideRoot, name: `u${units}`, params: { units, architecture: Array.from({ length: 40 }, (_, i) => ({ kind: 'dense', config: { units: units + i } })) } });
      run.finish();
    }
    const io = captureIo();
    (io.stdout as { columns?: number }).columns = 100;
    expect(await main(['runs', 'compare', 'u8', 'u16', '--root', wideRoot], io)).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(io.out()).toMatch(/\* params\.architecture +\[\{"kind":"dense".*… +\[\{"kind"/);
    const full = await cli('runs', 'compare', 'u8', 'u16', '--root', wideRoot, '--full');
    expect(full.out.split('\n').some((l) => l.length > 500)).toBe(true);
    // Without a terminal (a pipe), cells are still capped at 40 characters.
    const piped = await cli('runs', 'compare', 'u8', 'u16', '--root', wideRoot);
    for (const line of piped.out.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(40 + 2 + 40 + 2 + 40);
  });

  it('runs show | head: a closed stdout ends the command quietly with status 0', async () => {
    const bigRoot = mkdtempSync(join(tmpdir(), 'tk-runs-epipe-'));
    const run = createRun({ root: bigRoot, name: 'big', params: { optimizer: 'adam' }, batchEvery: 0 });
    run.finish();
    // 5000 epoch rows: far more than a pipe buffer holds, so the writer meets the closed pipe.
    const lines = Array.from({ length: 5000 }, (_, e) => JSON.stringify({ type: 'epoch', t: e, epoch: e + 1, loss: 1 / (e + 1), accuracy: 0.5, val_loss: 0.3, val_accuracy: 0.8, lr: 0.001 }));
    writeFileSync(join(run.dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    const repo = new URL('../..', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'runs', 'show', 'big', '--root', bigRoot], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);

  it('quietEpipe exits 0 on EPIPE and rethrows other stream errors', () => {
    let listener: ((err: NodeJS.ErrnoException) => void) | undefined;
    const codes: number[] = [];
    quietEpipe({ on: (_e: 'error', l: (err: NodeJS.ErrnoException) => void) => { listener = l; } }, (c) => codes.push(c));
    listener!(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(codes).toEqual([0]);
    expect(() => listener!(Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });
});

describe('tensorkit train records a tracked run', () => {
  it('writes env.json, metrics.jsonl (batch and epoch lines) and summary.json with the test accuracy', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-train-run-'));
    const io = captureIo();
    expect(await runTrain(['--quick', '-nhl', '1', '-sz', '16', '-b', '100', '--out', out, '--name', 'tracked', '--threads', '1'], io)).toBe(0);
    const dir = join(out, 'tensorkit', 'local', 'tracked');
    expect(existsSync(join(dir, 'artifacts'))).toBe(true);
    const lines = readMetrics(dir);
    expect(lines.filter((l) => l.type === 'batch')).toHaveLength(9); // 900 training images / 100
    expect(lines.filter((l) => l.type === 'epoch')).toHaveLength(1);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'finished', epochs: 1, steps: 9, test_accuracy: metrics.test.accuracy, train_seconds: metrics.trainSeconds });
    expect(summary.val_accuracy).toBeCloseTo(metrics.finalValidation.accuracy, 12);
    expect(JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')).threads).toBe(1);
    const listed = await cli('runs', 'list', out, '--columns', 'name,test_accuracy');
    expect(listed.out).toContain('tensorkit/local/tracked');
  });
});
