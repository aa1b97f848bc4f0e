/**
 * The pieces `@lix/telemetry` builds its wrappers from: the method proxy, the lazy loader of
 * `@opentelemetry/api` and the OpenTelemetry enum values it uses.
 * Not part of the public API: it may change in any release.
 */
export { instrumentMethods, type MethodSpec } from './proxy.js';
export { loadOtelApi } from './load-api.js';
export { SPAN_STATUS_ERROR, SPAN_KIND_CLIENT, SPAN_KIND_INTERNAL } from './otel-types.js';
