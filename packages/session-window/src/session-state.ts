import type { ArchiveStore, ArchiveTurnInput } from '@lix/archive';
import type { ConversationMessage } from './types.js';
import { WindowDecoder } from './window-decoder.js';

/** One `addMessage` waiting for the group commit it will ride in. */
export interface PendingAppend {
  turn: ArchiveTurnInput;
  /** UTF-8 bytes of the content, to bound a group's size. */
  bytes: number;
  /** On the first entry of an `addMessages` batch, the batch's length (kept in one write); 0 on the others; 1 for `addMessage`. */
  unitLength: number;
  resolve(seq: number): void;
  reject(error: unknown): void;
  /** Pushes the group's records (this entry's and the others') once the archive holds them. */
  push(group: PendingAppend[], seqs: number[], lastSeq: number, startedAtMs: number): Promise<void>;
  /** Entries whose `pushKey` is equal share one Redis round trip. */
  pushKey: object;
  /** The caller's signal: the entry leaves the queue when it aborts there (see `AddMessageOptions`). */
  signal: AbortSignal | undefined;
}

/**
 * What one process knows about one session, shared by every `HybridConversationCache`
 * of that session in the process (instances are cheap and often made per request, so
 * knowledge kept per instance would be thrown away with them).
 *
 * - `knownLastSeq`: the archive's last seq as this process last learnt it (its own
 *   acknowledged appends, and every check). A Redis window whose tail is below it
 *   misses a stored message, whatever Redis says.
 * - `verifiedAtMs` / `verifiedEpoch`: when the archive last confirmed the window, and the
 *   process's doubt epoch at that time (see {@link raiseDoubt}).
 * - `needsRepair`: a push of a stored message failed; Redis lacks it.
 * - the group-commit queue, and the in-flight repair (single flight per process).
 */
export class SessionState {
  knownLastSeq = 0;
  /** Dropped from the registry (see {@link MAX_TRACKED_SESSIONS}): an instance holding it must look the session up again. */
  dropped = false;
  verifiedAtMs = Number.NEGATIVE_INFINITY;
  verifiedEpoch = -1;
  needsRepair = false;
  /** When this process last refreshed the window's TTL and activity from a read. */
  touchedAtMs = Number.NEGATIVE_INFINITY;
  queue: PendingAppend[] = [];
  writing = false;
  repair: Promise<ConversationMessage[]> | null = null;
  /** The last window read, to skip decoding records that did not change. */
  readonly decoder = new WindowDecoder();
  /** Window rebuilds from the archive done by this process for this session. */
  rebuilds = 0;
  /** Archive reads made to verify or repair the window. */
  archiveChecks = 0;
  /** Archive writes (group commits) and the messages they carried. */
  archiveWrites = 0;
  archivedMessages = 0;

  /** True when the archive confirmed the window less than `intervalMs` ago and nothing cast doubt since. */
  isFresh(nowMs: number, intervalMs: number): boolean {
    if (this.needsRepair || this.verifiedEpoch !== doubtEpoch) return false;
    const age = nowMs - this.verifiedAtMs;
    return age >= 0 && age < intervalMs;
  }

  /** A background re-confirmation of a fresh window is under way (see `renewDue`). */
  renewing = false;

  /**
   * The window's confirmation is past three quarters of `intervalMs`: a read renews it in
   * the background (one check at a time, none while a repair runs) so that reads of an
   * active session do not wait for the archive when it expires.
   */
  renewDue(nowMs: number, intervalMs: number): boolean {
    return !this.renewing && this.repair === null && nowMs - this.verifiedAtMs >= intervalMs * 0.75;
  }

  markVerified(atMs: number, lastSeq: number): void {
    this.knownLastSeq = lastSeq;
    this.verifiedAtMs = atMs;
    this.verifiedEpoch = doubtEpoch;
    this.needsRepair = false;
  }

  /** A push found the window complete up to `lastSeq`, the archive's last seq when the write started at `atMs`. */
  confirm(atMs: number, lastSeq: number): void {
    if (this.knownLastSeq !== lastSeq) return;
    const since = this.verifiedEpoch === doubtEpoch ? this.verifiedAtMs : Number.NEGATIVE_INFINITY;
    this.verifiedAtMs = Math.max(since, atMs);
    this.verifiedEpoch = doubtEpoch;
    this.needsRepair = false;
  }

  /** Forgets what the archive said (the session was deleted or cleared). */
  reset(): void {
    this.knownLastSeq = 0;
    this.verifiedAtMs = Number.NEGATIVE_INFINITY;
    this.verifiedEpoch = -1;
  }

  get busy(): boolean {
    return this.writing || this.queue.length > 0 || this.repair !== null || this.needsRepair || this.renewing;
  }
}

// Bumped by every Redis failure any window of this process sees. A failure means Redis
// may have restarted, failed over or missed pushes, so every session re-checks the
// archive once on its next read (the epoch no longer matches).
let doubtEpoch = 0;

/** Marks every session's verification as doubtful: called on any Redis error. */
export function raiseDoubt(): void {
  doubtEpoch++;
}

/** The current doubt epoch (compare before and after an archive check). */
export function currentDoubtEpoch(): number {
  return doubtEpoch;
}

/** Most sessions whose state one process keeps per archive; older idle ones are dropped (a dropped state only costs one archive check). */
export const MAX_TRACKED_SESSIONS = 10_000;

const registries = new WeakMap<object, Map<string, SessionState>>();

/**
 * The state of `sessionId` under `keyPrefix` for this archive instance, created on first
 * use. Keyed by the archive object: two archive instances over one directory are two
 * processes as far as group commit goes, which is still correct (the archive serialises).
 */
export function sessionState(archive: ArchiveStore, keyPrefix: string, sessionId: string): SessionState {
  let registry = registries.get(archive);
  if (registry === undefined) {
    registry = new Map();
    registries.set(archive, registry);
  }
  const key = `${keyPrefix}\u0000${sessionId}`;
  let state = registry.get(key);
  if (state !== undefined) {
    // Map order is the recency order: move the entry to the end.
    registry.delete(key);
    registry.set(key, state);
    return state;
  }
  state = new SessionState();
  registry.set(key, state);
  if (registry.size > MAX_TRACKED_SESSIONS) {
    for (const [oldKey, old] of registry) {
      if (registry.size <= MAX_TRACKED_SESSIONS) break;
      if (!old.busy && old !== state) {
        old.dropped = true;
        registry.delete(oldKey);
      }
    }
  }
  return state;
}
