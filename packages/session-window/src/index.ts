export { HybridConversationCache, type HybridConversationCacheOptions } from './hybrid-cache.js';
export type { AddMessageOptions } from './append-abort.js';
export { SessionContextWindow, type ContextWindowStats } from './context-window.js';
export { IdleEvictor, type IdleEvictorOptions, type EvictionPass } from './idle-evictor.js';
export { SessionWindowError, isSessionWindowError, type SessionWindowErrorCode } from './errors.js';
export { approximateTokenCount, applyTokenBudget, type TokenCounter } from './token-budget.js';
export { sessionKeys, DEFAULT_KEY_PREFIX, type SessionKeys } from './keys.js';
export { MAX_TRACKED_SESSIONS } from './session-state.js';
export { encodeRecord, decodeRecord, recordSeq } from './record.js';
export type { SessionArchive, ArchiveTurn, ArchiveTurnInput } from './archive-port.js';
export type {
  ConversationMessage,
  NewMessage,
  RelevantMessage,
  SmartContext,
  SmartContextRequest,
  SessionStats,
  WindowCounters,
  JsonObject,
  JsonValue,
} from './types.js';
