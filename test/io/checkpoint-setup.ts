// Shared by checkpoint.test.ts and checkpoint-child.ts: a model whose checkpoint files take a few
// megabytes to write (so a kill lands inside a save), its data and fit options.
import { Dense, Rng, Sequential, Tanh, Tensor } from '../../src/index.js';

export function makeBigModel(): Sequential {
  const m = new Sequential([new Dense({ units: 700 }), new Tanh(), new Dense({ units: 3 })], { inputShape: [700], seed: 1 });
  m.compile({ optimizer: { name: 'momentum', lr: 0.01, momentum: 0.9 }, loss: 'cross-entropy' });
  return m;
}

export function bigData(): { x: Tensor; y: Tensor } {
  const rng = new Rng(3);
  const n = 8;
  const x = new Float32Array(n * 700);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  return { x: new Tensor(x, [n, 700]), y: new Tensor(Float32Array.from({ length: n }, (_, i) => i % 3), [n]) };
}

/** One batch per epoch; many epochs, so the run is killed long before its end. */
export const BIG_FIT = { epochs: 10_000, batchSize: 8, seed: 2 } as const;
/** Checkpoint options of the killed run and of its resumption. */
export const BIG_CKPT = { every: 1, everySteps: 1, keepLast: 2, monitor: 'loss' } as const;
