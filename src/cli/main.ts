#!/usr/bin/env node
// The `tensorkit` command: dispatches subcommands (thin: each parses its arguments and calls the library).
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runExportOnnx, runSummary } from './model-tools.js';
import { quietEpipe } from './epipe.js';
import { runReport } from './report.js';
import { runRuns } from './runs.js';
import { runSweepCommand } from './sweep.js';
import { runTrain, type CliIo } from './train.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP = `tensorkit ${pkg.version}: a from-scratch deep learning library in TypeScript

usage: tensorkit <command> [options]

commands:
  train          train an MLP or CNN on Fashion-MNIST / MNIST and write its outputs
                 (tensorkit train --help lists every option)
  sweep          run or resume a grid / random / bayes hyperparameter sweep (wandb config shape)
  runs           list, show, compare and export tracked runs (with --where filters)
  report         write an HTML report comparing the runs of a folder or sweep
  summary        print a saved model's layers, parameters, FLOPs and activation memory
  export-onnx    convert a saved model file to ONNX
  version        print the version
  help           print this help

The library itself is used from TypeScript/JavaScript: import { Sequential, Conv2D, … } from 'tensorkit'.
`;

/** Runs the command line `argv` (without node and the script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.stdout.write(HELP);
    return 0;
  }
  if (cmd === 'version' || cmd === '--version' || cmd === '-v') {
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (cmd === 'train') return runTrain(rest, io);
  if (cmd === 'sweep') return runSweepCommand(rest, io);
  if (cmd === 'runs') return runRuns(rest, io);
  if (cmd === 'report') return runReport(rest, io);
  if (cmd === 'summary') return runSummary(rest, io);
  if (cmd === 'export-onnx') return runExportOnnx(rest, io);
  io.stderr.write(`tensorkit: unknown command ${JSON.stringify(cmd)}; known commands: train, sweep, runs, report, summary, export-onnx, version, help\n`);
  return 2;
}

/** True when this file is the process's entry script (also through npm's bin symlink), not an import. */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  quietEpipe(process.stdout);
  process.exitCode = await main(process.argv.slice(2));
}
