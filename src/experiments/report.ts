// The comparison report of a runs folder (a sweep or any set of runs): one self-contained HTML page
// with a sortable runs table, top-k tables and inlined SVG charts rendered by vega-lite in Node.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSvg, type VegaLiteSpec } from '../plots/render.js';
import { escapeHtml, scopeIds } from '../plots/report.js';
import { epochSeries, listRuns, type RunRecord } from './store.js';
import { loadSweepState } from './sweep.js';

/** Options of {@link writeSweepReport}. */
export interface SweepReportOptions {
  /** Summary metric compared (default: the sweep's metric from sweep.json, else val_accuracy, else test_accuracy). */
  readonly metric?: string;
  /** Default: the sweep's goal, else maximize. */
  readonly goal?: 'maximize' | 'minimize';
  /** Summary field with the training time in seconds (default train_seconds). */
  readonly time?: string;
  /** Rows of the top-k tables (default 5). */
  readonly top?: number;
  /** Runs whose per-epoch curves are drawn: the best N by the metric (default 5). */
  readonly curves?: number;
  readonly title?: string;
  /** Output file (default RUNS_DIR/report.html). */
  readonly out?: string;
  /**
   * Also write each chart as a standalone SVG file into this folder (created if missing), named by
   * chart id: importance.svg, parallel.svg, pareto.svg, progress.svg, curves.svg (those with data).
   */
  readonly chartsDir?: string;
}

/** A varying parameter column. */
interface ParamColumn {
  readonly key: string;
  readonly numeric: boolean;
  readonly values: readonly (string | number | null)[];
}

function fmt(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '';
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
  }
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Scalar form of a parameter value (lists joined with 'x', objects as JSON). */
function paramValue(v: unknown): string | number | null {
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.join('x');
  if (v === undefined || v === null) return null;
  return JSON.stringify(v);
}

/** Top-level parameters whose value differs between runs (bookkeeping keys left out). */
function varyingParams(runs: readonly RunRecord[]): ParamColumn[] {
  const skip = new Set(['out', 'name', 'argv', 'node', 'threadsNote', 'resolved', 'wandbProject', 'wandbEntity', 'data', 'import', 'resume']);
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.params)) if (!skip.has(k)) keys.add(k);
  const cols: ParamColumn[] = [];
  for (const key of keys) {
    const values = runs.map((r) => paramValue(r.params[key]));
    if (new Set(values.map((v) => JSON.stringify(v))).size < 2) continue;
    cols.push({ key, numeric: values.every((v) => typeof v === 'number' || v === null), values });
  }
  return cols;
}

function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/**
 * How strongly each parameter goes with the metric: Spearman's ρ for numeric parameters (signed:
 * positive = larger values give a larger metric) and the correlation ratio η ∈ [0, 1] for categorical
 * ones (√(between-group variance / total variance)). Runs without the metric are left out.
 */
export function parameterImportance(columns: readonly { key: string; numeric: boolean; values: readonly (string | number | null)[] }[], metric: readonly (number | null)[]): { param: string; kind: 'spearman' | 'eta'; value: number; importance: number }[] {
  const out: { param: string; kind: 'spearman' | 'eta'; value: number; importance: number }[] = [];
  for (const col of columns) {
    const idx = metric.map((m, i) => i).filter((i) => metric[i] !== null && col.values[i] !== null);
    if (idx.length < 3) continue;
    const y = idx.map((i) => metric[i] as number);
    if (col.numeric) {
      const rho = pearson(ranks(idx.map((i) => col.values[i] as number)), ranks(y));
      out.push({ param: col.key, kind: 'spearman', value: rho, importance: Math.abs(rho) });
    } else {
      const mean = y.reduce((s, v) => s + v, 0) / y.length;
      const groups = new Map<string, number[]>();
      idx.forEach((i, k) => {
        const key = String(col.values[i]);
        groups.set(key, [...(groups.get(key) ?? []), y[k]]);
      });
      let between = 0;
      for (const g of groups.values()) between += g.length * (g.reduce((s, v) => s + v, 0) / g.length - mean) ** 2;
      const total = y.reduce((s, v) => s + (v - mean) ** 2, 0);
      const eta = total === 0 ? 0 : Math.sqrt(between / total);
      out.push({ param: col.key, kind: 'eta', value: eta, importance: eta });
    }
  }
  return out.sort((a, b) => b.importance - a.importance);
}

/** Indices of the Pareto-optimal points: no other point is at least as fast and at least as good, and strictly better in one. */
export function paretoFront(time: readonly number[], metric: readonly number[], maximize = true): number[] {
  const better = (a: number, b: number) => (maximize ? a > b : a < b);
  const front: number[] = [];
  for (let i = 0; i < time.length; i++) {
    let dominated = false;
    for (let j = 0; j < time.length && !dominated; j++) {
      if (j === i) continue;
      const noWorse = time[j] <= time[i] && (metric[j] === metric[i] || better(metric[j], metric[i]));
      const strictly = time[j] < time[i] || better(metric[j], metric[i]);
      dominated = noWorse && strictly;
    }
    if (!dominated) front.push(i);
  }
  return front.sort((a, b) => time[a] - time[b]);
}

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', background: 'white', width: 560, height: 300 } as const;

function table(id: string, title: string, columns: readonly string[], rows: readonly (readonly unknown[])[], sortable: boolean): string {
  const head = columns.map((c, i) => `<th${sortable ? ` data-col="${i}" title="click to sort"` : ''}>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ` data-v="${c}"` : ''}>${escapeHtml(fmt(c))}</td>`).join('')}</tr>`).join('\n');
  return `<section><h2>${escapeHtml(title)}</h2>\n<table id="${id}"${sortable ? ' class="sortable"' : ''}><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></section>`;
}

// Sorting by a header click: numbers by their data-v value, text otherwise; a second click reverses.
const SORT_SCRIPT = `<script>
for (const table of document.querySelectorAll('table.sortable')) {
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const body = table.tBodies[0];
    const dir = th.dataset.dir === 'asc' ? -1 : 1;
    table.querySelectorAll('th').forEach((h) => delete h.dataset.dir);
    th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    const key = (tr) => { const td = tr.cells[col]; return td.dataset.v !== undefined ? Number(td.dataset.v) : td.textContent; };
    const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b); return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir; });
    for (const r of rows) body.appendChild(r);
  }));
}
</script>`;

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1150px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
th{background:#f3f3f3}table.sortable th{cursor:pointer}th[data-dir=asc]::after{content:' ▲'}th[data-dir=desc]::after{content:' ▼'}
td{font-variant-numeric:tabular-nums}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555;max-width:760px}svg{max-width:100%;height:auto}`;

/**
 * Writes the comparison report of every run under `runsDir` (see {@link listRuns}) and returns its
 * path. Charts: parallel coordinates of the varying parameters coloured by the metric, parameter
 * importance ({@link parameterImportance}), metric vs training time with the Pareto front, the metric
 * over sweep time with the running best, and per-epoch curves of the best runs. Tables: all runs
 * (sortable), top-k by the metric, top-k fastest. A chart without data is replaced by a note.
 */
export async function writeSweepReport(runsDir: string, options: SweepReportOptions = {}): Promise<string> {
  const runs = listRuns(runsDir);
  if (runs.length === 0) throw new Error(`report: no runs under ${runsDir} (a run folder has params.json and summary.json)`);
  const state = existsSync(join(runsDir, 'sweep.json')) ? loadSweepState(runsDir) : null;
  const metric = options.metric ?? state?.config.metric.name ?? (runs.some((r) => typeof r.metrics.val_accuracy === 'number') ? 'val_accuracy' : 'test_accuracy');
  const maximize = (options.goal ?? state?.config.metric.goal ?? 'maximize') === 'maximize';
  const timeKey = options.time ?? 'train_seconds';
  const top = options.top ?? 5;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const metricOf = (r: RunRecord) => num(r.metrics[metric]);
  const timeOf = (r: RunRecord) => num(r.metrics[timeKey]);
  const params = varyingParams(runs);
  const scored = runs.filter((r) => metricOf(r) !== null);
  const byMetric = [...scored].sort((a, b) => (maximize ? (metricOf(b) as number) - (metricOf(a) as number) : (metricOf(a) as number) - (metricOf(b) as number)));

  const charts: { id: string; title: string; caption: string; spec: VegaLiteSpec | null }[] = [];

  // Parallel coordinates: each axis scaled to [0, 1] (numbers by min–max, categories by their order).
  const pcRows: Record<string, unknown>[] = [];
  const axes = [...params.map((p) => p.key), metric];
  scored.forEach((r) => {
    const i = runs.indexOf(r);
    for (const p of params) {
      const v = p.values[i];
      let norm: number;
      if (p.numeric) {
        const nums = p.values.filter((x): x is number => typeof x === 'number');
        const lo = nums.reduce((m, x) => Math.min(m, x), Infinity);
        const hi = nums.reduce((m, x) => Math.max(m, x), -Infinity);
        norm = v === null ? 0 : hi === lo ? 0.5 : ((v as number) - lo) / (hi - lo);
      } else {
        const cats = [...new Set(p.values.map(String))].sort();
        norm = cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1);
      }
      pcRows.push({ run: r.name, axis: p.key, norm, value: fmt(v), metric: metricOf(r) });
    }
    const ms = scored.map((s) => metricOf(s) as number);
    const lo = ms.reduce((m, x) => Math.min(m, x), Infinity);
    const hi = ms.reduce((m, x) => Math.max(m, x), -Infinity);
    pcRows.push({ run: r.name, axis: metric, norm: hi === lo ? 0.5 : ((metricOf(r) as number) - lo) / (hi - lo), value: fmt(metricOf(r)), metric: metricOf(r) });
  });
  charts.push({
    id: 'parallel', title: 'Parallel coordinates',
    caption: `One line per run across the varying parameters and ${metric}; each axis is scaled to [0, 1] (numbers min–max, categories in sorted order); colour is ${metric}.`,
    spec: params.length === 0 || scored.length === 0 ? null : {
      ...BASE, width: Math.max(420, 110 * axes.length), data: { values: pcRows },
      encoding: {
        x: { field: 'axis', type: 'nominal', sort: axes, title: null, axis: { labelAngle: 0 } },
        y: { field: 'norm', type: 'quantitative', title: 'scaled value', scale: { domain: [0, 1] } },
        color: { field: 'metric', type: 'quantitative', title: metric, scale: { scheme: 'viridis' } },
      },
      layer: [
        { mark: { type: 'line', opacity: 0.7 }, encoding: { detail: { field: 'run' } } },
        { mark: { type: 'point', filled: true, size: 25 }, encoding: { tooltip: [{ field: 'run' }, { field: 'axis' }, { field: 'value' }] } },
      ],
    },
  });

  const importance = parameterImportance(params, runs.map(metricOf));
  charts.push({
    id: 'importance', title: 'Parameter importance',
    caption: `|Spearman ρ| of numeric parameters with ${metric} (the sign shows the direction) and the correlation ratio η of categorical ones; a screening aid, not a causal measure.`,
    spec: importance.length === 0 ? null : {
      ...BASE, height: Math.max(60, 28 * importance.length), data: { values: importance.map((d) => ({ ...d, label: `${d.kind === 'spearman' ? 'ρ' : 'η'} = ${d.value.toFixed(2)}` })) },
      encoding: {
        y: { field: 'param', type: 'nominal', sort: importance.map((d) => d.param), title: null },
        x: { field: 'importance', type: 'quantitative', scale: { domain: [0, 1] }, title: `association with ${metric}` },
      },
      layer: [
        { mark: 'bar', encoding: { color: { field: 'kind', type: 'nominal', title: 'measure' } } },
        { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'label' } } },
      ],
    },
  });

  const timed = scored.filter((r) => timeOf(r) !== null);
  const front = new Set(paretoFront(timed.map((r) => timeOf(r) as number), timed.map((r) => metricOf(r) as number), maximize).map((i) => timed[i].name));
  const scatter = timed.map((r) => ({ run: r.name, time: timeOf(r), metric: metricOf(r), pareto: front.has(r.name) ? 'Pareto front' : 'dominated' }));
  charts.push({
    id: 'pareto', title: `${metric} vs training time`,
    caption: `Each run's ${metric} against ${timeKey}; the line joins the Pareto-optimal runs (no other run is both faster and better).`,
    spec: timed.length === 0 ? null : {
      ...BASE, data: { values: scatter },
      layer: [
        { transform: [{ filter: "datum.pareto === 'Pareto front'" }], mark: { type: 'line', interpolate: 'step-after', color: '#d62728' }, encoding: { x: { field: 'time', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, order: { field: 'time' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'time', type: 'quantitative', title: `${timeKey} (s)` }, y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } }, color: { field: 'pareto', type: 'nominal', title: null, scale: { domain: ['Pareto front', 'dominated'], range: ['#d62728', '#7f7f7f'] } }, tooltip: [{ field: 'run' }, { field: 'time' }, { field: 'metric' }] } },
      ],
    },
  });

  const started = scored.map((r) => ({ r, t: Date.parse(String(r.metrics.started_at ?? '')) })).filter((d) => Number.isFinite(d.t)).sort((a, b) => a.t - b.t);
  let bestSoFar = maximize ? -Infinity : Infinity;
  const overTime = started.map(({ r, t }, k) => {
    const m = metricOf(r) as number;
    bestSoFar = maximize ? Math.max(bestSoFar, m) : Math.min(bestSoFar, m);
    return { run: r.name, trial: k + 1, minutes: (t - started[0].t) / 60000, metric: m, best: bestSoFar };
  });
  charts.push({
    id: 'progress', title: `${metric} over sweep time`,
    caption: 'Each run at its start time (minutes since the first run started); the line is the best value so far. A flattening line means the search stopped improving.',
    spec: overTime.length === 0 ? null : {
      ...BASE, data: { values: overTime },
      layer: [
        { mark: { type: 'line', interpolate: 'step-after', color: '#2ca02c' }, encoding: { x: { field: 'minutes', type: 'quantitative' }, y: { field: 'best', type: 'quantitative' } } },
        { mark: { type: 'point', filled: true, size: 40, color: '#1f77b4' }, encoding: { x: { field: 'minutes', type: 'quantitative', title: 'minutes since the sweep started' }, y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } }, tooltip: [{ field: 'run' }, { field: 'trial' }, { field: 'metric' }] } },
      ],
    },
  });

  const curveRuns = byMetric.slice(0, options.curves ?? 5);
  const curveRows: Record<string, unknown>[] = [];
  let curveKey = metric;
  for (const r of curveRuns) {
    const series = epochSeries(r.dir);
    const key = series[metric] ? metric : series.val_accuracy ? 'val_accuracy' : 'accuracy';
    curveKey = key;
    (series.epoch ?? []).forEach((e, i) => {
      const v = series[key]?.[i];
      if (Number.isFinite(v)) curveRows.push({ run: r.name, epoch: e, value: v });
    });
  }
  charts.push({
    id: 'curves', title: `Curves of the best ${curveRuns.length} runs`,
    caption: `Per-epoch ${curveKey} (from metrics.jsonl) of the best runs by ${metric}.`,
    spec: curveRows.length === 0 ? null : {
      ...BASE, data: { values: curveRows },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } }, y: { field: 'value', type: 'quantitative', title: curveKey, scale: { zero: false } }, color: { field: 'run', type: 'nominal', title: 'run', legend: { labelLimit: 280 } } },
    },
  });

  const parts: string[] = [];
  const title = options.title ?? (state ? `Sweep ${state.config.name ?? ''} (${state.config.method}, ${runs.length} runs)`.replace('  ', ' ') : `Runs in ${runsDir} (${runs.length})`);
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  parts.push(`<p>Metric: <b>${escapeHtml(metric)}</b> (${maximize ? 'higher' : 'lower'} is better); time: ${escapeHtml(timeKey)}. ${scored.length} of ${runs.length} runs report the metric.</p>`);
  for (const [i, c] of charts.entries()) {
    if (c.spec === null) {
      parts.push(`<section><h2>${escapeHtml(c.title)}</h2><p class="empty">No data for this chart.</p></section>`);
      continue;
    }
    const raw = await renderSvg(c.spec);
    if (options.chartsDir !== undefined) {
      mkdirSync(options.chartsDir, { recursive: true });
      writeFileSync(join(options.chartsDir, `${c.id}.svg`), raw);
    }
    const svg = scopeIds(raw, `c${i}-`);
    parts.push(`<section><h2>${escapeHtml(c.title)}</h2><figure class="chart" data-chart="${c.id}">\n${svg}\n<figcaption>${escapeHtml(c.caption)}</figcaption></figure></section>`);
  }
  const cols = ['run', 'status', ...params.map((p) => p.key), metric, timeKey, ...(metric === 'test_accuracy' ? [] : ['test_accuracy'])];
  const row = (r: RunRecord) => [r.name, r.metrics.status ?? '', ...params.map((p) => p.values[runs.indexOf(r)]), metricOf(r), timeOf(r), ...(metric === 'test_accuracy' ? [] : [num(r.metrics.test_accuracy)])];
  parts.push(table('top-metric', `Top ${top} by ${metric}`, cols, byMetric.slice(0, top).map(row), false));
  const fastest = [...timed].sort((a, b) => (timeOf(a) as number) - (timeOf(b) as number));
  parts.push(table('top-time', `Top ${top} by ${timeKey} (fastest)`, cols, fastest.slice(0, top).map(row), false));
  parts.push(table('runs', 'All runs (click a column to sort)', cols, runs.map(row), true));

  const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${parts.join('\n')}\n${SORT_SCRIPT}\n</body></html>\n`;
  const out = options.out ?? join(runsDir, 'report.html');
  writeFileSync(out, html);
  return out;
}
