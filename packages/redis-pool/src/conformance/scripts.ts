import { randomBytes } from 'node:crypto';
import type { ScriptReply } from '../driver.js';
import { argNumber, argString, defineScript, type KVScript } from '../script.js';
import { bytes, type SuiteContext } from './context.js';

const encoder = new TextEncoder();

/** The scripts the suite runs; a random comment gives them SHA-1s no server has cached yet. */
function defineConformanceScripts(): Record<'echo' | 'nested' | 'numbers' | 'status' | 'fails' | 'wrongType' | 'pushLen' | 'setPx', KVScript> {
  const nonce = `-- kv conformance ${randomBytes(8).toString('hex')}\n`;
  return {
    echo: defineScript({
      name: 'conformance-echo',
      lua: `${nonce}return {KEYS, ARGV}`,
      memory: (_store, keys, args) => [keys.map((key) => encoder.encode(key)), args],
    }),
    nested: defineScript({
      name: 'conformance-nested',
      lua: `${nonce}local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local v = redis.call('GET', KEYS[2])
return {n, {ARGV[2], false, 7, {}}, v, redis.call('LRANGE', KEYS[3], 0, -1)}`,
      memory: (store, keys, args) => {
        const n = store.incrBy(keys[0]!, argNumber(args[0]));
        const v = store.get(keys[1]!);
        return [n, [args[1] ?? null, null, 7, []], v, store.lrange(keys[2]!, 0, -1)];
      },
    }),
    numbers: defineScript({
      name: 'conformance-numbers',
      lua: `${nonce}return {3.99, -2.5, true, 0.5, 42}`,
      // Lua numbers become integer replies by truncation; drivers apply the same mapping to twins.
      memory: () => [3.99, -2.5, 1, 0.5, 42],
    }),
    status: defineScript({
      name: 'conformance-status',
      lua: `${nonce}return redis.status_reply('PONG')`,
      memory: () => encoder.encode('PONG'),
    }),
    fails: defineScript({
      name: 'conformance-fails',
      lua: `${nonce}redis.call('SET', KEYS[1], ARGV[1])
error('conformance failure')`,
      memory: (store, keys, args) => {
        store.set(keys[0]!, args[0]!);
        throw new Error('conformance failure');
      },
    }),
    wrongType: defineScript({
      name: 'conformance-wrong-type',
      lua: `${nonce}return redis.call('LLEN', KEYS[1])`,
      memory: (store, keys) => store.llen(keys[0]!),
    }),
    pushLen: defineScript({
      name: 'conformance-push-len',
      lua: `${nonce}redis.call('RPUSH', KEYS[1], unpack(ARGV))
return redis.call('LLEN', KEYS[1])`,
      memory: (store, keys, args) => {
        store.rpush(keys[0]!, args);
        return store.llen(keys[0]!);
      },
    }),
    setPx: defineScript({
      name: 'conformance-set-px',
      lua: `${nonce}redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('PTTL', KEYS[1])`,
      memory: (store, keys, args) => {
        store.set(keys[0]!, encoder.encode(argString(args[0])), { ttlMs: argNumber(args[1]) });
        return store.pttl(keys[0]!);
      },
    }),
  };
}

function isReplyArray(reply: ScriptReply): reply is ScriptReply[] {
  return Array.isArray(reply);
}

/** EVALSHA / EVAL through `defineScript`, identical on every driver. */
export function registerScripts(c: SuiteContext): void {
  const { t } = c;
  const scripts = defineConformanceScripts();

  c.it('a never-loaded script runs (EVALSHA falls back to EVAL on NOSCRIPT) and keys/args reach it', async () => {
    const keys = c.keys();
    const reply = await c.driver().eval(scripts.echo, [keys.key('a'), keys.key('b')], ['x', bytes('y')]);
    t.expect(isReplyArray(reply)).toBe(true);
    const [keyReply, argReply] = reply as [ScriptReply[], ScriptReply[]];
    c.expectBytes(keyReply[0], keys.key('a'), 'KEYS[1]');
    c.expectBytes(keyReply[1], keys.key('b'), 'KEYS[2]');
    c.expectBytes(argReply[0], 'x', 'ARGV[1]');
    c.expectBytes(argReply[1], 'y', 'ARGV[2]');
  });
  c.it('arguments reach the script as exact bytes: binary, UTF-8 text and numbers in Redis decimal form', async () => {
    const binary = new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x00, 0xc3, 0x28, 0x0a]);
    const args = [binary, new Uint8Array(0), 'héllo ✓', 42, -7, 0, -0, 1.5, 0.1, 2 ** 53, 1e21, 123456789012];
    const expected = [
      binary,
      new Uint8Array(0),
      bytes('héllo ✓'),
      ...['42', '-7', '0', '0', '1.5', '0.1', '9007199254740992', '1000000000000000000000', '123456789012'].map(bytes),
    ];
    const reply = (await c.driver().eval(scripts.echo, [], args)) as [ScriptReply[], ScriptReply[]];
    t.expect(reply[0]).toEqual([]);
    t.expect(reply[1]).toHaveLength(expected.length);
    expected.forEach((want, i) => c.expectBytes(reply[1][i], want, `ARGV[${i + 1}]`));
  });
  c.it('non-finite number arguments are refused with INVALID_ARGUMENT', async () => {
    await c.expectKVError(() => c.driver().eval(scripts.echo, [], [Number.NaN]), 'INVALID_ARGUMENT');
    await c.expectKVError(() => c.driver().eval(scripts.echo, [], [Infinity]), 'INVALID_ARGUMENT');
  });
  c.it('nested replies map integers, bytes, nil (false) and empty tables identically', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('n'), bytes('10'));
    await c.driver().rpush(keys.key('l'), [bytes('p'), new Uint8Array([0, 255])]);
    const reply = await c.driver().eval(scripts.nested, [keys.key('n'), keys.key('missing'), keys.key('l')], [5, new Uint8Array([1, 0, 2])]);
    t.expect(isReplyArray(reply)).toBe(true);
    const [n, inner, v, list] = reply as [ScriptReply, ScriptReply[], ScriptReply, ScriptReply[]];
    t.expect(n).toBe(15);
    t.expect(inner).toHaveLength(4);
    c.expectBytes(inner[0], new Uint8Array([1, 0, 2]), 'inner[0]');
    t.expect(inner[1]).toBeNull();
    t.expect(inner[2]).toBe(7);
    t.expect(inner[3]).toEqual([]);
    t.expect(v).toBeNull();
    t.expect(list).toHaveLength(2);
    c.expectBytes(list[0], 'p', 'list[0]');
    c.expectBytes(list[1], new Uint8Array([0, 255]), 'list[1]');
  });
  c.it('Lua numbers truncate to integers and true becomes 1', async () => {
    t.expect(await c.driver().eval(scripts.numbers, [], [])).toEqual([3, -2, 1, 0, 42]);
  });
  c.it('a status reply comes back as bytes', async () => {
    c.expectBytes(await c.driver().eval(scripts.status, [], []), 'PONG', 'status reply');
  });
  c.it('an error raised by a script rejects with SCRIPT_ERROR and earlier writes stay', async () => {
    const k = c.keys().key('partial');
    const error = await c.expectKVError(() => c.driver().eval(scripts.fails, [k], ['written']), 'SCRIPT_ERROR');
    t.expect(error.message.includes('conformance failure'), `message names the script error: ${error.message}`).toBe(true);
    c.expectBytes(await c.driver().get(k), 'written', 'write before the error');
  });
  c.it('a command error inside a script (WRONGTYPE) rejects with SCRIPT_ERROR', async () => {
    const k = c.keys().key('str');
    await c.driver().set(k, bytes('v'));
    await c.expectKVError(() => c.driver().eval(scripts.wrongType, [k], []), 'SCRIPT_ERROR');
  });
  c.it('script writes are visible to commands and command writes to scripts', async () => {
    const k = c.keys().key('l');
    await c.driver().rpush(k, [bytes('first')]);
    t.expect(await c.driver().eval(scripts.pushLen, [k], [bytes('second'), 'third'])).toBe(3);
    t.expect((await c.driver().lrange(k, 0, -1)).map((v) => new TextDecoder().decode(v))).toEqual(['first', 'second', 'third']);
  });
  c.it('a script can set a TTL from a numeric argument', async () => {
    const k = c.keys().key('px');
    const ttl = await c.driver().eval(scripts.setPx, [k], ['v', 60_000]);
    t.expect(typeof ttl).toBe('number');
    t.expect(ttl as number).toBeGreaterThan(30_000);
    t.expect(ttl as number).toBeLessThanOrEqual(60_000);
    c.expectBytes(await c.driver().get(k), 'v', 'value set by the script');
  });
  for (const atomic of [false, true]) {
    c.it(`scripts run inside a ${atomic ? 'transaction' : 'pipeline'}`, async () => {
      const keys = c.keys();
      const fresh = defineConformanceScripts();
      const b = c.driver().batch({ atomic });
      const pushed = b.eval(fresh.pushLen, [keys.key('l')], ['a', 'b']);
      const echoed = b.eval(fresh.echo, [keys.key('l')], [7]);
      const len = b.llen(keys.key('l'));
      await b.exec();
      t.expect(await pushed).toBe(2);
      const [, args] = (await echoed) as [ScriptReply[], ScriptReply[]];
      c.expectBytes(args[0], '7', 'ARGV[1] in a batch');
      t.expect(await len).toBe(2);
    });
  }
  const flushScripts = c.options.flushScripts;
  if (flushScripts !== undefined) {
    c.it('eval recovers from NOSCRIPT after the script cache was flushed', async () => {
      const k = c.keys().key('l');
      t.expect(await c.driver().eval(scripts.pushLen, [k], ['a'])).toBe(1);
      await flushScripts();
      t.expect(await c.driver().eval(scripts.pushLen, [k], ['b'])).toBe(2);
      await flushScripts();
      const b = c.driver().batch();
      const inBatch = b.eval(scripts.pushLen, [k], ['c']);
      await b.exec();
      t.expect(await inBatch).toBe(3);
      await flushScripts();
      const tx = c.driver().batch({ atomic: true });
      const inTx = tx.eval(scripts.pushLen, [k], ['d']);
      await tx.exec();
      t.expect(await inTx).toBe(4);
    });
  }
}
