export { LixChatMessageHistory, type LixChatMessageHistoryOptions } from './chat-message-history.js';
export { LixSemanticCache, type LixSemanticCacheOptions, type LixSemanticCacheStats } from './semantic-cache.js';
export { lastHumanTurn, type QueryExtractor } from './prompt-query.js';
export { toWindowTurn, fromWindowMessage, STORED_MESSAGE_KEY, type WindowTurn } from './message-mapping.js';
export { encodeGenerations, decodeGenerations, GENERATIONS_FORMAT, type CachedGeneration, type CachedGenerations } from './generation-codec.js';
export { LixLangChainError, isLixLangChainError, type LixLangChainErrorCode } from './errors.js';
