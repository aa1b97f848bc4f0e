import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS } from '@lix/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestSdk, total } from '@lix/test-utils/otel';
import { createCacheRuntime } from './standard.js';

const sdk = createTestSdk();
afterAll(() => sdk.shutdown());

function vector(seed: number): Float32Array {
  const out = new Float32Array(8);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(seed * 31 + i);
  return out;
}

describe('createCacheRuntime with telemetry', () => {
  it("gives every layer's public operations spans and metrics: window, archive, semantic cache, URL cache, driver", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lix-coord-otel-'));
    const runtime = createCacheRuntime({
      config: { driver: 'memory', archiveDir: dir },
      idleEviction: false,
      telemetry: { meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider },
    });
    try {
      const session = runtime.forSession('otel-session');
      await session.addMessageToContext('user', 'hello');
      await session.getContextMessages();
      expect(await session.getSemanticResponse('https://a', vector(1))).toBeNull();
      await session.cacheSemanticResponse('https://a', vector(1), { text: 'cached' });
      expect(await session.getSemanticResponse('https://a', vector(1))).toEqual({ text: 'cached' });
      await session.cacheUrlEmbedding('https://a', vector(2));
      expect(await session.getUrlEmbedding('https://a')).not.toBeNull();
      // Dropping the hot window makes the next read rebuild it from the archive.
      await session.clearContext();
      expect(await session.getContextMessages()).toHaveLength(1);
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
    const names = new Set(sdk.spans().map((span) => span.name));
    for (const expected of [
      'lix.session_window.addMessage',
      'lix.session_window.getContext',
      'lix.archive.appendTurn',
      'lix.semantic_cache.lookup',
      'lix.semantic_cache.set',
      'lix.url_embedding_cache.get',
      'lix.url_embedding_cache.set',
      'EVALSHA',
    ]) {
      expect([...names].some((name) => name === expected || name.startsWith(expected))).toBe(true);
    }
    const metrics = await sdk.metrics();
    expect(total(metrics.get(METRICS.semanticCacheHits.name))).toBe(1);
    expect(total(metrics.get(METRICS.semanticCacheMisses.name))).toBe(1);
    expect(total(metrics.get(METRICS.urlCacheHits.name))).toBe(1);
    expect(total(metrics.get(METRICS.archiveAppendDuration.name))).toBeGreaterThanOrEqual(1);
    expect(total(metrics.get(METRICS.dbOperationDuration.name))).toBeGreaterThan(0);
    expect(total(metrics.get(METRICS.sessionWindowOperationDuration.name), { 'lix.operation': 'addMessage' })).toBe(1);
    expect(total(metrics.get(METRICS.sessionWindowRebuilds.name))).toBeGreaterThanOrEqual(1);
  });

  it('with telemetry: false reports nothing', async () => {
    const before = sdk.spans().length;
    const runtime = createCacheRuntime({
      config: { driver: 'memory', archiveDir: await mkdtemp(join(tmpdir(), 'lix-coord-quiet-')) },
      idleEviction: false,
      telemetry: false,
    });
    try {
      await runtime.forSession('quiet').addMessageToContext('user', 'hello');
    } finally {
      await runtime.close();
    }
    expect(sdk.spans().length).toBe(before);
  });
});
