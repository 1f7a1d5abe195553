// What a loaded image dataset is (splits of image and label tensors, class names), and the class names
// of Fashion-MNIST and MNIST: browser-safe; the Node loaders that fill it are in datasets.ts.
import type { Tensor } from '../tensor/tensor.js';

/** Images `[N, 1, 28, 28]` scaled to [0, 1] (or standardised) and labels `[N]` (class ids as numbers). */
export interface Split {
  readonly images: Tensor;
  readonly labels: Tensor;
}

/** A labelled image dataset: its name, train and test splits, and the class names by id. */
export interface Dataset {
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  readonly classNames: readonly string[];
}

/** Fashion-MNIST's ten class names, by class id. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
/** MNIST's ten class names (the digits), by class id. */
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

