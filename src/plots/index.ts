// Plots and run reports: SVG charts rendered with vega/vega-lite (optional, loaded on first use) and report.html.
export { renderSvg, writeSvg, type VegaLiteSpec } from './render.js';
export {
  plotLearningCurves, learningCurvesFromHistory, plotConfusionMatrix, plotAccuracyVsLearningRate, plotSeedBands, plotCeVsMse,
  smoothSeries, meanStd,
  type ChartOptions, type LearningCurves, type LearningCurveOptions, type LearningRatePoint, type SeedSeries, type SeedBandOptions,
  type EpochCurves,
} from './charts.js';
export { writeRunReport, type RunReport, type ReportTable } from './report.js';
