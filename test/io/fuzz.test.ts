// A short seeded run of scripts/fuzz.ts: every mutant of a valid IDX, safetensors or model file, and
// every resource bomb, must load or fail with the reader's typed error, without raising the peak
// resident memory by more than 200 MB in one case.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../scripts/fuzz.js';

// Time limits here only catch hangs: the machine may be shared, so they are generous.
const HANG_MS = 10_000;
const CASE_RSS_GROWTH = 200 * 2 ** 20;

describe('fuzzing the file readers', () => {
  it('6000 seeded mutants: no untyped error, no hang, both outcomes and every strategy exercised', () => {
    const report = runFuzz({ cases: 6000, seed: 2024, caseTimeLimitMs: HANG_MS, bombRate: 0, caseRssGrowthLimitBytes: CASE_RSS_GROWTH });
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

  it('resource bombs (gzip bombs, huge and many layers, im2col, deep nesting, huge counts, long names): typed errors, peak RSS rise < 200 MB per case', () => {
    const report = runFuzz({ cases: 96, seed: 11, caseTimeLimitMs: HANG_MS, bombRate: 1, caseRssGrowthLimitBytes: CASE_RSS_GROWTH });
    expect(report.failures).toEqual([]);
    expect(report.maxCaseRssGrowthBytes).toBeLessThan(CASE_RSS_GROWTH);
    const rejected = (kind: 'idx' | 'safetensors' | 'model') => report.stats[kind].byMutation;
    for (const strategy of ['bomb-gzip', 'bomb-gzip-hidden', 'bomb-huge-dims']) expect(rejected('idx')[strategy] ?? 0, strategy).toBeGreaterThan(0);
    for (const strategy of ['bomb-deep', 'bomb-long-name', 'bomb-huge-length']) expect(rejected('safetensors')[strategy] ?? 0, strategy).toBeGreaterThan(0);
    for (const strategy of ['bomb-many-layers', 'bomb-huge-layers', 'bomb-im2col', 'bomb-deep', 'bomb-huge-dims', 'bomb-huge-metadata', 'bomb-long-name']) {
      expect(rejected('model')[strategy] ?? 0, strategy).toBeGreaterThan(0);
    }
    // Every model bomb is refused (none is a loadable model).
    expect(report.stats.model.loaded).toBe(0);
  });
});
