// Experiments: tracked runs, run queries and exports, sweeps (grid / random / bayes-TPE with hyperband),
// and HTML comparison reports.
export { createRun, runCallback, runNameFromParams, abbreviate, environment, gitCommit, Run, type RunOptions, type RunParams, type RunStatus, type RunSummary, type MetricLine } from './run.js';
export { listRuns, readRun, effectiveStatus, readMetrics, epochSeries, getPath, flatten, runRow, columnsOf, runsToCsv, runsToJson, type RunRecord } from './store.js';
export { parseWhere, evaluateWhere, compileWhere, resolveRunName, wherePaths, mapWherePaths, WhereSyntaxError, WhereNameError, RUN_ROOTS, type WhereNode } from './where.js';
export { parseYaml, YamlError } from './yaml.js';
export {
  validateSweepConfig, validateParameter, readSweepConfigFile, gridSize, SweepConfigError, SWEEP_METHODS, DISTRIBUTIONS,
  type SweepConfig, type ParameterSpec, type HyperbandConfig, type SweepMethod, type Distribution, type ValidateOptions,
} from './sweep-config.js';
export { gridPoint, randomPoint, tpePoint, samplePrior, expandParams, trialRng, type TrialParams, type Observation, type TpeOptions } from './search.js';
export { Hyperband } from './hyperband.js';
export {
  sweep, sweepProcesses, loadSweepState, cliCommand,
  type SweepOptions, type ProcessOptions, type SweepResult, type SweepState, type TrialRecord, type TrialStatus, type TrialContext, type TrainFn,
} from './sweep.js';
export { writeSweepReport, parameterImportance, paretoFront, type SweepReportOptions } from './report.js';
