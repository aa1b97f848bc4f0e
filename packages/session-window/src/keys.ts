import { createHash } from 'node:crypto';
import { SessionWindowError } from './errors.js';
import { validateSessionId } from './validate.js';

/** Default key prefix; it separates the layers sharing one Redis (db 0 on a cluster). */
export const DEFAULT_KEY_PREFIX = 'lix';

/** The two Redis keys of one session. */
export interface SessionKeys {
  /** List of hot-window records, oldest first. */
  hot: string;
  /** String: unix ms of the session's last read or write (what the idle evictor checks). */
  activity: string;
}

const forbidden = /[{}*?[\]\\\s]/;

/** Throws `INVALID_OPTION` unless the prefix is non-empty and free of `{`, `}`, glob characters and spaces. */
export function validateKeyPrefix(keyPrefix: unknown): string {
  if (keyPrefix === undefined) return DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || keyPrefix.length > 128 || forbidden.test(keyPrefix)) {
    throw new SessionWindowError(
      'INVALID_OPTION',
      'keyPrefix must be a non-empty string of at most 128 characters without "{", "}", "*", "?", "[", "]", "\\" or spaces ' +
        "(braces would move the cluster hash tag; glob characters would break the idle evictor's SCAN)",
    );
  }
  return keyPrefix;
}

/**
 * Keys of a session: `<prefix>:sw:{<tag>}:h` and `…:a`, where `<tag>` is 22 base64url
 * characters (132 bits) of SHA-256 of the session id. The hash tag puts both keys in
 * one cluster slot whatever the id holds (`{`, `}`, `:`, any length), and keys stay short.
 */
export function sessionKeys(keyPrefix: string, sessionId: string): SessionKeys {
  validateKeyPrefix(keyPrefix);
  validateSessionId(sessionId);
  const tag = createHash('sha256').update(sessionId, 'utf8').digest('base64url').slice(0, 22);
  const base = `${keyPrefix}:sw:{${tag}}`;
  return { hot: `${base}:h`, activity: `${base}:a` };
}

/** SCAN pattern matching every session's activity key under a prefix. */
export function activityKeyPattern(keyPrefix: string): string {
  return `${keyPrefix}:sw:{*}:a`;
}

/** The hot key that belongs with an activity key found by SCAN. */
export function hotKeyOfActivity(activityKey: string): string {
  return `${activityKey.slice(0, -2)}:h`;
}
