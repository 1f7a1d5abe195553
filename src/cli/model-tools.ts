// `tensorkit summary MODEL` and `tensorkit export-onnx MODEL OUT`: inspect and convert saved model files.
import { modelSummaryWithFlops } from '../analysis/index.js';
import { loadModel } from '../io/model-file.js';
import { exportOnnx } from '../io/onnx.js';
import type { CliIo } from './train.js';

const SUMMARY_HELP = `usage: tensorkit summary MODEL_FILE

Prints the layers of a saved model (saveModel / checkpoint file) with output shapes, parameters,
multiply-accumulates, forward and training-step FLOPs and activation memory per sample, and what
else the file holds (optimizer state, training position).
`;

const ONNX_HELP = `usage: tensorkit export-onnx MODEL_FILE OUT.onnx

Writes a saved model as an ONNX graph (opset 13) for ONNX runtimes.
`;

function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** `tensorkit summary`. Exit status: 0 ok, 1 unreadable file, 2 usage. */
export function runSummary(args: readonly string[], io: CliIo): number {
  if (wantsHelp(args)) {
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
export function runExportOnnx(args: readonly string[], io: CliIo): number {
  if (wantsHelp(args)) {
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
