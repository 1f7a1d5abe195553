// Shared by resume.test.ts and its SIGKILL child: one deterministic training problem and its options.
import { createSchedule, Dense, Dropout, Rng, Sequential, Tanh, Tensor, type FitOptions, type Schedule } from '../../src/index.js';

export const EPOCHS = 40;
export const BATCH = 8;

/** 64 samples of 6 features, 3 classes from a fixed rule; the same on every call. */
export function makeData(): { x: Tensor; y: Tensor } {
  const rng = new Rng(2024);
  const x = new Float32Array(64 * 6);
  const y = new Float32Array(64);
  for (let i = 0; i < 64; i++) {
    let s = 0;
    for (let j = 0; j < 6; j++) {
      x[i * 6 + j] = rng.uniform(-1, 1);
      s += x[i * 6 + j] * (j - 2.5);
    }
    y[i] = s < -0.5 ? 0 : s < 0.5 ? 1 : 2;
  }
  return { x: new Tensor(x, [64, 6]), y: new Tensor(y, [64]) };
}

export function makeModel(): Sequential {
  return new Sequential([new Dense({ units: 16 }), new Tanh(), new Dropout({ rate: 0.25 }), new Dense({ units: 3 })], { inputShape: [6], seed: 3 });
}

export function compileFresh(model: Sequential): Schedule {
  model.compile({ optimizer: { name: 'adam', lr: 0.02 }, loss: 'cross-entropy' });
  return createSchedule('exponential', model.optimizer!, { gamma: 0.97 });
}

export function fitOptions(schedule: Schedule): FitOptions {
  return { epochs: EPOCHS, batchSize: BATCH, seed: 11, validationSplit: 0.25, schedule };
}
