// Confusion matrix (rows = true class, columns = predicted class), per-class metrics and a text table.
import { formatShape, Tensor } from '../tensor/tensor.js';

type Labels = ArrayLike<number> | Tensor;

function values(what: string, v: Labels): ArrayLike<number> {
  if (v instanceof Tensor && v.rank !== 1) {
    throw new Error(`confusionMatrix: ${what} must be class ids [N], got a tensor ${formatShape(v.shape)} (use predictClasses or an argmax)`);
  }
  const arr = (v as Tensor).data instanceof Float32Array && (v as Tensor).shape ? (v as Tensor).data : (v as ArrayLike<number>);
  if (arr === null || typeof arr !== 'object' || typeof arr.length !== 'number') throw new Error(`confusionMatrix: ${what} must be an array of class ids`);
  return arr;
}

/**
 * Counts `m[t][p]` = number of samples of true class `t` predicted as `p`, for `classes` classes.
 * `predicted` and `labels` are class ids `[N]` (arrays, typed arrays or `[N]` tensors); an id outside
 * `0..classes-1` throws naming its position. Returns `classes` rows of `classes` counts.
 */
export function confusionMatrix(predicted: Labels, labels: Labels, classes: number): number[][] {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`confusionMatrix: classes must be an integer >= 1, got ${classes}`);
  const p = values('predicted', predicted);
  const t = values('labels', labels);
  if (p.length !== t.length) throw new Error(`confusionMatrix: ${p.length} predictions for ${t.length} labels`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < p.length; i++) {
    const a = t[i];
    const b = p[i];
    if (!(Number.isInteger(a) && a >= 0 && a < classes)) throw new Error(`confusionMatrix: label ${a} at index ${i} is outside 0..${classes - 1}`);
    if (!(Number.isInteger(b) && b >= 0 && b < classes)) throw new Error(`confusionMatrix: prediction ${b} at index ${i} is outside 0..${classes - 1}`);
    m[a][b]++;
  }
  return m;
}

/** Per-class and overall metrics of a confusion matrix (NaN where a denominator is 0). */
export interface ClassMetrics {
  /** Correct / total over every sample. */
  readonly accuracy: number;
  /** Per class: correct predictions among that class's samples, m[c][c] / Σ_p m[c][p] (= recall). */
  readonly perClassAccuracy: number[];
  /** Per class: m[c][c] / Σ_t m[t][c] (of the samples predicted as c, the share that is c). */
  readonly precision: number[];
  /** Per class: m[c][c] / Σ_p m[c][p]. */
  readonly recall: number[];
  /** Per class: 2·precision·recall / (precision + recall). */
  readonly f1: number[];
  /** Per class: number of samples whose true class is c. */
  readonly support: number[];
}

/** Accuracy, per-class accuracy, precision, recall, F1 and support from a square confusion matrix. */
export function classMetrics(matrix: readonly (readonly number[])[]): ClassMetrics {
  const k = matrix.length;
  if (k === 0 || matrix.some((row) => row.length !== k)) throw new Error(`classMetrics: the confusion matrix must be square and non-empty, got ${k} rows of lengths [${matrix.map((r) => r.length).join(', ')}]`);
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const predictedAs = matrix[0].map((_, c) => matrix.reduce((a, row) => a + row[c], 0));
  const diag = matrix.map((row, c) => row[c]);
  const total = support.reduce((a, b) => a + b, 0);
  const ratio = (a: number, b: number) => (b === 0 ? NaN : a / b);
  const recall = diag.map((d, c) => ratio(d, support[c]));
  const precision = diag.map((d, c) => ratio(d, predictedAs[c]));
  const f1 = precision.map((p, c) => ratio(2 * p * recall[c], p + recall[c]));
  return {
    accuracy: ratio(diag.reduce((a, b) => a + b, 0), total),
    perClassAccuracy: recall.slice(),
    precision,
    recall,
    f1,
    support,
  };
}

/**
 * The matrix as an aligned text table: a header of predicted classes, one row per true class with
 * its counts and its per-class accuracy (recall) in percent. `classNames` default to 0..k-1.
 */
export function formatConfusion(matrix: readonly (readonly number[])[], classNames?: readonly string[]): string {
  const k = matrix.length;
  const names = classNames ?? matrix.map((_, i) => String(i));
  if (names.length !== k) throw new Error(`formatConfusion: ${names.length} class names for ${k} classes`);
  const metrics = classMetrics(matrix);
  const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(1)}%`);
  const labelW = names.reduce((m, n) => Math.max(m, n.length), 'true \\ predicted'.length);
  const cellW = matrix.reduce((m, row) => row.reduce((w, v) => Math.max(w, String(v).length), m), names.reduce((m, n) => Math.max(m, n.length), 0));
  const header = ['true \\ predicted'.padEnd(labelW), ...names.map((n) => n.padStart(cellW)), 'accuracy'.padStart(8)].join('  ');
  const lines = [header, '-'.repeat(header.length)];
  matrix.forEach((row, t) => {
    lines.push([names[t].padEnd(labelW), ...row.map((v) => String(v).padStart(cellW)), pct(metrics.perClassAccuracy[t]).padStart(8)].join('  '));
  });
  lines.push('-'.repeat(header.length));
  lines.push(`overall accuracy ${pct(metrics.accuracy)} (${matrix.reduce((a, row, i) => a + row[i], 0)} / ${metrics.support.reduce((a, b) => a + b, 0)})`);
  return `${lines.join('\n')}\n`;
}
