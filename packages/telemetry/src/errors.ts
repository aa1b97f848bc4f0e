/**
 * Stable codes of {@link TelemetryError}.
 *
 * - `INVALID_OPTION`: a telemetry option is not what it should be (unknown key, a provider without `getMeter`/`getTracer`).
 * - `INVALID_TARGET`: the object handed to an `instrument…` wrapper lacks the methods it must have.
 */
export type TelemetryErrorCode = 'INVALID_OPTION' | 'INVALID_TARGET';

/** The one error type of `@lix/telemetry`; `code` is stable. */
export class TelemetryError extends Error {
  override name = 'TelemetryError';
  readonly code: TelemetryErrorCode;

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a {@link TelemetryError} (optionally with the given code). */
export function isTelemetryError(error: unknown, code?: TelemetryErrorCode): error is TelemetryError {
  return error instanceof TelemetryError && (code === undefined || error.code === code);
}
