// bench/compare.ts (`npm run bench:compare`) smoke runs: `--quick` on the fastest network exits 0 and writes
// JSON whose rows cover every implementation and thread count and whose ratios are those of its rows; with
// no importable torch it says so and still measures the rest; peers left out (--skip) are reported as
// such; the allocation probe's bytes per steady step are in the report. Timings are never asserted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';
const torchInstalled = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(os.tmpdir(), 'tensorkit-compare-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row { impl: string; variant: string; net: string; mode: string; threads: number; imagesPerSecond: number; medianMs: number; batch: number }
interface Report {
  quick: boolean;
  threads: number[];
  loadAverage: { before: number[]; after: number[] };
  peers: {
    pytorch: { available: boolean; note: string; variants: { name: string; loaded: string[] }[] };
    onnxruntimeNode: { available: boolean; version: string | null }; onnxruntimeWeb: { available: boolean; version: string | null };
  };
  allocations: Record<string, { trainStep: number; layers: number; infer: number; heapBlocks: number }> | null;
  ratios: {
    training: { net: string; threads: number; tensorkit: number; pytorchBest: number | null; ratio: number | null }[];
    inference: { net: string; threads: number; tensorkit: number; onnxruntimeNode: number; onnxruntimeWeb: number; vsOnnxruntimeNode: number; vsOnnxruntimeWeb: number }[];
    threadScaling: { net: string; tensorkit: number }[];
  };
  epoch: unknown;
  rows: Row[];
}

function runCompare(name: string, extra: string[]): Report & { stdout: string } {
  const out = join(dir, `${name}.json`);
  const r = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', 'bench/compare.ts', '--quick', '--filter', 'net001', '--out', out, ...extra], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, TENSORKIT_THREADS: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/ratios \(tensorkit img\/s ÷ peer img\/s/);
  return { ...(JSON.parse(readFileSync(out, 'utf8')) as Report), stdout: r.stdout };
}

/** Checks what holds with or without PyTorch: tensorkit and both onnxruntimes at every thread count. */
function expectCommon(report: Report): void {
  expect(report.quick).toBe(true);
  expect(report.threads[0]).toBe(1);
  expect(report.loadAverage.before).toHaveLength(3);
  expect(report.epoch).toBeNull();
  // the allocation probe ran: its numbers are bounded by test/perf/allocation.test.ts, here only present
  for (const net of ['net000', 'net004', 'net001', 'net003']) expect(report.allocations?.[net]?.heapBlocks, net).toBe(0);
  expect(report.allocations?.net001.infer).toBeGreaterThanOrEqual(0);
  expect(report.peers.onnxruntimeNode.version).toMatch(/^\d+\.\d+/);
  expect(report.peers.onnxruntimeWeb.version).toMatch(/^\d+\.\d+/);
  for (const threads of report.threads) {
    const at = report.rows.filter((r) => r.threads === threads && r.net === 'net001');
    const has = (impl: string, mode: string): Row | undefined => at.find((r) => r.impl === impl && r.mode === mode);
    expect(has('tensorkit', 'train')?.batch).toBe(64);
    for (const impl of ['tensorkit', 'onnxruntime-node', 'onnxruntime-web']) expect(has(impl, 'infer')?.batch, impl).toBe(256);
    const inf = report.ratios.inference.find((r) => r.threads === threads)!;
    expect(inf.vsOnnxruntimeNode).toBeCloseTo(has('tensorkit', 'infer')!.imagesPerSecond / has('onnxruntime-node', 'infer')!.imagesPerSecond, 9);
    expect(inf.vsOnnxruntimeWeb).toBeCloseTo(has('tensorkit', 'infer')!.imagesPerSecond / has('onnxruntime-web', 'infer')!.imagesPerSecond, 9);
  }
  for (const r of report.rows) {
    expect(r.imagesPerSecond).toBeGreaterThan(0);
    expect(r.imagesPerSecond).toBeCloseTo((r.batch * 1000) / r.medianMs, 6);
  }
}

describe('bench:compare --quick', () => {
  it.skipIf(!torchInstalled)('exits 0 and writes every implementation, each BLAS variant, and ratios against the best PyTorch', { timeout: 240_000 }, () => {
    const report = runCompare('with-torch', ['--python', PYTHON]);
    expectCommon(report);
    expect(report.peers.pytorch.available).toBe(true);
    expect(report.peers.pytorch.variants.length).toBeGreaterThan(0);
    for (const t of report.ratios.training) {
      const torchRows = report.rows.filter((r) => r.impl === 'pytorch' && r.mode === 'train' && r.threads === t.threads);
      expect(torchRows.map((r) => r.variant).sort()).toEqual(report.peers.pytorch.variants.map((v) => v.name).sort());
      const bestTorch = Math.max(...torchRows.map((r) => r.imagesPerSecond));
      expect(t.pytorchBest).toBe(bestTorch);
      expect(t.ratio).toBeCloseTo(t.tensorkit / bestTorch, 9);
    }
    // Each variant really ran on its own OpenBLAS build.
    for (const v of report.peers.pytorch.variants) if (v.name !== 'system') expect(v.loaded.some((p) => p.includes(`openblas-${v.name}`)), v.name).toBe(true);
    if (report.threads.length > 1) expect(report.ratios.threadScaling[0].tensorkit).toBeGreaterThan(0);
  });

  it('without an importable torch: notes the skip, measures tensorkit and both onnxruntimes', { timeout: 240_000 }, () => {
    const report = runCompare('without-torch', ['--python', join(dir, 'no-such-python')]);
    expectCommon(report);
    expect(report.peers.pytorch.available).toBe(false);
    expect(report.peers.pytorch.note).toMatch(/PyTorch skipped: .*no-such-python cannot import torch/);
    expect(report.rows.some((r) => r.impl === 'pytorch')).toBe(false);
    for (const t of report.ratios.training) expect(t.ratio).toBeNull();
  });

  it('--skip leaves peers out with the reason printed, and still measures tensorkit', { timeout: 240_000 }, () => {
    const report = runCompare('skipped', ['--skip', 'pytorch,onnxruntime-node,onnxruntime-web']);
    for (const peer of ['PyTorch', 'onnxruntime-node', 'onnxruntime-web']) expect(report.stdout).toContain(`${peer} skipped (--skip)`);
    expect(report.peers.onnxruntimeNode.available).toBe(false);
    expect(report.peers.onnxruntimeWeb.available).toBe(false);
    expect(report.rows.map((r) => r.impl)).toEqual(report.threads.flatMap(() => ['tensorkit', 'tensorkit'])); // train and infer
    for (const i of report.ratios.inference) {
      expect(i.vsOnnxruntimeNode).toBeNull();
      expect(i.vsOnnxruntimeWeb).toBeNull();
    }
    expect(report.stdout).toMatch(/bytes allocated per steady-state step/);
  });
});
