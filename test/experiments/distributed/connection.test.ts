// `--queue` URLs: redis:// and rediss:// with password, user, port and database; bad URLs name the problem.
import { describe, expect, it } from 'vitest';
import { parseRedisUrl, QueueError, redisOptions } from '../../../src/experiments/distributed/connection.js';

describe('parseRedisUrl', () => {
  it('reads host, port (default 6379), database and TLS', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 0, tls: false });
    expect(parseRedisUrl('redis://queue.lab')).toMatchObject({ host: 'queue.lab', port: 6379, db: 0, tls: false });
    expect(parseRedisUrl('rediss://queue.lab:6390/3')).toMatchObject({ host: 'queue.lab', port: 6390, db: 3, tls: true });
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
  });

  it('takes a password (and user), percent-decoded, and hides it in messages', () => {
    const t = parseRedisUrl('redis://:s%40cret@host:6379');
    expect(t).toMatchObject({ host: 'host', password: 's@cret', display: 'redis://:***@host:6379' });
    expect(t.username).toBeUndefined();
    expect(parseRedisUrl('rediss://alice:pw@host')).toMatchObject({ username: 'alice', password: 'pw', tls: true });
    expect(redisOptions(parseRedisUrl('rediss://:pw@host:1234/2'))).toMatchObject({ host: 'host', port: 1234, db: 2, password: 'pw', tls: { servername: 'host' }, maxRetriesPerRequest: null });
    expect(redisOptions(parseRedisUrl('redis://host')).tls).toBeUndefined();
  });

  it('rejects other schemes, bad ports and databases with the URL (password hidden)', () => {
    expect(() => parseRedisUrl('http://host:6379')).toThrow(/unsupported scheme http; expected redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('localhost:6379')).toThrow(QueueError);
    expect(() => parseRedisUrl('not a url')).toThrow(/is not a URL/);
    expect(() => parseRedisUrl('redis://host/99')).toThrow(/database must be an integer in 0\.\.15, got "99"/);
    expect(() => parseRedisUrl('redis://:pw@host/x')).toThrow(/redis:\/\/:\*\*\*@host\/x/);
    expect(() => parseRedisUrl('redis://host?db=1')).toThrow(/query strings/);
  });

  it('backs off exponentially from 100 ms to at most 2 s between reconnects, and never gives up by itself', () => {
    const retry = redisOptions(parseRedisUrl('redis://h')).retryStrategy as (n: number) => number;
    expect([1, 2, 3, 4, 5, 6, 50].map(retry)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });
});
