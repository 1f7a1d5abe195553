// Data: IDX files and the dataset locator.
export { readIdx, IdxFormatError, IDX_MAX_ELEMENTS, type IdxArray } from './idx.js';
export {
  loadFashionMnist, loadMnist, vendoredDataDir, FASHION_MNIST_CLASSES, MNIST_CLASSES,
  type Dataset, type Split, type LoadOptions,
} from './datasets.js';
