// `tensorkit sweep CONFIG`: runs (or resumes) a grid / random / bayes sweep of `tensorkit train` (or the
// config's program) in parallel child processes, then prints the best trials and optionally a report.
// With --queue it registers the sweep on Redis for agents instead; `sweep status|pull ID` read it back.
import { loadDistributed } from '../experiments/distributed/load.js';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ValidateOptions } from '../experiments/sweep-config.js';
import { readSweepConfigFile, sweepProcesses, validateSweepConfig, writeSweepReport, type SweepConfig } from '../experiments/index.js';
import { convertArgs, convertValue, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
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
  { key: 'queue', long: 'queue', type: 'string', metavar: 'URL', help: 'register the sweep on Redis (redis://[:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS)\nfor `tensorkit agent` processes instead of running it here; prints its id last' },
];

const STATUS_OPTIONS: readonly OptionSpec[] = [
  { key: 'queue', long: 'queue', type: 'string', metavar: 'URL', help: 'the Redis the sweep was registered on' },
  { key: 'json', long: 'json', type: 'flag', help: 'print JSON: { id, counts, finished, trials: [{ index, name, state, params, metrics, … }] }' },
];

const PULL_OPTIONS: readonly OptionSpec[] = [
  { key: 'queue', long: 'queue', type: 'string', metavar: 'URL', help: 'the Redis the sweep was registered on' },
  { key: 'out', long: 'out', type: 'string', metavar: 'DIR', help: 'sweep folder to write: DIR/sweep.json and DIR/runs/<trial>/' },
];

const RESERVED = ['out', 'name', 'wandb_project', 'wandb_entity', 'wp', 'we', 'threads', 'resume', 'quick'];

/**
 * Validation options of a sweep config (`raw`, as parsed): a `program` config's parameters are free;
 * otherwise each parameter must be a `tensorkit train` option and every value it can take must pass
 * that option's rule (type, range, choices) up front. Optimizer and initializer names are only
 * checked against the built-in registry when no `import` parameter may register more.
 */
export function sweepValidation(program: boolean, raw?: unknown): ValidateOptions {
  if (program) return { reservedParameters: ['run_dir', 'threads'] };
  const params = raw !== null && typeof raw === 'object' ? (raw as { parameters?: unknown }).parameters : undefined;
  const imports = params !== null && typeof params === 'object' && 'import' in params;
  return { knownParameters: trainParameterNames(), reservedParameters: RESERVED, checkValue: (name, value) => checkTrainValue(name, value, imports) };
}

/**
 * Checks one swept value against the `tensorkit train` option it becomes (as the trial will pass it:
 * lists comma-joined, `true` a bare switch); throws naming the option, the value and what is allowed.
 */
export function checkTrainValue(name: string, value: unknown, imports = false): void {
  const spec = TRAIN_OPTIONS.find((o) => o.long === name || o.short === name);
  if (!spec) return; // Unknown names are reported by the config validation itself.
  const spelling = spec.short ? `-${spec.short}/--${spec.long}` : `--${spec.long}`;
  if (spec.type === 'flag') {
    if (typeof value !== 'boolean') throw new UsageError(`invalid value ${JSON.stringify(value)} for ${spelling}; true or false`);
    return;
  }
  if (typeof value === 'boolean' || value === null || (typeof value === 'object' && !(Array.isArray(value) && spec.type === 'int-list'))) {
    throw new UsageError(`invalid value ${JSON.stringify(value)} for ${spelling}; ${spec.type === 'int-list' ? 'a list of integers' : spec.type === 'choice' ? 'a name' : spec.type === 'string' ? 'text' : 'a number'}`);
  }
  if (spec.type === 'choice' && typeof spec.choices === 'function' && imports) return; // An imported module may register the name.
  if ((spec.type === 'int' || spec.type === 'number') && typeof value !== 'number') throw new UsageError(`invalid value ${JSON.stringify(value)} for ${spelling}; a number, not text`);
  convertValue(spec, Array.isArray(value) ? value.join(',') : String(value));
}

/** Parameter names `tensorkit train` accepts in a sweep config (long and short spellings). */
export function trainParameterNames(): string[] {
  return TRAIN_OPTIONS.flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]).filter((n) => !RESERVED.includes(n));
}

const HELP = `usage: tensorkit sweep CONFIG.(json|yaml) [options]
       tensorkit sweep CONFIG --queue redis://HOST:PORT [options]   register for agents; prints the id
       tensorkit sweep status SWEEP_ID --queue URL [--json]        every trial's state and metrics
       tensorkit sweep pull SWEEP_ID --queue URL --out DIR          write the trials as run folders

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
  if ((argv[0] === 'status' || argv[0] === 'pull') && argv.length > 1 && !argv[1].startsWith('-')) return runQueueQuery(argv[0], argv.slice(1), io);
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
    config = validateSweepConfig(raw, sweepValidation(program, raw));
  } catch (err) {
    io.stderr.write(`tensorkit sweep: ${(err as Error).message}\n`);
    return 2;
  }
  const name = (values.name as string | undefined) ?? config.name ?? basename(file).replace(/\.(json|ya?ml)$/i, '');
  if (values.queue !== undefined) return registerOnQueue(config, name, values, io);
  try {
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

/** `tensorkit sweep CONFIG --queue URL`: registers the validated sweep; its id alone on the last line. */
async function registerOnQueue(config: SweepConfig, name: string, values: Record<string, unknown>, io: CliIo): Promise<number> {
  const { parseRedisUrl, registerSweep } = await loadDistributed();
  let target;
  try {
    target = parseRedisUrl(values.queue as string);
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`sweep name must be folder-safe ([A-Za-z0-9._-]), got ${JSON.stringify(name)}`);
  } catch (err) {
    io.stderr.write(`tensorkit sweep: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    // Agents on other hosts get an absolute program path (checked against their own --program).
    const stored: SweepConfig = config.program !== undefined ? { ...config, program: resolve(config.program) } : config;
    const meta = await registerSweep(target, stored, {
      name, trialSeed: values.seed as number, runCap: values.runCap as number | undefined, quick: values.quick === true,
    });
    io.stdout.write(`sweep ${meta.name}: ${config.method}, metric ${config.metric.name} (${config.metric.goal}), ${meta.total} trials registered on ${target.display}\n`);
    io.stdout.write(`run agents with: tensorkit agent ${meta.id} --queue ${target.display}\n`);
    io.stdout.write(`${meta.id}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit sweep: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `tensorkit sweep status|pull SWEEP_ID --queue URL …`. */
async function runQueueQuery(command: 'status' | 'pull', argv: readonly string[], io: CliIo): Promise<number> {
  const specs = command === 'status' ? STATUS_OPTIONS : PULL_OPTIONS;
  const { parseRedisUrl, openSweep, sweepStatus, pullSweep } = await loadDistributed();
  let id: string;
  let values: Record<string, unknown>;
  let target;
  try {
    const { positionals, options } = splitPositionals(argv, specs);
    const scanned = scanArgs(options, specs);
    if (scanned.help) {
      io.stdout.write(`usage: tensorkit sweep ${command} SWEEP_ID --queue URL${command === 'pull' ? ' --out DIR' : ' [--json]'}\n\noptions:\n${formatOptions(specs)}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give one sweep id, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    id = positionals[0];
    values = convertArgs(scanned, specs).values;
    if (values.queue === undefined) throw new UsageError('--queue URL is required (the Redis the sweep was registered on)');
    if (command === 'pull' && values.out === undefined) throw new UsageError('--out DIR is required');
    target = parseRedisUrl(values.queue as string);
  } catch (err) {
    io.stderr.write(`tensorkit sweep ${command}: ${(err as Error).message}\n`);
    return 2;
  }
  let client;
  try {
    const opened = await openSweep(target, id, (raw: unknown, program: boolean) => sweepValidation(program, raw));
    client = opened.client;
    const meta = opened.meta;
    if (command === 'pull') {
      const n = await pullSweep(client, meta, values.out as string);
      io.stdout.write(`${n} of ${meta.total} trials of ${meta.id} written to ${values.out as string}\n`);
      return 0;
    }
    const status = await sweepStatus(client, meta);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    const metric = meta.config.metric.name;
    const c = status.counts;
    io.stdout.write(`sweep ${meta.id} (${meta.config.method}, ${metric} ${meta.config.metric.goal}): ${c.finished} finished, ${c.stopped} stopped, ${c.failed} failed, ${c.running} running, ${c.queued} queued of ${meta.total}${status.finished ? ' (finished)' : ''}\n\n`);
    io.stdout.write(formatTable(['#', 'trial', 'state', 'epochs', metric, 'agent', 'params'], status.trials.map((t) => [
      t.index + 1, t.name ?? '', t.state, t.epochs, t.value ?? t.metrics?.[metric] ?? null, t.agent ?? '', t.params === null ? '' : JSON.stringify(t.params),
    ])));
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit sweep ${command}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client?.disconnect();
  }
}
