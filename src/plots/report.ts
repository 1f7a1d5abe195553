// A run's report.html: one self-contained page with its parameters, metrics, tables and inlined SVG charts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A table in the report. Cells are shown as given (numbers are rounded to 4 significant digits). */
export interface ReportTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number | boolean | null)[])[];
}

/** Contents of {@link writeRunReport}. */
export interface RunReport {
  readonly title: string;
  /** Short description under the title. */
  readonly description?: string;
  /** Run parameters (hyperparameters, dataset, seed, …), shown as a name/value table. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Headline results (test accuracy, seconds, …), shown as a name/value table. */
  readonly metrics?: Readonly<Record<string, string | number>>;
  /** Further tables, in order. */
  readonly tables?: readonly ReportTable[];
  /** SVG file names relative to the run folder, inlined in order. */
  readonly charts?: readonly string[];
}

/** `text` with the five HTML-special characters escaped (also used by the sweep report). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    if (!Number.isFinite(value)) return String(value);
    return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
  }
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function tableHtml(title: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(formatCell(c))}</td>`).join('')}</tr>`).join('\n');
  return `<section><h2>${escapeHtml(title)}</h2>\n<table><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></section>`;
}

/**
 * Makes the ids inside one inlined SVG unique on the page (vega names clip paths `clip1`, … in
 * every chart, and duplicate ids would make later charts borrow the first chart's clipping). Also
 * used by the sweep report.
 */
export function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`);
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f3f3f3}td{font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figcaption{font-size:.8rem;color:#666}svg{max-width:100%;height:auto}`;

/**
 * Writes `<dir>/report.html`: title, parameters, metrics, tables, then every chart inlined (so the
 * file stands alone). Charts must already exist in `dir`. Returns the report's path.
 */
export function writeRunReport(dir: string, report: RunReport): string {
  const parts: string[] = [`<h1>${escapeHtml(report.title)}</h1>`];
  if (report.description) parts.push(`<p>${escapeHtml(report.description)}</p>`);
  if (report.params && Object.keys(report.params).length > 0) {
    parts.push(tableHtml('Parameters', ['Parameter', 'Value'], Object.entries(report.params).map(([k, v]) => [k, v])));
  }
  if (report.metrics && Object.keys(report.metrics).length > 0) {
    parts.push(tableHtml('Results', ['Metric', 'Value'], Object.entries(report.metrics).map(([k, v]) => [k, v])));
  }
  for (const t of report.tables ?? []) {
    const bad = t.rows.findIndex((r) => r.length !== t.columns.length);
    if (bad >= 0) throw new Error(`writeRunReport: table "${t.title}" row ${bad} has ${t.rows[bad].length} cells for ${t.columns.length} columns`);
    parts.push(tableHtml(t.title, t.columns, t.rows));
  }
  const charts = report.charts ?? [];
  if (charts.length > 0) {
    parts.push('<h2>Charts</h2>');
    charts.forEach((name, i) => {
      const path = join(dir, name);
      if (!existsSync(path)) throw new Error(`writeRunReport: chart ${name} not found in ${dir}`);
      const svg = readFileSync(path, 'utf8');
      if (!/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(svg)) throw new Error(`writeRunReport: ${path} is not an SVG file`);
      parts.push(`<figure class="chart" data-file="${escapeHtml(name)}">\n${scopeIds(svg, `c${i}-`)}\n<figcaption>${escapeHtml(name)}</figcaption></figure>`);
    });
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<meta name="generator" content="tensorkit"><style>${STYLE}</style></head>
<body>
${parts.join('\n')}
</body></html>
`;
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
