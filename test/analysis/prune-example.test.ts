// The fmnist-cnn-prune example in --quick mode: trains on a small slice, prunes conv1, conv2 and fc1,
// and writes results.json, pruning-steps.csv, summary.txt and one SVG plot per pruned layer.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tensorkit from 'tensorkit';

// The example imports the analysis API from 'tensorkit'; run it once src/index.ts re-exports src/analysis.
const exported = ['pruneSchedule', 'measureInference', 'analyzeModel'].every((name) => name in tensorkit);

describe('examples/fmnist-cnn-prune (--quick)', () => {
  it.skipIf(!exported)('trains, prunes each layer step by step and writes the results', async () => {
    const { main } = await import('../../examples/fmnist-cnn-prune.js');
    const out = mkdtempSync(join(tmpdir(), 'tensorkit-prune-'));
    try {
      const result = await main({
        epochs: 1, batchSize: 32, lr: 0.01, momentum: 0.9, seed: 0, tolerance: 0.05, fineTuneBatches: 2, finalEpochs: 0,
        criterion: 'l1', out, quick: true,
      }) as {
        unpruned: { units: Record<string, number>; flops: number; testAccuracy: number };
        pruned: { units: Record<string, number>; flops: number };
        flopRatio: number;
        inference: { speedup: number; original: { msPerBatch: number }; pruned: { msPerBatch: number } };
        steps: { layer: string; accepted: boolean; c1: number; c2: number; f1: number; valAccuracy: number }[];
      };
      expect(result.unpruned.units).toEqual({ c1: 12, c2: 16, f1: 100 });
      // Hand count of the unpruned network (see counts.test.ts): 6,375,138 FLOPs per image.
      expect(result.unpruned.flops).toBe(6_375_138);
      // One epoch on 540 images beats chance (10%) clearly.
      expect(result.unpruned.testAccuracy).toBeGreaterThan(0.3);
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
      expect(result.inference.speedup).toBeCloseTo(result.inference.original.msPerBatch / result.inference.pruned.msPerBatch, 9);

      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).example).toBe('fmnist-cnn-prune');
      const csv = readFileSync(join(out, 'pruning-steps.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('step,layer,accepted,removed_unit,c1,c2,f1,val_accuracy,test_accuracy,flops');
      expect(csv).toHaveLength(result.steps.length + 1);
      expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain('Train FLOPs');
      for (const name of ['conv1', 'conv2', 'fc1']) {
        expect(existsSync(join(out, `prune-${name}.svg`)), name).toBe(true);
        expect(readFileSync(join(out, `prune-${name}.svg`), 'utf8')).toMatch(/^<svg [^]*<polyline [^]*<\/svg>\n$/);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
