// `tensorkit summary MODEL` and `tensorkit export-onnx MODEL OUT`: inspect and convert saved model files.
import { modelSummaryWithFlops } from '../analysis/index.js';
import { loadModel } from '../io/files.js';
import { exportOnnx } from '../io/files.js';
import '../layers/index.js';
import '../optimizers/index.js';
import { UsageError } from './args.js';
import { importModule } from './import-module.js';
import type { CliIo } from './train.js';

const IMPORT_HELP = `options:
  --import MODULE   import a module first (a file path or package), e.g. one that registers the
                    custom layers or optimizer the file names; .ts files need Node 22.18+ or 24
  -h, --help        show this help`;

const SUMMARY_HELP = `usage: tensorkit summary [--import MODULE] MODEL_FILE

Prints the layers of a saved model (saveModel / checkpoint file, or RUN/model.safetensors of
tensorkit train) with output shapes, parameters, multiply-accumulates, forward and training-step
FLOPs and activation memory per sample, and what else the file holds (optimizer state, training
position). A layer whose costs are unknown (a custom layer) shows "?" in its FLOP columns.

${IMPORT_HELP}
`;

const ONNX_HELP = `usage: tensorkit export-onnx [--import MODULE] MODEL_FILE OUT.onnx

Writes a saved model as an ONNX graph (opset 13) for ONNX runtimes.

${IMPORT_HELP}
`;

/** The positional arguments after `--import MODULE` (also `--import=MODULE`) is taken out and loaded; `null` for --help. */
async function readToolArgs(args: readonly string[]): Promise<string[] | null> {
  if (args.includes('--help') || args.includes('-h')) return null;
  const rest: string[] = [];
  let imported = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    let spec: string | undefined;
    if (a === '--import') {
      if (i + 1 >= args.length) throw new UsageError('option --import needs a value (a module file or package)');
      spec = args[++i];
    } else if (a.startsWith('--import=')) spec = a.slice('--import='.length);
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}; see --help`);
    else {
      rest.push(a);
      continue;
    }
    if (imported) throw new UsageError('option --import is given more than once');
    if (spec === '') throw new UsageError('option --import needs a value (a module file or package)');
    imported = true;
    await importModule(spec);
  }
  return rest;
}

/** `tensorkit summary`. Exit status: 0 ok, 1 unreadable file, 2 usage. */
export async function runSummary(argv: readonly string[], io: CliIo): Promise<number> {
  let args: string[] | null;
  try {
    args = await readToolArgs(argv);
  } catch (err) {
    io.stderr.write(`tensorkit summary: ${(err as Error).message}\n`);
    return 2;
  }
  if (args === null) {
    io.stdout.write(SUMMARY_HELP);
    return 0;
  }
  if (args.length !== 1) {
    io.stderr.write(`tensorkit summary: expected one model file, got ${args.length} arguments\n${SUMMARY_HELP}`);
    return 2;
  }
  try {
    const { model, optimizer, trainingState } = loadModel(args[0]);
    io.stdout.write(`${args[0]}\n${modelSummaryWithFlops(model)}\n`);
    if (optimizer) io.stdout.write(`optimizer: ${optimizer.kind} ${JSON.stringify(optimizer.getConfig())}, step ${optimizer.stateDict().step}\n`);
    if (trainingState) io.stdout.write(`training position: epoch ${trainingState.epoch}, step ${trainingState.step}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit summary: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `tensorkit export-onnx`. Exit status: 0 ok, 1 failure, 2 usage. */
export async function runExportOnnx(argv: readonly string[], io: CliIo): Promise<number> {
  let args: string[] | null;
  try {
    args = await readToolArgs(argv);
  } catch (err) {
    io.stderr.write(`tensorkit export-onnx: ${(err as Error).message}\n`);
    return 2;
  }
  if (args === null) {
    io.stdout.write(ONNX_HELP);
    return 0;
  }
  if (args.length !== 2) {
    io.stderr.write(`tensorkit export-onnx: expected MODEL_FILE and OUT.onnx, got ${args.length} arguments\n${ONNX_HELP}`);
    return 2;
  }
  try {
    exportOnnx(loadModel(args[0]).model, args[1]);
    io.stdout.write(`wrote ${args[1]}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`tensorkit export-onnx: ${(err as Error).message}\n`);
    return 1;
  }
}
