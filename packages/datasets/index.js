// Where this package's IDX files are: one folder per dataset, each with a SHA256SUMS file.
import { fileURLToPath } from 'node:url';

/** The datasets this package holds, each a folder of gzipped IDX files beside this file. */
export const DATASETS = Object.freeze(['fashion-mnist', 'mnist']);

/** Absolute path of this package's folder (the parent of `fashion-mnist/` and `mnist/`). */
export const datasetsRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * Absolute path of one dataset's folder, e.g. `datasetDir('fashion-mnist')`, to pass as
 * `loadFashionMnist({ dir })`. Throws for a name this package does not hold.
 */
export function datasetDir(name) {
  if (!DATASETS.includes(name)) {
    throw new Error(`@tensorkit/datasets: no dataset ${JSON.stringify(name)}; it holds ${DATASETS.join(', ')}`);
  }
  return fileURLToPath(new URL(`./${name}/`, import.meta.url));
}
