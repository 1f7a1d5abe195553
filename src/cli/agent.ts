// `tensorkit agent SWEEP_ID --queue URL`: pulls trials of a sweep registered on Redis and runs them
// (as `tensorkit train` or the sweep's program) until the sweep is finished or --count trials ran.
import { loadDistributed } from '../experiments/distributed/load.js';
import { convertArgs, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
import { splitPositionals } from './runs.js';
import { sweepValidation } from './sweep.js';
import type { CliIo } from './train.js';

const AGENT_OPTIONS: readonly OptionSpec[] = [
  { key: 'queue', long: 'queue', type: 'string', metavar: 'URL', help: 'the Redis the sweep was registered on (redis://[:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS)' },
  { key: 'count', long: 'count', type: 'int', min: 1, metavar: 'N', help: 'leave after N trials (default: when the sweep is finished)' },
  { key: 'threads', long: 'threads', type: 'int', min: 1, default: 1, metavar: 'T', help: 'threads of each trial' },
  { key: 'artifacts', long: 'artifacts', type: 'string', metavar: 'DIR', help: 'a folder all hosts mount: each run folder (model files included) is copied to\nDIR/SWEEP_ID/runs/TRIAL' },
  { key: 'program', long: 'program', type: 'string', metavar: 'SCRIPT', help: 'for a sweep whose config has "program": the script this agent agrees to run\n(it must name the same file)' },
  { key: 'stallTimeout', long: 'stall_timeout', type: 'number', min: 0.1, default: 30, metavar: 'SEC', help: 'a trial whose agent vanished runs again elsewhere after about this long' },
  { key: 'redisTimeout', long: 'redis_timeout', type: 'number', min: 0.1, default: 60, metavar: 'SEC', help: 'give up (exit 1) after Redis has been unreachable this long' },
];

const HELP = `usage: tensorkit agent SWEEP_ID --queue URL [--count N] [--threads T] [--artifacts DIR]

Runs trials of a sweep registered with \`tensorkit sweep CONFIG --queue URL\` until the sweep is
finished (or N trials ran here). Start any number of agents on any number of machines; each takes
the next trial from the queue. A trial whose agent dies runs again on another agent after the stall
timeout; Ctrl-C or SIGTERM ends the running trial and puts it back in the queue at once. Exit status: 0 done (failed trials are recorded in the sweep), 1 no such sweep or Redis
stayed unreachable, 2 bad command line.

options:
${formatOptions(AGENT_OPTIONS)}
  -h, --help                  show this help
`;

/** Runs `tensorkit agent ...`; returns the exit status. */
export async function runAgentCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { parseRedisUrl, runAgent } = await loadDistributed();
  let values: Record<string, unknown>;
  let id: string;
  let target;
  try {
    const { positionals, options } = splitPositionals(argv, AGENT_OPTIONS);
    const scanned = scanArgs(options, AGENT_OPTIONS);
    if (scanned.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give one sweep id, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    id = positionals[0];
    values = convertArgs(scanned, AGENT_OPTIONS).values;
    if (values.queue === undefined) throw new UsageError('--queue URL is required (the Redis the sweep was registered on)');
    target = parseRedisUrl(values.queue as string);
  } catch (err) {
    io.stderr.write(`tensorkit agent: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const result = await runAgent({
      target, sweepId: id, count: values.count as number | undefined, threads: values.threads as number,
      artifacts: values.artifacts as string | undefined, program: values.program as string | undefined,
      stallTimeoutMs: Math.round((values.stallTimeout as number) * 1000), redisTimeoutMs: Math.round((values.redisTimeout as number) * 1000),
      revalidate: (raw, program) => sweepValidation(program, raw),
      log: (line) => io.stdout.write(`${line}\n`),
    });
    io.stdout.write(`agent: ran ${result.trials} trial(s); the sweep is ${result.sweepFinished ? 'finished' : 'not finished'}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit agent: ${(err as Error).message}\n`);
    // Sockets still reconnecting to a vanished Redis may keep the process alive; a clear exit beats a hang.
    setTimeout(() => process.exit(1), 2000).unref();
    return 1;
  }
}
