// Runs the vitest suite on the Node that runs this script, says which Node that is in its first line, and
// ends with the line "N passed, N failed" (from vitest's JSON reporter), exiting non-zero when anything
// failed or no test ran. Extra arguments go to vitest; TENSORKIT_TEST_LABEL names the run (CI runs two).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const label = process.env.TENSORKIT_TEST_LABEL ? `${process.env.TENSORKIT_TEST_LABEL}: ` : '';
console.log(`${label}tensorkit tests on Node ${process.version} (${process.execPath})`);
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.log(`${label}warning: Node ${process.version} is older than the supported lines (22 and 24); run \`npm install\` to get the pinned Node 24`);
}

const report = `.vitest-report${process.env.TENSORKIT_TEST_LABEL ? `-${process.env.TENSORKIT_TEST_LABEL.replace(/[^\w.-]/g, '_')}` : ''}.json`;
rmSync(report, { force: true });
// vitest runs on this very Node (its worker processes inherit process.execPath), whatever `node` PATH finds.
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const args = [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  // A file that failed without a failed test (an import error, a failing hook) counts once; vitest's
  // numFailedTestSuites would also count every describe block around a failed test.
  const brokenFiles = json.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
  failed = json.numFailedTests + brokenFiles;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
} catch (err) {
  console.error(`could not read the vitest JSON report (${report}): ${err.message}`);
  failed += 1;
}
console.log(`${label}${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
