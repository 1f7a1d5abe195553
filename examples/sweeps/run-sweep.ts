// Runs one of the assignment sweeps in this folder with `tensorkit train` trials in child processes, then
// writes the sweep's report.html and top-3 tables (by the metric and by training time) as Markdown.
// Run:  npx tsx examples/sweeps/run-sweep.ts examples/sweeps/fmnist-cnn-arch-grid.json --parallel 2
//       (--quick: the first 2 trials, each on the 1000-image slice for at most 1 epoch; without a config it runs
//       fmnist-cnn-arch-grid.json; --out DIR, default out/sweeps)
// A killed run resumes when started again with the same arguments.
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { trainParameterNames } from '../../src/cli/sweep.js';
import { UsageError } from '../lib/cli.js';
import { listRuns, readSweepConfigFile, sweepProcesses, validateSweepConfig, writeSweepReport, type RunRecord, type SweepResult } from 'tensorkit/experiments';

/** The result of {@link main}: the sweep, its folder, the report, and the top-3 tables as Markdown. */
export interface SweepExampleResult {
  readonly dir: string;
  readonly report: string;
  readonly result: SweepResult;
  readonly markdown: string;
}

function top3(runs: readonly RunRecord[], key: string, order: 1 | -1, metric: string): string {
  const rows = runs
    .filter((r) => typeof r.metrics[key] === 'number')
    .sort((a, b) => order * ((a.metrics[key] as number) - (b.metrics[key] as number)))
    .slice(0, 3);
  const lines = [`| run | ${metric} | train seconds |`, '|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.name} | ${(r.metrics[metric] as number)?.toFixed(4) ?? ''} | ${(r.metrics.train_seconds as number)?.toFixed(1) ?? ''} |`);
  return lines.join('\n');
}

/** The sweep `--quick` runs when no config is given. */
export const QUICK_DEFAULT_CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'fmnist-cnn-arch-grid.json');

const USAGE = 'usage: npx tsx examples/sweeps/run-sweep.ts CONFIG [--parallel N] [--threads N] [--out DIR] [--quick]\n' +
  '  CONFIG   a sweep config, e.g. examples/sweeps/fmnist-cnn-arch-grid.json (optional with --quick)';

/** Runs the sweep of `argv[0]` (a config in this folder); `--quick` runs 2 trials on a data slice (of fmnist-cnn-arch-grid.json without a config). */
export async function main(argv: readonly string[]): Promise<SweepExampleResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(),
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false }, parallel: { type: 'string', default: '1' }, threads: { type: 'string' },
        out: { type: 'string', default: 'out/sweeps' },
      },
    });
  } catch (err) {
    throw new UsageError(`run-sweep: ${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 0 && !values.quick)) throw new UsageError(`run-sweep: give one sweep config\n${USAGE}`);
  const file = positionals[0] ?? QUICK_DEFAULT_CONFIG;
  const config = validateSweepConfig(readSweepConfigFile(file), { knownParameters: trainParameterNames() });
  const name = `${config.name ?? basename(file).replace(/\.(json|ya?ml)$/, '')}${values.quick ? '-quick' : ''}`;
  const dir = join(values.out, name);
  const parallel = Number(values.parallel);
  const result = await sweepProcesses(config, {
    dir, parallel, threads: values.threads === undefined ? undefined : Number(values.threads),
    runCap: values.quick ? 2 : undefined, extraArgs: values.quick ? ['--quick'] : [],
    log: (line) => console.log(line),
  });
  const report = await writeSweepReport(dir, { chartsDir: join(dir, 'charts') });
  const runs = listRuns(join(dir, 'runs'));
  const sign = config.metric.goal === 'maximize' ? -1 : 1;
  const markdown = `# ${name}\n\n${config.method} sweep, ${runs.length} runs, metric ${config.metric.name}.\n\n## Top 3 by ${config.metric.name}\n\n${top3(runs, config.metric.name, sign, config.metric.name)}\n\n## Top 3 by training time\n\n${top3(runs, 'train_seconds', 1, config.metric.name)}\n`;
  writeFileSync(join(dir, 'top3.md'), markdown);
  console.log(`\n${markdown}\nreport: ${report}`);
  return { dir, report, result, markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  console.log(USAGE);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
