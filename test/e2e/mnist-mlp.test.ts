import { describe, expect, it } from 'vitest';
import { Dense, ReLU, Sequential, loadMnist } from '../../src/index.js';

describe('end to end', () => {
  it('trains an MLP on the vendored MNIST slice past 90% test accuracy', async () => {
    const data = loadMnist();
    const model = new Sequential([new Dense({ units: 128 }), new ReLU(), new Dense({ units: 10 })], { inputShape: [784], seed: 1 });
    model.compile({ optimizer: { name: 'adam', lr: 1e-3 }, loss: 'cross-entropy', metrics: ['accuracy'] });
    const x = data.train.images.reshape([-1, 784]);
    const history = await model.fit(x, data.train.labels, { epochs: 3, batchSize: 64, seed: 1 });
    expect(history.epoch.loss[2]).toBeLessThan(history.epoch.loss[0]);
    const test = model.evaluate(data.test.images.reshape([-1, 784]), data.test.labels);
    // Floor from the issue: > 90% after a few seconds of training (measured ≈ 95%).
    expect(test.accuracy).toBeGreaterThan(0.9);
  });
});
