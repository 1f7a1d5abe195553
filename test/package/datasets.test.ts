// The @tensorkit/datasets package: its entry names the dataset folders, and every file matches SHA256SUMS.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS, datasetDir, datasetsRoot } from '@tensorkit/datasets';

describe('@tensorkit/datasets', () => {
  it('names its dataset folders and rejects an unknown name', () => {
    expect(DATASETS).toEqual(['fashion-mnist', 'mnist']);
    expect(datasetDir('mnist')).toBe(join(datasetsRoot, 'mnist') + '/');
    expect(() => datasetDir('cifar10' as 'mnist')).toThrow(/@tensorkit\/datasets: no dataset "cifar10"; it holds fashion-mnist, mnist/);
  });

  it('holds exactly the files its SHA256SUMS list, with those hashes', () => {
    for (const name of DATASETS) {
      const dir = datasetDir(name);
      const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+\*?/));
      expect(sums.length).toBe(4);
      for (const [hash, file] of sums) {
        expect(createHash('sha256').update(readFileSync(join(dir, file))).digest('hex'), `${name}/${file}`).toBe(hash);
      }
      expect(readdirSync(dir).sort()).toEqual([...sums.map((s) => s[1]), 'SHA256SUMS'].sort());
    }
  });
});
