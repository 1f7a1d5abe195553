// Assignment 1's Fashion-MNIST CNN: Conv 3×3 16 ReLU → Conv 3×3 16 ReLU → Dense 100 ReLU → Dense 10 softmax,
// Xavier-uniform weights, zero biases, SGD momentum 0.9, lr 1e-3, batch 32, on the vendored data.
// Run: npm run train  (or: npx tsx examples/fmnist-cnn.ts --epochs 3 --out out/fmnist-cnn; --quick for a seconds-long slice)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Conv2D, Dense, Flatten, ReLU, Sequential, Softmax, loadFashionMnist,
} from 'tensorkit';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.001' },
    momentum: { type: 'string', default: '0.9' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'out/fmnist-cnn' },
    data: { type: 'string' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`usage: npx tsx examples/fmnist-cnn.ts [--epochs N] [--batch-size N] [--lr X] [--momentum X]
                                      [--seed N] [--out DIR] [--data DIR] [--quick]`);
  process.exit(0);
}

function num(name: string, value: string, integer: boolean): number {
  const v = Number(value);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    console.error(`fmnist-cnn: --${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return v;
}

const epochs = num('epochs', args.epochs, true);
const batchSize = num('batch-size', args['batch-size'], true);
const lr = num('lr', args.lr, false);
const momentum = num('momentum', args.momentum, false);
const seed = num('seed', args.seed, true);

const t0 = performance.now();
const data = loadFashionMnist({ dir: args.data, ...(args.quick ? { trainLimit: 2000, testLimit: 1000 } : {}) });
console.log(`Fashion-MNIST: ${data.train.images.shape[0]} train, ${data.test.images.shape[0]} test images`);

const weightInit = 'xavier-uniform';
const biasInit = 'zeros';
const model = new Sequential([
  new Conv2D({ filters: 16, kernelSize: 3, weightInit, biasInit }),
  new ReLU(),
  new Conv2D({ filters: 16, kernelSize: 3, weightInit, biasInit }),
  new ReLU(),
  new Flatten(),
  new Dense({ units: 100, weightInit, biasInit }),
  new ReLU(),
  new Dense({ units: 10, weightInit, biasInit }),
  new Softmax(),
], { inputShape: [1, 28, 28], seed });
console.log(model.summary());

model.compile({ optimizer: { name: 'momentum', lr, momentum }, loss: 'cross-entropy', metrics: ['accuracy'] });
const tTrain = performance.now();
const history = await model.fit(data.train.images, data.train.labels, { epochs, batchSize, seed, verbose: true });
const trainSeconds = (performance.now() - tTrain) / 1000;
const tTest = performance.now();
const test = model.evaluate(data.test.images, data.test.labels);
const testSeconds = (performance.now() - tTest) / 1000;

console.log(`test accuracy ${(test.accuracy * 100).toFixed(2)}%  test loss ${test.loss.toFixed(4)}`);
console.log(`training ${trainSeconds.toFixed(1)} s for ${epochs} epoch(s), test ${testSeconds.toFixed(1)} s, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

mkdirSync(args.out, { recursive: true });
const result = {
  example: 'fmnist-cnn', quick: args.quick, epochs, batchSize, lr, momentum, seed,
  trainImages: data.train.images.shape[0], testImages: data.test.images.shape[0],
  testAccuracy: test.accuracy, testLoss: test.loss, trainSeconds, testSeconds,
  node: process.version, history: history.epoch,
};
writeFileSync(join(args.out, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join(args.out, 'metrics.json')}`);
