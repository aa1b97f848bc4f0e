import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import type { Clock, KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startRedisCluster, startRedisServer, uniquePrefix, type RedisClusterHandle, type RedisServerHandle } from '@lix/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { HybridConversationCache, sessionKeys, type ConversationMessage } from '../src/index.js';
import { startScriptedWriter, type ScriptedWriter } from './scripted-child.js';

// Each failure order of the issue, with real processes and real signals: a writer child
// acknowledges messages, Redis is killed, stopped or failed over under it, and a reader
// in this process (another process, as far as the writer is concerned) must never keep
// serving a window that misses a stored message. Where Redis shows the damage (an empty
// window) or the reader saw Redis fail, the repair is immediate; where nothing in Redis
// can show it (a failover or a killed writer that lost the last pushes, unseen by the
// reader) it comes within verifyIntervalMs, proved with the reader's injected clock.

const WINDOW = 5;
const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const contents = (messages: ConversationMessage[]) => messages.map((message) => message.content);
const lastWindow = (acked: string[]) => acked.slice(-WINDOW);

function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.now();
  return { now: () => now, advance: (ms) => void (now += ms) };
}

async function waitForRedis(driver: KVDriver): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await driver.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** Sends SIGSTOP or SIGCONT to a server process (a real pause, as a hung host would be). */
function signal(server: RedisServerHandle, name: 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(server.pid()!, name);
}

/** The window is the last messages of some prefix of the acknowledged history: stale at worst, never wrong. */
function expectPrefixWindow(window: ConversationMessage[], acked: string[]): void {
  const got = contents(window);
  const end = acked.indexOf(got[got.length - 1]!) + 1;
  expect(end, `window ${got.join(',')} is not from the history ${acked.join(',')}`).toBeGreaterThan(0);
  expect(got).toEqual(acked.slice(Math.max(0, end - WINDOW), end));
}

const drivers = [
  ['ioredis', createIoredisDriver],
  ['node-redis', createNodeRedisDriver],
] as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function archiveDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-sw-fail-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openArchive(dir: string): ConversationArchive {
  const archive = new ConversationArchive({ dir });
  cleanups.push(() => archive.close());
  return archive;
}

async function writer(job: Record<string, unknown>): Promise<ScriptedWriter> {
  const child = await startScriptedWriter(job);
  cleanups.push(async () => {
    child.child.kill('SIGKILL');
    await child.exited;
  });
  return child;
}

describe.each(drivers)('failure orders on a single node [%s]', (driverName, createDriver) => {
  const open = async (server: RedisServerHandle): Promise<KVDriver> => {
    const driver = createDriver({ host: server.host, port: server.port, commandTimeoutMs: 500, reconnectMaxDelayMs: 100 });
    cleanups.push(() => driver.close());
    await driver.connect();
    return driver;
  };
  const server = async (args: string[] = []): Promise<RedisServerHandle> => {
    const handle = await startRedisServer({ args });
    cleanups.push(() => handle.stop());
    return handle;
  };
  const job = (target: RedisServerHandle, dir: string, keyPrefix: string) => ({
    driver: driverName,
    single: { host: target.host, port: target.port },
    archiveDir: dir,
    keyPrefix,
    hotWindowSize: WINDOW,
  });

  it('a restart that emptied Redis: the empty window is rebuilt at once, without waiting for the interval', async () => {
    const redis = await server();
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swf');
    const child = await writer(job(redis, dir, keyPrefix));
    const acked: string[] = [];
    for (let i = 1; i <= 7; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    const driver = await open(redis);
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, verifyIntervalMs: HOUR });
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    await redis.restart();
    await waitForRedis(driver);
    const rebuildsBefore = (await reader.getStats()).rebuilds;
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    expect((await reader.getStats()).rebuilds).toBe(rebuildsBefore + 1);
  });

  it('an outage Redis survived with its data (AOF): a reader that saw it fail re-checks the archive at once', async () => {
    const redis = await server(['--appendonly', 'yes', '--appendfsync', 'always']);
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swf');
    const child = await writer(job(redis, dir, keyPrefix));
    const driver = await open(redis);
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, verifyIntervalMs: HOUR });
    const acked: string[] = [];
    for (let i = 1; i <= 5; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    await redis.kill('SIGKILL');
    // Acknowledged from the archive while Redis is down; the reader serves the archive.
    for (let i = 6; i <= 8; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    await redis.restart();
    await waitForRedis(driver);
    // Redis came back with m1..m5 from its AOF: complete-looking, and stale.
    expect((await driver.lrange(sessionKeys(keyPrefix, 's').hot, 0, -1)).length).toBe(5);
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
  });

  it('an outage Redis survived with its data (AOF): a reader that did not see it is exact within verifyIntervalMs', async () => {
    const redis = await server(['--appendonly', 'yes', '--appendfsync', 'always']);
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swf');
    const child = await writer(job(redis, dir, keyPrefix));
    const driver = await open(redis);
    const clock = manualClock();
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, clock });
    const acked: string[] = [];
    for (let i = 1; i <= 5; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    await redis.kill('SIGKILL');
    for (let i = 6; i <= 8; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    await redis.restart();
    await waitForRedis(driver);
    expectPrefixWindow(await reader.getContext(), acked);
    clock.advance(reader.verifyIntervalMs);
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    // Repaired in Redis too: a fresh process reads the exact window with no archive check.
    expect((await driver.lrange(sessionKeys(keyPrefix, 's').hot, 0, -1)).length).toBe(WINDOW);
  });

  for (const sawIt of [true, false]) {
    it(`a failover that lost the last acknowledged pushes (replica paused, master killed): ${sawIt ? 'a reader that saw the master die re-checks at once' : 'exact within verifyIntervalMs'}`, async () => {
      const master = await server();
      const replica = await server(['--replicaof', '127.0.0.1', String(master.port)]);
      const dir = archiveDir();
      const keyPrefix = uniquePrefix('swf');
      const child = await writer(job(master, dir, keyPrefix));
      const clock = manualClock();
      const archive = openArchive(dir);
      const options = { sessionId: 's', archive, keyPrefix, hotWindowSize: WINDOW, clock, ...(sawIt ? { verifyIntervalMs: HOUR } : {}) };
      const onMaster = new HybridConversationCache({ ...options, driver: await open(master) });
      const acked: string[] = [];
      for (let i = 1; i <= 3; i++) {
        acked.push(`m${i}`);
        await child.add('s', `m${i}`);
      }
      expect(await master.cli('wait', '1', '10000')).toContain('1');
      expect(contents(await onMaster.getContext())).toEqual(lastWindow(acked));
      // A paused replica still receives into its kernel socket buffer; dropping its link
      // while it is paused makes it really miss what follows.
      signal(replica, 'SIGSTOP');
      await master.cli('client', 'kill', 'type', 'replica');
      // Acknowledged, and pushed to the master only.
      for (let i = 4; i <= 6; i++) {
        acked.push(`m${i}`);
        await child.add('s', `m${i}`);
      }
      await master.kill('SIGKILL');
      signal(replica, 'SIGCONT');
      await replica.cli('replicaof', 'no', 'one');
      if (sawIt) expect(contents(await onMaster.getContext())).toEqual(lastWindow(acked));
      const onReplica = new HybridConversationCache({ ...options, driver: await open(replica) });
      expect((await replica.cli('llen', sessionKeys(keyPrefix, 's').hot)).trim()).toBe('3');
      if (!sawIt) {
        expectPrefixWindow(await onReplica.getContext(), acked);
        clock.advance(onReplica.verifyIntervalMs);
      }
      expect(contents(await onReplica.getContext())).toEqual(lastWindow(acked));
    });
  }

  it('a writer SIGKILLed between its archive append and its Redis push: the stored message reaches every reader', async () => {
    const redis = await server();
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swf');
    const victim = await writer(job(redis, dir, keyPrefix));
    const driver = await open(redis);
    const clock = manualClock();
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, clock });
    const stored: string[] = [];
    for (let i = 1; i <= 3; i++) {
      stored.push(`m${i}`);
      await victim.add('s', `m${i}`);
    }
    expect(contents(await reader.getContext())).toEqual(lastWindow(stored));
    await victim.dieOnPush();
    victim.send({ op: 'add', session: 's', content: 'm4' });
    expect((await victim.exited).signal).toBe('SIGKILL');
    stored.push('m4'); // in the archive, never acknowledged, never in Redis
    expect(
      contents(await new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW }).getFull()),
    ).toEqual(stored);
    expectPrefixWindow(await reader.getContext(), stored);
    clock.advance(reader.verifyIntervalMs);
    expect(contents(await reader.getContext())).toEqual(lastWindow(stored));
    // The next writer's push finds the gap in Redis and repairs it for everyone.
    const next = await writer(job(redis, dir, keyPrefix));
    stored.push('m5');
    expect(await next.add('s', 'm5')).toBe(5);
    expect((await driver.lrange(sessionKeys(keyPrefix, 's').hot, 0, -1)).length).toBe(WINDOW);
    const strictReader = new HybridConversationCache({
      sessionId: 's',
      driver,
      archive: openArchive(dir),
      keyPrefix,
      hotWindowSize: WINDOW,
      verifyIntervalMs: HOUR,
    });
    expect(contents(await strictReader.getContext())).toEqual(lastWindow(stored));
  });
});

/** The master serving `key`'s slot, and one of its replicas. */
async function slotOwners(cluster: RedisClusterHandle, key: string): Promise<{ master: RedisServerHandle; replica: RedisServerHandle }> {
  const slot = Number((await cluster.nodes[0]!.cli('cluster', 'keyslot', key)).trim());
  const nodes = await cluster.clusterNodes();
  const owner = nodes.find(
    (node) =>
      node.role === 'master' &&
      node.slots.some((range) => {
        const [from, to] = range.split('-').map(Number);
        return from !== undefined && slot >= from && slot <= (to ?? from);
      }),
  );
  if (owner === undefined) throw new Error(`no master serves slot ${slot}`);
  const [replicaPort] = await cluster.replicaPortsOf(owner.port);
  if (replicaPort === undefined) throw new Error(`master ${owner.port} has no replica`);
  return { master: cluster.nodeByPort(owner.port)!, replica: cluster.nodeByPort(replicaPort)! };
}

describe.each(drivers)('failure orders on a cluster [%s]', (driverName, createDriver) => {
  const start = async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
    cleanups.push(() => cluster.stop());
    const driver = createDriver({ cluster: { nodes: cluster.startupNodes }, commandTimeoutMs: 1000, reconnectMaxDelayMs: 100 });
    cleanups.push(() => driver.close());
    await driver.connect();
    return { cluster, driver };
  };
  const job = (cluster: RedisClusterHandle, dir: string, keyPrefix: string) => ({
    driver: driverName,
    cluster: cluster.startupNodes,
    archiveDir: dir,
    keyPrefix,
    hotWindowSize: WINDOW,
  });

  it('a failover that lost the last acknowledged pushes (replica paused, master killed, replica took over): exact within verifyIntervalMs', async () => {
    const { cluster, driver } = await start();
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swfc');
    const child = await writer(job(cluster, dir, keyPrefix));
    const clock = manualClock();
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, clock });
    const { master, replica } = await slotOwners(cluster, sessionKeys(keyPrefix, 's').hot);
    const acked: string[] = [];
    for (let i = 1; i <= 3; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    expect(await master.cli('wait', '1', '10000')).toContain('1');
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
    signal(replica, 'SIGSTOP');
    await master.cli('client', 'kill', 'type', 'replica');
    for (let i = 4; i <= 6; i++) {
      acked.push(`m${i}`);
      await child.add('s', `m${i}`);
    }
    await master.kill('SIGKILL');
    signal(replica, 'SIGCONT');
    await replica.cli('cluster', 'failover', 'takeover');
    await cluster.waitForFailover(master.port);
    expect((await replica.cli('llen', sessionKeys(keyPrefix, 's').hot)).trim()).toBe('3');
    // Whatever the first read after the failover sees (an error, or the stale window), the
    // window is exact once the interval has passed.
    let first: ConversationMessage[] | undefined;
    for (let attempt = 0; attempt < 50 && first === undefined; attempt++) {
      first = await reader.getContext().catch(async () => {
        await sleep(100);
        return undefined;
      });
    }
    expectPrefixWindow(first!, acked);
    clock.advance(reader.verifyIntervalMs);
    expect(contents(await reader.getContext())).toEqual(lastWindow(acked));
  });

  it('a writer SIGKILLed between its archive append and its Redis push: exact within verifyIntervalMs, and repaired by the next push', async () => {
    const { cluster, driver } = await start();
    const dir = archiveDir();
    const keyPrefix = uniquePrefix('swfc');
    const victim = await writer(job(cluster, dir, keyPrefix));
    const clock = manualClock();
    const reader = new HybridConversationCache({ sessionId: 's', driver, archive: openArchive(dir), keyPrefix, hotWindowSize: WINDOW, clock });
    const stored: string[] = [];
    for (let i = 1; i <= 6; i++) {
      stored.push(`m${i}`);
      await victim.add('s', `m${i}`);
    }
    expect(contents(await reader.getContext())).toEqual(lastWindow(stored));
    await victim.dieOnPush();
    victim.send({ op: 'add', session: 's', content: 'm7' });
    expect((await victim.exited).signal).toBe('SIGKILL');
    stored.push('m7');
    expectPrefixWindow(await reader.getContext(), stored);
    clock.advance(reader.verifyIntervalMs);
    expect(contents(await reader.getContext())).toEqual(lastWindow(stored));
    const next = await writer(job(cluster, dir, keyPrefix));
    stored.push('m8');
    expect(await next.add('s', 'm8')).toBe(8);
    const strictReader = new HybridConversationCache({
      sessionId: 's',
      driver,
      archive: openArchive(dir),
      keyPrefix,
      hotWindowSize: WINDOW,
      verifyIntervalMs: HOUR,
    });
    expect(contents(await strictReader.getContext())).toEqual(lastWindow(stored));
  });
});
