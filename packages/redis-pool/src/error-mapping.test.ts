import { describe, expect, it } from 'vitest';
import { classifyRedisError, toKVError } from './clients/error-mapping.js';
import { KVError } from './shared/errors.js';

/** An error shaped like a client library's class of that name (checked by name, not identity). */
function named(name: string, message: string, code?: string): Error {
  const error = new Error(message);
  Object.defineProperty(error, 'name', { value: name });
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

describe('error mapping', () => {
  it.each([
    ['ReplyError', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONG_TYPE'],
    ['SimpleError', "CROSSSLOT Keys in request don't hash to the same slot", 'CROSS_SLOT'],
    ['ReplyError', 'WRONGPASS invalid username-password pair or user is disabled.', 'AUTH_FAILED'],
    ['SimpleError', 'NOAUTH Authentication required.', 'AUTH_FAILED'],
    ['ReplyError', 'NOSCRIPT No matching script. Please use EVAL.', 'SCRIPT_ERROR'],
    ['ReplyError', 'ERR user_script:1: Script attempted to access nonexistent global variable', 'SCRIPT_ERROR'],
    ['ReplyError', 'CLUSTERDOWN The cluster is down', 'CONNECTION_LOST'],
    ['ReplyError', 'LOADING Redis is loading the dataset in memory', 'CONNECTION_LOST'],
    ['ReplyError', 'ERR value is not an integer or out of range', 'COMMAND_FAILED'],
    ['ClientOfflineError', 'The client is offline', 'CONNECTION_LOST'],
    ['SocketClosedUnexpectedlyError', 'Socket closed unexpectedly', 'CONNECTION_LOST'],
    ['MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 0).', 'CONNECTION_LOST'],
    ['ClusterAllFailedError', 'Failed to refresh slots cache.', 'CONNECTION_LOST'],
    ['Error', 'Too many Cluster redirections. Last error: ReplyError: MOVED 13874 127.0.0.1:31279', 'CONNECTION_LOST'],
    ['MaxCommandRedirectionsError', 'Too many redirections', 'CONNECTION_LOST'],
    ['TimeoutError', 'Timeout', 'TIMEOUT'],
    ['Error', 'Command timed out', 'TIMEOUT'],
    ['Error', 'Ready check failed: NOAUTH Authentication required.', 'AUTH_FAILED'],
    ['Error', "Stream isn't writeable and enableOfflineQueue options is false", 'CONNECTION_LOST'],
  ] as const)('%s "%s" → %s', (name, message, code) => {
    expect(classifyRedisError(named(name, message))).toBe(code);
  });

  it('maps socket error codes to CONNECTION_LOST', () => {
    expect(classifyRedisError(named('Error', 'read ECONNRESET', 'ECONNRESET'))).toBe('CONNECTION_LOST');
    expect(classifyRedisError(named('Error', 'connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'))).toBe('CONNECTION_LOST');
  });

  it('treats error replies inside a script call as SCRIPT_ERROR, and keeps the cause', () => {
    const cause = named('ReplyError', 'WRONGTYPE Operation against a key holding the wrong kind of value script: abc');
    const error = toKVError(cause, { command: 'EVALSHA', script: 'bump', driver: 'ioredis' });
    expect(error).toBeInstanceOf(KVError);
    expect(error.code).toBe('SCRIPT_ERROR');
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('script "bump"');
  });

  it('passes a KVError through unchanged', () => {
    const original = new KVError('CROSS_SLOT', 'spans slots');
    expect(toKVError(original, { command: 'MGET', driver: 'node-redis' })).toBe(original);
  });
});
