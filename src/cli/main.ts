#!/usr/bin/env node
// The `tensorkit` command: parses arguments and calls the library. Subcommands grow in later work.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP = `tensorkit ${pkg.version}: a from-scratch deep learning library in TypeScript

usage: tensorkit <command> [options]

commands:
  version        print the version
  help           print this help

The library itself is used from TypeScript/JavaScript: import { Sequential, Conv2D, … } from 'tensorkit'.
`;

export function main(argv: readonly string[]): number {
  const [cmd] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === 'version' || cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  process.stderr.write(`tensorkit: unknown command ${JSON.stringify(cmd)}; known commands: version, help\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
