export {
  ConversationArchive,
  type ConversationArchiveOptions,
  type ArchiveLogger,
} from './archive.js';
export type { ArchiveTurnInput, ArchivedTurn } from './turn-records.js';
export type { ScoredTurn } from './text-search.js';
export type { ArchiveCodec } from './codecs.js';
export { ArchiveError, isArchiveError, type ArchiveErrorCode } from './errors.js';
export { sessionFileStem, sessionIdFromStem } from './session-file-name.js';
export { MAX_SESSION_ID_LENGTH, assertValidSessionId } from './session-id.js';
export type { ArchiveStore, AppendOptions, AppendResult, SessionMetadata } from './store.js';
export { copySessions, openStore, type CopyResult, type CopyProgress } from './store-copy.js';
