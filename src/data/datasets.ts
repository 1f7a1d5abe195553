// Dataset locator: Fashion-MNIST and MNIST from the @tensorkit/datasets package, the repository's copy of it,
// Debian's /usr/share/datasets, or any directory of IDX files.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cwd } from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Tensor } from '../tensor/tensor.js';
import { IdxFormatError } from './idx.js';
import { readIdx } from './idx-file.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES, type Dataset, type Split } from './dataset.js';

export { FASHION_MNIST_CLASSES, MNIST_CLASSES, type Dataset, type Split };

export interface LoadOptions {
  /** Directory holding the IDX files (default: the first of {@link datasetSearchPaths} that exists). */
  readonly dir?: string;
  /** Keep only the first N training / test examples (for quick runs). */
  readonly trainLimit?: number;
  readonly testLimit?: number;
  /** Standardise with the training set's mean and std instead of plain [0, 1] scaling. */
  readonly standardize?: boolean;
}

/** The npm package that holds the vendored IDX files (kept out of the `tensorkit` tarball to keep it small). */
export const DATASETS_PACKAGE = '@tensorkit/datasets';

/** Where Debian's `dataset-fashion-mnist` package puts the files; looked at last. */
const SYSTEM_DATASETS = '/usr/share/datasets';

/** Root of the installed datasets package as seen from `from` (a file URL), or null when it is not installed. */
function resolveDatasetsPackage(from: string | URL): string | null {
  try {
    return dirname(createRequire(from).resolve(`${DATASETS_PACKAGE}/package.json`));
  } catch {
    return null;
  }
}

/**
 * The folders where a dataset's IDX files are looked for, in order: the {@link DATASETS_PACKAGE} package
 * as installed beside tensorkit, then as installed in the current directory's project, then the
 * repository's own `packages/datasets` (a clone, from src/ under tsx or from dist/), then
 * `/usr/share/datasets/<name>`. `name` is the dataset's folder, e.g. `fashion-mnist`.
 */
export function datasetSearchPaths(name: string): string[] {
  const paths: string[] = [];
  for (const root of [...vendoredRoots(), SYSTEM_DATASETS]) {
    const p = join(root, name);
    if (!paths.includes(p)) paths.push(p);
  }
  return paths;
}

/** Candidate roots of the vendored copy: the installed package (beside tensorkit, then in the cwd's project), then the repository's. */
function vendoredRoots(): string[] {
  const roots = [
    resolveDatasetsPackage(import.meta.url),
    resolveDatasetsPackage(pathToFileURL(join(cwd(), 'package.json'))),
    fileURLToPath(new URL('../../packages/datasets/', import.meta.url)),
  ];
  return roots.filter((r): r is string => r !== null);
}

function notFound(name: string, looked: readonly string[]): Error {
  return new Error(
    `${name}: no data found; install the datasets package (npm install ${DATASETS_PACKAGE}) or point at a folder of ` +
      `IDX files with { dir } (tensorkit train --data DIR). Looked in: ${looked.join(', ')}`,
  );
}

/** The first existing folder of {@link datasetSearchPaths} for `name`; throws naming the fix when there is none. */
export function locateDataset(name: string): string {
  const looked = datasetSearchPaths(name);
  const found = looked.find((p) => existsSync(p));
  if (found === undefined) throw notFound(name, looked);
  return found;
}

/**
 * The folder holding the vendored `fashion-mnist/` and `mnist/` folders (the datasets package, or the
 * repository's copy of it); throws naming `npm install @tensorkit/datasets` when neither is there.
 */
export function vendoredDataDir(): string {
  const roots = vendoredRoots();
  const found = roots.find((r) => existsSync(join(r, 'fashion-mnist')));
  if (found === undefined) throw notFound('vendored datasets', roots);
  return found;
}

function findFile(dir: string, stems: readonly string[]): string {
  for (const stem of stems) {
    for (const name of [stem, `${stem}.gz`]) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`no ${stems.join(' or ')}[.gz] in ${dir}`);
}

function loadSplit(dir: string, imageStems: string[], labelStems: string[], limit?: number): { images: Float32Array; labels: Float32Array; n: number } {
  const imgPath = findFile(dir, imageStems);
  const lblPath = findFile(dir, labelStems);
  const img = readIdx(imgPath);
  const lbl = readIdx(lblPath);
  if (img.dtype !== 'uint8' || img.shape.length !== 3 || img.shape[1] !== 28 || img.shape[2] !== 28) {
    throw new IdxFormatError(imgPath, `expected uint8 images [N, 28, 28], got ${img.dtype} [${img.shape.join(', ')}]`);
  }
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1) {
    throw new IdxFormatError(lblPath, `expected uint8 labels [N], got ${lbl.dtype} [${lbl.shape.join(', ')}]`);
  }
  if (lbl.shape[0] !== img.shape[0]) {
    throw new IdxFormatError(lblPath, `${lbl.shape[0]} labels for ${img.shape[0]} images in ${imgPath}`);
  }
  let n = img.shape[0];
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
    n = Math.min(n, limit);
  }
  const images = new Float32Array(n * 784);
  const src = img.data;
  for (let i = 0; i < n * 784; i++) images[i] = src[i] / 255;
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = lbl.data[i];
    if (c > 9) throw new IdxFormatError(lblPath, `label ${c} at index ${i} is outside 0..9`);
    labels[i] = c;
  }
  return { images, labels, n };
}

function load(name: string, sub: string, trainStems: [string[], string[]], opts: LoadOptions, classNames: readonly string[]): Dataset {
  const dir = opts.dir ?? locateDataset(sub);
  if (!existsSync(dir)) throw new Error(`${name}: data directory ${dir} does not exist`);
  const train = loadSplit(dir, trainStems[0], trainStems[1], opts.trainLimit);
  const test = loadSplit(dir, ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'], ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'], opts.testLimit);
  if (opts.standardize) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < train.images.length; i++) {
      sum += train.images[i];
      sq += train.images[i] * train.images[i];
    }
    const mean = sum / train.images.length;
    const std = Math.sqrt(Math.max(sq / train.images.length - mean * mean, 1e-12));
    for (const arr of [train.images, test.images]) for (let i = 0; i < arr.length; i++) arr[i] = (arr[i] - mean) / std;
  }
  return {
    name,
    train: { images: new Tensor(train.images, [train.n, 1, 28, 28]), labels: new Tensor(train.labels, [train.n]) },
    test: { images: new Tensor(test.images, [test.n, 1, 28, 28]), labels: new Tensor(test.labels, [test.n]) },
    classNames,
  };
}

/** Fashion-MNIST (60k train / 10k test vendored). */
export function loadFashionMnist(opts: LoadOptions = {}): Dataset {
  return load('fashion-mnist', 'fashion-mnist', [['train-images-idx3-ubyte', 'train-images.idx3-ubyte'], ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte']], opts, FASHION_MNIST_CLASSES);
}

/** MNIST (vendored: a 10k training slice and the official 10k test set; `dir` may point at the full set). */
export function loadMnist(opts: LoadOptions = {}): Dataset {
  return load('mnist', 'mnist', [['train-images-idx3-ubyte', 'train10k-images-idx3-ubyte', 'train-images.idx3-ubyte'], ['train-labels-idx1-ubyte', 'train10k-labels-idx1-ubyte', 'train-labels.idx1-ubyte']], opts, MNIST_CLASSES);
}
