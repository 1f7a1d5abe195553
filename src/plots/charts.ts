// The training charts: learning curves, confusion matrix, learning-rate study, seed bands, CE vs MSE.
// Each takes plain numbers, builds a Vega-Lite spec, writes the SVG to `dest` and returns its text.
import { writeSvg, type VegaLiteSpec } from './render.js';

/** Size and title shared by every chart. Sizes are in pixels, per panel. */
export interface ChartOptions {
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 360;
const HEIGHT = 240;

function base(options: ChartOptions, defaultTitle: string): VegaLiteSpec {
  return { $schema: SCHEMA, title: options.title ?? defaultTitle, background: 'white', config: { view: { stroke: '#ddd' } } };
}

function finite(v: number): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Exponential moving average with bias correction (TensorBoard's smoothing):
 * s_t = w·s_{t−1} + (1−w)·x_t, reported as s_t / (1 − wᵗ). `weight` in [0, 1); 0 returns a copy.
 * Non-finite values are skipped (their slot repeats the previous smoothed value, NaN before the first).
 */
export function smoothSeries(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smoothSeries: weight must be in [0, 1), got ${weight}`);
  const out = new Array<number>(values.length);
  let s = 0;
  let debias = 1;
  let last = NaN;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (finite(x)) {
      s = weight * s + (1 - weight) * x;
      debias *= weight;
      last = s / (1 - debias);
    }
    out[i] = last;
  }
  return out;
}

/** Per-index mean and (population) standard deviation over runs of possibly different lengths. */
export function meanStd(runs: readonly (readonly number[])[]): { mean: number[]; std: number[]; count: number[] } {
  const length = runs.reduce((n, r) => Math.max(n, r.length), 0);
  const mean: number[] = [];
  const std: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < length; i++) {
    let n = 0;
    let sum = 0;
    for (const r of runs) if (i < r.length && finite(r[i])) { n++; sum += r[i]; }
    const m = n ? sum / n : NaN;
    let sq = 0;
    for (const r of runs) if (i < r.length && finite(r[i])) sq += (r[i] - m) ** 2;
    mean.push(m);
    std.push(n ? Math.sqrt(sq / n) : NaN);
    count.push(n);
  }
  return { mean, std, count };
}

/** Training curves per batch, with optional validation points. */
export interface LearningCurves {
  /** Training loss of each batch, in step order. */
  readonly trainLoss: readonly number[];
  /** Training accuracy of each batch (fraction in [0, 1]); omit for a loss-only chart. */
  readonly trainAccuracy?: readonly number[];
  /** Validation measurements and the (1-based) batch number each was taken after. */
  readonly validation?: {
    readonly batch: readonly number[];
    readonly loss: readonly number[];
    readonly accuracy?: readonly number[];
  };
}

/** Options of {@link plotLearningCurves}. */
export interface LearningCurveOptions extends ChartOptions {
  /**
   * Smoothing weight in [0, 1) for the training series (see {@link smoothSeries}). Above 0 the raw
   * series is drawn faintly under a "train (smoothed)" line. Default 0.
   */
  readonly smoothing?: number;
  /** Name of the validation series in the legend (default "validation"). */
  readonly validationLabel?: string;
}

/**
 * Loss and accuracy vs batches: one panel per metric (loss left, accuracy right), training per batch,
 * validation as points joined by a line.
 */
export async function plotLearningCurves(dest: string, curves: LearningCurves, options: LearningCurveOptions = {}): Promise<string> {
  const smoothing = options.smoothing ?? 0;
  const valLabel = options.validationLabel ?? 'validation';
  const rows: { batch: number; value: number; series: string }[][] = [];
  const metrics: [string, readonly number[] | undefined, readonly number[] | undefined][] = [
    ['Loss', curves.trainLoss, curves.validation?.loss],
    ['Accuracy', curves.trainAccuracy, curves.validation?.accuracy],
  ];
  const panels: VegaLiteSpec[] = [];
  const seriesNames = ['train', ...(smoothing > 0 ? ['train (smoothed)'] : []), ...(curves.validation ? [valLabel] : [])];
  for (const [name, train, val] of metrics) {
    if (!train) continue;
    const data: { batch: number; value: number; series: string }[] = [];
    train.forEach((v, i) => { if (finite(v)) data.push({ batch: i + 1, value: v, series: 'train' }); });
    if (smoothing > 0) {
      smoothSeries(train, smoothing).forEach((v, i) => { if (finite(v)) data.push({ batch: i + 1, value: v, series: 'train (smoothed)' }); });
    }
    const valData: typeof data = [];
    if (val && curves.validation) {
      val.forEach((v, i) => { if (finite(v)) valData.push({ batch: curves.validation!.batch[i], value: v, series: valLabel }); });
    }
    rows.push(data, valData);
    const color = { field: 'series', type: 'nominal', title: null, scale: { domain: seriesNames } };
    const y = { field: 'value', type: 'quantitative', title: name, scale: { zero: false }, ...(name === 'Accuracy' ? { axis: { format: '.0%' } } : {}) };
    const x = { field: 'batch', type: 'quantitative', title: 'Batch', axis: { tickMinStep: 1 } };
    const layers: VegaLiteSpec[] = [{
      data: { values: data },
      mark: { type: 'line', strokeWidth: 1.5, clip: true },
      encoding: {
        x, y, color,
        // The raw series fades under its smoothed line.
        strokeOpacity: { condition: { test: `datum.series === 'train' && ${smoothing > 0}`, value: 0.3 }, value: 1 },
      },
    }];
    if (valData.length > 0) layers.push({ data: { values: valData }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y, color } });
    panels.push({ width: options.width ?? WIDTH, height: options.height ?? HEIGHT, layer: layers });
  }
  if (panels.length === 0) throw new Error('plotLearningCurves: no training loss given');
  return writeSvg(dest, { ...base(options, 'Learning curves'), hconcat: panels });
}

/**
 * Converts a fit history (per-batch loss/accuracy and per-epoch validation values) into
 * {@link LearningCurves}: validation points sit at the last batch of each epoch.
 */
export function learningCurvesFromHistory(history: {
  readonly batch: { readonly loss: readonly number[]; readonly accuracy: readonly number[] };
  readonly epoch: { readonly valLoss: readonly number[]; readonly valAccuracy: readonly number[] };
}): LearningCurves {
  const batches = history.batch.loss.length;
  const epochs = history.epoch.valLoss.length;
  const perEpoch = epochs ? batches / epochs : 0;
  const hasVal = history.epoch.valLoss.some(finite);
  return {
    trainLoss: history.batch.loss,
    trainAccuracy: history.batch.accuracy,
    ...(hasVal ? {
      validation: {
        batch: history.epoch.valLoss.map((_, e) => Math.round((e + 1) * perEpoch)),
        loss: history.epoch.valLoss,
        accuracy: history.epoch.valAccuracy,
      },
    } : {}),
  };
}

/**
 * Confusion-matrix heatmap: `matrix[t][p]` counts samples of true class t predicted as p. Each cell
 * shows its count and its share of the row (recall for the diagonal); colour is the row share.
 */
export async function plotConfusionMatrix(
  dest: string,
  matrix: readonly (ArrayLike<number>)[],
  classNames: readonly string[],
  options: ChartOptions = {},
): Promise<string> {
  const k = classNames.length;
  if (matrix.length !== k || matrix.some((row) => row.length !== k)) {
    throw new Error(`plotConfusionMatrix: matrix must be ${k}×${k} for ${k} class names, got ${matrix.length}×${matrix[0]?.length ?? 0}`);
  }
  const cells: { actual: string; predicted: string; count: number; share: number; label: string }[] = [];
  for (let t = 0; t < k; t++) {
    let total = 0;
    for (let p = 0; p < k; p++) total += matrix[t][p];
    for (let p = 0; p < k; p++) {
      const count = matrix[t][p];
      const share = total > 0 ? count / total : 0;
      cells.push({ actual: classNames[t], predicted: classNames[p], count, share, label: `${count}\n${(share * 100).toFixed(1)}%` });
    }
  }
  const cell = Math.max(28, Math.min(48, Math.round(480 / k)));
  const order = classNames.slice();
  const x = { field: 'predicted', type: 'ordinal', sort: order, title: 'Predicted class', axis: { labelAngle: -40 } };
  const y = { field: 'actual', type: 'ordinal', sort: order, title: 'True class' };
  return writeSvg(dest, {
    ...base(options, 'Confusion matrix'),
    data: { values: cells },
    width: options.width ?? cell * k,
    height: options.height ?? cell * k,
    encoding: { x, y },
    layer: [
      {
        name: 'cells',
        mark: 'rect',
        encoding: {
          color: { field: 'share', type: 'quantitative', title: 'Row share', scale: { scheme: 'blues', domain: [0, 1] }, legend: { format: '.0%' } },
          tooltip: [{ field: 'actual' }, { field: 'predicted' }, { field: 'count' }],
        },
      },
      {
        name: 'labels',
        mark: { type: 'text', lineBreak: '\n', fontSize: k > 12 ? 7 : 9, baseline: 'middle', dy: -5 },
        encoding: {
          text: { field: 'label' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  });
}

/** One measured point of a learning-rate study. */
export interface LearningRatePoint {
  readonly lr: number;
  /** Accuracy as a fraction in [0, 1]. */
  readonly accuracy: number;
  /** Series name when several studies share the chart (e.g. "test", "5 epochs"). Default "accuracy". */
  readonly series?: string;
}

/** Accuracy vs learning rate on a log-scaled x axis, one line with points per series. */
export async function plotAccuracyVsLearningRate(dest: string, points: readonly LearningRatePoint[], options: ChartOptions = {}): Promise<string> {
  const bad = points.find((p) => !(p.lr > 0));
  if (bad) throw new Error(`plotAccuracyVsLearningRate: learning rates must be positive for a log axis, got ${bad.lr}`);
  const values = points.filter((p) => finite(p.accuracy)).map((p) => ({ lr: p.lr, accuracy: p.accuracy, series: p.series ?? 'accuracy' }));
  // Label decades only: vega's log ticks between decades (2e-5, 3e-5, …) crowd the axis.
  const decades: number[] = [];
  if (values.length > 0) {
    const lo = Math.floor(Math.log10(values.reduce((m, v) => Math.min(m, v.lr), Infinity)));
    const hi = Math.ceil(Math.log10(values.reduce((m, v) => Math.max(m, v.lr), -Infinity)));
    for (let e = lo; e <= hi; e++) decades.push(Number(`1e${e}`));
  }
  return writeSvg(dest, {
    ...base(options, 'Accuracy vs learning rate'),
    data: { values },
    width: options.width ?? WIDTH,
    height: options.height ?? HEIGHT,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'lr', type: 'quantitative', title: 'Learning rate', scale: { type: 'log' }, axis: { format: '.0e', values: decades } },
      y: { field: 'accuracy', type: 'quantitative', title: 'Accuracy', axis: { format: '.0%' }, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
}

/** Repeated runs of one configuration: `runs[seed][step]`. */
export interface SeedSeries {
  readonly name: string;
  readonly runs: readonly (readonly number[])[];
}

/** Options of {@link plotSeedBands}. */
export interface SeedBandOptions extends ChartOptions {
  readonly xTitle?: string;
  readonly yTitle?: string;
}

/** Mean line with a mean ± std band over seeds, per series (see {@link meanStd}). */
export async function plotSeedBands(dest: string, series: readonly SeedSeries[], options: SeedBandOptions = {}): Promise<string> {
  const values: { step: number; mean: number; lo: number; hi: number; series: string }[] = [];
  for (const s of series) {
    const { mean, std } = meanStd(s.runs);
    mean.forEach((m, i) => { if (finite(m)) values.push({ step: i + 1, mean: m, lo: m - std[i], hi: m + std[i], series: s.name }); });
  }
  const x = { field: 'step', type: 'quantitative', title: options.xTitle ?? 'Epoch', axis: { tickMinStep: 1 } };
  const color = { field: 'series', type: 'nominal', title: null };
  return writeSvg(dest, {
    ...base(options, 'Mean ± std over seeds'),
    data: { values },
    width: options.width ?? WIDTH,
    height: options.height ?? HEIGHT,
    layer: [
      { name: 'bands', mark: { type: 'area', opacity: 0.25 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: options.yTitle ?? 'Loss', scale: { zero: false } }, y2: { field: 'hi' }, color } },
      { name: 'means', mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  });
}

/** Per-epoch curves of one run of the loss-function comparison. */
export interface EpochCurves {
  /** Training loss per epoch, in the run's own loss units. */
  readonly loss: readonly number[];
  /** Accuracy per epoch (validation or test), fraction in [0, 1]. */
  readonly accuracy: readonly number[];
}

/**
 * Cross-entropy vs squared error: accuracy per epoch (comparable) and each run's own loss per epoch
 * (log scale, since the two losses have different units).
 */
export async function plotCeVsMse(dest: string, runs: { readonly crossEntropy: EpochCurves; readonly squaredError: EpochCurves }, options: ChartOptions = {}): Promise<string> {
  const values: { epoch: number; value: number; series: string; metric: string }[] = [];
  for (const [series, run] of [['cross-entropy', runs.crossEntropy], ['squared error', runs.squaredError]] as const) {
    run.accuracy.forEach((v, i) => { if (finite(v)) values.push({ epoch: i + 1, value: v, series, metric: 'accuracy' }); });
    run.loss.forEach((v, i) => { if (finite(v) && v > 0) values.push({ epoch: i + 1, value: v, series, metric: 'loss' }); });
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'Epoch', axis: { tickMinStep: 1 } };
  const color = { field: 'series', type: 'nominal', title: 'Loss function' };
  const panel = (metric: string, y: VegaLiteSpec): VegaLiteSpec => ({
    width: options.width ?? WIDTH,
    height: options.height ?? HEIGHT,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line', point: true },
    encoding: { x, y, color },
  });
  return writeSvg(dest, {
    ...base(options, 'Cross-entropy vs squared error'),
    data: { values },
    hconcat: [
      panel('accuracy', { field: 'value', type: 'quantitative', title: 'Accuracy', axis: { format: '.0%' }, scale: { zero: false } }),
      panel('loss', { field: 'value', type: 'quantitative', title: 'Training loss (own units, log)', scale: { type: 'log' } }),
    ],
  });
}
