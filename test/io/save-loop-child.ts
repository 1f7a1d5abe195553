// Child process for the kill -9 test in model-file.test.ts: saves a ~16 MB model to argv[2] over
// and over, filling every weight with the save's index, and reports "begin i" / "saved i" on stdout.
import { writeSync } from 'node:fs';
import { saveModel } from '../../src/io/index.js';
import { createLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';

const path = process.argv[2];
const model = new Sequential([createLayer('dense', { units: 2000 }), createLayer('relu'), createLayer('dense', { units: 10 })], { inputShape: [2000] });
for (let i = 0; ; i++) {
  for (const p of model.params()) p.value.data.fill(i);
  writeSync(1, `begin ${i}\n`);
  saveModel(model, path, { trainingState: { epoch: i, step: i } });
  writeSync(1, `saved ${i}\n`);
}
