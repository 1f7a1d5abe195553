// Vega-Lite → SVG rendering in Node, with vega and vega-lite loaded lazily (optional peer dependencies).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A Vega-Lite specification as plain JSON (kept loose so the optional packages' types are not needed). */
export type VegaLiteSpec = Record<string, unknown>;

/** The part of vega's API the renderer uses. */
interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: string }) => {
    toSVG(): Promise<string>;
    finalize(): void;
  };
}

/** The part of vega-lite's API the renderer uses. */
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

/** Imports a module by name; injectable so the missing-package path can be tested. */
export type ModuleImporter = (name: string) => Promise<unknown>;

const MISSING_MESSAGE = 'vega and vega-lite (dependencies of tensorkit) are not installed: reinstall tensorkit (npm install tensorkit) to render plots';

/** Loaded once, on the first chart. */
let cached: Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> | null = null;

/**
 * Loads vega and vega-lite with `importer`. A missing package becomes an error that says what to
 * install; any other failure is passed on with its cause.
 */
export async function loadVega(importer: ModuleImporter): Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> {
  const load = async (name: string): Promise<unknown> => {
    try {
      return await importer(name);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new Error(`plots: cannot load "${name}": ${MISSING_MESSAGE}`, { cause: err });
      }
      throw err;
    }
  };
  const [vega, vegaLite] = await Promise.all([load('vega'), load('vega-lite')]);
  return { vega: vega as VegaModule, vegaLite: vegaLite as VegaLiteModule };
}

// A variable specifier keeps bundlers and tsc from treating the optional packages as hard dependencies.
const importByName: ModuleImporter = (name) => import(name);

/**
 * Renders a Vega-Lite spec to an SVG string with vega's headless renderer (no canvas needed;
 * without the `canvas` package text widths are estimated, which only affects label layout).
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  cached ??= loadVega(importByName).catch((err: unknown) => {
    cached = null;
    throw err;
  });
  const { vega, vegaLite } = await cached;
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `spec` and writes it to `dest` (parent folders are created); returns the SVG text. */
export async function writeSvg(dest: string, spec: VegaLiteSpec): Promise<string> {
  const svg = await renderSvg(spec);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, svg);
  return svg;
}
