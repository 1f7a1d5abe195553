// `tensorkit report RUNS_DIR`: writes the self-contained HTML comparison report of a folder of runs.
import { writeSweepReport } from '../experiments/index.js';
import { convertArgs, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
import { splitPositionals } from './runs.js';
import type { CliIo } from './train.js';

const REPORT_OPTIONS: readonly OptionSpec[] = [
  { key: 'out', long: 'out', short: 'o', type: 'string', metavar: 'FILE', help: 'output file (default RUNS_DIR/report.html)' },
  { key: 'metric', long: 'metric', short: 'm', type: 'string', metavar: 'NAME', help: 'summary metric to compare (default: the sweep\'s metric, else val_accuracy,\nelse test_accuracy)' },
  { key: 'goal', long: 'goal', type: 'choice', choices: ['maximize', 'minimize'], help: 'whether higher or lower is better (default: the sweep\'s goal, else maximize)' },
  { key: 'time', long: 'time', type: 'string', default: 'train_seconds', metavar: 'NAME', help: 'summary value used as the training time' },
  { key: 'top', long: 'top', type: 'int', min: 1, max: 1000, default: 5, help: 'rows of the top-k tables' },
  { key: 'curves', long: 'curves', type: 'int', min: 0, max: 1000, default: 5, help: 'runs whose per-epoch curves are drawn (the best N)' },
  { key: 'title', long: 'title', type: 'string', metavar: 'TEXT', help: 'page title' },
];

const HELP = `usage: tensorkit report RUNS_DIR [options]

Writes one HTML page (no network needed to view it) comparing every run under RUNS_DIR: a sortable runs
table, parallel coordinates, parameter importance, accuracy vs training time with the Pareto front, the
metric over sweep time, top-k tables by accuracy and by time, and the curves of the best runs.

options:
${formatOptions(REPORT_OPTIONS)}
  -h, --help                  show this help
`;

/** Runs `tensorkit report ...`; returns the exit status (0 ok, 1 failure, 2 bad command line). */
export async function runReport(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { positionals, options } = splitPositionals(argv, REPORT_OPTIONS);
    const scanned = scanArgs(options, REPORT_OPTIONS);
    if (scanned.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give one runs folder, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    const v = convertArgs(scanned, REPORT_OPTIONS).values;
    const path = await writeSweepReport(positionals[0], {
      out: v.out as string | undefined, metric: v.metric as string | undefined, goal: v.goal as 'maximize' | undefined,
      time: v.time as string, top: v.top as number, curves: v.curves as number, title: v.title as string | undefined,
    });
    io.stdout.write(`report: ${path}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit report: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
