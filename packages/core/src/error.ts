/** Options of {@link LixError}. */
export interface LixErrorOptions {
  /** The underlying error, kept for logs and `error.cause` chains. */
  cause?: unknown;
}

// A registered symbol survives two copies of this package in one process (a hoisting accident),
// where `instanceof` would not.
const BRAND = Symbol.for('@lix/core.LixError');

/**
 * The base of every lix-cache error: a `name` per package (`ArchiveError`, `KVError`, …),
 * a stable machine-readable `code` that is never renamed or reused, and the `cause`.
 * Packages subclass it with their own code union; callers branch on `code`, never on the
 * message.
 */
export class LixError<Code extends string = string> extends Error {
  override name = 'LixError';
  /** Stable reason; the package's README lists its codes. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: LixErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True when `error` is a {@link LixError} of any package (optionally with the given code).
 * Each package also exports a narrower guard (`isArchiveError`, `isKVError`, …).
 */
export function isLixError(error: unknown, code?: string): error is LixError {
  if (error === null || typeof error !== 'object') return false;
  let branded: boolean;
  try {
    branded = error instanceof LixError || (error as Record<symbol, unknown>)[BRAND] === true;
  } catch {
    return false;
  }
  return branded && (code === undefined || (error as LixError).code === code);
}
