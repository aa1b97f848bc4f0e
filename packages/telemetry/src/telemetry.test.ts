import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { defineScript, KVError } from '@lix/redis-pool';
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { instrumentArchiveStore } from './archive.js';
import { instrumentDriver } from './driver.js';
import { TelemetryError } from './errors.js';
import { instrumentSessionWindow, instrumentUrlEmbeddingCache } from './layers.js';
import { loadOtelApi, setOtelApiForTesting } from './load-api.js';
import { METRICS } from './metric-names.js';
import { createTestSdk, total } from '@lix/test-utils/otel';
import { Telemetry, resolveTelemetry } from './telemetry.js';

const sdk = createTestSdk();
const telemetry = { meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider };
afterAll(() => sdk.shutdown());

describe('resolveTelemetry', () => {
  afterEach(() => setOtelApiForTesting(undefined));

  it('is disabled (a no-op) when @opentelemetry/api is not installed and no provider is given', () => {
    setOtelApiForTesting(null);
    const resolved = resolveTelemetry(undefined, 'x');
    expect(resolved.enabled).toBe(false);
    const driver = createMemoryDriver();
    // Disabled wrappers hand back the very object: nothing to pay on the hot path.
    expect(instrumentDriver(driver)).toBe(driver);
  });

  it('uses the global API when it is installed, and false turns it off', () => {
    expect(loadOtelApi()).not.toBeNull();
    expect(resolveTelemetry(undefined, 'x').enabled).toBe(true);
    expect(resolveTelemetry(false, 'x')).toBe(Telemetry.disabled);
  });

  it('with the global API, stays inactive (calls straight through) until an SDK registers, then reports through it', async () => {
    const driver = createMemoryDriver();
    const instrumented = instrumentDriver(driver);
    expect(instrumented).not.toBe(driver);
    expect(resolveTelemetry(undefined, '@lix/redis-pool').active()).toBe(false);
    await instrumented.set('before', new Uint8Array([1]));
    const global = createTestSdk();
    metrics.setGlobalMeterProvider(global.meterProvider);
    trace.setGlobalTracerProvider(global.tracerProvider);
    try {
      expect(resolveTelemetry(undefined, '@lix/redis-pool').active()).toBe(true);
      await instrumented.get('before');
      const points = (await global.metrics()).get(METRICS.dbOperationDuration.name);
      expect(total(points, { 'db.operation.name': 'GET' })).toBe(1);
      expect(total(points, { 'db.operation.name': 'SET' })).toBe(0);
      expect(global.spans().map((span) => span.name)).toEqual(['GET']);
    } finally {
      metrics.disable();
      trace.disable();
      await global.shutdown();
      await driver.close();
    }
    expect(resolveTelemetry(undefined, '@lix/redis-pool').active()).toBe(false);
  });

  it('shares one instance per provider and scope, so per-session layers do not create instruments per session', () => {
    expect(resolveTelemetry(telemetry, 'a')).toBe(resolveTelemetry({ ...telemetry }, 'a'));
    expect(resolveTelemetry(telemetry, 'a')).not.toBe(resolveTelemetry(telemetry, 'b'));
  });

  it('rejects unknown option keys and providers without their method with typed errors', () => {
    expect(() => resolveTelemetry({ meter: {} } as never, 'x')).toThrow(TelemetryError);
    expect(() => resolveTelemetry({ meterProvider: {} } as never, 'x')).toThrow(TelemetryError);
    expect(() => resolveTelemetry('yes' as never, 'x')).toThrow(TelemetryError);
    expect(() => instrumentDriver(createMemoryDriver(), { telemetry, extra: 1 } as never)).toThrow(TelemetryError);
    expect(() => instrumentDriver({} as never, { telemetry })).toThrow(TelemetryError);
    expect(() => instrumentArchiveStore({} as never, { telemetry })).toThrow(TelemetryError);
  });
});

describe('instrumentDriver', () => {
  it('reports a CLIENT span and db.client.operation.duration per command, with error.type on failure', async () => {
    const driver = instrumentDriver(createMemoryDriver(), { telemetry });
    await driver.set('k', new Uint8Array([1]));
    expect(await driver.get('k')).toEqual(new Uint8Array([1]));
    const failing = defineScript({
      name: 'test:fails',
      lua: 'return 1',
      memory: () => {
        throw new KVError('SCRIPT_ERROR', 'boom');
      },
    });
    await expect(driver.eval(failing, ['k'], [])).rejects.toThrow('boom');
    const metrics = await sdk.metrics();
    const duration = metrics.get(METRICS.dbOperationDuration.name);
    expect(duration?.unit).toBe('s');
    expect(total(duration, { 'db.operation.name': 'GET', 'db.system.name': 'lix-memory' })).toBeGreaterThanOrEqual(1);
    expect(total(duration, { 'db.operation.name': 'EVALSHA', 'error.type': 'SCRIPT_ERROR', 'lix.kv.script': 'test:fails' })).toBe(1);
    const spans = sdk.spans();
    expect(spans.some((span) => span.name === 'GET' && span.kind === 2)).toBe(true);
    const failed = spans.find((span) => span.name === 'EVALSHA' && span.attributes['lix.kv.script'] === 'test:fails');
    expect(failed?.status.code).toBe(2);
    await driver.close();
  });
});

describe('instrumentArchiveStore', () => {
  it('reports append, load and compaction durations, turns appended and loaded, and window rebuilds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lix-telemetry-'));
    try {
      const archive = new ConversationArchive({ dir });
      const store = instrumentArchiveStore(archive, { telemetry, countWindowRebuilds: true });
      await store.appendTurns('s1', [
        { role: 'user', content: 'hello', timestamp: 1 },
        { role: 'assistant', content: 'hi', timestamp: 2 },
      ]);
      expect(await store.loadRecent('s1', 1)).toHaveLength(1);
      expect(await store.loadAfter('s1', 0)).toHaveLength(2);
      await store.compact('s1');
      await store.close();
      const metrics = await sdk.metrics();
      expect(total(metrics.get(METRICS.archiveAppendDuration.name))).toBe(1);
      expect(total(metrics.get(METRICS.archiveAppendedTurns.name))).toBe(2);
      expect(total(metrics.get(METRICS.archiveLoadDuration.name))).toBe(2);
      expect(total(metrics.get(METRICS.archiveLoadedTurns.name))).toBe(3);
      expect(total(metrics.get(METRICS.archiveCompactionDuration.name))).toBe(1);
      expect(total(metrics.get(METRICS.sessionWindowRebuilds.name))).toBe(2);
      const names = sdk.spans().map((span) => span.name);
      expect(names).toEqual(expect.arrayContaining(['lix.archive.appendTurns', 'lix.archive.loadRecent', 'lix.archive.compact']));
      expect(sdk.spans().find((span) => span.name === 'lix.archive.appendTurns')?.attributes['lix.session.id']).toBe('s1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes the appends' options (signal) through to the store", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lix-telemetry-'));
    try {
      const store = instrumentArchiveStore(new ConversationArchive({ dir }), { telemetry });
      const reason = new Error('gone');
      const aborted = await store.appendTurn('s2', { role: 'user', content: 'never' }, { signal: AbortSignal.abort(reason) }).catch((error: unknown) => error);
      expect((aborted as { code?: string }).code).toBe('ABORTED');
      expect((aborted as Error).cause).toBe(reason);
      const live = new AbortController().signal;
      expect((await store.appendTurns('s2', [{ role: 'user', content: 'one' }], { signal: live })).seqs).toEqual([1]);
      expect((await store.loadAll('s2')).map((turn) => turn.content)).toEqual(['one']);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('instrumentSessionWindow and instrumentUrlEmbeddingCache', () => {
  it('report spans and durations per call, and URL cache hits and misses per URL', async () => {
    const window = instrumentSessionWindow({ addMessage: async () => 1, getContext: async () => [], getStats: async () => ({}) }, { telemetry });
    await window.addMessage();
    await window.getContext();
    const urls = instrumentUrlEmbeddingCache(
      {
        get: async (url: string) => (url === 'known' ? new Float32Array(1) : null),
        batchGet: async (list: readonly string[]) => list.map((url) => (url === 'known' ? new Float32Array(1) : null)),
      },
      { telemetry },
    );
    await urls.get('known');
    await urls.batchGet(['known', 'a', 'b']);
    const metrics = await sdk.metrics();
    expect(total(metrics.get(METRICS.sessionWindowOperationDuration.name), { 'lix.operation': 'addMessage' })).toBe(1);
    expect(total(metrics.get(METRICS.urlCacheHits.name))).toBe(2);
    expect(total(metrics.get(METRICS.urlCacheMisses.name))).toBe(2);
    expect(sdk.spans().some((span) => span.name === 'lix.session_window.getContext')).toBe(true);
  });
});

describe('METRICS', () => {
  it('names every metric in OpenTelemetry semantic-convention style with a unit', () => {
    for (const metric of Object.values(METRICS)) {
      expect(metric.name).toMatch(/^(lix|db)\.[a-z_]+(\.[a-z_]+)+$/);
      if (metric.name.endsWith('.duration')) expect(metric.unit).toBe('s');
      else expect(metric.unit).toMatch(/^(\{[a-z]+\}|1)$/);
    }
  });
});
