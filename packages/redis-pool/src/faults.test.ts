import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KVDriver } from './driver.js';
import { isKVError, type KVErrorCode } from './shared/errors.js';
import type { RedisConnectionOptions } from './clients/connection-options.js';
import { createIoredisDriver } from './ioredis.js';
import { createNodeRedisDriver } from './node-redis.js';

const bytes = (text: string) => new TextEncoder().encode(text);

type Factory = (options: RedisConnectionOptions) => KVDriver;
const drivers: [string, Factory][] = [
  ['ioredis', (options) => createIoredisDriver(options)],
  ['node-redis', (options) => createNodeRedisDriver(options)],
];

async function expectCode(promise: Promise<unknown>, code: KVErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, `expected a KVError ${code}`).toBeInstanceOf(Error);
  expect(isKVError(error) ? error.code : String(error)).toBe(code);
}

/** Polls until `attempt` resolves (the driver reconnects on its own; nothing is recreated). */
async function eventually(attempt: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe.each(drivers)('%s driver under faults', (_name, create) => {
  let server: RedisServerHandle;
  const open: KVDriver[] = [];
  const make = (options: RedisConnectionOptions = {}) => {
    const driver = create({ host: server.host, port: server.port, commandTimeoutMs: 1000, connectTimeoutMs: 1000, reconnectMaxDelayMs: 200, ...options });
    open.push(driver);
    return driver;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(open.map((driver) => driver.close()));
    await server.stop();
  });

  it('fails fast with CONNECTION_LOST while the server is down, then the same driver works again', async () => {
    const driver = make();
    const key = `${uniquePrefix()}:k`;
    await driver.set(key, bytes('before'));
    await server.kill();
    const started = Date.now();
    await expectCode(driver.get(key), 'CONNECTION_LOST');
    await expectCode(driver.set(key, bytes('x')), 'CONNECTION_LOST');
    await expectCode(driver.ping(), 'CONNECTION_LOST');
    expect(Date.now() - started).toBeLessThan(1000);
    await server.restart();
    await eventually(() => driver.ping());
    // The restarted server has no persistence: the old value is gone, writes work.
    expect(await driver.get(key)).toBeNull();
    await driver.set(key, bytes('after'));
    expect(await driver.get(key)).toEqual(bytes('after'));
  });

  it('rejects a command in flight with CONNECTION_LOST when the server is killed', async () => {
    const driver = make();
    await driver.ping();
    const pid = server.pid()!;
    process.kill(pid, 'SIGSTOP');
    // Settle into a value right away: the rejection arrives while the test awaits kill().
    const pending = driver.get(`${uniquePrefix()}:k`).then(
      () => Promise.resolve('resolved'),
      (error: unknown) => ({ failed: error }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.kill();
    const outcome = await pending;
    expect(typeof outcome === 'object' && isKVError(outcome.failed, 'CONNECTION_LOST')).toBe(true);
    await server.restart();
    await eventually(() => driver.ping());
  });

  it('gives TIMEOUT when a frozen server does not answer within commandTimeoutMs', async () => {
    const driver = make({ commandTimeoutMs: 300 });
    await driver.ping();
    const pid = server.pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      await expectCode(driver.get(`${uniquePrefix()}:k`), 'TIMEOUT');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually(() => driver.ping());
  });

  it('fails fast with CONNECTION_LOST when nothing listens from the start, without queueing', async () => {
    const port = await getFreePort();
    const driver = make({ port });
    const started = Date.now();
    await expectCode(driver.connect(), 'CONNECTION_LOST');
    const attempts = await Promise.all(Array.from({ length: 100 }, () => driver.get('k').catch((error: unknown) => error)));
    expect(attempts.every((error) => isKVError(error, 'CONNECTION_LOST'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('connects by itself once a server appears where none was at first', async () => {
    const port = await getFreePort();
    const driver = make({ port });
    await expectCode(driver.ping(), 'CONNECTION_LOST');
    const late = await startRedisServer({ port });
    try {
      await eventually(() => driver.ping());
      await driver.set('late:k', bytes('v'));
      expect(await driver.get('late:k')).toEqual(bytes('v'));
    } finally {
      await late.stop();
    }
  });
});

describe.each(drivers)('%s driver authentication', (_name, create) => {
  let secured: RedisServerHandle;
  let open: RedisServerHandle;
  const made: KVDriver[] = [];
  const make = (server: RedisServerHandle, options: RedisConnectionOptions) => {
    const driver = create({ host: server.host, port: server.port, connectTimeoutMs: 2000, ...options });
    made.push(driver);
    return driver;
  };

  beforeAll(async () => {
    [secured, open] = await Promise.all([startRedisServer({ password: 's3cret' }), startRedisServer()]);
    await secured.cli('ACL', 'SETUSER', 'alice', 'on', '>alice-pw', '~*', '+@all');
  });
  afterAll(async () => {
    await Promise.all(made.map((driver) => driver.close()));
    await Promise.all([secured.stop(), open.stop()]);
  });

  it('fails with AUTH_FAILED on a wrong password', async () => {
    await expectCode(make(secured, { password: 'wrong' }).ping(), 'AUTH_FAILED');
  });

  it('fails with AUTH_FAILED without a password where one is required', async () => {
    await expectCode(make(secured, {}).get('k'), 'AUTH_FAILED');
  });

  it('fails with AUTH_FAILED when a password is given to a server without one (no unauthenticated fallback)', async () => {
    await expectCode(make(open, { password: 'unexpected' }).ping(), 'AUTH_FAILED');
  });

  it('works with the right password, and with an ACL user from the URL', async () => {
    const byPassword = make(secured, { password: 's3cret' });
    await byPassword.set('auth:k', bytes('1'));
    const byUser = make(secured, { url: `redis://alice:alice-pw@${secured.host}:${secured.port}/0` });
    expect(await byUser.get('auth:k')).toEqual(bytes('1'));
    await expectCode(make(secured, { username: 'alice', password: 'nope' }).ping(), 'AUTH_FAILED');
  });
});

describe.each(drivers)('%s driver over TLS', (_name, create) => {
  let server: RedisServerHandle;
  let tlsPort: number;
  let dir: string;
  let ca: string;
  const made: KVDriver[] = [];

  beforeAll(async () => {
    // A self-signed certificate made here, so the test needs only the openssl CLI and a
    // redis-server built with TLS (Debian's is).
    dir = mkdtempSync(join(tmpdir(), 'lix-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tlsPort = await getFreePort();
    server = await startRedisServer({
      password: 'tls-pw',
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(dir, 'cert.pem'),
        '--tls-key-file',
        join(dir, 'key.pem'),
        '--tls-ca-cert-file',
        join(dir, 'cert.pem'),
        '--tls-auth-clients',
        'no',
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(made.map((driver) => driver.close()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('talks TLS with a trusted CA given through rediss:// and tls options', async () => {
    const driver = create({ url: `rediss://:tls-pw@127.0.0.1:${tlsPort}/3`, tls: { ca } });
    made.push(driver);
    await driver.set('tls:k', bytes('secret'));
    expect(await driver.get('tls:k')).toEqual(bytes('secret'));
  });

  it('refuses a server certificate it does not trust with CONNECTION_LOST', async () => {
    const driver = create({ host: '127.0.0.1', port: tlsPort, password: 'tls-pw', tls: true, connectTimeoutMs: 2000 });
    made.push(driver);
    await expectCode(driver.ping(), 'CONNECTION_LOST');
  });
});
