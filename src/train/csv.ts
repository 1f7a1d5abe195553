// CSV text: a small RFC 4180 writer and reader, and the library's CSV outputs (predictions, history).
import { argmaxRows } from '../tensor/reduce.js';
import { formatShape, type Tensor } from '../tensor/tensor.js';

/** One CSV field: numbers as JS prints them (NaN → empty), strings quoted when they hold , " or newlines. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, ending in `\n`. */
export function csvRow(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

/** A CSV document: the header line then one line per row, each ending in `\n`. */
export function toCsv(header: readonly string[], rows: Iterable<readonly (string | number | boolean | null | undefined)[]>): string {
  let text = csvRow(header);
  for (const row of rows) text += csvRow(row);
  return text;
}

/** Parses CSV text (quoted fields, doubled quotes, CRLF) into rows of strings; a trailing newline adds no row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('parseCsv: unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * Predictions as CSV: header `index,true,predicted,p0,…,p{C-1}`, one row per sample. `probs` is
 * `[N, C]` (class probabilities or scores), `labels` the true class ids `[N]`; the predicted class is
 * the argmax of each row (first maximum on ties). Probabilities print with `digits` significant digits (default 6).
 */
export function predictionsCsv(probs: Tensor, labels: ArrayLike<number> | Tensor, options: { digits?: number } = {}): string {
  const lab = (labels as Tensor).shape ? (labels as Tensor).data : (labels as ArrayLike<number>);
  if (probs.rank !== 2 || probs.shape[0] !== lab.length) {
    throw new Error(`predictionsCsv: probabilities ${formatShape(probs.shape)} must be [N, classes] with N = ${lab.length} labels`);
  }
  const digits = options.digits ?? 6;
  const [n, c] = probs.shape;
  const header = ['index', 'true', 'predicted'];
  for (let j = 0; j < c; j++) header.push(`p${j}`);
  const lines = [header.join(',')];
  const p = probs.data;
  const predicted = argmaxRows(new Int32Array(n), p, n, c);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let line = `${i},${lab[i]},${predicted[i]}`;
    for (let j = 0; j < c; j++) line += `,${Number(p[o + j].toPrecision(digits))}`;
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

/** The parts of a training history the CSV writers read (structurally, `Sequential.fit`'s History). */
export interface HistoryLike {
  readonly batch: { readonly loss: readonly number[]; readonly accuracy: readonly number[] };
  readonly epoch: {
    readonly loss: readonly number[]; readonly accuracy: readonly number[];
    readonly valLoss: readonly number[]; readonly valAccuracy: readonly number[];
    readonly seconds?: readonly number[]; readonly lr?: readonly number[];
  };
}

/** Header of the per-epoch history CSV (also written by the CSV logger callback). */
export const EPOCH_CSV_HEADER = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds', 'lr'] as const;
/** Header of the per-batch history CSV (also written by the CSV logger callback). */
export const BATCH_CSV_HEADER = ['step', 'epoch', 'batch', 'loss', 'accuracy'] as const;

/** Per-epoch history as CSV (`EPOCH_CSV_HEADER`; epochs 1-based; NaN validation values left empty). */
export function epochHistoryCsv(history: HistoryLike): string {
  const e = history.epoch;
  return toCsv(EPOCH_CSV_HEADER, e.loss.map((loss, i) => [i + 1, loss, e.accuracy[i], e.valLoss[i], e.valAccuracy[i], e.seconds?.[i], e.lr?.[i]]));
}

/**
 * Per-batch history as CSV (`BATCH_CSV_HEADER`; step, epoch and batch 1-based). With
 * `batchesPerEpoch` (all epochs full length) the epoch and batch columns are filled, else left empty.
 */
export function batchHistoryCsv(history: HistoryLike, batchesPerEpoch?: number): string {
  const b = history.batch;
  const per = batchesPerEpoch;
  return toCsv(BATCH_CSV_HEADER, b.loss.map((loss, i) => [
    i + 1, per ? Math.floor(i / per) + 1 : '', per ? (i % per) + 1 : '', loss, b.accuracy[i],
  ]));
}
