import type { JsonObject } from './types.js';

/** A turn as this layer hands it to the archive. */
export interface ArchiveTurnInput {
  role: string;
  content: string;
  /** Unix seconds. */
  timestamp?: number;
  metadata?: JsonObject;
  embedding?: Float32Array | number[];
  seq?: number;
}

/** A turn as the archive returns it. */
export interface ArchiveTurn {
  seq: number;
  role: string;
  content: string;
  timestamp: number;
  metadata: Record<string, unknown>;
  embedding?: Float32Array;
}

/**
 * The part of `@lix/archive`'s `ConversationArchive` this layer uses. Pass a
 * `ConversationArchive`; the structural type lets several caches share one archive
 * and lets tests wrap it.
 */
export interface SessionArchive {
  appendTurn(sessionId: string, turn: ArchiveTurnInput): Promise<{ appended: number; skipped: number; lastSeq: number; seqs: number[] }>;
  loadAll(sessionId: string): Promise<ArchiveTurn[]>;
  loadRecent(sessionId: string, count: number): Promise<ArchiveTurn[]>;
  searchByText(sessionId: string, query: string, topK: number): Promise<{ turn: ArchiveTurn; score: number }[]>;
  searchByEmbedding(sessionId: string, vector: Float32Array | number[], topK: number): Promise<{ turn: ArchiveTurn; score: number }[]>;
  deleteSession(sessionId: string): Promise<unknown>;
  getMetadata(sessionId: string): Promise<{ turnCount: number; sizeBytes: number; lastSeq: number } | null>;
}
