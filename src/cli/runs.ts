// `tensorkit runs list|show|compare|export`: tables, filters and exports over a folder of tracked runs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnsOf, compileWhere, epochSeries, flatten, listRuns, readRun, resolveRunName, runRow, runsToCsv, runsToJson, type RunRecord } from '../experiments/index.js';
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

/**
 * The one number format of the runs tables: integers as they are (`12730`), other numbers with 4
 * significant digits and no trailing zeros, in plain notation for magnitudes in [1e-3, 1e6)
 * (`0.8834`, `12.35`) and as a short exponent otherwise (`5e-4`, `1.235e-8`); `NaN`, `inf`, `-inf`.
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(4)));
  const [mantissa, exponent] = v.toExponential(3).split('e');
  return `${String(Number(mantissa))}e${exponent.replace('+', '')}`;
}

/** A table cell: numbers by {@link formatNumber} (also inside lists and objects), strings as they are, null/undefined empty. */
export function formatCell(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  // Lists and objects (flattened JSON leaves) as compact JSON with the same number format.
  const text = JSON.stringify(v, (_k, x) => (typeof x === 'number' ? `\u0000${formatNumber(x)}\u0000` : x));
  return text.replace(/"\\u0000([^"]*)\\u0000"/g, '$1');
}

/** Options of {@link formatTable}. */
export interface TableOptions {
  /** Widest a cell may be; longer cells are cut to this width ending in `…` (default: no limit). */
  readonly maxCell?: number;
  /** Widest the whole table may be (e.g. the terminal's columns): the cells of the widest columns are cut further, down to `minCell`. */
  readonly width?: number;
  /** Narrowest a cut column gets (default 8). */
  readonly minCell?: number;
  /** Leading columns never cut (default 1: a run's name or the key column stays whole, so it can be copied). */
  readonly fixedColumns?: number;
}

/** `text` cut to `width` characters, the last being `…` when cut. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/**
 * Aligned text table. Numbers use {@link formatNumber}. Multi-line cells are joined into one line.
 * With `maxCell` / `width` the columns after the first `fixedColumns` are capped (see
 * {@link TableOptions}), so that a long value (an architecture JSON) cannot make the table hundreds of
 * characters wide.
 */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[], options: TableOptions = {}): string {
  const text = rows.map((r) => columns.map((_c, i) => formatCell(r[i]).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => text.reduce((m, r) => Math.max(m, r[i].length), c.length));
  const fixed = options.fixedColumns ?? 1;
  if (options.maxCell !== undefined) for (let i = fixed; i < widths.length; i++) widths[i] = Math.min(widths[i], Math.max(1, options.maxCell));
  if (options.width !== undefined) {
    const minCell = options.minCell ?? 8;
    const total = () => widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1);
    // Narrow the widest column one character at a time until the table fits (or all are at minCell).
    while (total() > options.width) {
      let widest = -1;
      for (let i = fixed; i < widths.length; i++) if (widths[i] > minCell && (widest < 0 || widths[i] > widths[widest])) widest = i;
      if (widest < 0) break;
      widths[widest]--;
    }
  }
  const line = (cells: readonly string[]) => cells.map((c, i) => truncate(c, widths[i]).padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

/** Widest cell of the runs tables unless --full is given. */
export const MAX_CELL = 40;

/** Table options for `io`: cells capped at {@link MAX_CELL} and the table fitted to a terminal's width (none with --full). */
function tableOptions(io: CliIo, full: boolean): TableOptions {
  if (full) return {};
  const columns = (io.stdout as { columns?: unknown; isTTY?: unknown }).columns;
  return { maxCell: MAX_CELL, ...(typeof columns === 'number' && columns > 20 ? { width: columns } : {}) };
}

const LIST_OPTIONS: readonly OptionSpec[] = [
  { key: 'where', long: 'where', short: 'w', type: 'string', metavar: 'EXPR', help: "keep runs matching EXPR, e.g. \"optimizer == 'adam' and val_accuracy > 0.85\"\n(comparisons, and/or/not, parentheses, 'strings', numbers, dotted paths); a bare\nname is looked up in params and in metrics (summary.json), ignoring case, _ and -;\none found in both or in neither is an error listing the known names" },
  { key: 'sort', long: 'sort', short: 's', type: 'string', metavar: 'KEY', help: 'sort by a column (params.X, metrics.X, or a bare name looked up in metrics then params);\na leading - sorts descending' },
  { key: 'columns', long: 'columns', short: 'c', type: 'string', metavar: 'A,B,...', help: 'columns to show (default: name, status, the parameters that differ, main metrics)' },
  { key: 'limit', long: 'limit', short: 'n', type: 'int', min: 1, max: 1_000_000, metavar: 'N', help: 'show at most N runs' },
  { key: 'format', long: 'format', short: 'f', type: 'choice', choices: ['csv', 'json'], default: 'csv', help: 'export: file format' },
  { key: 'out', long: 'out', short: 'o', type: 'string', metavar: 'FILE', help: 'export: write to FILE instead of stdout' },
  { key: 'root', long: 'root', short: 'r', type: 'string', metavar: 'DIR', help: 'show/compare: runs folder the names are relative to (default: runs)' },
  { key: 'full', long: 'full', type: 'flag', help: `show whole cells (by default a cell is cut to ${MAX_CELL} characters with … and a table\nis fitted to the terminal's width)` },
];

const HELP = `usage: tensorkit runs list [ROOT] [--where EXPR] [--sort KEY] [--columns A,B] [--limit N]
       tensorkit runs show RUN [--root DIR]
       tensorkit runs compare RUN RUN [...] [--root DIR]
       tensorkit runs export [ROOT] [--format csv|json] [--out FILE] [--where EXPR] [--sort KEY] [--columns A,B]

Lists, filters, compares and exports tracked runs (folders with params.json and summary.json, found up to
5 levels under ROOT, default ./runs). Columns are params.<name> and metrics.<name> (summary.json:
val_accuracy, best_val_accuracy, test_accuracy, train_seconds, time_to_target, status, …).
A run still marked running whose process on this machine has ended shows as killed (crashed if it
recorded an error). Numbers have 4 significant digits; list, show and compare cut long cells with …
and fit the terminal (--full shows everything).

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

/** The dotted params and metrics keys present in at least one run (for bare names in --where). */
function knownNames(runs: readonly RunRecord[]): { params: Set<string>; metrics: Set<string> } {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of runs) {
    for (const k of Object.keys(flatten(r.params, 'p'))) params.add(k.slice(2));
    for (const k of Object.keys(flatten(r.metrics, 'm'))) metrics.add(k.slice(2));
    // Parent objects may be compared too (params.resolved.optimizer == …); add every prefix.
    for (const set of [params, metrics]) for (const k of [...set]) for (let i = k.indexOf('.'); i > 0; i = k.indexOf('.', i + 1)) set.add(k.slice(0, i));
  }
  return { params, metrics };
}

function selectRuns(root: string, values: Record<string, unknown>): { runs: RunRecord[]; rows: Record<string, string | number | boolean | null>[]; available: string[] } {
  let runs = listRuns(root);
  if (typeof values.where === 'string') {
    let keep: (s: unknown) => boolean;
    try {
      const known = knownNames(runs);
      keep = compileWhere(values.where, (path) => resolveRunName(path, known));
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
    const table = tableOptions(io, values.full === true);
    switch (sub) {
      case 'list':
      case 'export': {
        if (rest.length > 1) throw new UsageError(`runs ${sub} takes one runs folder, got ${rest.join(' ')}`);
        const { runs, rows, available } = selectRuns(rest[0] ?? root, values);
        const cols = typeof values.columns === 'string' ? values.columns.split(',').map((c) => (c.trim() === 'name' ? 'name' : resolveColumn(c.trim(), available))) : null;
        if (sub === 'list') {
          const shown = cols ?? defaultColumns(rows, available);
          io.stdout.write(formatTable(shown.map((c) => c.replace(/^(params|metrics)\./, '')), rows.map((r) => shown.map((c) => r[c])), table));
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
        // Values may be long (the architecture): cut only to the terminal's width, not to MAX_CELL.
        const wide = { ...table, maxCell: undefined };
        io.stdout.write(formatTable(['key', 'value'], Object.entries(row).filter(([k]) => k !== 'name'), wide));
        io.stdout.write(`\nenvironment\n${formatTable(['key', 'value'], Object.entries(run.env), wide)}`);
        const series = epochSeries(run.dir);
        if (series.epoch) {
          const keys = Object.keys(series).filter((k) => k !== 't');
          io.stdout.write(`\nepochs\n${formatTable(keys, series.epoch.map((_e, i) => keys.map((k) => series[k][i])), table)}`);
        }
        return 0;
      }
      case 'compare': {
        if (rest.length < 2) throw new UsageError('runs compare takes two or more run folders');
        const runs = rest.map((r) => findRun(r, root));
        const rows = runs.map(runRow);
        const keys = columnsOf(rows).filter((k) => k !== 'name' && !/^metrics\.(started_at|updated_at|owner_pid|owner_host|owner_start)$/.test(k));
        const differs = (k: string) => new Set(rows.map((r) => JSON.stringify(r[k] ?? null))).size > 1;
        const body = keys.map((k) => [differs(k) ? `* ${k}` : `  ${k}`, ...rows.map((r) => r[k])]);
        io.stdout.write(formatTable(['key (* differs)', ...runs.map((r) => r.name)], body, table));
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
