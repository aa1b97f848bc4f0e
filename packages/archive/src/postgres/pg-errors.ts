import { ArchiveError } from '../errors.js';

/** SQLSTATEs that mean the tables or functions are missing: the schema was not migrated. */
const NOT_MIGRATED = new Set(['42P01', '42883', '3F000']);

/** Network-level failures of the driver (the server is down, restarting or unreachable). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Maps whatever `pg` threw to an `ArchiveError`, cause kept. Missing tables become
 * `UNSUPPORTED_VERSION` (run `migrate()`); everything else (connection refused or lost,
 * a server crash mid-statement, a timeout, a constraint) is `IO_ERROR`.
 */
export function toArchiveError(error: unknown, action: string, target: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && NOT_MIGRATED.has(code)) {
    return new ArchiveError(
      'UNSUPPORTED_VERSION',
      `PostgreSQL ${action}: the archive tables are missing (${message}); call migrate() (or run lix-archive migrate) first`,
      { cause: error },
    );
  }
  if (
    (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03')) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(message)
  ) {
    return new ArchiveError('IO_ERROR', `PostgreSQL at ${target} is unreachable during ${action}: ${message}`, { cause: error });
  }
  return new ArchiveError('IO_ERROR', `PostgreSQL ${action} failed: ${message}`, { cause: error });
}
