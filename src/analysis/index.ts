// Analysis: parameter, MAC and FLOP counts, structured pruning and inference timing. Registers the
// built-in layers' cost functions through the public registerLayerCost and gives model.summary() its
// FLOP columns (this folder's only side effects).
import { setModuleSummaryFormatter } from '../model/module.js';
import { setSummaryFormatter } from '../model/sequential.js';
import { modelSummaryWithFlops, registerLayerCost } from './counts.js';
import {
  avgPoolCost, batchNormCost, conv2dCost, denseCost, dropoutCost, leakyReluCost, maxPoolCost, reluCost, sigmoidCost,
  softmaxCost, tanhCost, viewCost,
} from './layer-costs.js';
import { moduleSummaryWithFlops, registerBuiltinOpCosts } from './module-costs.js';

export * from './counts.js';
export * from './layer-costs.js';
export * from './module-costs.js';
export * from './prune.js';
export * from './timing.js';

registerLayerCost('dense', denseCost);
registerLayerCost('conv2d', conv2dCost);
registerLayerCost('max-pool2d', maxPoolCost);
registerLayerCost('avg-pool2d', avgPoolCost);
registerLayerCost('flatten', viewCost);
registerLayerCost('identity', viewCost);
registerLayerCost('dropout', dropoutCost);
registerLayerCost('batch-norm1d', batchNormCost);
registerLayerCost('batch-norm2d', batchNormCost);
registerLayerCost('relu', reluCost);
registerLayerCost('leaky-relu', leakyReluCost);
registerLayerCost('tanh', tanhCost);
registerLayerCost('sigmoid', sigmoidCost);
registerLayerCost('softmax', softmaxCost);

setSummaryFormatter(modelSummaryWithFlops);
registerBuiltinOpCosts();
setModuleSummaryFormatter(moduleSummaryWithFlops);
