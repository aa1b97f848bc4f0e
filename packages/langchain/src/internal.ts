/**
 * How LangChain messages and generations are mapped onto the session window and the semantic cache.
 * Not part of the public API: it may change in any release.
 */
export { toWindowTurn, fromWindowMessage, STORED_MESSAGE_KEY, type WindowTurn } from './message-mapping.js';
export { encodeGenerations, decodeGenerations, GENERATIONS_FORMAT, type CachedGeneration, type CachedGenerations } from './generation-codec.js';
