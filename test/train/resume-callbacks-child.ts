// Child process of resume-callbacks.test.ts: trains with every shipped callback into argv[2] and prints
// "step N" after each batch; the parent SIGKILLs it at a random step.
import { writeSync } from 'node:fs';
import { callbacksFor, compileFresh, fitOptions, makeData, makeModel } from './resume-callbacks-setup.js';

const dir = process.argv[2];
const { x, y } = makeData();
const model = makeModel();
compileFresh(model);
const run = callbacksFor(model, dir);
const report = { onBatchEnd: (logs: { step: number }) => { writeSync(1, `step ${logs.step}\n`); } };
await model.fit(x, y, { ...fitOptions(run), callbacks: [...run.callbacks, report] });
writeSync(1, 'done\n');
