import type { ArchivedTurn, ArchiveStore, ArchiveTurnInput as StoreTurnInput } from '@lix/archive';

/**
 * @deprecated Use `ArchiveStore` from `@lix/archive`: the window takes any store that
 * implements it (the file store, the PostgreSQL store, or your own). Kept as an alias so
 * code written against earlier versions still compiles.
 */
export type SessionArchive = ArchiveStore;

/** @deprecated Use `ArchivedTurn` from `@lix/archive`. */
export type ArchiveTurn = ArchivedTurn;

/** @deprecated Use `ArchiveTurnInput` from `@lix/archive`. */
export type ArchiveTurnInput = StoreTurnInput;
