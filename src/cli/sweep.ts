// `tensorkit sweep CONFIG`: runs (or resumes) a grid / random / bayes sweep of `tensorkit train` (or the
// config's program) in parallel child processes, then prints the best trials and optionally a report.
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { readSweepConfigFile, sweepProcesses, validateSweepConfig, writeSweepReport, type SweepConfig } from '../experiments/index.js';
import { convertArgs, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
import { formatTable, splitPositionals } from './runs.js';
import { TRAIN_OPTIONS, type CliIo } from './train.js';

const SWEEP_OPTIONS: readonly OptionSpec[] = [
  { key: 'out', long: 'out', type: 'string', default: 'runs', metavar: 'DIR', help: 'runs root: the sweep lives in DIR/NAME (sweep.json, runs/, logs/)' },
  { key: 'name', long: 'name', type: 'string', metavar: 'NAME', help: 'sweep folder name (default: the config\'s name, else the file name)' },
  { key: 'parallel', long: 'parallel', short: 'p', type: 'int', min: 1, default: 1, help: 'trials at once, each in its own process' },
  { key: 'threads', long: 'threads', type: 'int', min: 1, metavar: 'N', help: 'total thread budget, split evenly between parallel trials (default: all cores)' },
  { key: 'runCap', long: 'run_cap', type: 'int', min: 1, metavar: 'N', help: 'most trials (overrides the config\'s run_cap)' },
  { key: 'seed', long: 'seed', type: 'int', min: 0, default: 1, help: 'training seed of every trial (unless seed is a swept parameter)' },
  { key: 'quick', long: 'quick', type: 'flag', help: 'pass --quick to every trial (a seconds-long slice each)' },
  { key: 'report', long: 'report', type: 'flag', help: 'write DIR/NAME/report.html when the sweep ends' },
];

const RESERVED = ['out', 'name', 'wandb_project', 'wandb_entity', 'wp', 'we', 'threads', 'resume', 'quick'];

/** Parameter names `tensorkit train` accepts in a sweep config (long and short spellings). */
export function trainParameterNames(): string[] {
  return TRAIN_OPTIONS.flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]).filter((n) => !RESERVED.includes(n));
}

const HELP = `usage: tensorkit sweep CONFIG.(json|yaml) [options]

Runs a hyperparameter sweep described in the wandb sweep-config shape:
  method: grid | random | bayes            (bayes: tree-structured Parzen estimator after 10 random trials)
  metric: {name: val_accuracy, goal: maximize}   (any summary.json value of a run)
  parameters: {NAME: {values: [...]} | {value: X} | {distribution: uniform|int_uniform|q_uniform|
               log_uniform_values|normal|q_normal|categorical, min, max, mu, sigma, q}}
  run_cap: N, seed: S, early_terminate: {type: hyperband, min_iter: 1, eta: 3}
Parameter names are tensorkit train options (learning_rate, batch_size, num_layers, filters, …); list
values are passed comma-joined (filters: {values: [[8, 16], [16, 32]]}); an object value sets several
options together ({values: [{learning_rate: 0.01, momentum: 0.9}, …]}). A "program" key runs a script
instead (given --run_dir DIR and the parameters). Running the same command again resumes the sweep:
finished trials are kept, interrupted ones run again.

options:
${formatOptions(SWEEP_OPTIONS)}
  -h, --help                  show this help
`;

/** Runs `tensorkit sweep ...`; returns the exit status (0 ok, 1 failure, 2 bad command line or config). */
export async function runSweepCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let config: SweepConfig;
  let values: Record<string, unknown>;
  let file: string;
  try {
    const { positionals, options } = splitPositionals(argv, SWEEP_OPTIONS);
    const scanned = scanArgs(options, SWEEP_OPTIONS);
    if (scanned.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give one sweep config file, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    file = positionals[0];
    values = convertArgs(scanned, SWEEP_OPTIONS).values;
    const raw = readSweepConfigFile(file);
    const program = raw !== null && typeof raw === 'object' && 'program' in raw;
    config = validateSweepConfig(raw, program ? { reservedParameters: ['run_dir', 'threads'] } : { knownParameters: trainParameterNames(), reservedParameters: RESERVED });
  } catch (err) {
    io.stderr.write(`tensorkit sweep: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const name = (values.name as string | undefined) ?? config.name ?? basename(file).replace(/\.(json|ya?ml)$/i, '');
    const dir = join(values.out as string, name);
    const parallel = values.parallel as number;
    const threads = (values.threads as number | undefined) ?? availableParallelism();
    io.stdout.write(`sweep ${name}: ${config.method}, metric ${config.metric.name} (${config.metric.goal}), ${parallel} at once with ${Math.max(1, Math.floor(threads / parallel))} thread(s) each, in ${dir}\n`);
    const result = await sweepProcesses(config, {
      dir, parallel, threads, runCap: values.runCap as number | undefined, trialSeed: values.seed as number,
      extraArgs: values.quick ? ['--quick'] : [], log: (line) => io.stdout.write(`${line}\n`),
    });
    const trials = result.state.trials;
    const sign = config.metric.goal === 'maximize' ? -1 : 1;
    const best = trials.filter((t) => t.value !== null).sort((a, b) => sign * ((a.value as number) - (b.value as number))).slice(0, 5);
    io.stdout.write(`\n${trials.filter((t) => t.status === 'finished').length} finished, ${trials.filter((t) => t.status === 'stopped').length} stopped early, ${trials.filter((t) => t.status === 'failed').length} failed\n`);
    if (best.length > 0) io.stdout.write(`\nbest trials by ${config.metric.name}\n${formatTable(['trial', config.metric.name, 'epochs', 'status'], best.map((t) => [t.name, t.value, t.epochs, t.status]))}`);
    if (values.report) io.stdout.write(`report: ${await writeSweepReport(dir)}\n`);
    return trials.some((t) => t.status === 'failed') ? 1 : 0;
  } catch (err) {
    io.stderr.write(`tensorkit sweep: ${(err as Error).message}\n`);
    return 1;
  }
}
