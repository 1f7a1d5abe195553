// Runs every benchmark script in bench/ (each *.ts file, alphabetically) one after another with tsx,
// passing the command-line arguments through (e.g. --quick). Each script prints its table and
// writes its JSON into bench/results/. compare.ts (bench:compare) is one of them: it runs PyTorch,
// onnxruntime-node and onnxruntime-web beside tensorkit where they are installed and prints why a peer
// was skipped otherwise. Usage: node bench/run.mjs [--quick]   (npm run bench)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const scripts = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n=== bench/${script}`);
  const run = spawnSync('npx', ['tsx', `${dir}${script}`, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`bench/${script} exited with ${run.status ?? run.signal}`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
