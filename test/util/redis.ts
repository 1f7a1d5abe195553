// A real redis-server for tests: started on 127.0.0.1 at a free port with a temporary directory and the
// append-only file on (fsync on every write, so a SIGKILLed server loses nothing), stopped and restarted
// by its process id.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `redis-server` is on the PATH. */
export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Whether Redis tests run: always in CI (where a missing redis-server must fail the suite, .ci/run
 * installs it), elsewhere only when redis-server is installed.
 */
export const REDIS_TESTS = HAVE_REDIS || process.env.CI === 'true';

/** A running test server. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGKILLs the server and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (the append-only file restores the data). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is free again when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string, password?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
    '--protected-mode', 'no', '--logfile', '', ...(password ? ['--requirepass', password] : []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} did not start within 10 s: ${out}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited with ${code}: ${out}`));
    });
  });
}

/** Starts a redis-server for a test (see the file comment); with `password`, clients must give it (`redis://:PASSWORD@…`). */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  if (!HAVE_REDIS) throw new Error('redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'tk-redis-'));
  // The port is free when freePort returns, but another process may take it before redis-server binds: try again then.
  let port = 0;
  let child: ChildProcess | null = null;
  for (let attempt = 1; child === null; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, options.password);
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/i.test((err as Error).message)) throw err;
    }
  }
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    dir,
    kill,
    async start() {
      if (child) throw new Error('redis-server is already running');
      child = await launch(port, dir, options.password);
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
