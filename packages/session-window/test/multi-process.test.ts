import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { uniquePrefix } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HybridConversationCache } from '../src/index.js';
import { startWriter, type Ack, type WriterChild } from './child.js';

const servers = inject('lixRedis');

const topologies = [
  { name: 'ioredis, single node', driver: 'ioredis' as const, single: servers.single },
  { name: 'node-redis, cluster', driver: 'node-redis' as const, cluster: servers.cluster },
];

async function finished(writer: WriterChild): Promise<void> {
  const { code, signal } = await writer.exited;
  if (code !== 0) throw new Error(`writer exited with ${code ?? signal}: ${writer.stderr()}`);
}

describe.each(topologies)('writer processes [$name]', (topology) => {
  let dir: string;
  let archive: ConversationArchive;
  let driver: KVDriver;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lix-sw-mp-'));
    archive = new ConversationArchive({ dir });
    const create = topology.driver === 'ioredis' ? createIoredisDriver : createNodeRedisDriver;
    driver = create(topology.cluster ? { cluster: { nodes: topology.cluster } } : { host: topology.single!.host, port: topology.single!.port });
    await driver.connect();
  });
  afterAll(async () => {
    await driver.close();
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const job = (label: string, sessions: string[], count: number, keyPrefix: string, hotWindowSize = 5) => ({
    driver: topology.driver,
    single: topology.single,
    cluster: topology.cluster,
    archiveDir: dir,
    keyPrefix,
    sessions,
    count,
    label,
    hotWindowSize,
  });

  it('two processes writing to the same session and to their own lose and duplicate nothing', async () => {
    const keyPrefix = uniquePrefix('swmp');
    const writers = [startWriter(job('A', ['shared', 'own-A'], 60, keyPrefix)), startWriter(job('B', ['shared', 'own-B'], 60, keyPrefix))];
    await Promise.all(writers.map(finished));
    const [a, b] = writers as [WriterChild, WriterChild];
    const sharedAcks = [...a.acks, ...b.acks].filter((ack) => ack.session === 'shared').sort((x, y) => x.seq - y.seq);
    expect(sharedAcks.map((ack) => ack.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const shared = new HybridConversationCache({ sessionId: 'shared', driver, archive, keyPrefix, hotWindowSize: 5 });
    const full = await shared.getFull();
    expect(full.map((m) => [m.seq, m.content])).toEqual(sharedAcks.map((ack) => [ack.seq, ack.content]));
    // Each process's messages are in the order it wrote them.
    expect(full.map((m) => m.content).filter((c) => c.startsWith('A-'))).toEqual(a.acks.filter((x) => x.session === 'shared').map((x) => x.content));
    expect((await shared.getContext()).map((m) => m.content)).toEqual(sharedAcks.slice(-5).map((ack) => ack.content));
    for (const writer of [a, b]) {
      const own = writer.acks.filter((ack) => ack.session !== 'shared');
      const cache = new HybridConversationCache({ sessionId: own[0]!.session, driver, archive, keyPrefix, hotWindowSize: 5 });
      expect((await cache.getFull()).map((m) => m.content)).toEqual(own.map((ack) => ack.content));
      expect((await cache.getContext()).map((m) => m.content)).toEqual(own.slice(-5).map((ack) => ack.content));
    }
  });

  it('writers SIGKILLed during overflow lose no acknowledged message and duplicate none', async () => {
    const keyPrefix = uniquePrefix('swkill');
    const trials = 5;
    const acked: Ack[] = [];
    let unacked = 0;
    for (let trial = 0; trial < trials; trial++) {
      const writer = startWriter(job(`k${trial}`, ['victim'], 100_000, keyPrefix, 3));
      const killAfter = 3 + ((trial * 7) % 11);
      await new Promise<void>((resolve) => {
        writer.onAck(() => {
          if (writer.acks.length === killAfter) {
            writer.child.kill('SIGKILL');
            resolve();
          }
        });
        void writer.exited.then(() => resolve());
      });
      const { signal } = await writer.exited;
      expect(signal, writer.stderr()).toBe('SIGKILL');
      acked.push(...writer.acks);
      // The message in flight at the kill may be stored without its ack; at most one.
      const full = await archive.loadAll('victim');
      unacked = full.length - acked.length;
      expect(unacked === 0 || unacked === 1).toBe(true);
      if (unacked === 1) acked.push({ session: 'victim', seq: full[full.length - 1]!.seq, content: full[full.length - 1]!.content });
    }
    const cache = new HybridConversationCache({ sessionId: 'victim', driver, archive, keyPrefix, hotWindowSize: 3 });
    const full = await cache.getFull();
    expect(full.map((m) => [m.seq, m.content])).toEqual(acked.map((ack) => [ack.seq, ack.content]));
    expect(full.map((m) => m.seq)).toEqual(Array.from({ length: full.length }, (_, i) => i + 1));
    expect((await cache.getContext()).map((m) => m.content)).toEqual(acked.slice(-3).map((ack) => ack.content));
  });
});
