import {
  ArchiveError,
  type AppendOptions,
  type AppendResult,
  type ArchiveStore,
  type ArchivedTurn,
  type ArchiveTurnInput,
  type ScoredTurn,
  type SessionMetadata,
} from '@lix/archive';

/**
 * An `ArchiveStore` whose real store is created on first use by an async `open` (the
 * runtime's shared resources are built synchronously, and the PostgreSQL store is
 * imported dynamically so a file-only install never loads `pg`). A failed open is
 * reported to the call that needed it and tried again by the next one.
 */
export class DeferredArchiveStore implements ArchiveStore {
  #open: () => Promise<ArchiveStore & { migrate?(): Promise<unknown> }>;
  #store: Promise<ArchiveStore & { migrate?(): Promise<unknown> }> | undefined;
  #closed = false;

  constructor(open: () => Promise<ArchiveStore & { migrate?(): Promise<unknown> }>) {
    this.#open = open;
  }

  #get(): Promise<ArchiveStore & { migrate?(): Promise<unknown> }> {
    if (this.#closed) return Promise.reject(new ArchiveError('CLOSED', 'the archive store was closed'));
    this.#store ??= this.#open().catch((error: unknown) => {
      this.#store = undefined;
      throw error;
    });
    return this.#store;
  }

  /** Creates or upgrades the store's tables, when it has any (`PostgresArchiveStore.migrate`). */
  async migrate(): Promise<unknown> {
    return (await this.#get()).migrate?.();
  }

  /** Passes `options` on: a signal that aborts while the store is still being opened rejects there, before anything is written. */
  async appendTurn(sessionId: string, turn: ArchiveTurnInput, options?: AppendOptions): Promise<AppendResult> {
    return (await this.#get()).appendTurn(sessionId, turn, options);
  }
  /** Passes `options` on; see {@link appendTurn}. */
  async appendTurns(sessionId: string, turns: readonly ArchiveTurnInput[], options?: AppendOptions): Promise<AppendResult> {
    return (await this.#get()).appendTurns(sessionId, turns, options);
  }
  async loadAll(sessionId: string): Promise<ArchivedTurn[]> {
    return (await this.#get()).loadAll(sessionId);
  }
  async loadRecent(sessionId: string, count: number): Promise<ArchivedTurn[]> {
    return (await this.#get()).loadRecent(sessionId, count);
  }
  async loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]> {
    return (await this.#get()).loadAfter(sessionId, afterSeq, limit);
  }
  async getMetadata(sessionId: string): Promise<SessionMetadata | null> {
    return (await this.#get()).getMetadata(sessionId);
  }
  async sessionExists(sessionId: string): Promise<boolean> {
    return (await this.#get()).sessionExists(sessionId);
  }
  async deleteSession(sessionId: string): Promise<boolean> {
    return (await this.#get()).deleteSession(sessionId);
  }
  async *listSessions(): AsyncIterable<SessionMetadata> {
    yield* (await this.#get()).listSessions();
  }
  async cleanupExpired(): Promise<number> {
    return (await this.#get()).cleanupExpired();
  }
  async searchByText(sessionId: string, query: string, topK?: number): Promise<ScoredTurn[]> {
    return (await this.#get()).searchByText(sessionId, query, topK);
  }
  async searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK?: number): Promise<ScoredTurn[]> {
    return (await this.#get()).searchByEmbedding(sessionId, vector, topK);
  }
  /** `close()`, for `await using store = …`: closed when the block ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes the real store if it was ever opened. */
  async close(): Promise<void> {
    this.#closed = true;
    const store = this.#store;
    this.#store = undefined;
    if (store) await (await store.catch(() => undefined))?.close();
  }
}
