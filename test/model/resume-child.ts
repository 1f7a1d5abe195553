// Child process of resume.test.ts: trains, saving a checkpoint (model, optimizer, position, schedule)
// after every step to argv[2], and prints "saved <step>" after each save; the parent SIGKILLs it.
import { writeSync } from 'node:fs';
import { saveModel } from '../../src/index.js';
import { compileFresh, fitOptions, makeData, makeModel } from './resume-setup.js';

const path = process.argv[2];
const { x, y } = makeData();
const model = makeModel();
const schedule = compileFresh(model);
await model.fit(x, y, {
  ...fitOptions(schedule),
  callbacks: [{
    onBatchEnd(logs, control) {
      saveModel(model, path, { optimizer: model.optimizer!, trainingState: { ...control.position(), schedule: schedule.stateDict() } });
      writeSync(1, `saved ${logs.step}\n`);
    },
  }],
});
writeSync(1, 'done\n');
