import { bytes, type SuiteContext } from './context.js';

const decoder = new TextDecoder();

function texts(values: Uint8Array[]): string[] {
  return values.map((value) => decoder.decode(value));
}

/** RPUSH / LRANGE / LLEN / LTRIM. */
export function registerLists(c: SuiteContext): void {
  const { t } = c;
  const fill = async (key: string): Promise<void> => {
    t.expect(await c.driver().rpush(key, ['a', 'b', 'c'].map(bytes))).toBe(3);
    t.expect(await c.driver().rpush(key, ['d', 'e'].map(bytes))).toBe(5);
  };
  c.it('rpush returns the new length and lrange 0 -1 returns everything in order', async () => {
    const k = c.keys().key('l');
    await fill(k);
    const all = await c.driver().lrange(k, 0, -1);
    all.forEach((value, i) => c.expectPlainBytes(value, `lrange[${i}]`));
    t.expect(texts(all)).toEqual(['a', 'b', 'c', 'd', 'e']);
    t.expect(await c.driver().llen(k)).toBe(5);
  });
  c.it('lrange follows Redis index rules (negative, clamped, empty)', async () => {
    const k = c.keys().key('l');
    await fill(k);
    const cases: [number, number, string[]][] = [
      [1, 2, ['b', 'c']],
      [-2, -1, ['d', 'e']],
      [-100, 1, ['a', 'b']],
      [3, 100, ['d', 'e']],
      [0, 0, ['a']],
      [4, 2, []],
      [5, 10, []],
      [-1, -2, []],
      [2, -2, ['c', 'd']],
    ];
    for (const [start, stop, expected] of cases) {
      t.expect(texts(await c.driver().lrange(k, start, stop)), `lrange ${start} ${stop}`).toEqual(expected);
    }
  });
  c.it('lrange and llen of a missing key are empty', async () => {
    const k = c.keys().key('none');
    t.expect(await c.driver().lrange(k, 0, -1)).toEqual([]);
    t.expect(await c.driver().llen(k)).toBe(0);
  });
  c.it('ltrim keeps the given range, with negative indexes', async () => {
    const k = c.keys().key('l');
    await fill(k);
    await c.driver().ltrim(k, -3, -1);
    t.expect(texts(await c.driver().lrange(k, 0, -1))).toEqual(['c', 'd', 'e']);
    await c.driver().ltrim(k, 1, 100);
    t.expect(texts(await c.driver().lrange(k, 0, -1))).toEqual(['d', 'e']);
  });
  c.it('ltrim to an empty range deletes the key', async () => {
    const k = c.keys().key('l');
    await fill(k);
    await c.driver().ltrim(k, 3, 1);
    t.expect(await c.driver().exists(k)).toBe(false);
    t.expect(await c.driver().pttl(k)).toBe(-2);
    await c.driver().ltrim(c.keys().key('missing'), 0, 1);
  });
  c.it('a list of 1000 elements keeps its order', async () => {
    const k = c.keys().key('long');
    const values = Array.from({ length: 1000 }, (_, i) => `item-${i}`);
    await c.driver().rpush(k, values.slice(0, 500).map(bytes));
    await c.driver().rpush(k, values.slice(500).map(bytes));
    t.expect(texts(await c.driver().lrange(k, 0, -1))).toEqual(values);
    t.expect(texts(await c.driver().lrange(k, 998, 2000))).toEqual(['item-998', 'item-999']);
  });
}

/** HSET / HGET / HGETALL / HDEL. */
export function registerHashes(c: SuiteContext): void {
  const { t } = c;
  c.it('hset counts only new fields', async () => {
    const k = c.keys().key('h');
    t.expect(await c.driver().hset(k, { a: bytes('1'), b: bytes('2') })).toBe(2);
    t.expect(await c.driver().hset(k, { b: bytes('22'), c: bytes('3') })).toBe(1);
    c.expectBytes(await c.driver().hget(k, 'b'), '22', 'updated field');
  });
  c.it('hget of a missing field or key is null', async () => {
    const k = c.keys().key('h');
    t.expect(await c.driver().hget(k, 'f')).toBeNull();
    await c.driver().hset(k, { other: bytes('x') });
    t.expect(await c.driver().hget(k, 'f')).toBeNull();
  });
  c.it('hgetall returns every field as plain bytes, and {} for a missing key', async () => {
    const k = c.keys().key('h');
    t.expect(await c.driver().hgetall(k)).toEqual({});
    const fields = { plain: bytes('1'), 'with:colon': bytes('2'), 'ünïcödé ✓': bytes('3'), '': bytes('empty name') };
    await c.driver().hset(k, fields);
    const all = await c.driver().hgetall(k);
    t.expect(Object.keys(all).sort()).toEqual(Object.keys(fields).sort());
    for (const [field, value] of Object.entries(fields)) c.expectBytes(all[field], value, `hgetall[${field}]`);
  });
  c.it('hdel counts removed fields and deleting the last field deletes the key', async () => {
    const k = c.keys().key('h');
    await c.driver().hset(k, { a: bytes('1'), b: bytes('2') });
    t.expect(await c.driver().hdel(k, ['a', 'missing'])).toBe(1);
    t.expect(await c.driver().exists(k)).toBe(true);
    t.expect(await c.driver().hdel(k, ['b'])).toBe(1);
    t.expect(await c.driver().exists(k)).toBe(false);
    t.expect(await c.driver().hdel(k, ['b'])).toBe(0);
  });
}

/** ZADD / ZRANGEBYSCORE / ZREM / ZCARD. */
export function registerSortedSets(c: SuiteContext): void {
  const { t } = c;
  const seed = async (key: string): Promise<void> => {
    t.expect(
      await c.driver().zadd(key, [
        { score: 1, member: 'b' },
        { score: 1, member: 'a' },
        { score: 1, member: 'é' },
        { score: 1, member: 'z' },
        { score: 0.5, member: 'half' },
        { score: -2.25, member: 'neg' },
        { score: 10, member: 'ten' },
      ]),
    ).toBe(7);
  };
  c.it('zadd counts new members only and an update moves the member', async () => {
    const k = c.keys().key('z');
    t.expect(
      await c.driver().zadd(k, [
        { score: 1, member: 'a' },
        { score: 2, member: 'b' },
      ]),
    ).toBe(2);
    t.expect(
      await c.driver().zadd(k, [
        { score: 3, member: 'a' },
        { score: 0, member: 'c' },
      ]),
    ).toBe(1);
    t.expect(await c.driver().zcard(k)).toBe(3);
    t.expect(await c.driver().zrangeByScore(k, -Infinity, Infinity)).toEqual(['c', 'b', 'a']);
  });
  c.it('zrangeByScore orders by score, then by member bytes, with inclusive bounds', async () => {
    const k = c.keys().key('z');
    await seed(k);
    t.expect(await c.driver().zrangeByScore(k, -Infinity, Infinity)).toEqual(['neg', 'half', 'a', 'b', 'z', 'é', 'ten']);
    t.expect(await c.driver().zrangeByScore(k, 0.5, 1)).toEqual(['half', 'a', 'b', 'z', 'é']);
    t.expect(await c.driver().zrangeByScore(k, -2.25, -2.25)).toEqual(['neg']);
    t.expect(await c.driver().zrangeByScore(k, 1.5, 9.99)).toEqual([]);
    t.expect(await c.driver().zrangeByScore(k, 5, 1)).toEqual([]);
    t.expect(await c.driver().zrangeByScore(c.keys().key('missing'), -Infinity, Infinity)).toEqual([]);
  });
  c.it('zrangeByScore applies offset and count, and a negative count means the rest', async () => {
    const k = c.keys().key('z');
    await seed(k);
    t.expect(await c.driver().zrangeByScore(k, -Infinity, Infinity, { offset: 1, count: 2 })).toEqual(['half', 'a']);
    t.expect(await c.driver().zrangeByScore(k, 1, Infinity, { offset: 2, count: -1 })).toEqual(['z', 'é', 'ten']);
    t.expect(await c.driver().zrangeByScore(k, 1, Infinity, { offset: 0, count: 0 })).toEqual([]);
    t.expect(await c.driver().zrangeByScore(k, 1, Infinity, { offset: 50, count: 5 })).toEqual([]);
  });
  c.it('scores survive the round trip exactly, including fractions and infinities', async () => {
    const k = c.keys().key('z');
    await c.driver().zadd(k, [
      { score: 0.1, member: 'tenth' },
      { score: 1 / 3, member: 'third' },
      { score: Infinity, member: 'top' },
      { score: -Infinity, member: 'bottom' },
      { score: 1e300, member: 'huge' },
    ]);
    t.expect(await c.driver().zrangeByScore(k, 0.1, 0.1)).toEqual(['tenth']);
    t.expect(await c.driver().zrangeByScore(k, 1 / 3, 1 / 3)).toEqual(['third']);
    t.expect(await c.driver().zrangeByScore(k, Infinity, Infinity)).toEqual(['top']);
    t.expect(await c.driver().zrangeByScore(k, -Infinity, -1e308)).toEqual(['bottom']);
    t.expect(await c.driver().zrangeByScore(k, 1e299, 1e301)).toEqual(['huge']);
  });
  c.it('zrem counts removed members and removing the last deletes the key', async () => {
    const k = c.keys().key('z');
    await c.driver().zadd(k, [
      { score: 1, member: 'a' },
      { score: 2, member: 'b' },
    ]);
    t.expect(await c.driver().zrem(k, ['a', 'missing'])).toBe(1);
    t.expect(await c.driver().zcard(k)).toBe(1);
    t.expect(await c.driver().zrem(k, ['b'])).toBe(1);
    t.expect(await c.driver().exists(k)).toBe(false);
    t.expect(await c.driver().zcard(k)).toBe(0);
  });
}
