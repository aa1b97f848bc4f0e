import { describeEachDriver, type DriverTarget } from '@lix/driver-matrix';
import { systemClock, type Clock, type KVDriver, type KVScript } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { beforeAll, expect, it } from 'vitest';
import { ManualClock, randomVector, seededRandom, sleep } from '../test/helpers.js';
import { SemanticCacheError } from './errors.js';
import { unpackEntryValue } from './entry-value.js';
import { parseEntryMeta } from './expiry.js';
import { decodeResponse } from './serialization.js';
import { scopeKeys } from './keys.js';
import { invalidateScopeScript } from './policy-scripts.js';
import { setEntryScript } from './scripts.js';
import { SemanticCache, type SemanticCacheOptions } from './semantic-cache.js';

interface Env {
  driver: KVDriver;
  clock: Clock;
  /** The manual clock on the memory target, real sleeps on Redis. */
  advance(ms: number): Promise<void>;
}

function setup(target: DriverTarget): Env {
  const env = {} as Env;
  beforeAll(async () => {
    if (target.kind === 'memory') {
      const clock = new ManualClock();
      env.clock = clock;
      env.advance = async (ms) => clock.advance(ms);
      env.driver = await target.createDriver({ clock });
    } else {
      env.clock = systemClock;
      env.advance = sleep;
      env.driver = await target.createDriver();
    }
  });
  return env;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SemanticCacheError);
  return (error as SemanticCacheError).code;
}

/** A driver that holds back the first eval of `script` until released, to stage a race deterministically. */
function pausingDriver(driver: KVDriver, script: KVScript): { driver: KVDriver; reached: Promise<void>; release(): void } {
  let release!: () => void;
  let reachedResolve!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reachedResolve = resolve));
  let paused = false;
  const wrapped = new Proxy(driver, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'eval') return typeof value === 'function' ? value.bind(target) : value;
      return async (used: KVScript, keys: string[], args: unknown[]) => {
        if (used === script && !paused) {
          paused = true;
          reachedResolve();
          await gate;
        }
        return target.eval(used, keys, args as never);
      };
    },
  });
  return { driver: wrapped, reached, release };
}

describeEachDriver('SemanticCache expiry modes and tags', (target) => {
  const env = setup(target);
  const random = seededRandom(17);
  const cache = (overrides: Partial<SemanticCacheOptions> = {}, prefix = uniquePrefix('pol')) =>
    new SemanticCache<{ answer: string }>({ driver: env.driver, sessionId: 'session-1', keyPrefix: prefix, clock: env.clock, ...overrides });

  // Real-time margins on Redis: 1000 ms entries checked 600 ms apart leave 400 ms for an
  // oversleeping loaded machine before a "still live" check could be wrong.
  it('a sliding entry outlives its TTL while it is hit, then expires one TTL after the last hit', async () => {
    const prefix = uniquePrefix('pol');
    const layer = cache({ expiry: 'sliding', ttlMs: 1000 }, prefix);
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'slides' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'slides' });
    await env.advance(600);
    // 1200 ms after the write: an absolute entry would be gone.
    expect(await layer.get('u', query)).toEqual({ answer: 'slides' });
    expect(await env.driver.pttl(scopeKeys(prefix, 'session', 'session-1', 'u').vectors)).toBeGreaterThan(400);
    await env.advance(1100);
    expect(await layer.get('u', query)).toBeNull();
  });

  it("an entry set with expiry 'absolute' in a sliding cache never refreshes on hit", async () => {
    const layer = cache({ expiry: 'sliding', ttlMs: 1000 });
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'fixed' }, { expiry: 'absolute' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'fixed' });
    await env.advance(600);
    expect(await layer.get('u', query)).toBeNull();
  });

  it('an absolute cache never extends its entries on hit', async () => {
    const layer = cache({ ttlMs: 1000 });
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'absolute' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'absolute' });
    await env.advance(600);
    expect(await layer.get('u', query)).toBeNull();
  });

  it("an entry set with expiry 'sliding' slides in an absolute cache", async () => {
    const layer = cache({ ttlMs: 1000 });
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'slides' }, { expiry: 'sliding' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'slides' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'slides' });
  });

  it('a sliding entry never lives past maxAgeMs from its write, however often it is hit', async () => {
    const layer = cache({ expiry: 'sliding', ttlMs: 1000, maxAgeMs: 1500 });
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'capped' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'capped' });
    await env.advance(600);
    expect(await layer.get('u', query)).toEqual({ answer: 'capped' });
    await env.advance(600);
    expect(await layer.get('u', query)).toBeNull();
  });

  it('a per-entry ttlMs on set overrides the cache TTL for that entry only', async () => {
    const layer = cache({ ttlMs: 5000 });
    const short = randomVector(random);
    const long = randomVector(random);
    await layer.set('u', short, { answer: 'short' }, { ttlMs: 300 });
    await layer.set('u', long, { answer: 'long' });
    await env.advance(700);
    expect(await layer.get('u', short)).toBeNull();
    expect(await layer.get('u', long)).toEqual({ answer: 'long' });
  });

  it('invalidate({ tags }) removes every entry carrying any of the tags, in every session and the shared scope, and keeps the rest', async () => {
    const prefix = uniquePrefix('pol');
    const alice = cache({ sessionId: 'alice' }, prefix);
    const bob = cache({ sessionId: 'bob' }, prefix);
    const shared = cache({ scope: 'shared' }, prefix);
    const [a1, a2, b1, s1, keep] = Array.from({ length: 5 }, () => randomVector(random));
    await alice.set('https://docs/1', a1!, { answer: 'a1' }, { tags: ['doc:1', 'tenant:x'] });
    await alice.set('https://docs/2', a2!, { answer: 'a2' }, { tags: ['doc:2'] });
    await bob.set('https://docs/1', b1!, { answer: 'b1' }, { tags: ['doc:1'] });
    await shared.set('https://docs/3', s1!, { answer: 's1' }, { tags: ['tenant:x'] });
    await alice.set('https://docs/1', keep!, { answer: 'keep' }, { tags: ['doc:9'] });
    const result = await alice.invalidate({ tags: ['doc:1', 'tenant:x'] });
    expect(result.removed).toBe(3);
    expect(await alice.get('https://docs/1', a1!)).toBeNull();
    expect(await bob.get('https://docs/1', b1!)).toBeNull();
    expect(await shared.get('https://docs/3', s1!)).toBeNull();
    expect(await alice.get('https://docs/2', a2!)).toEqual({ answer: 'a2' });
    expect(await alice.get('https://docs/1', keep!)).toEqual({ answer: 'keep' });
    expect((await alice.getStats({ countStored: false })).invalidated).toBe(3);
    expect(await alice.invalidate({ tags: ['doc:1'] })).toEqual({ removed: 0, scopes: 0 });
  });

  it("invalidate({ url }) removes that URL's entries in every scope and no other URL's", async () => {
    const prefix = uniquePrefix('pol');
    const alice = cache({ sessionId: 'alice' }, prefix);
    const bob = cache({ sessionId: 'bob' }, prefix);
    const [a, b, other] = Array.from({ length: 3 }, () => randomVector(random));
    await alice.set('https://stale.page', a!, { answer: 'a' });
    await bob.set('https://stale.page', b!, { answer: 'b' });
    await bob.set('https://fresh.page', other!, { answer: 'other' });
    expect(await alice.invalidate({ url: 'https://stale.page' })).toEqual({ removed: 2, scopes: 2 });
    expect(await alice.get('https://stale.page', a!)).toBeNull();
    expect(await bob.get('https://stale.page', b!)).toBeNull();
    expect(await bob.get('https://fresh.page', other!)).toEqual({ answer: 'other' });
  });

  it('an entry set with a tag after its invalidation is stored again', async () => {
    const layer = cache();
    const query = randomVector(random);
    await layer.set('u', query, { answer: 'old' }, { tags: ['doc'] });
    await layer.invalidate({ tags: ['doc'] });
    await layer.set('u', query, { answer: 'new' }, { tags: ['doc'] });
    expect(await layer.get('u', query)).toEqual({ answer: 'new' });
    expect((await layer.getStats({ countStored: false })).staleSets).toBe(0);
  });

  it('a set that registered its tag before an invalidation and writes after it is refused, never resurrecting the old entry', async () => {
    const prefix = uniquePrefix('pol');
    const paused = pausingDriver(env.driver, setEntryScript);
    const writer = new SemanticCache<{ answer: string }>({ driver: paused.driver, sessionId: 's', keyPrefix: prefix, clock: env.clock });
    const reader = cache({ sessionId: 's' }, prefix);
    const query = randomVector(random);
    const pending = writer.set('u', query, { answer: 'stale' }, { tags: ['doc'] });
    await paused.reached;
    await reader.invalidate({ tags: ['doc'] });
    paused.release();
    await pending;
    expect(await reader.get('u', query)).toBeNull();
    expect((await writer.getStats({ countStored: false })).staleSets).toBe(1);
  });

  it('a set made while an invalidation is between scopes survives it (it registered after the generation moved)', async () => {
    const prefix = uniquePrefix('pol');
    const paused = pausingDriver(env.driver, invalidateScopeScript);
    const invalidator = new SemanticCache<{ answer: string }>({ driver: paused.driver, sessionId: 's', keyPrefix: prefix, clock: env.clock });
    const layer = cache({ sessionId: 's' }, prefix);
    const old = randomVector(random);
    const fresh = randomVector(random);
    await layer.set('u', old, { answer: 'old' }, { tags: ['doc'] });
    const invalidation = invalidator.invalidate({ tags: ['doc'] });
    await paused.reached;
    await layer.set('u', fresh, { answer: 'fresh' }, { tags: ['doc'] });
    paused.release();
    expect((await invalidation).removed).toBe(1);
    expect(await layer.get('u', old)).toBeNull();
    expect(await layer.get('u', fresh)).toEqual({ answer: 'fresh' });
    // And it is still indexed: the next invalidation finds it.
    expect((await layer.invalidate({ tags: ['doc'] })).removed).toBe(1);
  });

  it('stores each entry with its expiry mode, tags and their generations in front of its response', async () => {
    const prefix = uniquePrefix('pol');
    const layer = cache({}, prefix);
    await layer.set('u', randomVector(random), { answer: 'x' }, { tags: ['doc:1'], expiry: 'sliding', ttlMs: 1000, maxAgeMs: 5000 });
    const fields = await env.driver.hgetall(scopeKeys(prefix, 'session', 'session-1', 'u').responses);
    // The meta rides in front of the response, in the same field: a hit reads both with one HGET.
    expect(Object.keys(fields).sort()).toEqual(['#', '00000001']);
    const { meta: text, response } = unpackEntryValue(fields['00000001']!);
    expect(decodeResponse(response)).toEqual({ answer: 'x' });
    const meta = parseEntryMeta(text!);
    expect(meta?.sliding).toBe(true);
    expect(meta?.idleMs).toBe(1000);
    expect(meta?.tags.size).toBe(2);
    expect(meta?.tags.has('u')).toBe(true);
  });

  it('rejects bad tags, empty tag lists, unknown option keys and bad expiry options with typed errors', async () => {
    const layer = cache();
    const query = randomVector(random);
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { tags: [42 as unknown as string] }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { tags: [''] }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { tags: 'doc' as unknown as string[] }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { tag: ['doc'] } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { expiry: 'forever' as never }))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { ttlMs: 0 }))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.set('u', query, { answer: 'x' }, { expiry: 'sliding', ttlMs: 2000, maxAgeMs: 1000 }))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.invalidate({ tags: [] }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.invalidate({ tags: [null as unknown as string] }))).toBe('INVALID_TAG');
    expect(await codeOf(layer.invalidate({}))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.invalidate({ tags: ['a'], everything: true } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(layer.invalidate({ url: '' }))).toBe('INVALID_URL');
    expect(() => cache({ expiry: 'lru' as never })).toThrow(SemanticCacheError);
    expect(() => cache({ ttlMs: 5000, maxAgeMs: 1000 })).toThrow(SemanticCacheError);
  });
});
