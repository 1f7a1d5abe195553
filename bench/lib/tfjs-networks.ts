// The tfjs-layers twin of an assignment network, shared by bench/compare-tfjs.ts (Node, tfjs-cpu) and
// bench/browser/engines.ts (the page: cpu, wasm, webgl): the same layers channels-last ([28, 28, 1]
// inputs, since tfjs's CPU conv kernels are NHWC; the work is equal), Softmax appended for tfjs's
// probability-based loss, and the network's optimizer.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NetSpec } from './networks.js';

/** The compiled tfjs-layers model of `spec`; throws naming the layer or padding tfjs has no twin for. */
export function tfjsModel(spec: NetSpec): tfl.Sequential {
  const model = tfl.sequential();
  let first = true;
  const input = (): Record<string, unknown> => {
    if (!first) return {};
    first = false;
    return { inputShape: [28, 28, 1] };
  };
  for (const layer of spec.layers()) {
    const c = layer.getConfig() as Record<string, unknown>;
    switch (layer.kind) {
      case 'conv2d': {
        const pad = c.padding as number[];
        if (pad[0] !== 0 && pad[0] !== 1) throw new Error(`${spec.name}: only padding 0 or 1 (valid / same) maps to tfjs`);
        model.add(tfl.layers.conv2d({ ...input(), filters: c.filters as number, kernelSize: 3, padding: pad[0] === 1 ? 'same' : 'valid' }));
        break;
      }
      case 'relu': model.add(tfl.layers.activation({ ...input(), activation: 'relu' })); break;
      case 'tanh': model.add(tfl.layers.activation({ ...input(), activation: 'tanh' })); break;
      case 'max-pool2d': model.add(tfl.layers.maxPooling2d({ ...input(), poolSize: 2 })); break;
      case 'flatten': model.add(tfl.layers.flatten(input())); break;
      case 'dense': model.add(tfl.layers.dense({ ...input(), units: c.units as number })); break;
      default: throw new Error(`${spec.name}: no tfjs twin for layer ${layer.kind}`);
    }
  }
  model.add(tfl.layers.activation({ activation: 'softmax' }));
  const o = spec.optimizer;
  const optimizer = o.name === 'adam' ? tf.train.adam(o.lr as number)
    : o.name === 'momentum' ? tf.train.momentum(o.lr as number, o.momentum as number)
      : tf.train.sgd(o.lr as number);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  return model;
}
