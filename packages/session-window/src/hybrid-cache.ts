import type { ArchivedTurn, ArchiveStore, SessionMetadata } from '@lix/archive';
import { systemClock, type Clock, type KVDriver, type Logger, type ScriptReply } from '@lix/redis-pool';
import { abortedError, groupSignal, readAddOptions, type AddMessageOptions } from './append-abort.js';
import { SessionWindowError } from './errors.js';
import { sessionKeys, validateKeyPrefix, type SessionKeys } from './keys.js';
import { encodeTrustedRecord } from './record.js';
import { APPEND_REBUILD, appendScript, evictScript, readIfChangedScript, readScript, rebuildScript } from './scripts.js';
import { currentDoubtEpoch, raiseDoubt, sessionState, type PendingAppend, type SessionState } from './session-state.js';
import { applyTokenBudget, approximateTokenCount, type TokenCounter } from './token-budget.js';
import type { ConversationMessage, JsonObject, NewMessage, RelevantMessage, SessionStats, SmartContext, SmartContextRequest, WindowCounters } from './types.js';
import {
  checkOptionKeys,
  clockOption,
  describe,
  errorText,
  integerArgument,
  integerOption,
  loggerOption,
  readObject,
  validateEmbedding,
  validateMessage,
  type ValidMessage,
  validateSessionId,
  type MessageLimits,
} from './validate.js';
import { decodeWindow, type WindowProbe } from './window-decoder.js';

/** Options of {@link HybridConversationCache}. */
export interface HybridConversationCacheOptions {
  /** The conversation this instance reads and writes. */
  sessionId: string;
  /** Shared connection to Redis (or the in-memory driver); one driver serves every session. */
  driver: KVDriver;
  /**
   * Shared archive, the log of record: every message is stored there before it is
   * acknowledged. Any `ArchiveStore` from `@lix/archive` (the file store, PostgreSQL,
   * or your own).
   */
  archive: ArchiveStore;
  /** Prefix of every Redis key (default `'lix'`). */
  keyPrefix?: string;
  /** Messages kept in the Redis hot window (default 20, at most 1000). */
  hotWindowSize?: number;
  /** TTL of the session's Redis keys, refreshed by reads and writes (default 24 h). */
  sessionTtlMs?: number;
  /** Token budget of `getContext` (default `null`: no limit). */
  sessionMaxTokens?: number | null;
  /** Token counter for the budget (default {@link approximateTokenCount}: ceil(chars / 4)). */
  countTokens?: TokenCounter;
  /** Largest accepted content, in UTF-8 bytes (default 1 MiB). */
  maxContentBytes?: number;
  /** Largest accepted metadata, in bytes of JSON (default 64 KiB). */
  maxMetadataBytes?: number;
  /** Most dimensions accepted in an embedding (default 65 536). */
  maxEmbeddingLength?: number;
  /**
   * How long a window the archive confirmed is trusted without asking it again
   * (default 1000 ms; 0: check the archive's last seq on every read). This is the
   * worst-case time a window that misses a stored message can be served, in the
   * failure orders Redis cannot reveal (see the README's "Stale windows").
   */
  verifyIntervalMs?: number;
  logger?: Logger;
  clock?: Clock;
}

const OPTION_KEYS = [
  'sessionId',
  'driver',
  'archive',
  'keyPrefix',
  'hotWindowSize',
  'sessionTtlMs',
  'sessionMaxTokens',
  'countTokens',
  'maxContentBytes',
  'maxMetadataBytes',
  'maxEmbeddingLength',
  'verifyIntervalMs',
  'logger',
  'clock',
] as const;

const ARCHIVE_METHODS = ['appendTurns', 'loadAll', 'loadRecent', 'loadAfter', 'getMetadata', 'deleteSession', 'searchByText', 'searchByEmbedding'] as const;

const MB = 1024 * 1024;
// A group commit carries at most this much: one archive write stays bounded in memory.
const MAX_GROUP_MESSAGES = 256;
const MAX_GROUP_BYTES = 8 * MB;
// Activity is recorded at this resolution by reads, so a read-mostly session does not
// rewrite (and replicate) two keys per call; eviction idles are measured in minutes.
const TOUCH_EVERY_MS = 1000;

function toMessage(turn: ArchivedTurn, withEmbedding: boolean): ConversationMessage {
  const message: ConversationMessage = {
    seq: turn.seq,
    role: turn.role,
    content: turn.content,
    timestamp: turn.timestamp,
    metadata: (turn.metadata ?? {}) as JsonObject,
  };
  if (withEmbedding && turn.embedding !== undefined) message.embedding = turn.embedding;
  return message;
}

/** Every cache of one driver, window size and TTL gets the same key, so their pushes of one group share a round trip. */
const pushKeys = new WeakMap<object, Map<string, object>>();
function pushKeyOf(driver: KVDriver, hotWindowSize: number, sessionTtlMs: number): object {
  let byConfig = pushKeys.get(driver);
  if (byConfig === undefined) pushKeys.set(driver, (byConfig = new Map()));
  const config = `${hotWindowSize}/${sessionTtlMs}`;
  let key = byConfig.get(config);
  if (key === undefined) byConfig.set(config, (key = {}));
  return key;
}

/**
 * Runs a validator; anything it throws that is not already a SessionWindowError (a
 * Proxy trap, a throwing getter on metadata) becomes INVALID_ARGUMENT, never a TypeError.
 */
function guardInput<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof SessionWindowError) throw error;
    throw new SessionWindowError('INVALID_ARGUMENT', `the arguments could not be read: ${errorText(error)}`, { cause: error });
  }
}

const tailSeq = (messages: readonly ConversationMessage[]): number => (messages.length === 0 ? 0 : messages[messages.length - 1]!.seq);

/** The newest `n` of two seq-sorted lists, each seq once. */
function mergeNewest(a: readonly ConversationMessage[], b: readonly ConversationMessage[], n: number): ConversationMessage[] {
  const bySeq = new Map<number, ConversationMessage>();
  for (const message of a) bySeq.set(message.seq, message);
  for (const message of b) if (!bySeq.has(message.seq)) bySeq.set(message.seq, message);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-n);
}

/**
 * Session memory with a hot window in Redis and the full history in the archive.
 *
 * Write-through: `addMessage` appends the message to the archive, which assigns its seq,
 * and then pushes it into the hot window with one script call. Concurrent `addMessage`
 * calls on one session in one process share one archive write (group commit). So an
 * acknowledged message is in the archive, and neither a Redis crash nor an outage can
 * lose it. Reads cost one Redis round trip and no archive I/O in the steady state; a
 * window that may miss stored messages is repaired from the archive (see the README).
 * Instances are cheap: create one per session and share the driver and the archive.
 */
export class HybridConversationCache {
  /** The session this instance serves. */
  readonly sessionId: string;
  /** Messages kept in the hot window. */
  readonly hotWindowSize: number;
  /** TTL of the session's Redis keys, in ms. */
  readonly sessionTtlMs: number;
  /** Token budget of `getContext`, or `null`. */
  readonly sessionMaxTokens: number | null;
  /** How long an archive-confirmed window is trusted, in ms. */
  readonly verifyIntervalMs: number;

  readonly #driver: KVDriver;
  readonly #archive: ArchiveStore;
  readonly #keyPrefix: string;
  readonly #keys: SessionKeys;
  readonly #keyList: string[];
  readonly #countTokens: TokenCounter;
  readonly #limits: MessageLimits;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  // Caches of one driver, window size and TTL push a group's records in one round trip.
  readonly #pushKey: object;
  #heldState: SessionState | undefined;

  constructor(options: HybridConversationCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SessionWindowError('INVALID_OPTION', `HybridConversationCache needs an options object (got ${describe(options)})`);
    }
    checkOptionKeys('HybridConversationCache', options, OPTION_KEYS);
    validateSessionId(options.sessionId);
    const driver = options.driver as unknown;
    if (driver === undefined || driver === null || typeof driver !== 'object' || typeof (driver as KVDriver).eval !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', `driver must be a KVDriver from @lix/redis-pool (got ${describe(driver)})`);
    }
    const archive = options.archive as unknown;
    if (archive === undefined || archive === null || typeof archive !== 'object') {
      throw new SessionWindowError('INVALID_OPTION', `archive must be an ArchiveStore from @lix/archive (got ${describe(archive)})`);
    }
    const missing = ARCHIVE_METHODS.filter((method) => typeof (archive as Record<string, unknown>)[method] !== 'function');
    if (missing.length > 0) {
      throw new SessionWindowError('INVALID_OPTION', `archive must be an ArchiveStore from @lix/archive; it lacks ${missing.join(', ')}`);
    }
    this.sessionId = options.sessionId;
    this.#driver = options.driver;
    this.#archive = options.archive;
    this.#keyPrefix = validateKeyPrefix(options.keyPrefix);
    this.#keys = sessionKeys(this.#keyPrefix, options.sessionId);
    this.#keyList = [this.#keys.hot, this.#keys.activity];
    this.hotWindowSize = integerOption('hotWindowSize', options.hotWindowSize, 20, 1, 1000);
    this.sessionTtlMs = integerOption('sessionTtlMs', options.sessionTtlMs, 86_400_000, 1000, 2 ** 40);
    const maxTokens = options.sessionMaxTokens ?? null;
    this.sessionMaxTokens = maxTokens === null ? null : integerOption('sessionMaxTokens', maxTokens, 0, 1, 2 ** 40);
    if (options.countTokens !== undefined && typeof options.countTokens !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', `countTokens must be a function (text) => number (got ${describe(options.countTokens)})`);
    }
    this.#countTokens = options.countTokens ?? approximateTokenCount;
    this.#limits = {
      maxContentBytes: integerOption('maxContentBytes', options.maxContentBytes, MB, 1, 512 * MB),
      maxMetadataBytes: integerOption('maxMetadataBytes', options.maxMetadataBytes, 64 * 1024, 2, 64 * MB),
      maxEmbeddingLength: integerOption('maxEmbeddingLength', options.maxEmbeddingLength, 65_536, 1, 16 * MB),
    };
    this.verifyIntervalMs = integerOption('verifyIntervalMs', options.verifyIntervalMs, 1000, 0, 2 ** 31 - 1);
    this.#logger = loggerOption(options.logger);
    this.#clock = clockOption(options.clock) ?? systemClock;
    this.#pushKey = pushKeyOf(this.#driver, this.hotWindowSize, this.sessionTtlMs);
  }

  /**
   * The session's shared state. The instance keeps it (a registry look-up builds a key
   * string and reorders a map: a visible share of a read), and asks the registry again
   * when it was dropped or, with `touch`, to keep the session's recency current.
   */
  #state(touch = false): SessionState {
    const held = this.#heldState;
    if (held !== undefined && !held.dropped && !touch) return held;
    return (this.#heldState = sessionState(this.#archive, this.#keyPrefix, this.sessionId));
  }

  /**
   * Adds a message and resolves with its seq (its id: unique and increasing within the
   * session) once the archive holds it. Calls made while this process's previous archive
   * write for the session is in flight are stored together in the next one (group
   * commit); each still resolves only once its own message is stored. A Redis failure
   * after that point is logged, not thrown: the message is stored, and the next read
   * repairs the window. Rejects with a {@link SessionWindowError} for bad input, or
   * `ARCHIVE_FAILED` (message NOT stored). Takes the message as one object
   * (`addMessage({ role, content, metadata?, embedding? }, { signal? })`) or as positional
   * arguments. A `signal` gives the call up while it waits (see {@link AddMessageOptions}):
   * it then rejects with `ABORTED`, and the message is NOT stored.
   */
  addMessage(message: NewMessage, options?: AddMessageOptions): Promise<number>;
  addMessage(role: string, content: string, metadata?: JsonObject, embedding?: Float32Array | number[]): Promise<number>;
  async addMessage(
    roleOrMessage: string | NewMessage,
    contentOrOptions?: string | AddMessageOptions,
    metadata?: JsonObject,
    embedding?: Float32Array | number[],
  ): Promise<number> {
    let signal: AbortSignal | undefined;
    const valid = guardInput(() => {
      if (typeof roleOrMessage !== 'object' || roleOrMessage === null)
        return validateMessage(roleOrMessage, contentOrOptions as string, metadata, embedding, this.#limits);
      if (typeof contentOrOptions === 'string' || metadata !== undefined || embedding !== undefined)
        throw new SessionWindowError('INVALID_ARGUMENT', 'addMessage takes either one message object (and options) or positional arguments, not both');
      const message = messageFields(roleOrMessage, 'addMessage');
      const checked = validateMessage(message.role, message.content, message.metadata, message.embedding, this.#limits);
      signal = readAddOptions(contentOrOptions, 'addMessage');
      return checked;
    });
    const [seq] = await this.#enqueue([valid], signal);
    return seq!;
  }

  /**
   * Adds several messages, in order, and resolves with their seqs (same order). Every
   * message is validated first, so a bad one rejects with its code (the message names
   * its index) and stores none of them. A batch within the group limits (256 messages,
   * 8 MB of content) is stored with one archive write and pushed with one Redis round
   * trip; a larger batch is split into as few writes as those limits allow, in order.
   * Like `addMessage`, it resolves once the archive holds every message, and rejects
   * with `ARCHIVE_FAILED` when a write fails (the messages of that write and of later
   * writes of this batch are NOT stored; those of earlier writes are). A `signal` gives
   * up what has not started writing yet (`ABORTED`; see {@link AddMessageOptions}).
   */
  async addMessages(messages: readonly NewMessage[], options?: AddMessageOptions): Promise<number[]> {
    const signal = guardInput(() => readAddOptions(options, 'addMessages'));
    const valid = guardInput(() => {
      if (!Array.isArray(messages)) throw new SessionWindowError('INVALID_ARGUMENT', `addMessages needs an array of messages (got ${describe(messages)})`);
      return messages.map((message: unknown, index) => {
        if (typeof message !== 'object' || message === null) {
          throw new SessionWindowError('INVALID_ARGUMENT', `messages[${index}] must be an object with role and content (got ${describe(message)})`);
        }
        const { role, content, metadata, embedding } = messageFields(message, `messages[${index}]`);
        try {
          return validateMessage(role, content, metadata, embedding, this.#limits);
        } catch (error) {
          if (error instanceof SessionWindowError) throw new SessionWindowError(error.code, `messages[${index}]: ${error.message}`, { cause: error });
          throw error;
        }
      });
    });
    if (valid.length === 0) return [];
    return this.#enqueue(valid, signal);
  }

  /**
   * Queues validated messages as one unit of the group commit and resolves with their
   * seqs. An abort while the unit is still queued takes its entries out of the queue.
   */
  #enqueue(valid: readonly ValidMessage[], signal?: AbortSignal): Promise<number[]> {
    if (signal?.aborted) return Promise.reject(abortedError(this.sessionId, signal));
    const timestamp = this.#nowMs() / 1000;
    const state = this.#state();
    const entries: PendingAppend[] = [];
    const promises = valid.map(
      (message, index) =>
        new Promise<number>((resolve, reject) => {
          state.queue.push({
            turn: {
              role: message.role,
              content: message.content,
              timestamp,
              metadata: message.metadata,
              ...(message.embedding === undefined ? {} : { embedding: message.embedding }),
            },
            bytes: message.content.length * 3,
            unitLength: index === 0 ? valid.length : 0,
            resolve,
            reject,
            push: (group, seqs, lastSeq, startedAtMs) => this.#pushGroup(state, group, seqs, lastSeq, startedAtMs),
            pushKey: this.#pushKey,
            signal,
          });
          entries.push(state.queue[state.queue.length - 1]!);
        }),
    );
    if (signal !== undefined) {
      const onAbort = () => {
        const queued = entries.filter((entry) => state.queue.includes(entry));
        if (queued.length === 0) return;
        state.queue = state.queue.filter((entry) => !queued.includes(entry));
        const error = abortedError(this.sessionId, signal);
        for (const entry of queued) entry.reject(error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void Promise.allSettled(promises).then(() => signal.removeEventListener('abort', onAbort));
    }
    if (!state.writing) void this.#drain(state);
    return Promise.all(promises);
  }

  /** Writes the queue to the archive, one group at a time, until it is empty. */
  async #drain(state: SessionState): Promise<void> {
    state.writing = true;
    try {
      while (state.queue.length > 0) {
        let take = 0;
        let bytes = 0;
        // An addMessages batch is kept whole in one write unless it alone exceeds the
        // limits; then it is split entry by entry, as single messages are grouped.
        while (take < state.queue.length) {
          const unitLength = Math.max(1, state.queue[take]!.unitLength);
          let unitBytes = 0;
          for (let k = take; k < take + unitLength && k < state.queue.length; k++) unitBytes += state.queue[k]!.bytes;
          const fits = take + unitLength <= MAX_GROUP_MESSAGES && (bytes + unitBytes <= MAX_GROUP_BYTES || (take === 0 && unitLength === 1));
          if (fits) {
            bytes += unitBytes;
            take += unitLength;
            continue;
          }
          if (take === 0) {
            // A batch larger than one write: its first part now, the rest as single entries.
            while (take < unitLength && take < MAX_GROUP_MESSAGES && (take === 0 || bytes + state.queue[take]!.bytes <= MAX_GROUP_BYTES)) {
              bytes += state.queue[take]!.bytes;
              take++;
            }
            for (let k = take; k < unitLength; k++) state.queue[k]!.unitLength = 1;
          }
          break;
        }
        const group = state.queue.splice(0, take);
        let startedAtMs: number;
        try {
          startedAtMs = this.#nowMs();
        } catch (error) {
          for (const entry of group) entry.reject(error);
          continue;
        }
        let seqs: number[];
        let lastSeq: number;
        const abort = groupSignal(group.map((entry) => entry.signal));
        try {
          const turns = group.map((entry) => entry.turn);
          const result = await (abort.signal === undefined
            ? this.#archive.appendTurns(this.sessionId, turns)
            : this.#archive.appendTurns(this.sessionId, turns, { signal: abort.signal }));
          seqs = result?.seqs;
          lastSeq = result?.lastSeq;
          if (
            !Array.isArray(seqs) ||
            seqs.length !== group.length ||
            !seqs.every((seq) => Number.isSafeInteger(seq) && seq >= 1) ||
            !Number.isSafeInteger(lastSeq)
          ) {
            throw new Error('the archive returned no seq for every appended turn');
          }
        } catch (error) {
          // The archive gave the write up for the signal every caller aborted: nothing stored.
          const failure =
            abort.signal?.aborted && (error as { code?: unknown } | null)?.code === 'ABORTED'
              ? abortedError(this.sessionId, abort.signal)
              : new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": the archive did not store the message: ${errorText(error)}`, {
                  cause: error,
                });
          for (const entry of group) entry.reject(failure);
          continue;
        } finally {
          abort.dispose();
        }
        state.archiveWrites++;
        state.archivedMessages += group.length;
        // knownLastSeq rises when the push is done (below): a read must find this process's
        // acknowledged messages in the window, not ones whose push is still on its way.
        // Seq 1 means the history was deleted and begins again.
        if (seqs[0] === 1) state.knownLastSeq = 0;
        // The push does not hold up the next group's archive write; each caller resolves
        // after its own group's push, as before group commit.
        const byPushKey = new Map<object, { entries: PendingAppend[]; seqs: number[] }>();
        group.forEach((entry, index) => {
          let part = byPushKey.get(entry.pushKey);
          if (part === undefined) byPushKey.set(entry.pushKey, (part = { entries: [], seqs: [] }));
          part.entries.push(entry);
          part.seqs.push(seqs[index]!);
        });
        for (const part of byPushKey.values()) {
          void part.entries[0]!.push(part.entries, part.seqs, lastSeq, startedAtMs).then(() => {
            part.entries.forEach((entry, index) => entry.resolve(part.seqs[index]!));
          });
        }
      }
    } finally {
      state.writing = false;
    }
  }

  /** Pushes a stored group into the window (one round trip); never rejects. */
  async #pushGroup(state: SessionState, group: PendingAppend[], seqs: number[], lastSeq: number, startedAtMs: number): Promise<void> {
    try {
      const records = group.map((entry, index) =>
        encodeTrustedRecord({
          seq: seqs[index]!,
          role: entry.turn.role,
          content: entry.turn.content,
          timestamp: entry.turn.timestamp!,
          metadata: (entry.turn.metadata ?? {}) as JsonObject,
        }),
      );
      let status: ScriptReply;
      if (seqs[0] === 1) {
        // Seq 1 starts a new history: whatever Redis still holds for this session
        // belongs to an archive that was deleted, so it is replaced, not merged.
        await this.#driver.eval(rebuildScript, this.#keyList, [this.hotWindowSize, this.sessionTtlMs, this.#nowMs(), 'replace', ...records]);
        state.touchedAtMs = startedAtMs;
        status = 0;
      } else {
        // The TTL and activity need refreshing about once a second, as on reads.
        const touch = startedAtMs - state.touchedAtMs >= TOUCH_EVERY_MS || startedAtMs < state.touchedAtMs;
        status = await this.#driver.eval(appendScript, this.#keyList, [this.hotWindowSize, this.sessionTtlMs, this.#nowMs(), touch ? 1 : 0, ...records]);
        if (touch) state.touchedAtMs = startedAtMs;
      }
      state.knownLastSeq = Math.max(state.knownLastSeq, lastSeq);
      if (status === APPEND_REBUILD) await this.#repair(state, null);
      // Otherwise the window is complete and ends at this write's last seq: when that is
      // the archive's last seq as of the write, it is as good as an archive check made
      // when the write started.
      else if (seqs[seqs.length - 1] === lastSeq) state.confirm(startedAtMs, lastSeq);
    } catch (error) {
      raiseDoubt();
      state.knownLastSeq = Math.max(state.knownLastSeq, lastSeq);
      state.needsRepair = true;
      this.#logger?.warn?.('session-window: message stored in the archive but not pushed to the Redis window; the next read repairs it', {
        sessionId: this.sessionId,
        seqs,
        error,
      });
    }
  }

  #nowMs(): number {
    const now = this.#clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new SessionWindowError('INVALID_OPTION', `clock.now() must return a finite number of ms (got ${describe(now)})`);
    }
    return Math.round(now);
  }

  /**
   * The hot window, oldest first: the last `hotWindowSize` messages, within the token
   * budget. In the steady state one Redis round trip (read and TTL refresh in one
   * script) and no archive I/O. A window that is missing, incomplete, behind what this
   * process knows the archive holds, or not confirmed by the archive within
   * `verifyIntervalMs` (or since a Redis error) is checked against the archive and
   * repaired first. With Redis unreachable the window is read from the archive.
   */
  getContext(): Promise<ConversationMessage[]> {
    // Not an async function: the steady state is one promise reaction on the driver's
    // reply, with no further hops (this is the hot path of every LLM call).
    let state: SessionState;
    let now: number;
    let touch: boolean;
    let probe: WindowProbe | null;
    let read: Promise<ScriptReply>;
    try {
      state = this.#state();
      now = this.#nowMs();
      // The TTL and activity need refreshing about once a second, not on every read: in
      // between, a read leaves the two keys alone.
      touch = now - state.touchedAtMs >= TOUCH_EVERY_MS || now < state.touchedAtMs;
      if (touch) state = this.#state(true);
      // A window this process read before is only sent again when it changed.
      probe = state.decoder.probe();
      if (probe !== null) {
        read = this.#driver.eval(readIfChangedScript, this.#keyList, [
          this.sessionTtlMs,
          now,
          TOUCH_EVERY_MS,
          touch ? '1' : '0',
          probe.length,
          probe.mode,
          probe.tail,
        ]);
      } else if (touch) {
        read = this.#driver.eval(readScript, this.#keyList, [this.sessionTtlMs, now, TOUCH_EVERY_MS]);
      } else {
        read = this.#driver.lrange(this.#keys.hot, 0, -1);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return read.then(
      (reply) => {
        if (touch) state.touchedAtMs = now;
        if (reply !== 1) return this.#served(state, now, reply);
        // Unchanged since the read `probe` describes; if a concurrent read replaced the
        // decoder's copy meanwhile, the list is read again (a rare second round trip).
        if (state.decoder.probe() === probe) return this.#served(state, now, null, true);
        return this.#driver.lrange(this.#keys.hot, 0, -1).then(
          (list) => this.#served(state, now, list),
          (error: unknown) => this.#readFromArchive(state, error),
        );
      },
      (error: unknown) => this.#readFromArchive(state, error),
    );
  }

  /** The window read from Redis, or its repair when it may miss stored messages. */
  #served(state: SessionState, now: number, reply: ScriptReply, unchanged = false): ConversationMessage[] | Promise<ConversationMessage[]> {
    const decoded = unchanged ? state.decoder.unchanged() : state.decoder.decode(reply);
    const messages = decoded.messages;
    const complete = messages.length === 0 ? state.knownLastSeq === 0 : this.#isComplete(messages);
    if (decoded.intact && complete && tailSeq(messages) >= state.knownLastSeq && state.isFresh(now, this.verifyIntervalMs)) {
      if (state.renewDue(now, this.verifyIntervalMs)) this.#renewVerification(state, now, tailSeq(messages));
      return this.#budget(messages);
    }
    return this.#repair(state, decoded).then((repaired) => this.#budget(repaired));
  }

  /**
   * Re-confirms a window that is still fresh but will not be for long, in the background,
   * so that a read of an active session never waits for the archive check: the window
   * is still served only while confirmed within `verifyIntervalMs` (the bound does not
   * move), and a check that finds the archive ahead raises `knownLastSeq`, so the next
   * read repairs the window. Never rejects.
   */
  #renewVerification(state: SessionState, checkedAt: number, tail: number): void {
    state.renewing = true;
    state.archiveChecks++;
    const epochAtStart = currentDoubtEpoch();
    let check: Promise<SessionMetadata | null>;
    try {
      check = this.#archive.getMetadata(this.sessionId);
    } catch (error) {
      check = Promise.reject(error);
    }
    check
      .then(
        (meta) => {
          const lastSeq = meta?.lastSeq ?? 0;
          if (lastSeq === tail && state.knownLastSeq <= lastSeq && !state.needsRepair && currentDoubtEpoch() === epochAtStart) {
            state.markVerified(checkedAt, lastSeq);
          } else {
            state.knownLastSeq = Math.max(state.knownLastSeq, lastSeq);
          }
        },
        (error: unknown) => {
          this.#logger?.warn?.('session-window: archive metadata unreadable; the window is checked again when its confirmation expires', {
            sessionId: this.sessionId,
            error,
          });
        },
      )
      .finally(() => {
        state.renewing = false;
      });
  }

  async #readFromArchive(state: SessionState, error: unknown): Promise<ConversationMessage[]> {
    raiseDoubt();
    this.#logger?.warn?.('session-window: Redis unreachable, reading the window from the archive', { sessionId: this.sessionId, error });
    return this.#budget(await this.#recentFromArchive(this.hotWindowSize, state));
  }

  /** Contiguous seqs, and either `hotWindowSize` long or starting at seq 1; an empty window is complete only for an empty session. */
  #isComplete(messages: readonly ConversationMessage[]): boolean {
    if (messages.length === 0) return false;
    const first = messages[0]!.seq;
    for (let index = 1; index < messages.length; index++) if (messages[index]!.seq !== first + index) return false;
    return messages.length === this.hotWindowSize || first === 1;
  }

  #budget(messages: ConversationMessage[]): ConversationMessage[] {
    try {
      return applyTokenBudget(messages, this.sessionMaxTokens, this.#countTokens);
    } catch (error) {
      if (error instanceof SessionWindowError) throw error;
      throw new SessionWindowError('INVALID_OPTION', `countTokens threw: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * Checks the window against the archive and repairs it: single flight per process
   * and session. A caller that joins a repair already under way runs one more if the
   * result still ends before what it knew when it arrived (its own write may have come
   * after the archive was read).
   */
  async #repair(state: SessionState, seen: { messages: ConversationMessage[]; intact: boolean } | null): Promise<ConversationMessage[]> {
    const wanted = state.knownLastSeq;
    if (state.repair !== null) {
      const joined = await state.repair;
      if (tailSeq(joined) >= wanted && !state.needsRepair) return joined;
    }
    if (state.repair !== null) return state.repair;
    const run = this.#runRepair(state, seen).finally(() => {
      if (state.repair === run) state.repair = null;
    });
    state.repair = run;
    return run;
  }

  async #runRepair(state: SessionState, seen: { messages: ConversationMessage[]; intact: boolean } | null): Promise<ConversationMessage[]> {
    const checkedAt = this.#nowMs();
    const n = this.hotWindowSize;
    const epochAtStart = currentDoubtEpoch();
    state.archiveChecks++;
    let current = seen;
    if (current === null) {
      try {
        current = decodeWindow(await this.#driver.eval(readScript, this.#keyList, [this.sessionTtlMs, checkedAt, TOUCH_EVERY_MS]));
      } catch (error) {
        raiseDoubt();
        this.#logger?.warn?.('session-window: Redis unreachable during repair, reading the window from the archive', { sessionId: this.sessionId, error });
        return this.#recentFromArchive(n, state);
      }
    }
    const { messages, intact } = current;
    const tail = tailSeq(messages);
    let turns: ArchivedTurn[];
    let archiveLastSeq: number;
    let mode: 'merge' | 'replace' = 'merge';
    if (intact && this.#isComplete(messages)) {
      // The common doubt: the window looks whole, but has the archive more? O(1) metadata.
      let meta: SessionMetadata | null;
      try {
        meta = await this.#archive.getMetadata(this.sessionId);
      } catch (error) {
        this.#logger?.warn?.('session-window: archive metadata unreadable, serving the Redis window unchecked', { sessionId: this.sessionId, error });
        return messages;
      }
      archiveLastSeq = meta?.lastSeq ?? 0;
      if (archiveLastSeq === tail) {
        if (currentDoubtEpoch() === epochAtStart) state.markVerified(checkedAt, archiveLastSeq);
        return messages;
      }
      if (archiveLastSeq > tail && archiveLastSeq - tail <= n) {
        turns = await this.#loadTurns(() => this.#archive.loadAfter(this.sessionId, tail, n));
      } else {
        turns = await this.#loadTurns(() => this.#archive.loadRecent(this.sessionId, n));
        if (archiveLastSeq < tail) mode = 'replace';
      }
    } else {
      turns = await this.#loadTurns(() => this.#archive.loadRecent(this.sessionId, n));
      archiveLastSeq = turns.length === 0 ? 0 : turns[turns.length - 1]!.seq;
      // Redis holds seqs the archive lacks (its history was deleted) or a foreign value.
      if (!intact || tail > archiveLastSeq) mode = 'replace';
    }
    state.rebuilds++;
    const fromArchive = turns.map((turn) => toMessage(turn, false));
    let window: ConversationMessage[];
    try {
      const reply = await this.#driver.eval(rebuildScript, this.#keyList, [
        n,
        this.sessionTtlMs,
        this.#nowMs(),
        mode,
        ...fromArchive.map((message) => encodeTrustedRecord(message)),
      ]);
      window = decodeWindow(reply).messages;
      this.#logger?.debug?.('session-window: window rebuilt from the archive', { sessionId: this.sessionId, mode, messages: window.length });
    } catch (error) {
      raiseDoubt();
      this.#logger?.warn?.('session-window: could not rebuild the Redis window; serving it from the archive', { sessionId: this.sessionId, error });
      return mode === 'replace' ? fromArchive.slice(-n) : mergeNewest(fromArchive, messages, n);
    }
    if (currentDoubtEpoch() === epochAtStart && tailSeq(window) >= archiveLastSeq) state.markVerified(checkedAt, Math.max(archiveLastSeq, tailSeq(window)));
    else state.knownLastSeq = Math.max(state.knownLastSeq, archiveLastSeq);
    return window;
  }

  async #loadTurns(load: () => Promise<ArchivedTurn[]>): Promise<ArchivedTurn[]> {
    try {
      return await load();
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not read the archive: ${errorText(error)}`, { cause: error });
    }
  }

  async #recentFromArchive(count: number, state?: SessionState): Promise<ConversationMessage[]> {
    const turns = await this.#loadTurns(() => this.#archive.loadRecent(this.sessionId, count));
    if (state !== undefined) {
      state.archiveChecks++;
      const last = turns.length === 0 ? 0 : turns[turns.length - 1]!.seq;
      state.knownLastSeq = Math.max(state.knownLastSeq, last);
    }
    return turns.map((turn) => toMessage(turn, false));
  }

  /**
   * The whole history, oldest first, each message once, embeddings included. The
   * archive is the log of record (every message reaches it before Redis), so this
   * reads the archive alone.
   */
  async getFull(): Promise<ConversationMessage[]> {
    const turns = await this.#loadTurns(() => this.#archive.loadAll(this.sessionId));
    return turns.map((turn) => toMessage(turn, true));
  }

  /**
   * The last `recentK` messages plus up to `diskK` older ones most similar to the
   * query: by cosine similarity to `embedding` when given, else by the archive's
   * text search. Messages in `recent` are never repeated in `relevant`. Takes
   * `smartContext({ query, embedding?, recentK?, diskK? })` or positional arguments.
   */
  smartContext(request: SmartContextRequest): Promise<SmartContext>;
  smartContext(query: string, embedding?: Float32Array | number[] | null, recentK?: number, diskK?: number): Promise<SmartContext>;
  async smartContext(
    queryOrRequest: string | SmartContextRequest,
    embeddingArgument?: Float32Array | number[] | null,
    recentKArgument?: number,
    diskKArgument?: number,
  ): Promise<SmartContext> {
    let query: unknown = queryOrRequest;
    let embedding = embeddingArgument;
    let recentKGiven: unknown = recentKArgument ?? 10;
    let diskKGiven: unknown = diskKArgument ?? 5;
    if (typeof queryOrRequest === 'object' && queryOrRequest !== null) {
      if (embeddingArgument !== undefined || recentKArgument !== undefined || diskKArgument !== undefined) {
        throw new SessionWindowError('INVALID_ARGUMENT', 'smartContext takes either one request object or positional arguments, not both');
      }
      const request = readRequest(queryOrRequest);
      query = request.query;
      embedding = request.embedding as typeof embedding;
      recentKGiven = request.recentK ?? 10;
      diskKGiven = request.diskK ?? 5;
    }
    if (typeof query !== 'string') throw new SessionWindowError('INVALID_ARGUMENT', `query must be a string (got ${typeof query})`);
    const recentK = integerArgument('recentK', recentKGiven, 0, 100_000);
    const diskK = integerArgument('diskK', diskKGiven, 0, 10_000);
    const vector = validateEmbedding(embedding ?? undefined, this.#limits.maxEmbeddingLength);
    let recent: ConversationMessage[];
    if (recentK === 0) recent = [];
    else if (recentK <= this.hotWindowSize) recent = (await this.getContext()).slice(-recentK);
    else recent = this.#budget(await this.#recentFromArchive(recentK));
    if (diskK === 0 || (vector === undefined && query.trim() === '')) return { recent, relevant: [] };
    const exclude = new Set(recent.map((message) => message.seq));
    let hits: { turn: ArchivedTurn; score: number }[];
    try {
      hits =
        vector !== undefined
          ? await this.#archive.searchByEmbedding(this.sessionId, vector, diskK + exclude.size)
          : await this.#archive.searchByText(this.sessionId, query, diskK + exclude.size);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": archive search failed: ${errorText(error)}`, { cause: error });
    }
    const relevant: RelevantMessage[] = [];
    for (const hit of hits) {
      if (exclude.has(hit.turn.seq)) continue;
      relevant.push({ ...toMessage(hit.turn, false), score: hit.score });
      if (relevant.length === diskK) break;
    }
    return { recent, relevant };
  }

  /**
   * The window as text for a prompt: one `role: content` entry per message, the
   * newest `maxLines` messages, oldest first, joined by newlines.
   */
  async getFormattedContext(maxLines = 50): Promise<string> {
    integerArgument('maxLines', maxLines, 0, 1_000_000);
    if (maxLines === 0) return '';
    const messages = (await this.getContext()).slice(-maxLines);
    return messages.map((message) => `${message.role}: ${message.content}`).join('\n');
  }

  /**
   * Frees the session's Redis keys after checking the archive holds every message of
   * the window (it always does, by write-through). Resolves `true` when keys were
   * freed. The next `getContext` re-hydrates the window from the archive.
   */
  async flushToDisk(): Promise<boolean> {
    const meta = await this.#archiveMetadata();
    // The archive check is belt and braces: write-through already guarantees it.
    const result = await this.#driver.eval(evictScript, this.#keyList, [Number.MAX_SAFE_INTEGER, meta?.lastSeq ?? 0]);
    if (result === -1) {
      this.#logger?.warn?.('session-window: the window holds messages the archive lacks; keys kept', { sessionId: this.sessionId });
    }
    return result === 1;
  }

  /**
   * Drops the Redis hot window (the original's `clear`). The history stays in the
   * archive, so the next `getContext` re-hydrates the last messages from it; use
   * {@link deleteSession} to forget the conversation. Resolves `true` when keys existed.
   * Rejects with the driver's `KVError` when Redis is unreachable.
   */
  async clear(): Promise<boolean> {
    return (await this.#driver.del(this.#keyList)) > 0;
  }

  /**
   * Deletes the session everywhere: the archive first (the log of record), then the
   * Redis keys. When Redis is unreachable its keys expire by TTL; and a later message
   * (seq 1 of a new history) replaces them.
   */
  async deleteSession(): Promise<void> {
    try {
      await this.#archive.deleteSession(this.sessionId);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not delete the archive: ${errorText(error)}`, { cause: error });
    }
    this.#state().reset();
    try {
      await this.#driver.del(this.#keyList);
    } catch (error) {
      raiseDoubt();
      this.#logger?.warn?.('session-window: archive deleted but Redis keys could not be removed; they expire by TTL', { sessionId: this.sessionId, error });
    }
  }

  async #archiveMetadata(): Promise<SessionMetadata | null> {
    try {
      return await this.#archive.getMetadata(this.sessionId);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not read archive metadata: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * This process's counters for the session, without any I/O (for metrics, e.g. an
   * OpenTelemetry observable counter): the same figures `getStats()` reports.
   */
  counters(): WindowCounters {
    const state = this.#state();
    return { rebuilds: state.rebuilds, archiveChecks: state.archiveChecks, archiveWrites: state.archiveWrites, groupedMessages: state.archivedMessages };
  }

  /** Counts and sizes of the session in Redis and the archive. */
  async getStats(): Promise<SessionStats> {
    const state = this.#state();
    const meta = await this.#archiveMetadata();
    let hotMessages = 0;
    let hotBytes = 0;
    let lastActiveMs: number | null = null;
    let redisAvailable = true;
    try {
      const batch = this.#driver.batch();
      const list = batch.lrange(this.#keys.hot, 0, -1);
      const at = batch.get(this.#keys.activity);
      // exec() reports the failure; the per-command promises must not go unhandled.
      list.catch(() => undefined);
      at.catch(() => undefined);
      await batch.exec();
      const records = await list;
      hotMessages = records.length;
      hotBytes = records.reduce((sum, record) => sum + record.length, 0);
      const atBytes = await at;
      lastActiveMs = atBytes === null ? null : Number(new TextDecoder().decode(atBytes));
    } catch (error) {
      redisAvailable = false;
      this.#logger?.warn?.('session-window: Redis unreachable for stats', { sessionId: this.sessionId, error });
    }
    return {
      sessionId: this.sessionId,
      hotMessages,
      hotBytes,
      archivedMessages: meta?.turnCount ?? 0,
      archiveBytes: meta?.sizeBytes ?? 0,
      lastSeq: meta?.lastSeq ?? 0,
      hotWindowSize: this.hotWindowSize,
      sessionMaxTokens: this.sessionMaxTokens,
      lastActiveMs,
      redisAvailable,
      rebuilds: state.rebuilds,
      archiveChecks: state.archiveChecks,
      archiveWrites: state.archiveWrites,
      groupedMessages: state.archivedMessages,
    };
  }
}

const MESSAGE_KEYS: readonly string[] = ['role', 'content', 'metadata', 'embedding'];
const SMART_CONTEXT_KEYS: readonly string[] = ['query', 'embedding', 'recentK', 'diskK'];

/** The fields of a message given as an object, read once; unknown keys are refused (a typo never drops data). */
function messageFields(message: unknown, where: string): NewMessage {
  const fields = readObject(message, where, MESSAGE_KEYS, 'an object with role and content');
  return fields as unknown as NewMessage;
}

function readRequest(request: unknown): SmartContextRequest & Record<string, unknown> {
  return readObject(request, 'smartContext', SMART_CONTEXT_KEYS, 'a request object with a query') as SmartContextRequest & Record<string, unknown>;
}
