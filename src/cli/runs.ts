// `tensorkit runs list|show|compare|export`: tables, filters and exports over a folder of tracked runs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnsOf, compileWhere, epochSeries, listRuns, readRun, runRow, runsToCsv, runsToJson, type RunRecord } from '../experiments/index.js';
import { convertArgs, formatOptions, scanArgs, UsageError, type OptionSpec } from './args.js';
import type { CliIo } from './train.js';

/**
 * Splits positional arguments from options: a token not starting with `-` is positional unless it
 * is the value of the option before it (a non-flag option written without `=`).
 */
export function splitPositionals(argv: readonly string[], specs: readonly OptionSpec[]): { positionals: string[]; options: string[] } {
  const takesValue = new Set<string>();
  for (const s of specs) {
    if (s.type === 'flag') continue;
    takesValue.add(`--${s.long}`);
    if (s.short) takesValue.add(`-${s.short}`);
  }
  const positionals: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t.startsWith('-') && t !== '-') {
      options.push(t);
      if (takesValue.has(t) && i + 1 < argv.length) options.push(argv[++i]);
    } else positionals.push(t);
  }
  return { positionals, options };
}

/** Aligned text table; numbers rounded to 4 significant digits. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown): string => {
    if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
    if (v === null || v === undefined) return '';
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const text = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) => text.reduce((m, r) => Math.max(m, (r[i] ?? '').length), c.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

const LIST_OPTIONS: readonly OptionSpec[] = [
  { key: 'where', long: 'where', short: 'w', type: 'string', metavar: 'EXPR', help: "keep runs matching EXPR, e.g. \"params.optimizer == 'adam' and metrics.val_accuracy > 0.85\"\n(comparisons, and/or/not, parentheses, 'strings', numbers, dotted paths)" },
  { key: 'sort', long: 'sort', short: 's', type: 'string', metavar: 'KEY', help: 'sort by a column (params.X, metrics.X, or a bare name looked up in metrics then params);\na leading - sorts descending' },
  { key: 'columns', long: 'columns', short: 'c', type: 'string', metavar: 'A,B,...', help: 'columns to show (default: name, status, the parameters that differ, main metrics)' },
  { key: 'limit', long: 'limit', short: 'n', type: 'int', min: 1, metavar: 'N', help: 'show at most N runs' },
  { key: 'format', long: 'format', short: 'f', type: 'choice', choices: ['csv', 'json'], default: 'csv', help: 'export: file format' },
  { key: 'out', long: 'out', short: 'o', type: 'string', metavar: 'FILE', help: 'export: write to FILE instead of stdout' },
  { key: 'root', long: 'root', short: 'r', type: 'string', metavar: 'DIR', help: 'show/compare: runs folder the names are relative to (default: runs)' },
];

const HELP = `usage: tensorkit runs list [ROOT] [--where EXPR] [--sort KEY] [--columns A,B] [--limit N]
       tensorkit runs show RUN [--root DIR]
       tensorkit runs compare RUN RUN [...] [--root DIR]
       tensorkit runs export [ROOT] [--format csv|json] [--out FILE] [--where EXPR] [--sort KEY] [--columns A,B]

Lists, filters, compares and exports tracked runs (folders with params.json and summary.json, found up to
5 levels under ROOT, default ./runs). Columns are params.<name> and metrics.<name> (summary.json:
val_accuracy, best_val_accuracy, test_accuracy, train_seconds, time_to_target, status, …).

options:
${formatOptions(LIST_OPTIONS)}
  -h, --help                  show this help
`;

const MAIN_METRICS = ['metrics.val_accuracy', 'metrics.best_val_accuracy', 'metrics.test_accuracy', 'metrics.train_seconds', 'metrics.time_to_target'];

/** Resolves a bare column name against the rows: `metrics.X`, then `params.X`, else as given. */
function resolveColumn(key: string, available: readonly string[]): string {
  if (available.includes(key)) return key;
  for (const p of ['metrics.', 'params.']) if (available.includes(p + key)) return p + key;
  throw new UsageError(`unknown column ${JSON.stringify(key)}; known: ${available.slice(0, 40).join(', ')}${available.length > 40 ? ', …' : ''}`);
}

/** Default columns: name, status, parameters whose values differ between runs, and the main metrics present. */
function defaultColumns(rows: readonly Record<string, unknown>[], available: readonly string[]): string[] {
  const skip = /^params\.(out|name|argv|node|threadsNote|resolved\.|wandb|data|import|resume)/;
  const varying = available.filter((c) => c.startsWith('params.') && !skip.test(c) && new Set(rows.map((r) => JSON.stringify(r[c]))).size > 1);
  return ['name', ...(available.includes('metrics.status') ? ['metrics.status'] : []), ...varying, ...MAIN_METRICS.filter((c) => available.includes(c))];
}

function selectRuns(root: string, values: Record<string, unknown>): { runs: RunRecord[]; rows: Record<string, string | number | boolean | null>[]; available: string[] } {
  let runs = listRuns(root);
  if (typeof values.where === 'string') {
    let keep: (s: unknown) => boolean;
    try {
      keep = compileWhere(values.where);
    } catch (err) {
      throw new UsageError(`--where: ${(err as Error).message}`);
    }
    runs = runs.filter((r) => keep({ name: r.name, params: r.params, metrics: r.metrics, summary: r.metrics, env: r.env }));
  }
  let rows = runs.map(runRow);
  const available = columnsOf(rows);
  if (typeof values.sort === 'string') {
    const desc = values.sort.startsWith('-');
    const col = resolveColumn(desc ? values.sort.slice(1) : values.sort, available);
    const order = rows.map((r, i) => i).sort((a, b) => {
      const x = rows[a][col];
      const y = rows[b][col];
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return desc ? -c : c;
    });
    runs = order.map((i) => runs[i]);
    rows = order.map((i) => rows[i]);
  }
  if (typeof values.limit === 'number') {
    runs = runs.slice(0, values.limit);
    rows = rows.slice(0, values.limit);
  }
  return { runs, rows, available };
}

function findRun(ref: string, root: string): RunRecord {
  const candidates = [ref, join(root, ref)];
  for (const c of candidates) if (existsSync(join(c, 'params.json'))) return readRun(c, existsSync(join(root, ref)) ? root : c);
  throw new UsageError(`no run ${JSON.stringify(ref)} (looked for ${candidates.map((c) => join(c, 'params.json')).join(' and ')})`);
}

/** Runs `tensorkit runs ...`; returns the exit status (0 ok, 1 failure, 2 bad command line). */
export async function runRuns(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { positionals, options } = splitPositionals(argv, LIST_OPTIONS);
    const scanned = scanArgs(options, LIST_OPTIONS);
    const [sub, ...rest] = positionals;
    if (scanned.help || sub === undefined || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined && !scanned.help ? 2 : 0;
    }
    const { values } = convertArgs(scanned, LIST_OPTIONS);
    const root = (values.root as string | undefined) ?? 'runs';
    switch (sub) {
      case 'list':
      case 'export': {
        if (rest.length > 1) throw new UsageError(`runs ${sub} takes one runs folder, got ${rest.join(' ')}`);
        const { runs, rows, available } = selectRuns(rest[0] ?? root, values);
        const cols = typeof values.columns === 'string' ? values.columns.split(',').map((c) => (c.trim() === 'name' ? 'name' : resolveColumn(c.trim(), available))) : null;
        if (sub === 'list') {
          const shown = cols ?? defaultColumns(rows, available);
          io.stdout.write(formatTable(shown.map((c) => c.replace(/^(params|metrics)\./, '')), rows.map((r) => shown.map((c) => r[c]))));
          io.stdout.write(`${runs.length} run${runs.length === 1 ? '' : 's'}\n`);
          return 0;
        }
        const text = values.format === 'json' ? runsToJson(runs) : runsToCsv(runs, cols ?? undefined);
        if (typeof values.out === 'string') {
          writeFileSync(values.out, text);
          io.stdout.write(`wrote ${runs.length} runs to ${values.out}\n`);
        } else io.stdout.write(text);
        return 0;
      }
      case 'show': {
        if (rest.length !== 1) throw new UsageError('runs show takes one run folder');
        const run = findRun(rest[0], root);
        const row = runRow(run);
        io.stdout.write(`run ${run.dir}\n\n`);
        io.stdout.write(formatTable(['key', 'value'], Object.entries(row).filter(([k]) => k !== 'name')));
        io.stdout.write(`\nenvironment\n${formatTable(['key', 'value'], Object.entries(run.env))}`);
        const series = epochSeries(run.dir);
        if (series.epoch) {
          const keys = Object.keys(series).filter((k) => k !== 't');
          io.stdout.write(`\nepochs\n${formatTable(keys, series.epoch.map((_e, i) => keys.map((k) => series[k][i])))}`);
        }
        return 0;
      }
      case 'compare': {
        if (rest.length < 2) throw new UsageError('runs compare takes two or more run folders');
        const runs = rest.map((r) => findRun(r, root));
        const rows = runs.map(runRow);
        const keys = columnsOf(rows).filter((k) => k !== 'name' && !/^metrics\.(started_at|updated_at)$/.test(k));
        const differs = (k: string) => new Set(rows.map((r) => JSON.stringify(r[k] ?? null))).size > 1;
        const table = keys.map((k) => [differs(k) ? `* ${k}` : `  ${k}`, ...rows.map((r) => r[k])]);
        io.stdout.write(formatTable(['key (* differs)', ...runs.map((r) => r.name)], table));
        return 0;
      }
      default:
        throw new UsageError(`unknown runs command ${JSON.stringify(sub)}; known: list, show, compare, export`);
    }
  } catch (err) {
    io.stderr.write(`tensorkit runs: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
