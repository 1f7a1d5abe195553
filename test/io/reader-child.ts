// Child process for the memory-bound tests: reads each file named on the command line with the
// reader given before it (`model PATH`, `safetensors PATH`, `idx PATH`) and prints one JSON line per
// file: the error's class and message (or "loaded"), and the process's peak resident memory so far.
import { readIdx } from '../../src/data/idx-file.js';
import { loadModel, readSafetensors } from '../../src/io/index.js';

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  const [reader, path] = [args[i], args[i + 1]];
  let result: { error: string; message: string } | { error: null } = { error: null };
  try {
    if (reader === 'model') loadModel(path);
    else if (reader === 'safetensors') readSafetensors(path);
    else readIdx(path);
  } catch (err) {
    result = { error: (err as Error).name, message: (err as Error).message };
  }
  // maxRSS is the peak so far (kilobytes): a case that allocated and freed still shows.
  console.log(JSON.stringify({ reader, path, ...result, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}
