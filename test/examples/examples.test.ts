// Every assignment example, run in --quick mode into a temp folder: the output files exist and the metrics are sane.
// The examples are imported (not spawned with tsx) so that 'tensorkit' resolves to the source tree.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, parseCsv } from 'tensorkit';
import { main as tensorkitMain } from '../../src/cli/main.js';
import { captureIo } from '../util/capture-io.js';
import { main as fmnistCnn } from '../../examples/fmnist-cnn.js';
import { main as fmnistMlp } from '../../examples/fmnist-mlp.js';
import { main as mnistBaseCnn } from '../../examples/mnist-basecnn.js';
import { main as mnistCnnAdam } from '../../examples/mnist-cnn-adam.js';
import { normalizeArgv, UsageError } from '../../examples/lib/cli.js';
import { main as runSweep, QUICK_DEFAULT_CONFIG } from '../../examples/sweeps/run-sweep.js';

const root = mkdtempSync(join(tmpdir(), 'tensorkit-examples-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Every chart named in report.html is inlined, and each file exists. */
function expectReport(out: string, charts: readonly string[]): void {
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const chart of charts) {
    expect(existsSync(join(out, chart)), chart).toBe(true);
    expect(html).toContain(`data-file="${chart}"`);
  }
  expect((html.match(/<svg /g) ?? []).length).toBe(charts.length);
}

describe('examples (--quick)', () => {
  it('fmnist-cnn: curves, confusion matrix, predictions CSV and the train/test table', async () => {
    const out = join(root, 'fmnist-cnn');
    const result = await fmnistCnn(['--quick', '--out', out]);
    expect(result).toMatchObject({ example: 'fmnist-cnn', quick: true, epochs: 1, batchSize: 32, lr: 0.001, momentum: 0.9, trainImages: 1000, testImages: 500 });
    // One epoch on 1000 images reaches ~55–65%; chance is 10%.
    expect(result.testAccuracy).toBeGreaterThan(0.3);
    expect(result.trainLoss).toBeLessThan(Math.log(10));
    const metrics = readJson(join(out, 'metrics.json'));
    expect(metrics.testAccuracy).toBe(result.testAccuracy);
    const confusion = metrics.confusion as number[][];
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(500);
    const predictions = parseCsv(readFileSync(join(out, 'predictions.csv'), 'utf8'));
    expect(predictions[0].slice(0, 3)).toEqual(['index', 'true', 'predicted']);
    expect(predictions).toHaveLength(501);
    const correct = predictions.slice(1).filter((r) => r[1] === r[2]).length;
    expect(correct / 500).toBeCloseTo(result.testAccuracy as number, 10);
    expect(parseCsv(readFileSync(join(out, 'history.csv'), 'utf8'))).toHaveLength(2);
    expectReport(out, ['curves.svg', 'confusion.svg']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<td>test<\/td><td>[\d.]+<\/td><td>[\d.]+%<\/td>/);
  });

  it('mnist-cnn-adam: parameter table, curves, seed bands and the learning-rate study', async () => {
    const out = join(root, 'mnist-cnn-adam');
    const result = await mnistCnnAdam(['--quick', '--out', out]);
    // Conv 16·(9+1) = 160, conv 4·(16·9+1) = 580, dense 10·(4·7·7)+10 = 1970 → 2710.
    expect(result).toMatchObject({ example: 'mnist-cnn-adam', epochs: 2, params: 2710, trainImages: 1000, testImages: 300 });
    // Only 30 Adam steps at 1e-3 on this narrow net: ~20% (chance 10%), and the loss has started to fall below ln 10.
    expect(result.testAccuracy).toBeGreaterThan(0.12);
    const seeds = result.seeds as { runs: { seed: number; loss: number[] }[]; trainLoss: { mean: number[]; std: number[] } };
    expect(seeds.runs.map((r) => r.seed)).toEqual([0, 1]);
    expect(seeds.trainLoss.mean[0]).toBeCloseTo((seeds.runs[0].loss[0] + seeds.runs[1].loss[0]) / 2, 10);
    expect(seeds.trainLoss.std[0]).toBeGreaterThan(0);
    expect(seeds.trainLoss.mean.at(-1)).toBeLessThan(Math.log(10));
    const lrStudy = result.lrStudy as { lr: number; testAccuracy: number }[];
    expect(lrStudy.map((r) => r.lr)).toEqual([1e-4, 1e-3, 1e-2]);
    for (const r of lrStudy) expect(r.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(parseCsv(readFileSync(join(out, 'lr-study.csv'), 'utf8'))).toHaveLength(4);
    expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain('Total params: 2,710');
    expectReport(out, ['curves.svg', 'seeds.svg', 'lr-study.svg', 'confusion.svg']);
  });

  it('mnist-basecnn: grid timings, model size on disk, confusion matrix and the outlier test', async () => {
    const out = join(root, 'mnist-basecnn');
    const result = await mnistBaseCnn(['--quick', '--out', out]);
    const grid = result.grid as { lr: number; epochs: number; testAccuracy: number; trainSeconds: number; testSeconds: number; confusion: number[][] }[];
    expect(grid.map((r) => [r.lr, r.epochs])).toEqual([[0.1, 1]]);
    expect(grid[0].testAccuracy).toBeGreaterThan(0.2);
    expect(grid[0].trainSeconds).toBeGreaterThan(0);
    expect(grid[0].testSeconds).toBeGreaterThan(0);
    expect(grid[0].confusion.flat().reduce((a, b) => a + b, 0)).toBe(200);
    // Conv 32·(9+1) = 320, conv 64·(32·9+1) = 18496, dense 10·12544+10 = 125450 → 144266 floats.
    const size = result.modelSize as { params: number; parameterBytes: number; safetensorsBytes: number };
    expect(size.params).toBe(144266);
    expect(size.parameterBytes).toBe(577064);
    // safetensors = 8-byte length + JSON header (keys, shapes, architecture) + the float32 data.
    expect(size.safetensorsBytes).toBeGreaterThan(577064 + 8);
    expect(size.safetensorsBytes).toBeLessThan(577064 + 8 + 4096);
    // A real model file: loadModel rebuilds the network, and tensorkit summary / export-onnx read it.
    const modelPath = join(out, 'model.safetensors');
    expect(loadModel(modelPath).model.layers.map((l) => l.kind)).toEqual(['conv2d', 'relu', 'conv2d', 'max-pool2d', 'flatten', 'dense']);
    const io = captureIo();
    expect(await tensorkitMain(['summary', modelPath], io)).toBe(0);
    expect(io.out()).toMatch(/Total +144,266/);
    expect(await tensorkitMain(['export-onnx', modelPath, join(out, 'model.onnx')], captureIo())).toBe(0);
    const outliers = result.outliers as { predictedDigit: number; confidence: number }[];
    expect(outliers).toHaveLength(10);
    for (const o of outliers) {
      expect(o.predictedDigit).toBeGreaterThanOrEqual(0);
      expect(o.predictedDigit).toBeLessThan(10);
      expect(o.confidence).toBeGreaterThanOrEqual(0.1);
      expect(o.confidence).toBeLessThanOrEqual(1);
    }
    expect(parseCsv(readFileSync(join(out, 'outliers.csv'), 'utf8'))).toHaveLength(11);
    expectReport(out, ['confusion-lr0.1-e1.svg']);
  });

  it('fmnist-mlp: the train command for CE and squared error, and three MNIST transfers', async () => {
    const out = join(root, 'fmnist-mlp');
    const result = await fmnistMlp(['--quick', '--out', out]);
    const fm = result.fashionMnist as Record<'crossEntropy' | 'squaredError', { testAccuracy: number; dir: string }>;
    // One epoch of the 4×512 MLP on 900 images: ~65–75% with CE; squared error learns slower. Chance is 10%.
    expect(fm.crossEntropy.testAccuracy).toBeGreaterThan(0.4);
    expect(fm.squaredError.testAccuracy).toBeGreaterThan(0.1);
    expect(fm.crossEntropy.dir).toBe(join(out, 'runs', 'fmnist-mlp', 'loss-comparison', 'cross-entropy'));
    expect(existsSync(join(fm.squaredError.dir, 'predictions.csv'))).toBe(true);
    const transfers = result.mnistTransfer as { name: string; testAccuracy: number }[];
    expect(transfers).toHaveLength(3);
    for (const t of transfers) expect(t.testAccuracy).toBeGreaterThan(0.3);
    expect(parseCsv(readFileSync(join(out, 'mnist-transfer.csv'), 'utf8'))).toHaveLength(4);
    expectReport(out, ['curves.svg', 'ce-vs-mse.svg', 'confusion.svg']);
  });

  it('rejects bad flags with a UsageError naming the flag', async () => {
    await expect(fmnistCnn(['--epochs', 'two'])).rejects.toThrow(new UsageError('--epochs must be an integer >= 1, got "two"'));
    await expect(fmnistCnn(['--momentum', '1.5'])).rejects.toThrow('--momentum must be a number in [0, 1], got "1.5"');
    await expect(fmnistCnn(['--bogus'])).rejects.toThrow(UsageError);
  });

  it('sweeps/run-sweep.ts --quick without a config runs the architecture grid\'s first 2 trials (exit 0); no config without --quick is a usage error', async () => {
    await expect(runSweep([])).rejects.toThrow(UsageError);
    await expect(runSweep([])).rejects.toThrow(/run-sweep: give one sweep config\nusage: /);
    await expect(runSweep(['a.json', 'b.json'])).rejects.toThrow(UsageError);
    await expect(runSweep(['--bogus'])).rejects.toThrow(UsageError);
    expect(QUICK_DEFAULT_CONFIG).toMatch(/examples\/sweeps\/fmnist-cnn-arch-grid\.json$/);
    const out = join(root, 'sweep-quick');
    const { dir, result, report } = await runSweep(['--quick', '--parallel', '2', '--threads', '2', '--out', out]);
    expect(dir).toBe(join(out, 'fmnist-cnn-arch-grid-quick'));
    expect(result.state.trials).toHaveLength(2);
    for (const t of result.state.trials) expect(t.status, `${t.name}: ${t.error}`).toBe('finished');
    expect(existsSync(report)).toBe(true);
    expect(existsSync(join(dir, 'top3.md'))).toBe(true);
  }, 60_000);

  it('take the tensorkit train spellings of shared flags (-lr, --learning_rate, -e, -b, --snake_case)', async () => {
    const flags = ['lr', 'epochs', 'batch-size', 'momentum', 'fine-tune-lr', 'out'];
    expect(normalizeArgv(['-lr', '0.01', '-e=3', '-b', '8', '-m', '0.5', '--learning_rate=1', '--learning-rate', '2', '--fine_tune_lr', '0.1', '--out', 'x'], flags))
      .toEqual(['--lr', '0.01', '--epochs=3', '--batch-size', '8', '--momentum', '0.5', '--lr=1', '--lr', '2', '--fine-tune-lr', '0.1', '--out', 'x']);
    // Undeclared targets stay as typed, so the error names what the user wrote.
    expect(normalizeArgv(['-lr', '1', '--some_flag'], ['epochs'])).toEqual(['-lr', '1', '--some_flag']);
    // The value reaches the example's own check (no training starts: the value is refused first).
    await expect(fmnistCnn(['-lr', '0'])).rejects.toThrow('--lr must be a positive number, got "0"');
    await expect(fmnistCnn(['--learning-rate', 'x'])).rejects.toThrow('--lr must be a positive number, got "x"');
    await expect(fmnistCnn(['--batch_size', '0'])).rejects.toThrow('--batch-size must be an integer >= 1, got "0"');
  });
});
