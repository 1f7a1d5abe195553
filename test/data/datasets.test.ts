// The dataset locator: where loadFashionMnist() / loadMnist() look for the vendored IDX files, and the error
// that names the fix when there are none.
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS_PACKAGE, datasetSearchPaths, loadMnist, locateDataset, vendoredDataDir } from '../../src/data/datasets.js';

const root = realpathSync(new URL('../..', import.meta.url).pathname);
const repoDatasets = join(root, 'packages/datasets');

describe('dataset locator', () => {
  it('looks in the datasets package first and in /usr/share/datasets last', () => {
    const paths = datasetSearchPaths('fashion-mnist');
    // Inside the repository the package is the workspace link to packages/datasets (resolved to its real path).
    expect(paths[0]).toBe(join(repoDatasets, 'fashion-mnist'));
    expect(paths.at(-1)).toBe('/usr/share/datasets/fashion-mnist');
    expect(new Set(paths).size).toBe(paths.length);
    expect(locateDataset('fashion-mnist')).toBe(join(repoDatasets, 'fashion-mnist'));
    expect(locateDataset('mnist')).toBe(join(repoDatasets, 'mnist'));
  });

  it('vendoredDataDir() is the datasets package folder holding fashion-mnist/ and mnist/', () => {
    const dir = vendoredDataDir();
    expect(dir).toBe(repoDatasets);
    expect(existsSync(join(dir, 'fashion-mnist/SHA256SUMS'))).toBe(true);
    expect(existsSync(join(dir, 'mnist/SHA256SUMS'))).toBe(true);
    expect(DATASETS_PACKAGE).toBe('@tensorkit/datasets');
  });

  it('a dataset found nowhere fails naming the package to install, { dir }, --data and every place looked in', () => {
    let message = '';
    try {
      locateDataset('no-such-set');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^no-such-set: no data found; install the datasets package \(npm install @tensorkit\/datasets\)/);
    expect(message).toMatch(/\{ dir \} \(tensorkit train --data DIR\)/);
    for (const p of datasetSearchPaths('no-such-set')) expect(message).toContain(p);
  });

  it('an explicit dir wins over the search, and a missing one is named', () => {
    expect(() => loadMnist({ dir: '/nonexistent/mnist-dir' })).toThrow(/mnist: data directory \/nonexistent\/mnist-dir does not exist/);
    const d = loadMnist({ dir: join(repoDatasets, 'mnist'), trainLimit: 3, testLimit: 2 });
    expect(d.train.images.shape).toEqual([3, 1, 28, 28]);
    expect(d.test.labels.shape).toEqual([2]);
  });
});
