// `--import MODULE` of the tensorkit commands: loads a file or package (typically one that registers a
// layer, optimizer or initializer by name) before the command reads its options, with clear errors.
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './args.js';

/** File extensions Node loads as TypeScript (through type stripping) when it can. */
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * Whether this Node strips TypeScript types itself: `process.features.typescript` is `'strip'` or
 * `'transform'` on Node 22.18+ / 23.6+ (on by default) and on 22.6+ with `--experimental-strip-types`.
 */
export function nodeStripsTypes(): boolean {
  const ts = (process.features as { typescript?: unknown }).typescript;
  return ts === 'strip' || ts === 'transform';
}

/** The error text for a `.ts` module that this Node cannot import. */
export function typeScriptImportHelp(spec: string, nodeVersion = process.version): string {
  return `--import ${spec}: importing a TypeScript file needs Node 22.18 or newer (Node 24 recommended; the ` +
    `repository pins 24), which strips types itself; this is Node ${nodeVersion}. Upgrade Node, run Node 22.6+ ` +
    'with --experimental-strip-types, or compile the module to .js / .mjs and import that';
}

/**
 * Imports `spec`: a path (`./plugin.ts`, `/abs/plugin.mjs`, or any existing file) is resolved against
 * the working directory; anything else is a package name. A TypeScript file that this Node cannot
 * load, a missing file and a module that throws while loading give a {@link UsageError} naming the
 * module and the cause.
 */
export async function importModule(spec: string): Promise<void> {
  const isPath = spec.startsWith('.') || isAbsolute(spec) || existsSync(spec);
  const target = isPath ? pathToFileURL(resolve(spec)).href : spec;
  if (isPath && !existsSync(resolve(spec))) throw new UsageError(`--import ${spec}: no such file (${resolve(spec)})`);
  try {
    await import(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isPath && TS_EXTENSIONS.has(extname(spec).toLowerCase()) && !nodeStripsTypes() && (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING')) {
      throw new UsageError(typeScriptImportHelp(spec));
    }
    throw new UsageError(`--import ${spec}: ${(err as Error).message}`);
  }
}
