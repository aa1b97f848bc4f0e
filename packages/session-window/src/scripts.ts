import { argNumber, argString, defineScript, type KVScript, type MemoryStore } from '@lix/redis-pool';
import { recordSeq } from './record.js';

/**
 * The session window's atomic operations. Each keeps one invariant on the hot list
 * (KEYS[1]): records sorted by seq, no seq twice, at most `n` of them. Every script
 * touches only the session's two keys, which share a hash tag, so they run on a cluster.
 *
 * Status codes returned by `append`:
 * - 0: the record is in the window and the window is complete (contiguous seqs, and
 *   either `n` long or starting at seq 1);
 * - 1: nothing changed: the seq was already there (an idempotent retry);
 * - 2: stored, but the window is incomplete (a gap after an outage or eviction, or a
 *   concurrent writer's push still in flight): the client rebuilds it from the archive.
 */
export const APPEND_OK = 0;
/** See {@link APPEND_OK}. */
export const APPEND_DUPLICATE = 1;
/** See {@link APPEND_OK}. */
export const APPEND_REBUILD = 2;

const luaPrelude = `
local function seqOf(r)
  if not r or #r < 6 then return -1 end
  local a, b, c, d, e, f = string.byte(r, 1, 6)
  return ((((a * 256 + b) * 256 + c) * 256 + d) * 256 + e) * 256 + f
end
local function pushAll(key, list)
  for i = 1, #list, 500 do
    redis.call('RPUSH', key, unpack(list, i, math.min(i + 499, #list)))
  end
end
local function touch(hot, meta, ttl, now, sid)
  redis.call('PEXPIRE', hot, ttl)
  redis.call('HSET', meta, 'at', now, 'sid', sid)
  redis.call('PEXPIRE', meta, ttl)
end
local function completeness(hot, n)
  local len = redis.call('LLEN', hot)
  if len == 0 then return 0 end
  local first = seqOf(redis.call('LINDEX', hot, 0))
  local last = seqOf(redis.call('LINDEX', hot, -1))
  if first < 1 or last - first + 1 ~= len then return 2 end
  if len < n and first ~= 1 then return 2 end
  return 0
end
`;

function memoryTouch(store: MemoryStore, hot: string, meta: string, ttl: number, now: Uint8Array, sid: Uint8Array): void {
  store.pexpire(hot, ttl);
  store.hset(meta, { at: now, sid });
  store.pexpire(meta, ttl);
}

function memoryCompleteness(store: MemoryStore, hot: string, n: number): number {
  const len = store.llen(hot);
  if (len === 0) return APPEND_OK;
  const first = recordSeq(store.lrange(hot, 0, 0)[0]!);
  const last = recordSeq(store.lrange(hot, -1, -1)[0]!);
  if (first < 1 || last - first + 1 !== len) return APPEND_REBUILD;
  if (len < n && first !== 1) return APPEND_REBUILD;
  return APPEND_OK;
}

/**
 * Pushes one record into the hot window, keeping it sorted and trimmed to `n`, then
 * refreshes both keys' TTL and records activity. Overflowed records are simply trimmed:
 * the archive already holds every message before its record reaches Redis.
 *
 * KEYS: hot, meta. ARGV: record, n, ttlMs, nowMs, sessionId. Returns a status code.
 */
export const appendScript: KVScript = defineScript({
  name: 'session-window.append',
  lua: `${luaPrelude}
local hot, meta = KEYS[1], KEYS[2]
local rec = ARGV[1]
local n = tonumber(ARGV[2])
local seq = seqOf(rec)
local status = 0
local tail = redis.call('LRANGE', hot, -1, -1)[1]
if not tail or seq > seqOf(tail) then
  local len = redis.call('RPUSH', hot, rec)
  if len > n then redis.call('LTRIM', hot, -n, -1) end
  status = completeness(hot, n)
else
  local all = redis.call('LRANGE', hot, 0, -1)
  local out, placed, dup = {}, false, false
  for i = 1, #all do
    local s = seqOf(all[i])
    if s == seq then dup = true break end
    if not placed and s > seq then out[#out + 1] = rec; placed = true end
    out[#out + 1] = all[i]
  end
  if dup then
    status = 1
  else
    redis.call('DEL', hot)
    pushAll(hot, out)
    redis.call('LTRIM', hot, -n, -1)
    status = completeness(hot, n)
  end
end
touch(hot, meta, tonumber(ARGV[3]), ARGV[4], ARGV[5])
return status
`,
  memory(store, keys, args) {
    const [hot, meta] = keys as [string, string];
    const record = args[0]!;
    const n = argNumber(args[1]);
    const seq = recordSeq(record);
    let status: number;
    const tail = store.lrange(hot, -1, -1)[0];
    if (tail === undefined || seq > recordSeq(tail)) {
      const len = store.rpush(hot, [record]);
      if (len > n) store.ltrim(hot, -n, -1);
      status = memoryCompleteness(store, hot, n);
    } else {
      const all = store.lrange(hot, 0, -1);
      const out: Uint8Array[] = [];
      let placed = false;
      let dup = false;
      for (const item of all) {
        const s = recordSeq(item);
        if (s === seq) {
          dup = true;
          break;
        }
        if (!placed && s > seq) {
          out.push(record);
          placed = true;
        }
        out.push(item);
      }
      if (dup) status = APPEND_DUPLICATE;
      else {
        store.del([hot]);
        store.rpush(hot, out);
        store.ltrim(hot, -n, -1);
        status = memoryCompleteness(store, hot, n);
      }
    }
    memoryTouch(store, hot, meta, argNumber(args[2]), args[3]!, args[4]!);
    return status;
  },
});

/**
 * Returns the hot window (oldest first) and, when it is not empty, refreshes both
 * keys' TTL and records activity: one round trip for a read.
 *
 * KEYS: hot, meta. ARGV: ttlMs, nowMs, sessionId. Returns the records.
 */
export const readScript: KVScript = defineScript({
  name: 'session-window.read',
  lua: `${luaPrelude}
local list = redis.call('LRANGE', KEYS[1], 0, -1)
if #list > 0 then touch(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2], ARGV[3]) end
return list
`,
  memory(store, keys, args) {
    const [hot, meta] = keys as [string, string];
    const list = store.lrange(hot, 0, -1);
    if (list.length > 0) memoryTouch(store, hot, meta, argNumber(args[0]), args[1]!, args[2]!);
    return list;
  },
});

/**
 * Rebuilds the hot window from records read from the archive. In `merge` mode the
 * window's current records are kept too (a concurrent writer may have pushed a newer
 * one after the archive was read), so a rebuild never drops a message; `replace` mode
 * discards them (used when Redis holds seqs the archive no longer has). Keeps the
 * newest `n` by seq and returns them, oldest first.
 *
 * KEYS: hot, meta. ARGV: n, ttlMs, nowMs, sessionId, mode, record…
 */
export const rebuildScript: KVScript = defineScript({
  name: 'session-window.rebuild',
  lua: `${luaPrelude}
local hot, meta = KEYS[1], KEYS[2]
local n = tonumber(ARGV[1])
local bySeq, seqs = {}, {}
local function add(r)
  local s = seqOf(r)
  if s > 0 and not bySeq[s] then bySeq[s] = r; seqs[#seqs + 1] = s end
end
for i = 6, #ARGV do add(ARGV[i]) end
if ARGV[5] == 'merge' then
  local current = redis.call('LRANGE', hot, 0, -1)
  for i = 1, #current do add(current[i]) end
end
table.sort(seqs)
local out = {}
for i = math.max(1, #seqs - n + 1), #seqs do out[#out + 1] = bySeq[seqs[i]] end
redis.call('DEL', hot)
if #out > 0 then
  pushAll(hot, out)
  touch(hot, meta, tonumber(ARGV[2]), ARGV[3], ARGV[4])
end
return out
`,
  memory(store, keys, args) {
    const [hot, meta] = keys as [string, string];
    const n = argNumber(args[0]);
    const bySeq = new Map<number, Uint8Array>();
    const add = (record: Uint8Array) => {
      const seq = recordSeq(record);
      if (seq > 0 && !bySeq.has(seq)) bySeq.set(seq, record);
    };
    for (const record of args.slice(5)) add(record);
    if (argString(args[4]) === 'merge') for (const record of store.lrange(hot, 0, -1)) add(record);
    const seqs = [...bySeq.keys()].sort((a, b) => a - b);
    const out = seqs.slice(Math.max(0, seqs.length - n)).map((seq) => bySeq.get(seq)!);
    store.del([hot]);
    if (out.length > 0) {
      store.rpush(hot, out);
      memoryTouch(store, hot, meta, argNumber(args[1]), args[2]!, args[3]!);
    }
    return out;
  },
});

/**
 * Frees an idle session's keys, atomically, so two evictors racing on the same session
 * evict it once: returns 1 when this call deleted the keys; 0 when the session was
 * active after `cutoffMs` or already gone; -1 when the hot window holds a seq above
 * `archivedLastSeq` (the archive does not have it yet), in which case nothing is deleted.
 *
 * KEYS: hot, meta. ARGV: cutoffMs, archivedLastSeq.
 */
export const evictScript: KVScript = defineScript({
  name: 'session-window.evict',
  lua: `${luaPrelude}
local at = redis.call('HGET', KEYS[2], 'at')
if not at then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
elseif tonumber(at) > tonumber(ARGV[1]) then
  return 0
end
local tail = redis.call('LRANGE', KEYS[1], -1, -1)[1]
if tail and seqOf(tail) > tonumber(ARGV[2]) then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`,
  memory(store, keys, args) {
    const [hot, meta] = keys as [string, string];
    const at = store.hget(meta, 'at');
    if (at === null) {
      if (!store.exists(hot)) return 0;
    } else if (argNumber(at) > argNumber(args[0])) {
      return 0;
    }
    const tail = store.lrange(hot, -1, -1)[0];
    if (tail !== undefined && recordSeq(tail) > argNumber(args[1])) return -1;
    store.del([hot, meta]);
    return 1;
  },
});
