// Child process for the kill -9 test in checkpoint.test.ts: trains with a Checkpoint into argv[2]
// (every step and every epoch, keepLast 2) and prints "epoch N" after each epoch's files are saved.
import { writeSync } from 'node:fs';
import { Checkpoint } from '../../src/index.js';
import { BIG_CKPT, BIG_FIT, bigData, makeBigModel } from './checkpoint-setup.js';

const model = makeBigModel();
const { x, y } = bigData();
const report = { onEpochEnd: (logs: { epoch: number }) => { writeSync(1, `epoch ${logs.epoch + 1}\n`); } };
await model.fit(x, y, { ...BIG_FIT, callbacks: [new Checkpoint(model, { dir: process.argv[2], ...BIG_CKPT }), report] });
