// A stand-in trainer for sweep tests, run as a sweep `program`: records a run in --run_dir with one epoch
// line per --delay ms; val_accuracy = 1 - (x - 0.3)² - 0.1 / epoch (so smaller |x - 0.3| is better).
// If FAKE_TRAINER_LOG is set, appends "<run_dir> start" / "<run_dir> end" lines to it. If FAKE_TRAINER_GATE
// names a file, the trainer waits after logging epoch 1 until that file exists (tests hold a trial
// mid-way without depending on timing).
import { appendFileSync, existsSync } from 'node:fs';
import { createRun } from '../../src/experiments/run.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback?: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= args.length) {
    if (fallback === undefined) throw new Error(`fake-trainer: --${name} is required`);
    return fallback;
  }
  return args[i + 1];
};
const dir = opt('run_dir');
const x = Number(opt('x'));
const epochs = Number(opt('epochs', '3'));
const delay = Number(opt('delay', '50'));
const log = process.env.FAKE_TRAINER_LOG;
if (log) appendFileSync(log, `${dir} start\n`);
const threads = Number(opt('threads'));
const run = createRun({ dir, params: { x, epochs, delay, seed: Number(opt('seed')), threads, envThreads: process.env.TENSORKIT_THREADS ?? null }, threads });
for (let epoch = 1; epoch <= epochs; epoch++) {
  await new Promise((r) => setTimeout(r, delay));
  const acc = 1 - (x - 0.3) ** 2 - 0.1 / epoch;
  run.logEpoch({ epoch: epoch - 1, epochs, loss: 1 - acc, accuracy: acc, valLoss: 1 - acc, valAccuracy: acc, seconds: delay / 1000, lr: 0.1 });
  const gate = process.env.FAKE_TRAINER_GATE;
  if (gate && epoch === 1) while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
}
run.finish({ test_accuracy: 1 - (x - 0.3) ** 2 });
if (log) appendFileSync(log, `${dir} end\n`);
