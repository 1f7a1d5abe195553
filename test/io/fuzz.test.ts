// A short seeded run of scripts/fuzz.ts: every mutant of a valid IDX, safetensors or model file
// must load or fail with the reader's typed error, quickly and without memory blow-up.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../scripts/fuzz.js';

describe('fuzzing the file readers', () => {
  it('6000 seeded mutants: no untyped error, no slow case, both outcomes and every strategy exercised', () => {
    const report = runFuzz({ cases: 6000, seed: 2024, caseTimeLimitMs: 1000 });
    expect(report.failures).toEqual([]);
    for (const kind of ['idx', 'safetensors', 'model'] as const) {
      const s = report.stats[kind];
      expect(s.cases).toBe(2000);
      expect(s.loaded + s.typedErrors).toBe(s.cases);
      // Both outcomes occur: the mutants are neither all harmless nor all trivially rejected.
      expect(s.typedErrors).toBeGreaterThan(s.cases / 2);
      expect(s.loaded).toBeGreaterThan(0);
    }
    for (const strategy of ['overlap', 'huge-shape', 'huge-length', 'bad-json', 'duplicate-key', 'metadata-json', 'truncate']) {
      expect(report.stats.model.byMutation[strategy] ?? 0, strategy).toBeGreaterThan(0);
    }
    expect(report.stats.safetensors.byMutation.overlap).toBeGreaterThan(0);
    expect(report.maxRssBytes).toBeLessThan(1.5 * 2 ** 30);
  });
});
