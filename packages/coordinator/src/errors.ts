import { LixError } from '@lix/core';

/**
 * Stable codes of {@link ConfigError}.
 *
 * - `INVALID_VALUE`: a setting (an option or an environment variable) holds a value
 *   that cannot be used, e.g. a port of `"abc"` or a threshold of `2`.
 * - `UNKNOWN_OPTION`: an option name that `CacheConfig` does not know (usually a typo).
 * - `CONFLICTING_OPTIONS`: settings that are each valid but cannot be combined,
 *   e.g. the in-memory driver with cluster nodes.
 * - `LAYER_MISSING`: a coordinator method needs a layer the coordinator was built without.
 * - `CLOSED`: the coordinator or runtime was closed.
 */
export type ConfigErrorCode = 'INVALID_VALUE' | 'UNKNOWN_OPTION' | 'CONFLICTING_OPTIONS' | 'LAYER_MISSING' | 'CLOSED';

/** Options of {@link ConfigError}. */
export interface ConfigErrorOptions {
  cause?: unknown;
  /** The option or environment variable at fault, e.g. `MYAPP_REDIS_PORT` or `redisPort`. */
  variable?: string;
  /** The raw value that was rejected, as given. */
  value?: unknown;
}

/** The one error type of `@lix/coordinator`: bad configuration and misuse of a coordinator. */
export class ConfigError extends LixError<ConfigErrorCode> {
  override name = 'ConfigError';
  /** The option or environment variable at fault, when there is one. */
  readonly variable: string | undefined;
  /** The rejected value, when there is one. */
  readonly value: unknown;

  constructor(code: ConfigErrorCode, message: string, options: ConfigErrorOptions = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.variable = options.variable;
    this.value = options.value;
  }
}

/** True when `error` is a {@link ConfigError} (optionally with the given code). */
export function isConfigError(error: unknown, code?: ConfigErrorCode): error is ConfigError {
  return error instanceof ConfigError && (code === undefined || error.code === code);
}
