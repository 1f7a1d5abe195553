// The assignment sweeps in examples/sweeps: every config validates against `tensorkit train`'s options with
// the documented sizes, and each --quick form runs 2 real training trials and writes its report and top-3 tables.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as runSweepExample } from '../../examples/sweeps/run-sweep.js';
import { trainParameterNames } from '../../src/cli/sweep.js';
import { expandParams, gridPoint } from '../../src/experiments/search.js';
import { gridSize, readSweepConfigFile, validateSweepConfig } from '../../src/experiments/sweep-config.js';

const root = new URL('../..', import.meta.url).pathname;
const CONFIGS: [string, string, number | null][] = [
  ['fmnist-cnn-arch-grid.json', 'grid', 72],
  ['fmnist-cnn-init-batch-lr.json', 'grid', 36],
  ['fmnist-mlp-bayes.yaml', 'bayes', null],
  ['fmnist-cnn-explore-grid.json', 'grid', 16],
];

describe('examples/sweeps', () => {
  it('validate against the train options with the documented grid sizes', () => {
    for (const [file, method, size] of CONFIGS) {
      const config = validateSweepConfig(readSweepConfigFile(join(root, 'examples/sweeps', file)), { knownParameters: trainParameterNames() });
      expect(config.method, file).toBe(method);
      if (size !== null) expect(gridSize(config), file).toBe(size);
    }
    const arch = validateSweepConfig(readSweepConfigFile(join(root, 'examples/sweeps/fmnist-cnn-arch-grid.json')));
    expect(expandParams(gridPoint(arch, 71)!)).toMatchObject({ kernel_sizes: [5, 5], filters: [32, 32], dense_units: [100], optimizer: 'momentum', learning_rate: 0.001, momentum: 0.9, batch_size: 32 });
    const pairs = validateSweepConfig(readSweepConfigFile(join(root, 'examples/sweeps/fmnist-cnn-init-batch-lr.json')));
    expect(expandParams(gridPoint(pairs, 1)!)).toMatchObject({ weight_init: 'xavier-uniform', batch_size: 8, learning_rate: 0.01, momentum: 0.9 });
  });

  for (const [file, method] of CONFIGS) {
    it(`${file} --quick runs 2 trials of tensorkit train and writes the report`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'tk-sweep-example-'));
      const { dir, report, result, markdown } = await runSweepExample([join(root, 'examples/sweeps', file), '--quick', '--parallel', '2', '--threads', '2', '--out', out]);
      expect(result.state.trials).toHaveLength(2);
      expect(result.state.config.method).toBe(method);
      for (const t of result.state.trials) {
        expect(t.status, `${t.name}: ${t.error}`).not.toBe('failed');
        const summary = JSON.parse(readFileSync(join(dir, 'runs', t.name, 'summary.json'), 'utf8'));
        // The grids hold the assignments' working settings: above chance after one epoch on 1000 images. The bayes
        // sweep starts with random configurations (sigmoid with weight decay 0.5 may stay at chance).
        if (method === 'grid') expect(summary.test_accuracy).toBeGreaterThan(0.2);
        else expect(summary.test_accuracy).toBeGreaterThanOrEqual(0);
        expect(JSON.parse(readFileSync(join(dir, 'runs', t.name, 'params.json'), 'utf8')).quick).toBe(true);
        expect(JSON.parse(readFileSync(join(dir, 'runs', t.name, 'env.json'), 'utf8')).threads).toBe(1);
      }
      expect(existsSync(report)).toBe(true);
      expect(markdown).toMatch(/## Top 3 by training time/);
    }, 60_000);
  }
});
