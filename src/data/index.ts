// Data: IDX files, the dataset locator, shuffling and splits, mini-batches, augmentation.
export { decodeIdx, decodeIdxAsync, IdxFormatError, IDX_MAX_ELEMENTS, type IdxArray } from './idx.js';
export { readIdx } from './idx-file.js';
export {
  loadFashionMnist, loadMnist, vendoredDataDir, locateDataset, datasetSearchPaths, DATASETS_PACKAGE, FASHION_MNIST_CLASSES, MNIST_CLASSES,
  type Dataset, type Split, type LoadOptions,
} from './datasets.js';
export { gatherRows, shuffleRows, classIds, trainValSplit, type SplitOptions, type SplitPart } from './split.js';
export { Batcher, batches, type BatchOptions, type Batch } from './batches.js';
export { augmentBatch, transformImage, resolveAugment, type AugmentOptions, type ResolvedAugment, type SampleTransform } from './augment.js';
