// `npm run demo`: bundles the demo page and its training worker with esbuild (in memory) and serves them,
// with the repository's Fashion-MNIST files, from a small Node static server sending the cross-origin
// isolation headers (COOP/COEP) that let a page share memory with its workers.
// Run: npm run demo [-- --port 8080 --host 127.0.0.1 --data DIR]
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { locateDataset } from 'tensorkit/node';

const here = fileURLToPath(new URL('./', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1, this machine only). */
  readonly host?: string;
  /** Directory of the Fashion-MNIST IDX files (default: the vendored @tensorkit/datasets copy). */
  readonly dataDir?: string;
}

/** A running demo server. */
export interface DemoServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Error thrown when the server cannot start (port taken, bad option, missing data). */
export class DemoServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoServerError';
  }
}

/** The isolation headers: with both, `crossOriginIsolated` is true and SharedArrayBuffer is available. */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** The IDX files served under /data/fashion-mnist/ (nothing else is read from the data directory). */
const DATA_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** The page's files, built: path → [content type, body]. */
export async function buildDemo(): Promise<Map<string, [string, Uint8Array | string]>> {
  const result = await esbuild.build({
    entryPoints: { app: join(here, 'main.ts'), 'train-worker': join(here, 'train-worker.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // The page imports the package by its public name; here that is the browser entry of the source tree.
    alias: { tensorkit: join(root, 'src/browser.ts') },
    // package.json's sideEffects list names dist/ files; read from src/ it would mark the analysis
    // module (imported for its registration) as side-effect free, so the list is not applied here.
    ignoreAnnotations: true,
    sourcemap: 'linked',
    outdir: join(here, 'out'),
    write: false,
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) throw new DemoServerError(`esbuild warnings:\n${result.warnings.map((w) => w.text).join('\n')}`);
  const files = new Map<string, [string, Uint8Array | string]>();
  for (const out of result.outputFiles) {
    const name = out.path.slice(out.path.lastIndexOf('/') + 1);
    files.set(`/${name}`, [name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8', out.contents]);
  }
  files.set('/', ['text/html; charset=utf-8', readFileSync(join(here, 'index.html'), 'utf8')]);
  files.set('/index.html', files.get('/')!);
  files.set('/style.css', ['text/css; charset=utf-8', readFileSync(join(here, 'style.css'), 'utf8')]);
  return files;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', ...ISOLATION_HEADERS }).end(body);
}

/**
 * Builds the demo and serves it; resolves once listening. Rejects with {@link DemoServerError} when the
 * port is taken or invalid, or the dataset files are missing.
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DemoServerError(`port must be an integer in [0, 65535], got ${port}`);
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir ?? locateDataset('fashion-mnist');
  for (const file of DATA_FILES) {
    if (!existsSync(join(dataDir, file))) throw new DemoServerError(`Fashion-MNIST file ${join(dataDir, file)} is missing (pass --data DIR holding ${DATA_FILES.join(', ')})`);
  }
  const files = await buildDemo();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed');
      return;
    }
    const file = files.get(path);
    if (file !== undefined) {
      send(res, 200, file[0], file[1]);
      return;
    }
    const data = /^\/data\/fashion-mnist\/([^/]+)$/.exec(path);
    if (data !== null && DATA_FILES.includes(data[1])) {
      const full = join(dataDir, data[1]);
      // The bytes are gzip as stored (decompressed in the page), so no content-encoding header.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(full).size, 'cache-control': 'max-age=3600', ...ISOLATION_HEADERS });
      if (req.method === 'HEAD') res.end();
      else createReadStream(full).pipe(res);
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', `not found: ${path}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new DemoServerError(`port ${port} on ${host} is taken: pass another with --port N (or --port 0 for any free port)`));
      else if (err.code === 'EACCES') reject(new DemoServerError(`no permission to listen on port ${port} (ports below 1024 need privileges): pass --port N`));
      else reject(new DemoServerError(`cannot listen on ${host}:${port} (${err.message})`));
    });
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${actual}/`,
    port: actual,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The command line: parses the options, starts the server and prints its URL. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: npm run demo [-- --port N (default 8080, 0 = any free port)] [--host ADDRESS (default 127.0.0.1)] [--data DIR]');
    return;
  }
  const port = Number(values.port);
  const started = await startDemoServer({ port, host: values.host, dataDir: values.data });
  console.log(`tensorkit demo: ${started.url}`);
  console.log('(served with COOP/COEP headers, so the page is cross-origin isolated; Ctrl-C stops the server)');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err instanceof DemoServerError || err.name === 'TypeError' ? `demo: ${err.message}` : err);
    process.exit(1);
  });
}
