import { createHash } from 'node:crypto';
import { argNumber, argString, defineScript, type KVScript, type MemoryStore } from '@lix/redis-pool';
import { recordSeq } from './record.js';

/**
 * The session window's atomic operations. Each keeps one invariant on the hot list
 * (KEYS[1]): records sorted by seq, no seq twice, at most `n` of them. Every script
 * touches only the session's two keys (hot list and activity), which share a hash tag,
 * so they run on a cluster. Scripts take the client's clock (`nowMs`) so activity uses
 * one time source, injectable in tests.
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
local function touch(hot, act, ttl, now)
  redis.call('PEXPIRE', hot, ttl)
  redis.call('SET', act, now, 'PX', ttl)
end
local function touchIfDue(hot, act, ttl, now, every)
  local at = tonumber(redis.call('GET', act))
  local t, e = tonumber(now), tonumber(every)
  if not at or t - at >= e or t < at - e then touch(hot, act, ttl, now) end
end
local function verdict(first, last, len, n)
  if first < 1 or last - first + 1 ~= len then return 2 end
  if len < n and first ~= 1 then return 2 end
  return 0
end
local function completeness(hot, n)
  local len = redis.call('LLEN', hot)
  if len == 0 then return 0 end
  return verdict(seqOf(redis.call('LINDEX', hot, 0)), seqOf(redis.call('LINDEX', hot, -1)), len, n)
end
`;

function memoryTouch(store: MemoryStore, hot: string, activity: string, ttlMs: number, now: Uint8Array): void {
  store.pexpire(hot, ttlMs);
  store.set(activity, now, { ttlMs });
}

/** The read scripts' refresh: TTL and activity, when the recorded activity is `args[2]` ms old (args: ttlMs, nowMs, touchEveryMs). */
function memoryTouchIfDue(store: MemoryStore, hot: string, activity: string, args: Uint8Array[]): void {
  const atBytes = store.get(activity);
  const at = atBytes === null ? Number.NaN : argNumber(atBytes);
  const now = argNumber(args[1]);
  const every = argNumber(args[2]);
  if (!Number.isFinite(at) || now - at >= every || now < at - every) memoryTouch(store, hot, activity, argNumber(args[0]), args[1]!);
}

function verdict(first: number, last: number, len: number, n: number): number {
  if (first < 1 || last - first + 1 !== len) return APPEND_REBUILD;
  if (len < n && first !== 1) return APPEND_REBUILD;
  return APPEND_OK;
}

function memoryCompleteness(store: MemoryStore, hot: string, n: number): number {
  const len = store.llen(hot);
  if (len === 0) return APPEND_OK;
  return verdict(recordSeq(store.lrange(hot, 0, 0)[0]!), recordSeq(store.lrange(hot, -1, -1)[0]!), len, n);
}

/**
 * Pushes the records of one archive write (a group commit: one or more messages, seqs
 * ascending) into the hot window, keeping it sorted and trimmed to `n`, then refreshes
 * the TTL and records activity. Overflowed records are simply trimmed: the archive
 * already holds every message before its record reaches Redis. The common case (seqs
 * after the tail) costs LINDEX, RPUSH, LTRIM, LINDEX: O(1) commands whatever the batch
 * size, apart from the RPUSH itself. The TTL and activity (PEXPIRE and SET, two writes
 * to replicate) are refreshed when `touch` is `1`, when the list was empty (a new or
 * evicted window always gets its TTL) and when the window was rewritten; the client
 * passes `0` when it refreshed them less than a second ago, the resolution reads use too.
 *
 * KEYS: hot, activity. ARGV: n, ttlMs, nowMs, touch (`1`/`0`), record… Returns a status code.
 */
export const appendScript: KVScript = defineScript({
  name: 'session-window.append',
  lua: `${luaPrelude}
local hot, act = KEYS[1], KEYS[2]
local n = tonumber(ARGV[1])
local first, last = seqOf(ARGV[5]), seqOf(ARGV[#ARGV])
local ascending = true
for i = 6, #ARGV do
  if seqOf(ARGV[i]) <= seqOf(ARGV[i - 1]) then ascending = false break end
end
local status
local tail = redis.call('LINDEX', hot, -1)
local fresh = ARGV[4] == '1' or not tail
if ascending and (not tail or first > seqOf(tail)) then
  local len = 0
  for i = 5, #ARGV, 500 do
    len = redis.call('RPUSH', hot, unpack(ARGV, i, math.min(i + 499, #ARGV)))
  end
  if len > n then
    redis.call('LTRIM', hot, -n, -1)
    len = n
  end
  local head = first
  if len > 1 then head = seqOf(redis.call('LINDEX', hot, 0)) end
  status = verdict(head, last, len, n)
else
  local bySeq, seqs, added = {}, {}, false
  local current = redis.call('LRANGE', hot, 0, -1)
  for i = 1, #current do
    local s = seqOf(current[i])
    if s > 0 and not bySeq[s] then bySeq[s] = current[i]; seqs[#seqs + 1] = s end
  end
  for i = 5, #ARGV do
    local s = seqOf(ARGV[i])
    if s > 0 and not bySeq[s] then bySeq[s] = ARGV[i]; seqs[#seqs + 1] = s; added = true end
  end
  if not added then
    status = 1
  else
    table.sort(seqs)
    local out = {}
    for i = math.max(1, #seqs - n + 1), #seqs do out[#out + 1] = bySeq[seqs[i]] end
    redis.call('DEL', hot)
    pushAll(hot, out)
    status = completeness(hot, n)
    fresh = true
  end
end
if fresh then touch(hot, act, ARGV[2], ARGV[3]) end
return status
`,
  memory(store, keys, args) {
    const [hot, activity] = keys as [string, string];
    const n = argNumber(args[0]);
    const records = args.slice(4) as Uint8Array[];
    const seqs = records.map((record) => recordSeq(record));
    const ascending = seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!);
    let status: number;
    const tail = store.lrange(hot, -1, -1)[0];
    let fresh = argString(args[3]) === '1' || tail === undefined;
    if (ascending && (tail === undefined || seqs[0]! > recordSeq(tail))) {
      let len = store.rpush(hot, records);
      if (len > n) {
        store.ltrim(hot, -n, -1);
        len = n;
      }
      status = verdict(recordSeq(store.lrange(hot, 0, 0)[0]!), seqs[seqs.length - 1]!, len, n);
    } else {
      const bySeq = new Map<number, Uint8Array>();
      for (const record of store.lrange(hot, 0, -1)) {
        const seq = recordSeq(record);
        if (seq > 0 && !bySeq.has(seq)) bySeq.set(seq, record);
      }
      let added = false;
      for (const record of records) {
        const seq = recordSeq(record);
        if (seq > 0 && !bySeq.has(seq)) {
          bySeq.set(seq, record);
          added = true;
        }
      }
      if (!added) status = APPEND_DUPLICATE;
      else {
        const sorted = [...bySeq.keys()].sort((a, b) => a - b);
        store.del([hot]);
        store.rpush(
          hot,
          sorted.slice(Math.max(0, sorted.length - n)).map((seq) => bySeq.get(seq)!),
        );
        status = memoryCompleteness(store, hot, n);
        fresh = true;
      }
    }
    if (fresh) memoryTouch(store, hot, activity, argNumber(args[1]), args[2]!);
    return status;
  },
});

/**
 * Returns the hot window (oldest first) and, when it is not empty, refreshes its TTL
 * and records activity (LRANGE, GET, and PEXPIRE + SET only when the recorded activity
 * is at least `touchEveryMs` old): one round trip for a read, and a read-mostly session
 * does not rewrite two keys (and replicate them) on every call.
 *
 * KEYS: hot, activity. ARGV: ttlMs, nowMs, touchEveryMs. Returns the records.
 */
export const readScript: KVScript = defineScript({
  name: 'session-window.read',
  lua: `${luaPrelude}
local list = redis.call('LRANGE', KEYS[1], 0, -1)
if #list > 0 then touchIfDue(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]) end
return list
`,
  memory(store, keys, args) {
    const [hot, activity] = keys as [string, string];
    const list = store.lrange(hot, 0, -1);
    if (list.length > 0) memoryTouchIfDue(store, hot, activity, args);
    return list;
  },
});

/**
 * {@link readScript} for a process that holds the window it read last: when the list
 * still has that read's length and last record, the reply is the integer `1` and the
 * records stay on the server (the caller serves its copy); otherwise it is the list,
 * as `readScript` returns it. The records are stored once per seq and never rewritten
 * with other content, and the list is kept sorted with no seq twice, so an equal length
 * and an equal last record mean an equal window; the completeness checks that follow a
 * read do not change. A last record over {@link TAIL_DIGEST_BYTES} is compared by its
 * SHA-1 (`mode` `h`) so the argument stays small.
 *
 * KEYS: hot, activity. ARGV: ttlMs, nowMs, touchEveryMs, touch (`1`/`0`), length,
 * mode (`r` raw, `h` SHA-1 hex), last record or its digest.
 */
export const readIfChangedScript: KVScript = defineScript({
  name: 'session-window.read-if-changed',
  lua: `${luaPrelude}
local hot, act = KEYS[1], KEYS[2]
local len = redis.call('LLEN', hot)
local reply
if len > 0 and len == tonumber(ARGV[5]) then
  local tail = redis.call('LINDEX', hot, -1)
  if ARGV[6] == 'h' then tail = redis.sha1hex(tail) end
  if tail == ARGV[7] then reply = 1 end
end
if not reply then reply = redis.call('LRANGE', hot, 0, -1) end
if len > 0 and ARGV[4] == '1' then touchIfDue(hot, act, ARGV[1], ARGV[2], ARGV[3]) end
return reply
`,
  memory(store, keys, args) {
    const [hot, activity] = keys as [string, string];
    const len = store.llen(hot);
    let reply: Uint8Array[] | number | undefined;
    if (len > 0 && len === argNumber(args[4])) {
      const tail = store.lrange(hot, -1, -1)[0]!;
      const seen = argString(args[5]) === 'h' ? Buffer.from(createHash('sha1').update(tail).digest('hex')) : tail;
      if (Buffer.compare(seen, args[6]!) === 0) reply = 1;
    }
    reply ??= store.lrange(hot, 0, -1);
    if (len > 0 && argString(args[3]) === '1') memoryTouchIfDue(store, hot, activity, args);
    return reply;
  },
});

/** Last records longer than this are compared by SHA-1 in {@link readIfChangedScript}. */
export const TAIL_DIGEST_BYTES = 2048;

/**
 * Rebuilds the hot window from records read from the archive. In `merge` mode the
 * window's current records are kept too (a concurrent writer may have pushed a newer
 * one after the archive was read), so a rebuild never drops a message; `replace` mode
 * discards them (used when Redis holds seqs the archive no longer has). Keeps the
 * newest `n` by seq and returns them, oldest first; an empty result deletes both keys.
 *
 * KEYS: hot, activity. ARGV: n, ttlMs, nowMs, mode, record…
 */
export const rebuildScript: KVScript = defineScript({
  name: 'session-window.rebuild',
  lua: `${luaPrelude}
local hot, act = KEYS[1], KEYS[2]
local n = tonumber(ARGV[1])
local bySeq, seqs = {}, {}
local function add(r)
  local s = seqOf(r)
  if s > 0 and not bySeq[s] then bySeq[s] = r; seqs[#seqs + 1] = s end
end
for i = 5, #ARGV do add(ARGV[i]) end
if ARGV[4] == 'merge' then
  local current = redis.call('LRANGE', hot, 0, -1)
  for i = 1, #current do add(current[i]) end
end
table.sort(seqs)
local out = {}
for i = math.max(1, #seqs - n + 1), #seqs do out[#out + 1] = bySeq[seqs[i]] end
redis.call('DEL', hot)
if #out > 0 then
  pushAll(hot, out)
  touch(hot, act, ARGV[2], ARGV[3])
else
  redis.call('DEL', act)
end
return out
`,
  memory(store, keys, args) {
    const [hot, activity] = keys as [string, string];
    const n = argNumber(args[0]);
    const bySeq = new Map<number, Uint8Array>();
    const add = (record: Uint8Array) => {
      const seq = recordSeq(record);
      if (seq > 0 && !bySeq.has(seq)) bySeq.set(seq, record);
    };
    for (const record of args.slice(4)) add(record);
    if (argString(args[3]) === 'merge') for (const record of store.lrange(hot, 0, -1)) add(record);
    const seqs = [...bySeq.keys()].sort((a, b) => a - b);
    const out = seqs.slice(Math.max(0, seqs.length - n)).map((seq) => bySeq.get(seq)!);
    store.del([hot]);
    if (out.length > 0) {
      store.rpush(hot, out);
      memoryTouch(store, hot, activity, argNumber(args[1]), args[2]!);
    } else {
      store.del([activity]);
    }
    return out;
  },
});

/**
 * Frees an idle session's keys, atomically, so two evictors racing on the same session
 * evict it once: returns 1 when this call deleted the keys; 0 when the session was
 * active after `cutoffMs` or is already gone. With `archivedLastSeq` (not `''`), returns
 * -1 and deletes nothing when the window holds a later seq than the archive.
 *
 * KEYS: hot, activity. ARGV: cutoffMs, archivedLastSeq or ''.
 */
export const evictScript: KVScript = defineScript({
  name: 'session-window.evict',
  lua: `${luaPrelude}
local at = redis.call('GET', KEYS[2])
if not at then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
elseif tonumber(at) > tonumber(ARGV[1]) then
  return 0
end
if ARGV[2] ~= '' then
  local tail = redis.call('LINDEX', KEYS[1], -1)
  if tail and seqOf(tail) > tonumber(ARGV[2]) then return -1 end
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`,
  memory(store, keys, args) {
    const [hot, activity] = keys as [string, string];
    const at = store.get(activity);
    if (at === null) {
      if (!store.exists(hot)) return 0;
    } else if (argNumber(at) > argNumber(args[0])) {
      return 0;
    }
    if (argString(args[1]) !== '') {
      const tail = store.lrange(hot, -1, -1)[0];
      if (tail !== undefined && recordSeq(tail) > argNumber(args[1])) return -1;
    }
    store.del([hot, activity]);
    return 1;
  },
});
