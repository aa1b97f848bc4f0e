import { describe, expect, it } from 'vitest';
import { crc16, groupBySlot, hashTagOf, keySlot } from './cluster/slot.js';

describe('cluster key slots', () => {
  it('computes CRC16/XMODEM like the Redis Cluster spec (check value 0x31C3)', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x31c3);
  });

  it('maps keys to the slots Redis reports (CLUSTER KEYSLOT)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('')).toBe(0);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(hashTagOf('{user1000}.following')).toBe('user1000');
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(hashTagOf('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashTagOf('foo{{bar}}zap')).toBe('{bar');
    expect(hashTagOf('foo{bar}{zap}')).toBe('bar');
    expect(hashTagOf('no-close{tag')).toBe('no-close{tag');
  });

  it('groups key positions per slot, keeping input order', () => {
    const groups = groupBySlot(['{a}1', 'foo', '{a}2', 'bar', '{a}3']);
    expect(groups.get(keySlot('{a}x'))).toEqual([0, 2, 4]);
    expect(groups.get(keySlot('foo'))).toEqual([1]);
    expect(groups.get(keySlot('bar'))).toEqual([3]);
  });
});

describe('slot helpers on bad input', () => {
  it('reject non-string keys and non-byte input with KVError INVALID_ARGUMENT', async () => {
    const { KVError } = await import('./shared/errors.js');
    for (const run of [() => keySlot(Object.create(null)), () => hashTagOf(42 as never), () => crc16('x' as never), () => groupBySlot('abc' as never)]) {
      expect(run).toThrow(KVError);
    }
  });
});
