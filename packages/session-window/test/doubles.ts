import { KVError, type KVDriver } from '@lix/redis-pool';
import {
  ArchiveError,
  type AppendOptions,
  type AppendResult,
  type ArchivedTurn,
  type ArchiveStore,
  type ArchiveTurnInput,
  type ScoredTurn,
  type SessionMetadata,
} from '@lix/archive';

/**
 * An in-process `ArchiveStore` with the sequence rules of `@lix/archive` (a turn without
 * seq gets lastSeq+1; seq ≤ lastSeq is skipped; seq > lastSeq becomes lastSeq). Used for
 * fault injection (`failAppends`) where the real archive cannot be made to fail on cue,
 * and to count calls (`calls`).
 */
export class MemoryArchive implements ArchiveStore {
  readonly sessions = new Map<string, ArchivedTurn[]>();
  failAppends = false;
  appendCalls = 0;
  readonly calls = new Map<string, number>();

  #count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  async appendTurn(sessionId: string, turn: ArchiveTurnInput, options?: AppendOptions): Promise<AppendResult> {
    return this.appendTurns(sessionId, [turn], options);
  }

  async appendTurns(sessionId: string, input: readonly ArchiveTurnInput[], options?: AppendOptions): Promise<AppendResult> {
    this.appendCalls++;
    this.#count('appendTurns');
    // No lock to wait for here: only a signal aborted before the call counts, as in the real stores.
    const signal = options?.signal;
    if (signal?.aborted) throw new ArchiveError('ABORTED', 'the append was aborted before it started writing; nothing was stored', { cause: signal.reason });
    await Promise.resolve();
    if (this.failAppends) throw new Error('disk full (injected)');
    const turns = this.sessions.get(sessionId) ?? [];
    this.sessions.set(sessionId, turns);
    let lastSeq = turns.length === 0 ? 0 : turns[turns.length - 1]!.seq;
    const seqs: number[] = [];
    let appended = 0;
    for (const turn of input) {
      const seq = turn.seq ?? lastSeq + 1;
      seqs.push(seq);
      if (seq <= lastSeq) continue;
      appended++;
      lastSeq = seq;
      turns.push({
        seq,
        role: turn.role,
        content: turn.content,
        timestamp: turn.timestamp ?? Date.now() / 1000,
        metadata: { ...(turn.metadata ?? {}) },
        ...(turn.embedding === undefined ? {} : { embedding: Float32Array.from(turn.embedding) }),
      });
    }
    return { appended, skipped: input.length - appended, lastSeq, seqs };
  }

  async loadAll(sessionId: string): Promise<ArchivedTurn[]> {
    this.#count('loadAll');
    return [...(this.sessions.get(sessionId) ?? [])];
  }

  async loadRecent(sessionId: string, count: number): Promise<ArchivedTurn[]> {
    this.#count('loadRecent');
    return count === 0 ? [] : (this.sessions.get(sessionId) ?? []).slice(-count);
  }

  async loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]> {
    this.#count('loadAfter');
    const after = (this.sessions.get(sessionId) ?? []).filter((turn) => turn.seq > afterSeq);
    return limit === undefined ? after : after.slice(0, limit);
  }

  async searchByText(sessionId: string, query: string, topK = 5): Promise<ScoredTurn[]> {
    const words = new Set(query.toLowerCase().split(/\W+/).filter(Boolean));
    return (this.sessions.get(sessionId) ?? [])
      .map((turn) => ({
        turn,
        score:
          turn.content
            .toLowerCase()
            .split(/\W+/)
            .filter((word) => words.has(word)).length / Math.max(1, words.size),
      }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
  }

  async searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK = 5): Promise<ScoredTurn[]> {
    const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < a.length; i++) {
        dot += a[i]! * (b[i] ?? 0);
        na += a[i]! ** 2;
        nb += (b[i] ?? 0) ** 2;
      }
      return dot / Math.sqrt(na * nb || 1);
    };
    return (this.sessions.get(sessionId) ?? [])
      .filter((turn) => turn.embedding !== undefined)
      .map((turn) => ({ turn, score: cosine(vector, turn.embedding!) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    return this.sessions.delete(sessionId);
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    return this.sessions.has(sessionId);
  }

  async getMetadata(sessionId: string): Promise<SessionMetadata | null> {
    this.#count('getMetadata');
    const turns = this.sessions.get(sessionId);
    if (turns === undefined) return null;
    return {
      sessionId,
      createdAt: turns[0]?.timestamp ?? 0,
      updatedAt: turns[turns.length - 1]?.timestamp ?? 0,
      turnCount: turns.length,
      sizeBytes: turns.reduce((sum, turn) => sum + turn.content.length, 0),
      lastSeq: turns.length === 0 ? 0 : turns[turns.length - 1]!.seq,
      format: 'memory',
    };
  }

  async *listSessions(): AsyncIterable<SessionMetadata> {
    for (const sessionId of this.sessions.keys()) {
      const meta = await this.getMetadata(sessionId);
      if (meta !== null) yield meta;
    }
  }

  async cleanupExpired(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Calls per driver method, counted by {@link countingDriver}. */
export type CallCounts = Map<string, number>;

/**
 * Wraps a driver and counts every method call that reaches the server: each top-level
 * method call is one round trip, and a batch counts once, at `exec`.
 */
export function countingDriver(driver: KVDriver): { driver: KVDriver; counts: CallCounts; total(): number; reset(): void } {
  const counts: CallCounts = new Map();
  const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const wrapped = new Proxy(driver, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      if (property === 'batch') {
        return (...args: unknown[]) => {
          const batch = (value as (...a: unknown[]) => Record<string, unknown>).apply(target, args);
          return new Proxy(batch, {
            get(batchTarget, batchProperty, batchReceiver) {
              const member = Reflect.get(batchTarget, batchProperty, batchReceiver) as unknown;
              if (batchProperty === 'exec' && typeof member === 'function') {
                return (...execArgs: unknown[]) => {
                  bump('batch.exec');
                  return (member as (...a: unknown[]) => unknown).apply(batchTarget, execArgs);
                };
              }
              return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(batchTarget) : member;
            },
          });
        };
      }
      return (...args: unknown[]) => {
        if (property !== 'connect' && property !== 'close') bump(property);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    driver: wrapped,
    counts,
    total: () => [...counts.values()].reduce((sum, count) => sum + count, 0),
    reset: () => counts.clear(),
  };
}

/** A driver whose commands fail with CONNECTION_LOST while `down` is set, like a Redis outage. */
export function switchableDriver(driver: KVDriver): { driver: KVDriver; setDown(down: boolean): void } {
  let down = false;
  const wrapped = new Proxy(driver, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'batch' && down) {
        const fail = () => {
          const rejected = Promise.reject(new KVError('CONNECTION_LOST', 'injected outage'));
          rejected.catch(() => undefined);
          return rejected;
        };
        return () => new Proxy({}, { get: () => fail });
      }
      if (typeof value !== 'function' || property === 'close' || property === 'batch' || property === 'scan') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (...args: unknown[]) => {
        if (down) return Promise.reject(new KVError('CONNECTION_LOST', 'injected outage'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { driver: wrapped, setDown: (value) => void (down = value) };
}

/**
 * Wraps a real archive: counts every method call (`calls`), and can hold the appends of
 * one session until released (`hold`), to prove what waits on what.
 */
export function instrumentedArchive(archive: ArchiveStore): {
  archive: ArchiveStore;
  calls: Map<string, number>;
  reset(): void;
  hold(sessionId: string): { release(): void; reached: Promise<void> };
} {
  const calls = new Map<string, number>();
  const holds = new Map<string, { gate: Promise<void>; arrived(): void }>();
  const wrapped = new Proxy(archive, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        const held = property === 'appendTurns' ? holds.get(args[0] as string) : undefined;
        if (held !== undefined) {
          held.arrived();
          await held.gate;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    archive: wrapped,
    calls,
    reset: () => calls.clear(),
    hold(sessionId) {
      let release!: () => void;
      let arrived!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      holds.set(sessionId, { gate, arrived });
      return {
        reached,
        release: () => {
          holds.delete(sessionId);
          release();
        },
      };
    },
  };
}
