// The fmnist-cnn-prune example in --quick mode: trains on a small slice, prunes conv1, conv2 and fc1,
// and writes results.json, pruning-steps.csv, summary.txt and one SVG plot per pruned layer.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from 'tensorkit';
import { unitCounts } from 'tensorkit/analysis';

describe('examples/fmnist-cnn-prune (--quick)', () => {
  it('trains, prunes each layer step by step and writes the results', async () => {
    const { main } = await import('../../examples/fmnist-cnn-prune.js');
    const out = mkdtempSync(join(tmpdir(), 'tensorkit-prune-'));
    try {
      const result = await main({
        epochs: 1, batchSize: 32, lr: 0.01, momentum: 0.9, schedule: 'cosine', seed: 0, tolerance: 0.05, fineTuneBatches: 2,
        fineTuneLr: 0.001, finalEpochs: 0, criterion: 'l1', out, quick: true, threads: 1,
      }) as {
        epochs: { epoch: number; lr: number; valAccuracy: number; testAccuracy: number }[];
        unpruned: { units: Record<string, number>; flops: number; testAccuracy: number };
        pruned: { units: Record<string, number>; flops: number };
        flopRatio: number;
        inference: { speedup: number; original: { msPerBatch: number; threads: number }; pruned: { msPerBatch: number; threads: number } };
        steps: { layer: string; accepted: boolean; c1: number; c2: number; f1: number; valAccuracy: number }[];
      };
      expect(result.unpruned.units).toEqual({ c1: 12, c2: 16, f1: 100 });
      // Hand count of the unpruned network (see counts.test.ts): 6,375,138 FLOPs per image.
      expect(result.unpruned.flops).toBe(6_375_138);
      // One epoch on 540 images beats chance (10%) clearly.
      expect(result.unpruned.testAccuracy).toBeGreaterThan(0.3);
      // One row per training epoch; the cosine schedule starts at the base lr.
      expect(result.epochs).toHaveLength(1);
      expect(result.epochs[0]).toMatchObject({ epoch: 1, lr: 0.01 });
      expect(result.epochs[0].testAccuracy).toBe(result.unpruned.testAccuracy);
      // Quick mode tries at most 2 single-unit steps per layer, in the order conv1, conv2, fc1.
      expect(result.steps.length).toBeGreaterThanOrEqual(3);
      expect(result.steps.length).toBeLessThanOrEqual(6);
      expect(result.steps[0].layer).toBe('conv1');
      expect(result.steps[0].c1).toBe(11);
      expect(new Set(result.steps.map((s) => s.layer))).toEqual(new Set(['conv1', 'conv2', 'fc1']));
      const { c1, c2, f1 } = result.pruned.units;
      const accepted = result.steps.filter((s) => s.accepted);
      expect(12 - c1 + 16 - c2 + 100 - f1).toBe(accepted.length);
      expect(result.flopRatio).toBeCloseTo(result.unpruned.flops / result.pruned.flops, 12);
      expect(result.flopRatio).toBeGreaterThanOrEqual(1);
      expect(result.inference.speedup).toBeGreaterThan(0);
      expect(result.inference.original.threads).toBe(1);
      expect(result.inference.pruned.threads).toBe(1);
      expect(result.inference.speedup).toBeCloseTo(result.inference.original.msPerBatch / result.inference.pruned.msPerBatch, 9);

      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).example).toBe('fmnist-cnn-prune');
      const csv = readFileSync(join(out, 'pruning-steps.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('step,layer,accepted,removed_unit,c1,c2,f1,val_accuracy,test_accuracy,flops');
      expect(csv).toHaveLength(result.steps.length + 1);
      expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain('Train FLOPs');
      // Both models are saved, and --load-unpruned reuses the unpruned one instead of training.
      const saved = unitCounts(loadModel(join(out, 'pruned.safetensors')).model);
      expect({ c1: saved[0], c2: saved[2], f1: saved[5] }).toEqual(result.pruned.units);
      const again = await main({
        epochs: 1, batchSize: 32, lr: 0.01, momentum: 0.9, schedule: 'cosine', seed: 0, tolerance: 0.05, fineTuneBatches: 2,
        fineTuneLr: 0.001, finalEpochs: 0, criterion: 'l1', out: join(out, 'again'), quick: true, threads: 1,
        loadUnpruned: join(out, 'unpruned.safetensors'),
      }) as { epochs: unknown[]; unpruned: { testAccuracy: number } };
      expect(again.epochs).toEqual([]);
      expect(again.unpruned.testAccuracy).toBe(result.unpruned.testAccuracy);
      for (const name of ['conv1', 'conv2', 'fc1']) {
        expect(existsSync(join(out, `prune-${name}.svg`)), name).toBe(true);
        expect(readFileSync(join(out, `prune-${name}.svg`), 'utf8')).toMatch(/^<svg [^]*<polyline [^]*<\/svg>\n$/);
      }
      // report.html inlines every plot and shows the pruning steps.
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      for (const name of ['conv1', 'conv2', 'fc1']) expect(html).toContain(`data-file="prune-${name}.svg"`);
      expect(html).toContain('Pruning steps');
      expect(html).toContain('pruned units (c1, c2, f1)');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
