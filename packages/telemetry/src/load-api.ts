import { createRequire } from 'node:module';
import type { OtelApiLike } from './otel-types.js';

let loaded: OtelApiLike | null | undefined;

/**
 * `@opentelemetry/api` when it is installed, else `null`; looked up once, on first use,
 * and synchronously (the API ships CommonJS), so constructors stay synchronous and a
 * process without OpenTelemetry never pays more than one failed resolution.
 */
export function loadOtelApi(): OtelApiLike | null {
  if (loaded !== undefined) return loaded;
  try {
    const required = createRequire(import.meta.url)('@opentelemetry/api') as Partial<OtelApiLike>;
    loaded = typeof required?.metrics?.getMeter === 'function' && typeof required?.trace?.getTracer === 'function' ? (required as OtelApiLike) : null;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** Forgets the cached lookup (tests only: pretend the API is absent or present). */
export function setOtelApiForTesting(api: OtelApiLike | null | undefined): void {
  loaded = api;
}
