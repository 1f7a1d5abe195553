// Assignment 1's Fashion-MNIST CNN: Conv 3×3 16 ReLU → Conv 3×3 16 ReLU → Dense 100 ReLU → Dense 10 softmax,
// Xavier-uniform weights, zero biases, SGD momentum 0.9, lr 1e-3, batch 32, on the vendored data.
// Writes metrics.json, history CSVs, predictions.csv, confusion matrix and learning-curve SVGs, and report.html.
// Run: npm run train  (or: npx tsx examples/fmnist-cnn.ts --epochs 3 --out out/fmnist-cnn; --quick for a seconds-long slice)
import { join } from 'node:path';
import { Conv2D, Dense, Flatten, ReLU, Sequential, Softmax, batchHistoryCsv, confusionMatrix, epochHistoryCsv, formatConfusion, loadFashionMnist, predictionsCsv } from 'tensorkit';
import { learningCurvesFromHistory, plotConfusionMatrix, plotLearningCurves, writeRunReport } from 'tensorkit/plots';
import { parseExampleArgs, readInt, readPositive, readRange, runIfMain } from './lib/cli.js';
import { outputDir, percent, timed, writeJson, writeText } from './lib/output.js';

const USAGE = `usage: npx tsx examples/fmnist-cnn.ts [--epochs N] [--batch-size N] [--lr X] [--momentum X]
                                      [--seed N] [--out DIR] [--data DIR] [--quick]
  --quick   1000 training / 500 test images (seconds at the default 1 epoch)`;

/** The published network: 3×3 convs without padding, so the dense layer sees 16·24·24 = 9216 features. */
export function buildModel(seed: number): Sequential {
  const weightInit = 'xavier-uniform';
  const biasInit = 'zeros';
  return new Sequential([
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
}

/** Trains the assignment-1 CNN and writes its results into `--out`; returns the metrics written. */
export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { values, common, help } = parseExampleArgs('fmnist-cnn', argv, {
    epochs: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.001' },
    momentum: { type: 'string', default: '0.9' },
  });
  if (help) {
    console.log(USAGE);
    return {};
  }
  const epochs = readInt('epochs', values.epochs);
  const batchSize = readInt('batch-size', values['batch-size']);
  const lr = readPositive('lr', values.lr);
  const momentum = readRange('momentum', values.momentum, 0, 1);
  const { seed, quick } = common;
  const out = outputDir(common.out);

  const t0 = performance.now();
  const data = loadFashionMnist({ dir: common.data, ...(quick ? { trainLimit: 1000, testLimit: 500 } : {}) });
  const { train, test, classNames } = data;
  console.log(`Fashion-MNIST: ${train.images.shape[0]} train, ${test.images.shape[0]} test images`);

  const model = buildModel(seed);
  console.log(model.summary());
  model.compile({ optimizer: { name: 'momentum', lr, momentum }, loss: 'cross-entropy', metrics: ['accuracy'] });
  // The test set is measured after every epoch (as in the assignment's curves); it is never trained on.
  const { result: history, seconds: trainSeconds } = await timed(() => model.fit(train.images, train.labels, {
    epochs, batchSize, seed, verbose: true, validationData: [test.images, test.labels],
  }));
  const trainEval = model.evaluate(train.images, train.labels);
  const { result: testEval, seconds: testSeconds } = await timed(() => model.evaluate(test.images, test.labels));
  const probs = model.predict(test.images);
  const predicted = model.predictClasses(test.images);
  const matrix = confusionMatrix(predicted, test.labels, classNames.length);

  console.log(`train accuracy ${percent(trainEval.accuracy)}  loss ${trainEval.loss.toFixed(4)}`);
  console.log(`test accuracy ${percent(testEval.accuracy)}  loss ${testEval.loss.toFixed(4)}  (published: 88.3%)`);
  console.log(formatConfusion(matrix, classNames));
  console.log(`training ${trainSeconds.toFixed(1)} s for ${epochs} epoch(s), test ${testSeconds.toFixed(1)} s, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const result = {
    example: 'fmnist-cnn', quick, epochs, batchSize, lr, momentum, seed,
    trainImages: train.images.shape[0], testImages: test.images.shape[0],
    trainAccuracy: trainEval.accuracy, trainLoss: trainEval.loss, testAccuracy: testEval.accuracy, testLoss: testEval.loss,
    trainSeconds, testSeconds, params: model.countParams(), node: process.version, history: history.epoch, confusion: matrix,
  };
  writeJson(out, 'metrics.json', result);
  writeText(out, 'history.csv', epochHistoryCsv(history));
  writeText(out, 'batches.csv', batchHistoryCsv(history, Math.ceil(train.images.shape[0] / batchSize)));
  writeText(out, 'predictions.csv', predictionsCsv(probs, test.labels));
  writeText(out, 'confusion.txt', formatConfusion(matrix, classNames));
  await plotLearningCurves(join(out, 'curves.svg'), learningCurvesFromHistory(history), {
    title: 'Fashion-MNIST CNN: loss and accuracy vs batches', smoothing: 0.9, validationLabel: 'test (per epoch)',
  });
  await plotConfusionMatrix(join(out, 'confusion.svg'), matrix, classNames, { title: 'Fashion-MNIST CNN: test confusion matrix' });
  writeRunReport(out, {
    title: 'fmnist-cnn: assignment 1, Fashion-MNIST CNN',
    description: 'Conv 3×3 16 ReLU → Conv 3×3 16 ReLU → Dense 100 ReLU → Dense 10 softmax; Xavier-uniform, zero biases; SGD momentum. Published test accuracy: 88.3%.',
    params: { epochs, batchSize, lr, momentum, seed, quick, trainImages: result.trainImages, testImages: result.testImages, params: result.params },
    metrics: { 'train seconds': trainSeconds, 'test seconds': testSeconds },
    tables: [{
      title: 'Loss and accuracy',
      columns: ['split', 'loss', 'accuracy'],
      rows: [['train', trainEval.loss, percent(trainEval.accuracy)], ['test', testEval.loss, percent(testEval.accuracy)]],
    }],
    charts: ['curves.svg', 'confusion.svg'],
  });
  console.log(`wrote metrics.json, history.csv, batches.csv, predictions.csv, curves.svg, confusion.svg, report.html to ${out}`);
  return result;
}

await runIfMain(import.meta.url, main);
