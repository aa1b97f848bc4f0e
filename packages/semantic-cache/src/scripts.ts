import { argNumber, argString, defineScript, type KVScript, type MemoryStore } from '@lix/redis-pool';
import { RECORD_META_BYTES, VECTOR_HEADER_BYTES, recordSize, vectorHeader } from './records.js';

/** Reply status of {@link setEntryScript}: stored. */
export const SET_OK = 0;
/** Reply status: live entries of another dimension are stored in the scope (reply[1] = their dimension). */
export const SET_DIMENSION_MISMATCH = -1;
/** Reply status: the vector string is not in the SC1 format. */
export const SET_CORRUPT = -2;
/** Reply status: refused, a tag of the entry was invalidated after the write registered it (or the write took too long). */
export const SET_STALE = -3;

/**
 * Appends one entry to a scope atomically: KEYS = [vectors, responses, tombstones];
 * ARGV = [nowMs, expiry (16-digit text), maxItems, dimensions, unit vector bytes, entry value
 * (the response, behind its meta: see entry-value.ts), header text, unused, registeredAt,
 * stale window ms, tag, generation, tag, generation, …].
 * The caller's clock decides expiry, the same clock its lookups use. ARGV[8…] are optional
 * (a 7-argument call behaves as before).
 *
 * With tags, the write is refused (`SET_STALE`) when a tombstone in the scope shows that
 * a tag was invalidated at a generation above the one the write registered, or when more
 * than the stale window passed (server time) since it registered: this is what stops a
 * write that raced an invalidation from bringing back an entry with the old tag.
 *
 * In one step it drops records whose expiry has passed, drops the oldest live records
 * beyond `maxItems - 1`, appends the new record, deletes the dropped responses, writes the
 * new one and sets both keys to expire with the newest record. Because it all runs inside
 * the server, concurrent writers (any number of processes) never lose each other's entries
 * the way the original's read-modify-write of one JSON blob did.
 *
 * Reply: `[status, id counter, dropped count, live count after the write]`.
 */
export const setEntryScript: KVScript = defineScript({
  name: 'semantic-cache:set-entry',
  lua: `
if ARGV[9] ~= nil and ARGV[9] ~= '' then
  local clock = redis.call('TIME')
  local serverNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  if serverNow - tonumber(ARGV[9]) > tonumber(ARGV[10]) then return {${SET_STALE}, 0, 0, 0} end
  for i = 11, #ARGV, 2 do
    local tomb = redis.call('HGET', KEYS[3], ARGV[i])
    if tomb and tonumber(tomb) > tonumber(ARGV[i + 1]) then return {${SET_STALE}, 0, 0, 0} end
  end
end
local now = tonumber(ARGV[1])
local expiry = ARGV[2]
local maxItems = tonumber(ARGV[3])
local dim = tonumber(ARGV[4])
local recSize = ${RECORD_META_BYTES} + 4 * dim
local current = redis.call('GET', KEYS[1])
local kept = {}
local dropped = {}
if current then
  if #current < ${VECTOR_HEADER_BYTES} or string.sub(current, 1, 3) ~= 'SC1' then return {${SET_CORRUPT}, 0, 0, 0} end
  local storedDim = tonumber(string.sub(current, 4, ${VECTOR_HEADER_BYTES}))
  if storedDim == nil or storedDim < 1 then return {${SET_CORRUPT}, 0, 0, 0} end
  local storedSize = ${RECORD_META_BYTES} + 4 * storedDim
  local body = #current - ${VECTOR_HEADER_BYTES}
  if body % storedSize ~= 0 then return {${SET_CORRUPT}, 0, 0, 0} end
  for i = 0, body / storedSize - 1 do
    local offset = ${VECTOR_HEADER_BYTES} + i * storedSize
    local recordExpiry = tonumber(string.sub(current, offset + 1, offset + 16))
    if recordExpiry ~= nil and recordExpiry > now then
      if storedDim ~= dim then return {${SET_DIMENSION_MISMATCH}, storedDim, 0, 0} end
      kept[#kept + 1] = offset
    else
      dropped[#dropped + 1] = string.sub(current, offset + 17, offset + 24)
    end
  end
end
local latest = tonumber(expiry)
local parts = {ARGV[7]}
local overflow = #kept - (maxItems - 1)
for j = 1, #kept do
  local offset = kept[j]
  if j <= overflow then
    dropped[#dropped + 1] = string.sub(current, offset + 17, offset + 24)
  else
    parts[#parts + 1] = string.sub(current, offset + 1, offset + recSize)
    local recordExpiry = tonumber(string.sub(current, offset + 1, offset + 16))
    if recordExpiry > latest then latest = recordExpiry end
  end
end
local counter = redis.call('HINCRBY', KEYS[2], '#', 1)
local id = string.format('%08x', counter % 4294967296)
parts[#parts + 1] = expiry .. id .. ARGV[5]
local ttl = math.max(1, latest - now)
redis.call('SET', KEYS[1], table.concat(parts), 'PX', ttl)
if #dropped > 0 then redis.call('HDEL', KEYS[2], unpack(dropped)) end
redis.call('HSET', KEYS[2], id, ARGV[6])
redis.call('PEXPIRE', KEYS[2], ttl)
return {${SET_OK}, counter, #dropped, #parts - 1}
`,
  memory: (store: MemoryStore, keys: string[], args: Uint8Array[]) => {
    const [vectorsKey, responsesKey, tombstonesKey] = keys as [string, string, string | undefined];
    const registeredAt = argString(args[8]);
    if (registeredAt !== '') {
      if (store.now() - Number(registeredAt) > argNumber(args[9])) return [SET_STALE, 0, 0, 0];
      for (let i = 10; i + 1 < args.length; i += 2) {
        const tomb = store.hget(tombstonesKey!, argString(args[i]));
        if (tomb !== null && argNumber(tomb) > argNumber(args[i + 1])) return [SET_STALE, 0, 0, 0];
      }
    }
    const now = argNumber(args[0]);
    const expiryText = argString(args[1]);
    const maxItems = argNumber(args[2]);
    const dim = argNumber(args[3]);
    const vector = args[4]!;
    const response = args[5]!;
    const header = args[6]!;
    const size = recordSize(dim);
    const current = store.get(vectorsKey);
    const kept: number[] = [];
    const dropped: string[] = [];
    const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
    if (current !== null) {
      if (current.length < VECTOR_HEADER_BYTES || ascii(current, 0, 3) !== 'SC1') return [SET_CORRUPT, 0, 0, 0];
      const storedDimText = ascii(current, 3, VECTOR_HEADER_BYTES);
      const storedDim = /^\d+$/.test(storedDimText) ? Number(storedDimText) : Number.NaN;
      if (!(storedDim >= 1)) return [SET_CORRUPT, 0, 0, 0];
      const storedSize = recordSize(storedDim);
      const body = current.length - VECTOR_HEADER_BYTES;
      if (body % storedSize !== 0) return [SET_CORRUPT, 0, 0, 0];
      for (let i = 0; i < body / storedSize; i++) {
        const offset = VECTOR_HEADER_BYTES + i * storedSize;
        const expiryDigits = ascii(current, offset, offset + 16);
        const recordExpiry = /^\d+$/.test(expiryDigits) ? Number(expiryDigits) : Number.NaN;
        if (recordExpiry > now) {
          if (storedDim !== dim) return [SET_DIMENSION_MISMATCH, storedDim, 0, 0];
          kept.push(offset);
        } else {
          dropped.push(ascii(current, offset + 16, offset + 24));
        }
      }
    }
    let latest = Number(expiryText);
    const parts: Uint8Array[] = [header];
    const overflow = kept.length - (maxItems - 1);
    kept.forEach((offset, j) => {
      if (j < overflow) {
        dropped.push(ascii(current!, offset + 16, offset + 24));
      } else {
        parts.push(current!.subarray(offset, offset + size));
        const recordExpiry = Number(ascii(current!, offset, offset + 16));
        if (recordExpiry > latest) latest = recordExpiry;
      }
    });
    const counter = store.hincrBy(responsesKey, '#', 1);
    const id = (counter % 4294967296).toString(16).padStart(8, '0');
    const record = new Uint8Array(size);
    for (let i = 0; i < 16; i++) record[i] = expiryText.charCodeAt(i);
    for (let i = 0; i < 8; i++) record[16 + i] = id.charCodeAt(i);
    record.set(vector, RECORD_META_BYTES);
    parts.push(record);
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    const ttl = Math.max(1, latest - now);
    store.set(vectorsKey, joined, { ttlMs: ttl });
    if (dropped.length > 0) store.hdel(responsesKey, dropped);
    store.hset(responsesKey, { [id]: response });
    store.pexpire(responsesKey, ttl);
    return [SET_OK, counter, dropped.length, parts.length - 1];
  },
});

/** The header text {@link setEntryScript} writes for `dimensions` (passed as ARGV[7]). */
export function headerArg(dimensions: number): string {
  return vectorHeader(dimensions);
}
