// Redis connections of distributed sweeps: `redis://` / `rediss://` URLs parsed into client options
// (password, user, database, TLS), clients that reconnect with back-off, and a bounded wait for Redis.
// Only the CLI's sweep and agent commands load this module (never `import 'tensorkit'`).
import { Redis, type RedisOptions } from 'ioredis';

/** A bad `--queue` URL or an unreachable Redis. */
export class QueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueError';
  }
}

/** What a `--queue` URL names. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
  /** The URL with the password replaced by `***`, for messages. */
  readonly display: string;
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). The port defaults to
 * 6379, the database to 0. Throws {@link QueueError} naming the URL (password hidden) and the problem.
 */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`--queue: ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))} is not a URL; expected redis://HOST:PORT or rediss://HOST:PORT`);
  }
  const display = u.password ? url.replace(`:${u.password}@`, ':***@') : url;
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueError(`--queue: ${display}: unsupported scheme ${u.protocol.replace(/:$/, '')}; expected redis:// or rediss:// (TLS)`);
  if (u.hostname === '') throw new QueueError(`--queue: ${display}: no host; expected redis://HOST:PORT`);
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new QueueError(`--queue: ${display}: port must be in 1..65535`);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!(Number.isInteger(db) && db >= 0 && db <= 15)) throw new QueueError(`--queue: ${display}: database must be an integer in 0..15, got ${JSON.stringify(path)}`);
  if (u.search !== '' || u.hash !== '') throw new QueueError(`--queue: ${display}: query strings and fragments are not supported`);
  // IPv6 hosts come bracketed from URL.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host, port, db, tls: u.protocol === 'rediss:', display,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/**
 * ioredis options for `target`: commands wait (queued) while the connection is down, and the client
 * reconnects with exponential back-off from 100 ms up to 2 s between tries. Nothing here gives up:
 * callers bound the outage themselves (see {@link watchConnection}). BullMQ requires
 * `maxRetriesPerRequest: null` on its workers' connections.
 */
export function redisOptions(target: RedisTarget): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: { servername: target.host } } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(2000, 100 * 2 ** Math.min(times - 1, 5)),
    lazyConnect: true,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens a client and waits until Redis answers a PING, at most `timeoutMs`; then throws
 * {@link QueueError} with the URL and the last connection error.
 */
export async function connect(target: RedisTarget, timeoutMs: number): Promise<Redis> {
  const client = new Redis(redisOptions(target));
  let lastError = '';
  client.on('error', (err: Error) => {
    lastError = err.message;
  });
  client.connect().catch(() => {});
  const deadline = Date.now() + timeoutMs;
  while (client.status !== 'ready') {
    // A refused password will not get better by waiting.
    if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(lastError)) {
      client.disconnect();
      throw new QueueError(`Redis at ${target.display} refused the credentials: ${lastError}`);
    }
    if (Date.now() > deadline) {
      client.disconnect();
      throw new QueueError(`cannot reach Redis at ${target.display} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError})` : ''}; is redis-server running?`);
    }
    await sleep(50);
  }
  await client.ping();
  return client;
}

/**
 * Watches `client`: when it has not been connected for more than `limitMs`, calls `onLost` once with
 * a message naming the URL, the outage and the last error. Returns a function that stops watching.
 */
export function watchConnection(client: Redis, target: RedisTarget, limitMs: number, onLost: (message: string) => void): () => void {
  let downSince: number | null = client.status === 'ready' ? null : Date.now();
  let lastError = '';
  const onError = (err: Error) => {
    lastError = err.message;
  };
  const onClose = () => {
    downSince ??= Date.now();
  };
  const onReady = () => {
    downSince = null;
  };
  client.on('error', onError);
  client.on('close', onClose);
  client.on('end', onClose);
  client.on('ready', onReady);
  let fired = false;
  const timer = setInterval(() => {
    if (fired || downSince === null || Date.now() - downSince <= limitMs) return;
    fired = true;
    onLost(`lost the connection to Redis at ${target.display} for more than ${Math.round(limitMs / 1000)} s (retried with back-off)${lastError ? `; last error: ${lastError}` : ''}`);
  }, 200);
  return () => {
    clearInterval(timer);
    client.off('error', onError);
    client.off('close', onClose);
    client.off('end', onClose);
    client.off('ready', onReady);
  };
}
