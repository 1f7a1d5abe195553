// Losses: the interface, the registry and the built-ins (registered here, the only side effect of this folder).
import { registerLoss } from './loss.js';
import { MeanSquaredError } from './mean-squared-error.js';
import { SoftmaxCrossEntropy, type CrossEntropyConfig } from './softmax-cross-entropy.js';

export * from './loss.js';
export { SoftmaxCrossEntropy, type CrossEntropyConfig } from './softmax-cross-entropy.js';
export { MeanSquaredError } from './mean-squared-error.js';

registerLoss('cross-entropy', (config = {}) => new SoftmaxCrossEntropy(config as CrossEntropyConfig));
registerLoss('mse', (config = {}) => new MeanSquaredError(config as Record<string, never>));
