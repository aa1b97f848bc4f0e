export { LixError, isLixError, type LixErrorOptions } from './error.js';
export { SHARED_ERROR_CODES, type SharedErrorCode } from './codes.js';
export { describeValue, errorText, showValue } from './describe-value.js';
export { isPlainObject, readOptions, type OptionsProblem } from './plain-object.js';
export { plainJsonProblem, MAX_JSON_DEPTH } from './plain-json.js';
export { readEmbedding, type EmbeddingReading } from './embedding.js';
export { MAX_SESSION_ID_LENGTH, sessionIdProblem } from './session-id.js';
export { isClock, isLogger, systemClock, type Clock, type Logger } from './logger.js';
