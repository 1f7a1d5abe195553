// An in-memory CliIo for running the tensorkit commands in-process: collects stdout and stderr.
import type { CliIo } from '../../src/cli/train.js';

export function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; }, isTTY: false },
    out: () => out,
    err: () => err,
  };
}
