import type {
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  SharedV3ProviderMetadata,
} from '@ai-sdk/provider';

/** Version of the stored record; a reader skips records of another version (a miss, never a wrong shape). */
export const RECORD_VERSION = 1;

/** Content and stream parts a cached answer may hold: text and reasoning only, never tool calls or files. */
const CACHEABLE_CONTENT = new Set(['text', 'reasoning']);
const CACHEABLE_PARTS = new Set([
  'stream-start',
  'response-metadata',
  'text-start',
  'text-delta',
  'text-end',
  'reasoning-start',
  'reasoning-delta',
  'reasoning-end',
  'finish',
]);

/** A stream part as stored: Dates become epoch milliseconds, raw chunks are dropped. */
export type StoredStreamPart =
  | Exclude<LanguageModelV3StreamPart, { type: 'response-metadata' } | { type: 'raw' }>
  | { type: 'response-metadata'; id?: string; modelId?: string; timestampMs?: number };

/** What one cache entry holds (msgpack in Redis through `@lix/semantic-cache`). */
export interface CachedResponseRecord {
  v: typeof RECORD_VERSION;
  /** How the answer was produced: its content (`generate`) or its stream parts (`stream`). */
  kind: 'generate' | 'stream';
  content?: LanguageModelV3Content[];
  parts?: StoredStreamPart[];
  finishReason: LanguageModelV3FinishReason;
  providerMetadata?: SharedV3ProviderMetadata;
  response?: { id?: string; modelId?: string; timestampMs?: number };
  /** When the entry was written (epoch ms). */
  storedAtMs: number;
}

/** Usage of an answer served from the cache: no tokens were spent. */
export function zeroUsage(): LanguageModelV3Usage {
  return {
    inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: 0, text: 0, reasoning: 0 },
  };
}

/** A JSON copy: drops `undefined`, so what comes back from msgpack is exactly what went in. */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function timestampMsOf(date: unknown): number | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.getTime() : undefined;
}

/** The record for a generate result, or `undefined` when it must not be cached (see {@link isCacheableGenerate}). */
export function recordFromGenerate(result: LanguageModelV3GenerateResult, now: number): CachedResponseRecord | undefined {
  if (!isCacheableGenerate(result)) return undefined;
  const response = result.response;
  return jsonCopy({
    v: RECORD_VERSION,
    kind: 'generate',
    content: result.content,
    finishReason: result.finishReason,
    providerMetadata: result.providerMetadata,
    response: response === undefined ? undefined : { id: response.id, modelId: response.modelId, timestampMs: timestampMsOf(response.timestamp) },
    storedAtMs: now,
  });
}

/** Only a complete text answer is reused: finished with `stop`, text/reasoning parts only, some non-blank text. */
export function isCacheableGenerate(result: LanguageModelV3GenerateResult): boolean {
  if (result.finishReason?.unified !== 'stop' || !Array.isArray(result.content)) return false;
  if (!result.content.every((part) => CACHEABLE_CONTENT.has(part.type))) return false;
  return result.content.some((part) => part.type === 'text' && part.text.trim() !== '');
}

/**
 * Collects the parts of a streamed answer while they pass through, and decides at the
 * end whether the whole stream may be cached.
 */
export class StreamRecorder {
  readonly #parts: StoredStreamPart[] = [];
  readonly #maxChars: number;
  #chars = 0;
  #cacheable = true;
  #finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | undefined;
  #sawText = false;

  /** `maxChars` bounds what is held for one stream: past it the stream is simply not cached. */
  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  /** Records one part (a cheap push; the copy happens once, at the end). */
  add(part: LanguageModelV3StreamPart): void {
    if (!this.#cacheable) return;
    if (part.type === 'raw') return;
    if (part.type === 'text-delta' || part.type === 'reasoning-delta') this.#chars += part.delta.length;
    if (!CACHEABLE_PARTS.has(part.type) || this.#finish !== undefined || this.#chars > this.#maxChars) {
      this.#cacheable = false;
      this.#parts.length = 0;
      return;
    }
    if (part.type === 'finish') this.#finish = part;
    if (part.type === 'text-delta' && part.delta.trim() !== '') this.#sawText = true;
    if (part.type === 'response-metadata') {
      this.#parts.push({ type: 'response-metadata', id: part.id, modelId: part.modelId, timestampMs: timestampMsOf(part.timestamp) });
    } else {
      this.#parts.push(part as StoredStreamPart);
    }
  }

  /** The record, or `undefined` when the stream must not be cached (no `stop` finish, an error or tool part, no text). */
  record(now: number): CachedResponseRecord | undefined {
    const finish = this.#finish;
    if (!this.#cacheable || finish === undefined || finish.finishReason?.unified !== 'stop' || !this.#sawText) return undefined;
    const metadata = this.#parts.find((part) => part.type === 'response-metadata');
    return jsonCopy({
      v: RECORD_VERSION,
      kind: 'stream',
      parts: this.#parts,
      finishReason: finish.finishReason,
      providerMetadata: finish.providerMetadata,
      response: metadata === undefined ? undefined : { id: metadata.id, modelId: metadata.modelId, timestampMs: metadata.timestampMs },
      storedAtMs: now,
    });
  }
}

/** True when `value` looks like a record this version wrote. */
export function isCachedResponseRecord(value: unknown): value is CachedResponseRecord {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Partial<CachedResponseRecord>;
  if (record.v !== RECORD_VERSION || record.finishReason === undefined) return false;
  return (record.kind === 'generate' && Array.isArray(record.content)) || (record.kind === 'stream' && Array.isArray(record.parts));
}

function hitMetadata(stored: SharedV3ProviderMetadata | undefined, similarity: number): SharedV3ProviderMetadata {
  return { ...stored, lix: { hit: true, similarity } };
}

function restoreDate(ms: number | undefined): Date | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms) : undefined;
}

function contentFromParts(parts: readonly StoredStreamPart[]): LanguageModelV3Content[] {
  const content: LanguageModelV3Content[] = [];
  const open = new Map<string, { type: 'text' | 'reasoning'; text: string; providerMetadata?: SharedV3ProviderMetadata }>();
  for (const part of parts) {
    if (part.type === 'text-start' || part.type === 'reasoning-start') {
      const item = { type: part.type === 'text-start' ? ('text' as const) : ('reasoning' as const), text: '' };
      open.set(`${item.type}:${part.id}`, item);
      content.push(item);
    } else if (part.type === 'text-delta' || part.type === 'reasoning-delta') {
      const item = open.get(`${part.type === 'text-delta' ? 'text' : 'reasoning'}:${part.id}`);
      if (item !== undefined) item.text += part.delta;
    } else if ((part.type === 'text-end' || part.type === 'reasoning-end') && part.providerMetadata !== undefined) {
      const item = open.get(`${part.type === 'text-end' ? 'text' : 'reasoning'}:${part.id}`);
      if (item !== undefined) item.providerMetadata = part.providerMetadata;
    }
  }
  return content;
}

function partsFromContent(record: CachedResponseRecord): StoredStreamPart[] {
  const parts: StoredStreamPart[] = [{ type: 'stream-start', warnings: [] }];
  if (record.response !== undefined) parts.push({ type: 'response-metadata', ...record.response });
  (record.content ?? []).forEach((item, index) => {
    if (item.type !== 'text' && item.type !== 'reasoning') return;
    const id = `lix-${index}`;
    const meta = item.providerMetadata === undefined ? {} : { providerMetadata: item.providerMetadata };
    if (item.type === 'text') parts.push({ type: 'text-start', id }, { type: 'text-delta', id, delta: item.text }, { type: 'text-end', id, ...meta });
    else parts.push({ type: 'reasoning-start', id }, { type: 'reasoning-delta', id, delta: item.text }, { type: 'reasoning-end', id, ...meta });
  });
  parts.push({
    type: 'finish',
    finishReason: record.finishReason,
    usage: zeroUsage(),
    ...(record.providerMetadata === undefined ? {} : { providerMetadata: record.providerMetadata }),
  });
  return parts;
}

/** A generate result answering from `record` (either kind), usage zeroed, `providerMetadata.lix` set. */
export function generateResultFromRecord(record: CachedResponseRecord, similarity: number): LanguageModelV3GenerateResult {
  const content = record.kind === 'generate' ? (record.content ?? []) : contentFromParts(record.parts ?? []);
  const timestamp = restoreDate(record.response?.timestampMs);
  return {
    content,
    finishReason: record.finishReason,
    usage: zeroUsage(),
    providerMetadata: hitMetadata(record.providerMetadata, similarity),
    response: {
      ...(record.response?.id === undefined ? {} : { id: record.response.id }),
      ...(record.response?.modelId === undefined ? {} : { modelId: record.response.modelId }),
      ...(timestamp === undefined ? {} : { timestamp }),
    },
    warnings: [],
  };
}

/**
 * The stream parts answering from `record` (either kind): the stored parts in order,
 * timestamps back as Dates, and the finish part with usage zeroed and `providerMetadata.lix`.
 */
export function streamPartsFromRecord(record: CachedResponseRecord, similarity: number): LanguageModelV3StreamPart[] {
  const stored = record.kind === 'stream' ? (record.parts ?? []) : partsFromContent(record);
  return stored.map((part): LanguageModelV3StreamPart => {
    if (part.type === 'response-metadata') {
      const timestamp = restoreDate(part.timestampMs);
      return {
        type: 'response-metadata',
        ...(part.id === undefined ? {} : { id: part.id }),
        ...(part.modelId === undefined ? {} : { modelId: part.modelId }),
        ...(timestamp === undefined ? {} : { timestamp }),
      };
    }
    if (part.type === 'finish')
      return { type: 'finish', finishReason: part.finishReason, usage: zeroUsage(), providerMetadata: hitMetadata(part.providerMetadata, similarity) };
    if (part.type === 'stream-start') return { type: 'stream-start', warnings: [] };
    return part;
  });
}
