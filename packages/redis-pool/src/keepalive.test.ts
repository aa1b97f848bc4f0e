import { execFileSync } from 'node:child_process';
import { startRedisServer, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KVDriver } from './driver.js';
import { createIoredisDriver } from './ioredis.js';
import { createNodeRedisDriver } from './node-redis.js';
import type { RedisConnectionOptions } from './clients/connection-options.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

/** The kernel's view of the sockets to the server (`ss -o` shows a keepalive timer on those that probe), by local address. */
function socketTimers(port: number): Map<string, string> {
  const text = execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return new Map(lines.map((line) => [line.trim().split(/\s+/)[2]!, line]));
}

/** The sockets that `open` created: the test harness keeps connections of its own to the server. */
async function newSockets(port: number, open: () => Promise<void>): Promise<string[]> {
  const before = socketTimers(port);
  await open();
  return [...socketTimers(port)].filter(([local]) => !before.has(local)).map(([, line]) => line);
}

const factories: [string, (options: RedisConnectionOptions) => KVDriver][] = [
  ['ioredis', (options) => createIoredisDriver(options)],
  ['node-redis', (options) => createNodeRedisDriver(options)],
];

describe.each(factories)('%s TCP keep-alive', (_name, create) => {
  it('probes after keepAliveMs by default and not at all with keepAliveMs: false', async () => {
    const on = create({ host: server.host, port: server.port, keepAliveMs: 7000 });
    const withProbes = await newSockets(server.port, () => on.ping());
    expect(withProbes.length).toBeGreaterThan(0);
    // The first probe is due within the 7 s asked for (ss prints e.g. "6.984ms" or "6sec"),
    // not after the kernel's default of two hours ("119min").
    expect(withProbes.every((line) => /timer:\(keepalive,[0-7](\.\d+)?(ms|sec),/.test(line))).toBe(true);
    await on.close();

    const off = create({ host: server.host, port: server.port, keepAliveMs: false });
    const without = await newSockets(server.port, () => off.ping());
    expect(without.length).toBeGreaterThan(0);
    expect(without.some((line) => /timer:\(keepalive,/.test(line))).toBe(false);
    await off.close();
  });

  it('refuses a keepAliveMs that is not a positive integer or false', () => {
    for (const keepAliveMs of [0, -1, 1.5, true, '1000']) {
      expect(() => create({ host: server.host, port: server.port, keepAliveMs: keepAliveMs as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
