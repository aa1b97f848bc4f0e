import type { KVDriver, Logger } from '@lix/redis-pool';
import { isKVError } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startOutageTopology, uniquePrefix, type OutageTopology, type RedisConnection } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCacheError } from '../src/errors.js';
import { SemanticCache } from '../src/semantic-cache.js';
import { UrlEmbeddingCache } from '../src/url-embedding-cache.js';
import { randomVector, seededRandom, sleep } from './helpers.js';

/**
 * With Redis killed (single node, or every node of a cluster), both caches answer as if
 * empty, skip writes, and say so in the log and in their stats; `onBackendError: 'throw'`
 * gives the old rejection. Servers here are the test's own: it kills them.
 */

type Create = (options: RedisConnection & { commandTimeoutMs?: number; connectTimeoutMs?: number; reconnectMaxDelayMs?: number }) => KVDriver;
const clients: [string, Create][] = [
  ['ioredis', (options) => createIoredisDriver(options)],
  ['node-redis', (options) => createNodeRedisDriver(options)],
];
const kinds = ['single', 'cluster'] as const;

/** Outage codes a killed server may produce (in flight: TIMEOUT; afterwards: CONNECTION_LOST). */
const OUTAGE = new Set(['CONNECTION_LOST', 'TIMEOUT']);

class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; context: Record<string, unknown> | undefined }[] = [];
  debug(message: string, context?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, context });
  }
  warn(message: string, context?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, context });
  }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function eventually(attempt: () => Promise<unknown>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

describe.each(clients)('caches over %s while Redis is down', (_client, create) => {
  describe.each(kinds)('%s', (kind) => {
    let topology: OutageTopology;
    let driver: KVDriver;
    const random = seededRandom(14);

    beforeAll(async () => {
      topology = await startOutageTopology(kind);
      driver = create({ ...topology.connection, commandTimeoutMs: 1000, connectTimeoutMs: 1000, reconnectMaxDelayMs: 100 });
      await driver.connect();
    });
    afterAll(async () => {
      await driver.close();
      await topology.stop();
    });

    it('treats every read as a miss and every write as skipped, logs the outage once as a warning, counts each failure by code, and works again after a restart', async () => {
      const logger = new RecordingLogger();
      const sessionId = uniquePrefix();
      const semantic = new SemanticCache<string>({ driver, sessionId, logger });
      const urls = new UrlEmbeddingCache({ driver, modelId: 'outage-model', keyPrefix: `lix${sessionId}`, logger });
      const query = randomVector(random, 32);
      await semantic.set('https://a.example', query, 'stored while up');
      expect(await semantic.get('https://a.example', query)).toBe('stored while up');
      await urls.set('https://a.example', query);

      await topology.kill();
      expect(await semantic.get('https://a.example', query)).toBeNull();
      expect(await semantic.lookup('https://a.example', query)).toBeNull();
      await semantic.set('https://a.example', query, 'not stored');
      expect(await urls.get('https://a.example')).toBeNull();
      expect(await urls.batchGet(['https://a.example', 'https://b.example'])).toEqual([null, null]);
      await urls.set('https://b.example', query);
      await urls.batchSet([['https://c.example', query]]);

      const semanticStats = await semantic.getStats();
      expect(total(semanticStats.backendErrors), 'get, lookup, set and the stats scan each counted once').toBe(4);
      expect(Object.keys(semanticStats.backendErrors).every((code) => OUTAGE.has(code))).toBe(true);
      expect(semanticStats.storedEntries).toBeNull();
      expect(semanticStats.misses).toBe(2);
      expect(semanticStats.sets).toBe(1);
      const urlStats = await urls.getStats();
      expect(total(urlStats.backendErrors)).toBe(4);
      expect(Object.keys(urlStats.backendErrors).every((code) => OUTAGE.has(code))).toBe(true);
      expect(urlStats.misses).toBe(3);
      expect(urlStats.sets).toBe(1);
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      expect(warnings.map((line) => line.message)).toEqual([
        'semantic-cache: backend failure, treated as a miss until it answers again',
        'url-embedding-cache: backend failure, treated as a miss until it answers again',
      ]);
      expect(logger.lines.filter((line) => line.level === 'debug' && line.message.includes('backend failure')).length).toBe(6);

      await topology.restart();
      await eventually(() => driver.ping());
      await semantic.set('https://a.example', query, 'stored after');
      expect(await semantic.get('https://a.example', query)).toBe('stored after');
      expect(logger.lines.some((line) => line.message === 'semantic-cache: backend answers again')).toBe(true);
    });

    it("rejects with BACKEND_ERROR, the KVError as cause, with onBackendError: 'throw'", async () => {
      const sessionId = uniquePrefix();
      const semantic = new SemanticCache<string>({ driver, sessionId, onBackendError: 'throw' });
      const urls = new UrlEmbeddingCache({ driver, modelId: 'outage-model', onBackendError: 'throw' });
      const query = randomVector(random, 32);
      await topology.kill();
      try {
        for (const call of [
          () => semantic.get('https://a.example', query),
          () => semantic.set('https://a.example', query, 'x'),
          () => semantic.getStats(),
          () => urls.get('https://a.example'),
          () => urls.batchSet([['https://a.example', query]]),
        ]) {
          const error = await call().then(
            () => undefined,
            (reason: unknown) => reason,
          );
          expect(error).toBeInstanceOf(SemanticCacheError);
          expect((error as SemanticCacheError).code).toBe('BACKEND_ERROR');
          expect(isKVError((error as SemanticCacheError).cause)).toBe(true);
        }
        expect(total((await semantic.getStats({ countStored: false })).backendErrors)).toBe(3);
      } finally {
        await topology.restart();
        await eventually(() => driver.ping());
      }
    });

    it('answers a frozen server within backendTimeoutMs, even when the driver would wait a minute', async () => {
      const patient = create({ ...topology.connection, commandTimeoutMs: 60_000, connectTimeoutMs: 60_000 });
      try {
        await patient.connect();
        const semantic = new SemanticCache<string>({ driver: patient, sessionId: uniquePrefix(), backendTimeoutMs: 200 });
        const urls = new UrlEmbeddingCache({ driver: patient, modelId: 'outage-model', backendTimeoutMs: 200 });
        const query = randomVector(random, 32);
        topology.freeze();
        try {
          expect(await semantic.get('https://a.example', query)).toBeNull();
          await semantic.set('https://a.example', query, 'x');
          expect(await urls.get('https://a.example')).toBeNull();
        } finally {
          topology.thaw();
        }
        expect((await semantic.getStats({ countStored: false })).backendErrors).toEqual({ TIMEOUT: 2 });
        expect((await urls.getStats()).backendErrors).toEqual({ TIMEOUT: 1 });
      } finally {
        await patient.close();
      }
    });
  });
});
