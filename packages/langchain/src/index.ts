export { LixChatMessageHistory, type LixChatMessageHistoryOptions } from './chat-message-history.js';
export { LixSemanticCache, type LixSemanticCacheOptions, type LixSemanticCacheStats } from './semantic-cache.js';
export { lastHumanTurn, type QueryExtractor } from './prompt-query.js';
export { LixLangChainError, isLixLangChainError, type LixLangChainErrorCode } from './errors.js';
