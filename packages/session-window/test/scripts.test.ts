import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { beforeEach, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, recordSeq, sessionKeys } from '../src/index.js';
import { createHash } from 'node:crypto';
import { APPEND_DUPLICATE, APPEND_OK, APPEND_REBUILD, appendScript, evictScript, readIfChangedScript, readScript, rebuildScript } from '../src/scripts.js';

const record = (seq: number) =>
  encodeRecord({ seq, role: 'user', content: `m${seq}`, timestamp: 1_700_000_000 + seq / 1000, metadata: seq % 2 ? { n: seq } : {} });

describeEachDriver('session-window scripts', (target) => {
  let driver: KVDriver;
  let keys: string[];
  beforeEach(async () => {
    driver ??= await target.createDriver();
    const k = sessionKeys(uniquePrefix('sws'), 'session');
    keys = [k.hot, k.activity];
  });
  const append = (seq: number, n = 4, touch = 1) => driver.eval(appendScript, keys, [n, 60_000, 1000 + seq, touch, record(seq)]);
  const appendGroup = (seqs: number[], n = 4) => driver.eval(appendScript, keys, [n, 60_000, 2000, 1, ...seqs.map(record)]);
  const window = async () => (await driver.lrange(keys[0]!, 0, -1)).map(recordSeq);

  it('appends in order, trims to the window and reports a complete window', async () => {
    for (let seq = 1; seq <= 6; seq++) expect(await append(seq)).toBe(APPEND_OK);
    expect(await window()).toEqual([3, 4, 5, 6]);
    expect(await driver.pttl(keys[0]!)).toBeGreaterThan(50_000);
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('1006');
    expect(await driver.pttl(keys[1]!)).toBeGreaterThan(50_000);
  });

  it('skips the TTL and activity refresh when asked, except for a new or rewritten window', async () => {
    const activity = async () => new TextDecoder().decode((await driver.get(keys[1]!))!);
    expect(await append(1, 4, 0)).toBe(APPEND_OK);
    expect(await activity()).toBe('1001');
    expect(await driver.pttl(keys[0]!)).toBeGreaterThan(50_000);
    expect(await append(2, 4, 0)).toBe(APPEND_OK);
    expect(await activity()).toBe('1001');
    expect(await append(3, 4, 1)).toBe(APPEND_OK);
    expect(await activity()).toBe('1003');
    // A late push rewrites the window: always refreshed.
    await append(5, 4, 1);
    expect(await append(4, 4, 0)).toBe(APPEND_OK);
    expect(await activity()).toBe('1004');
    expect(await window()).toEqual([2, 3, 4, 5]);
  });

  it('treats a repeated seq as an idempotent no-op', async () => {
    for (let seq = 1; seq <= 3; seq++) await append(seq);
    expect(await append(3)).toBe(APPEND_DUPLICATE);
    expect(await append(2)).toBe(APPEND_DUPLICATE);
    expect(await window()).toEqual([1, 2, 3]);
  });

  it('inserts a late push in order and reports the gap it leaves or closes', async () => {
    await append(1);
    expect(await append(3)).toBe(APPEND_REBUILD);
    expect(await append(2)).toBe(APPEND_OK);
    expect(await window()).toEqual([1, 2, 3]);
    for (let seq = 4; seq <= 7; seq++) await append(seq);
    expect(await append(2)).toBe(APPEND_OK);
    expect(await window()).toEqual([4, 5, 6, 7]);
  });

  it('asks for a rebuild when an empty window receives a later seq', async () => {
    expect(await append(9)).toBe(APPEND_REBUILD);
    expect(await window()).toEqual([9]);
    expect(await append(10)).toBe(APPEND_REBUILD);
  });

  it('merges a rebuild with newer records already pushed, and replace discards them', async () => {
    await append(7);
    await append(8);
    const merged = await driver.eval(rebuildScript, keys, [4, 60_000, 5, 'merge', record(4), record(5), record(6), record(7)]);
    expect((merged as Uint8Array[]).map(recordSeq)).toEqual([5, 6, 7, 8]);
    expect(await window()).toEqual([5, 6, 7, 8]);
    const replaced = await driver.eval(rebuildScript, keys, [4, 60_000, 5, 'replace', record(1)]);
    expect((replaced as Uint8Array[]).map(recordSeq)).toEqual([1]);
    expect(decodeRecord((replaced as Uint8Array[])[0]!)).toEqual({ seq: 1, role: 'user', content: 'm1', timestamp: 1_700_000_000.001, metadata: { n: 1 } });
    const emptied = await driver.eval(rebuildScript, keys, [4, 60_000, 5, 'replace']);
    expect(emptied).toEqual([]);
    expect(await driver.exists(keys[0]!)).toBe(false);
    expect(await driver.exists(keys[1]!)).toBe(false);
  });

  it('reads the window and refreshes its TTL in one call', async () => {
    expect(await driver.eval(readScript, keys, [60_000, 1, 0])).toEqual([]);
    expect(await driver.exists(keys[1]!)).toBe(false);
    await append(1);
    await driver.pexpire(keys[0]!, 5000);
    const read = await driver.eval(readScript, keys, [90_000, 2001, 1000]);
    expect((read as Uint8Array[]).map(recordSeq)).toEqual([1]);
    expect(await driver.pttl(keys[0]!)).toBeGreaterThan(80_000);
  });

  it('answers a conditional read with 1 only while the length and the last record are the ones sent', async () => {
    const readIf = (now: number, touch: string, length: number, mode: string, tail: Uint8Array | string) =>
      driver.eval(readIfChangedScript, keys, [60_000, now, 1000, touch, length, mode, tail]);
    expect(await readIf(1, '1', 0, 'r', record(1))).toEqual([]);
    expect(await driver.exists(keys[1]!)).toBe(false);
    for (let seq = 1; seq <= 3; seq++) await append(seq);
    expect(await readIf(1500, '0', 3, 'r', record(3))).toBe(1);
    // Another length, another last record (same seq, other bytes), or a digest of another record: the list.
    expect(((await readIf(1500, '0', 2, 'r', record(3))) as Uint8Array[]).map(recordSeq)).toEqual([1, 2, 3]);
    const other = encodeRecord({ seq: 3, role: 'user', content: 'm3', timestamp: 1, metadata: {} });
    expect(((await readIf(1500, '0', 3, 'r', other)) as Uint8Array[]).map(recordSeq)).toEqual([1, 2, 3]);
    const digest = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
    expect(await readIf(1500, '0', 3, 'h', digest(record(3)))).toBe(1);
    expect(((await readIf(1500, '0', 3, 'h', digest(other))) as Uint8Array[]).map(recordSeq)).toEqual([1, 2, 3]);
    // The touch flag: activity refreshed only when asked and older than the resolution.
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('1003');
    await readIf(1500, '1', 3, 'r', record(3));
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('1003');
    await readIf(5000, '0', 3, 'r', record(3));
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('1003');
    await driver.pexpire(keys[0]!, 5000);
    expect(await readIf(5000, '1', 3, 'r', record(3))).toBe(1);
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('5000');
    expect(await driver.pttl(keys[0]!)).toBeGreaterThan(50_000);
    // An evicted window: the (empty) list, never the marker.
    await driver.del([keys[0]!]);
    expect(await readIf(6000, '1', 3, 'r', record(3))).toEqual([]);
  });

  it('pushes a group commit in one call: in order, trimmed, duplicates skipped, gaps reported', async () => {
    expect(await appendGroup([1, 2, 3])).toBe(APPEND_OK);
    expect(await appendGroup([4, 5, 6, 7, 8])).toBe(APPEND_OK);
    expect(await window()).toEqual([5, 6, 7, 8]);
    expect(await appendGroup([7, 8])).toBe(APPEND_DUPLICATE);
    expect(await appendGroup([10, 11])).toBe(APPEND_REBUILD);
    expect(await window()).toEqual([7, 8, 10, 11]);
    // A late group lands in place and closes the gap.
    expect(await appendGroup([8, 9])).toBe(APPEND_OK);
    expect(await window()).toEqual([8, 9, 10, 11]);
  });

  it('refreshes activity on a read only when it is older than the resolution', async () => {
    await append(1); // activity 1001
    await driver.eval(readScript, keys, [60_000, 1500, 1000]);
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('1001');
    await driver.eval(readScript, keys, [60_000, 2001, 1000]);
    expect(new TextDecoder().decode((await driver.get(keys[1]!))!)).toBe('2001');
  });

  it('evicts without the archive check when no last seq is given', async () => {
    await append(5);
    expect(await driver.eval(evictScript, keys, [1005, ''])).toBe(1);
    expect(await driver.exists(keys[0]!)).toBe(false);
  });

  it('evicts only idle sessions whose window the archive holds, once', async () => {
    await append(1);
    await append(2); // at = 1002
    expect(await driver.eval(evictScript, keys, [1001, 2])).toBe(0);
    expect(await driver.eval(evictScript, keys, [1002, 1])).toBe(-1);
    expect(await driver.exists(keys[0]!)).toBe(true);
    expect(await driver.eval(evictScript, keys, [1002, 2])).toBe(1);
    expect(await driver.eval(evictScript, keys, [1002, ''])).toBe(0);
    expect(await driver.exists(keys[0]!)).toBe(false);
    expect(await driver.exists(keys[1]!)).toBe(false);
  });
});
