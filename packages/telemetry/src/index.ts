export { Telemetry, resolveTelemetry, errorType, type TelemetryOptions, type TelemetrySetting } from './telemetry.js';
export { METRICS, type MetricDefinition } from './metric-names.js';
export { instrumentDriver, DRIVER_COMMANDS, type DriverLike, type InstrumentDriverOptions } from './driver.js';
export { instrumentArchiveStore, type ArchiveStoreLike, type InstrumentArchiveOptions } from './archive.js';
export {
  instrumentSessionWindow,
  instrumentUrlEmbeddingCache,
  type InstrumentLayerOptions,
  type SessionWindowLike,
  type UrlEmbeddingCacheLike,
} from './layers.js';
export { instrumentMethods, type MethodSpec } from './proxy.js';
export { TelemetryError, isTelemetryError, type TelemetryErrorCode } from './errors.js';
export { loadOtelApi } from './load-api.js';
export {
  SPAN_STATUS_ERROR,
  SPAN_KIND_CLIENT,
  SPAN_KIND_INTERNAL,
  type Attributes,
  type AttributeValue,
  type CounterLike,
  type HistogramLike,
  type InstrumentOptions,
  type MeterLike,
  type MeterProviderLike,
  type OtelApiLike,
  type SpanLike,
  type TracerLike,
  type TracerProviderLike,
} from './otel-types.js';
