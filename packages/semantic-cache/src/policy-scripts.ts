import { argNumber, argString, defineScript, type KVScript, type MemoryStore, type ScriptReply } from '@lix/redis-pool';
import { META_OF_LUA, unpackEntryValue } from './entry-value.js';
import { parseEntryMeta } from './expiry.js';
import { RECORD_META_BYTES, VECTOR_HEADER_BYTES, recordSize } from './records.js';

/*
 * The atomic operations of expiry modes and tags, each with its Lua and its in-memory twin
 * side by side. Scope scripts touch only keys of one scope (one hash tag, one Cluster
 * slot); tag scripts touch only the tag's own index key. Invalidation is therefore a
 * sequence of atomic steps on different slots, made safe by generations (see tags.ts).
 */

const ascii = (bytes: Uint8Array, from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
const encoder = new TextEncoder();

/** Sets `key` to `value` keeping its current TTL (the twin of SET … KEEPTTL / SETRANGE). */
function rewriteKeepingTtl(store: MemoryStore, key: string, value: Uint8Array): void {
  const ttl = store.pttl(key);
  store.set(key, value, ttl > 0 ? { ttlMs: ttl } : {});
}

/** The meta of a stored entry value, or `null` (the twin of Lua's `metaOf`). */
function metaOf(value: Uint8Array | null) {
  if (value === null) return null;
  const { meta } = unpackEntryValue(value);
  return meta === null ? null : parseEntryMeta(meta);
}

/**
 * Extends a sliding entry after a hit: KEYS = [vectors, responses]; ARGV = [id, record
 * offset, nowMs, record size]. The lookup reads the hit with its usual HGET and calls
 * this only when the entry slides and would gain at least a tenth of its idle time, so
 * a hot entry costs one write per tenth of its window, not one per hit (it expires 0.9–1
 * idle time after its last hit). The script re-reads the entry's meta itself; the new
 * expiry is `min(now + idle, deadline)`, only ever moves forward, never revives an expired
 * record, and the keys' TTL follows. The offset is where the reader saw the record; when a
 * concurrent write moved it, the record is found by id. Reply: 1 when extended, else 0.
 */
export const extendEntryScript: KVScript = defineScript({
  name: 'semantic-cache:extend-entry',
  lua: `${META_OF_LUA}
local meta = metaOf(redis.call('HGET', KEYS[2], ARGV[1]))
if not meta then return 0 end
local mode, idle, deadline = string.match(meta, '^(%a);(%d*);(%d*);')
if mode ~= 's' or idle == '' or deadline == '' then return 0 end
local now = tonumber(ARGV[3])
local expiry = math.min(now + tonumber(idle), tonumber(deadline))
local offset = tonumber(ARGV[2])
local size = tonumber(ARGV[4])
if redis.call('GETRANGE', KEYS[1], offset + 16, offset + 23) ~= ARGV[1] then
  offset = nil
  local current = redis.call('GET', KEYS[1])
  if current then
    for i = 0, math.floor((#current - ${VECTOR_HEADER_BYTES}) / size) - 1 do
      local at = ${VECTOR_HEADER_BYTES} + i * size
      if string.sub(current, at + 17, at + 24) == ARGV[1] then
        offset = at
        break
      end
    end
  end
end
if not offset then return 0 end
local stored = tonumber(redis.call('GETRANGE', KEYS[1], offset, offset + 15))
if not stored or stored <= now or expiry <= stored then return 0 end
redis.call('SETRANGE', KEYS[1], offset, string.format('%016d', expiry))
local ttl = expiry - now
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`,
  memory: (store, keys, args) => {
    const [vectorsKey, responsesKey] = keys as [string, string];
    const id = argString(args[0]);
    const meta = metaOf(store.hget(responsesKey, id));
    if (meta === null || !meta.sliding) return 0;
    const now = argNumber(args[2]);
    const expiry = Math.min(now + meta.idleMs, meta.deadlineMs);
    const size = argNumber(args[3]);
    const current = store.get(vectorsKey);
    if (current === null) return 0;
    let offset: number | undefined = argNumber(args[1]);
    if (offset + RECORD_META_BYTES > current.length || ascii(current, offset + 16, offset + 24) !== id) {
      offset = undefined;
      for (let at = VECTOR_HEADER_BYTES; at + size <= current.length; at += size) {
        if (ascii(current, at + 16, at + 24) === id) {
          offset = at;
          break;
        }
      }
    }
    if (offset === undefined) return 0;
    const digits = ascii(current, offset, offset + 16);
    const stored = /^\d+$/.test(digits) ? Number(digits) : Number.NaN;
    if (!(stored > now) || expiry <= stored) return 0;
    const updated = current.slice();
    updated.set(encoder.encode(String(expiry).padStart(16, '0')), offset);
    const ttl = expiry - now;
    rewriteKeepingTtl(store, vectorsKey, updated);
    if (store.pttl(vectorsKey) < ttl) store.pexpire(vectorsKey, ttl);
    if (store.pttl(responsesKey) < ttl) store.pexpire(responsesKey, ttl);
    return 1;
  },
});

const SERVER_NOW_LUA = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * Registers a scope under a tag: KEYS = [tag index]; ARGV = [scope vectors key, index TTL ms].
 * The index hash holds `#g`, the tag's generation (created as the server's time in ms,
 * so it never goes back even if the index expired), and one field per scope holding the
 * generation it was registered at. Reply: `[generation, server time ms]`.
 */
export const registerTagScript: KVScript = defineScript({
  name: 'semantic-cache:register-tag',
  lua: `
${SERVER_NOW_LUA}
local generation = tonumber(redis.call('HGET', KEYS[1], '#g'))
if not generation then
  generation = now
  redis.call('HSET', KEYS[1], '#g', string.format('%d', generation))
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', generation))
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {generation, now}
`,
  memory: (store, keys, args) => {
    const [indexKey] = keys as [string];
    const now = store.now();
    const stored = store.hget(indexKey, '#g');
    let generation = stored === null ? Number.NaN : argNumber(stored);
    if (Number.isNaN(generation)) {
      generation = now;
      store.hset(indexKey, { '#g': encoder.encode(String(generation)) });
    }
    store.hset(indexKey, { [argString(args[0])]: encoder.encode(String(generation)) });
    const ttl = argNumber(args[1]);
    if (store.pttl(indexKey) < ttl) store.pexpire(indexKey, ttl);
    return [generation, now];
  },
});

/**
 * Starts invalidating a tag: KEYS = [tag index]; ARGV = [minimum index TTL ms]. Moves the
 * generation to `max(generation + 1, server time)`, so every write registered before
 * now carries a lower one. Reply: `[new generation, scope vectors key, …]`.
 */
export const beginInvalidationScript: KVScript = defineScript({
  name: 'semantic-cache:begin-invalidation',
  lua: `
${SERVER_NOW_LUA}
local fields = redis.call('HGETALL', KEYS[1])
local generation = now
local scopes = {}
for i = 1, #fields, 2 do
  if fields[i] == '#g' then
    generation = math.max(generation, tonumber(fields[i + 1]) + 1)
  else
    scopes[#scopes + 1] = fields[i]
  end
end
redis.call('HSET', KEYS[1], '#g', string.format('%d', generation))
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
table.insert(scopes, 1, generation)
return scopes
`,
  memory: (store, keys, args) => {
    const [indexKey] = keys as [string];
    const fields = store.hgetall(indexKey);
    let generation = store.now();
    const scopes: ScriptReply[] = [];
    for (const [field, value] of Object.entries(fields)) {
      if (field === '#g') generation = Math.max(generation, argNumber(value) + 1);
      else scopes.push(encoder.encode(field));
    }
    store.hset(indexKey, { '#g': encoder.encode(String(generation)) });
    const ttl = argNumber(args[0]);
    if (store.pttl(indexKey) < ttl) store.pexpire(indexKey, ttl);
    return [generation, ...scopes];
  },
});

/**
 * Ends invalidating a tag: KEYS = [tag index]; ARGV = [generation, scope vectors key, …].
 * Unregisters the scopes visited, but only those still registered below the generation:
 * a scope a new write registered meanwhile (at the new generation) stays indexed.
 */
export const endInvalidationScript: KVScript = defineScript({
  name: 'semantic-cache:end-invalidation',
  lua: `
local generation = tonumber(ARGV[1])
local removed = 0
for i = 2, #ARGV do
  local registered = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if registered and registered < generation then removed = removed + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return removed
`,
  memory: (store, keys, args) => {
    const [indexKey] = keys as [string];
    const generation = argNumber(args[0]);
    let removed = 0;
    for (const field of args.slice(1)) {
      const registered = store.hget(indexKey, argString(field));
      if (registered !== null && argNumber(registered) < generation) removed += store.hdel(indexKey, [argString(field)]);
    }
    return removed;
  },
});

/** Reply of {@link invalidateScopeScript} when the vector string is not ours. */
export const INVALIDATE_CORRUPT = -1;

/**
 * Removes from one scope every entry carrying tag `name` below `generation`, and leaves
 * a tombstone so an in-flight write with the old tag is refused: KEYS = [vectors,
 * responses, tombstones]; ARGV = [tag (`u` for the URL), generation, tombstone TTL ms,
 * nowMs]. The meta is read from each entry's value (see entry-value.ts); entries written
 * before tags existed have none and carry only the URL.
 * Reply: live entries removed (expired ones are dropped too, uncounted).
 */
export const invalidateScopeScript: KVScript = defineScript({
  name: 'semantic-cache:invalidate-scope',
  lua: `${META_OF_LUA}
local name = ARGV[1]
local generation = tonumber(ARGV[2])
local tomb = tonumber(redis.call('HGET', KEYS[3], name))
if not tomb or tomb < generation then redis.call('HSET', KEYS[3], name, ARGV[2]) end
local window = tonumber(ARGV[3])
if redis.call('PTTL', KEYS[3]) < window then redis.call('PEXPIRE', KEYS[3], window) end
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if #current < ${VECTOR_HEADER_BYTES} or string.sub(current, 1, 3) ~= 'SC1' then return ${INVALIDATE_CORRUPT} end
local dim = tonumber(string.sub(current, 4, ${VECTOR_HEADER_BYTES}))
if dim == nil or dim < 1 then return ${INVALIDATE_CORRUPT} end
local size = ${RECORD_META_BYTES} + 4 * dim
local body = #current - ${VECTOR_HEADER_BYTES}
if body % size ~= 0 then return ${INVALIDATE_CORRUPT} end
local now = tonumber(ARGV[4])
local kept = {string.sub(current, 1, ${VECTOR_HEADER_BYTES})}
local fields = {}
local removed = 0
for i = 0, body / size - 1 do
  local at = ${VECTOR_HEADER_BYTES} + i * size
  local id = string.sub(current, at + 17, at + 24)
  local meta = metaOf(redis.call('HGET', KEYS[2], id))
  local tagged = false
  if not meta then
    tagged = name == 'u'
  else
    local tags = string.match(meta, '^%a;%d*;%d*;(.*)$') or ''
    for tag, tagGeneration in string.gmatch(tags, '(%w+)=(%d+)') do
      if tag == name and tonumber(tagGeneration) < generation then tagged = true end
    end
  end
  if tagged then
    fields[#fields + 1] = id
    local expiry = tonumber(string.sub(current, at + 1, at + 16))
    if expiry and expiry > now then removed = removed + 1 end
  else
    kept[#kept + 1] = string.sub(current, at + 1, at + size)
  end
end
if #fields == 0 then return 0 end
redis.call('HDEL', KEYS[2], unpack(fields))
if #kept == 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], table.concat(kept), 'KEEPTTL')
end
return removed
`,
  memory: (store, keys, args) => {
    const [vectorsKey, responsesKey, tombstonesKey] = keys as [string, string, string];
    const name = argString(args[0]);
    const generation = argNumber(args[1]);
    const tomb = store.hget(tombstonesKey, name);
    if (tomb === null || argNumber(tomb) < generation) store.hset(tombstonesKey, { [name]: args[1]! });
    const window = argNumber(args[2]);
    if (store.pttl(tombstonesKey) < window) store.pexpire(tombstonesKey, window);
    const current = store.get(vectorsKey);
    if (current === null) return 0;
    if (current.length < VECTOR_HEADER_BYTES || ascii(current, 0, 3) !== 'SC1') return INVALIDATE_CORRUPT;
    const dimText = ascii(current, 3, VECTOR_HEADER_BYTES);
    const dim = /^\d+$/.test(dimText) ? Number(dimText) : 0;
    if (dim < 1) return INVALIDATE_CORRUPT;
    const size = recordSize(dim);
    const body = current.length - VECTOR_HEADER_BYTES;
    if (body % size !== 0) return INVALIDATE_CORRUPT;
    const now = argNumber(args[3]);
    const kept: Uint8Array[] = [current.subarray(0, VECTOR_HEADER_BYTES)];
    const fields: string[] = [];
    let removed = 0;
    for (let at = VECTOR_HEADER_BYTES; at < current.length; at += size) {
      const id = ascii(current, at + 16, at + 24);
      const value = store.hget(responsesKey, id);
      let tagged: boolean;
      const meta = value === null ? null : unpackEntryValue(value).meta;
      if (meta === null) {
        tagged = name === 'u';
      } else {
        const taggedAt = parseEntryMeta(meta)?.tags.get(name);
        tagged = taggedAt !== undefined && taggedAt < generation;
      }
      if (tagged) {
        fields.push(id);
        if (Number(ascii(current, at, at + 16)) > now) removed++;
      } else {
        kept.push(current.subarray(at, at + size));
      }
    }
    if (fields.length === 0) return 0;
    store.hdel(responsesKey, fields);
    if (kept.length === 1) {
      store.del([vectorsKey]);
    } else {
      const joined = new Uint8Array(kept.reduce((sum, part) => sum + part.length, 0));
      let at = 0;
      for (const part of kept) {
        joined.set(part, at);
        at += part.length;
      }
      rewriteKeepingTtl(store, vectorsKey, joined);
    }
    return removed;
  },
});
