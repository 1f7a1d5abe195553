// The files a classifier example leaves in its output folder: metrics.json, history.csv, confusion.txt,
// curves.svg, confusion.svg and report.html (shared by the ResNet and ViT examples).
import { join } from 'node:path';
import { epochHistoryCsv, formatConfusion, type History } from 'tensorkit';
import { learningCurvesFromHistory, plotConfusionMatrix, plotLearningCurves, writeRunReport } from 'tensorkit/plots';
import { percent, writeJson, writeText } from './output.js';

/** What {@link writeClassifierRun} writes. */
export interface ClassifierRun {
  /** Short model name for the charts' titles, e.g. 'Fashion-MNIST ResNet'. */
  readonly model: string;
  /** The report's title and one-line description. */
  readonly title: string;
  readonly description: string;
  /** The run's settings as the report lists them. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Everything metrics.json holds. */
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly history: History;
  readonly confusion: readonly (readonly number[])[];
  readonly classNames: readonly string[];
  readonly test: { readonly loss: number; readonly accuracy: number };
  readonly trainSeconds: number;
  readonly testSeconds: number;
}

/** Writes the run's files into `out` and prints their names. */
export async function writeClassifierRun(out: string, run: ClassifierRun): Promise<void> {
  writeJson(out, 'metrics.json', run.metrics);
  writeText(out, 'history.csv', epochHistoryCsv(run.history));
  writeText(out, 'confusion.txt', formatConfusion(run.confusion as number[][], run.classNames as string[]));
  await plotLearningCurves(join(out, 'curves.svg'), learningCurvesFromHistory(run.history), {
    title: `${run.model}: loss and accuracy vs batches`, smoothing: 0.9, validationLabel: 'test (per epoch)',
  });
  await plotConfusionMatrix(join(out, 'confusion.svg'), run.confusion as number[][], run.classNames as string[], {
    title: `${run.model}: test confusion matrix`,
  });
  writeRunReport(out, {
    title: run.title,
    description: run.description,
    params: run.params,
    metrics: { 'train seconds': run.trainSeconds, 'test seconds': run.testSeconds },
    tables: [{ title: 'Test', columns: ['loss', 'accuracy'], rows: [[run.test.loss, percent(run.test.accuracy)]] }],
    charts: ['curves.svg', 'confusion.svg'],
  });
  console.log(`wrote metrics.json, history.csv, confusion.txt, curves.svg, confusion.svg, report.html to ${out}`);
}
