import { LixError } from '@lix/core';

/**
 * Stable codes of {@link TelemetryError}.
 *
 * - `INVALID_OPTION`: a telemetry option is not what it should be (unknown key, a provider without `getMeter`/`getTracer`).
 * - `INVALID_TARGET`: the object handed to an `instrument…` wrapper lacks the methods it must have.
 */
export type TelemetryErrorCode = 'INVALID_OPTION' | 'INVALID_TARGET';

/** The one error type of `@lix/telemetry`; `code` is stable. */
export class TelemetryError extends LixError<TelemetryErrorCode> {
  override name = 'TelemetryError';
}

/** True when `error` is a {@link TelemetryError} (optionally with the given code). */
export function isTelemetryError(error: unknown, code?: TelemetryErrorCode): error is TelemetryError {
  return error instanceof TelemetryError && (code === undefined || error.code === code);
}
