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
export { TelemetryError, isTelemetryError, type TelemetryErrorCode } from './errors.js';
export type {
  Attributes,
  AttributeValue,
  CounterLike,
  HistogramLike,
  InstrumentOptions,
  MeterLike,
  MeterProviderLike,
  OtelApiLike,
  SpanLike,
  TracerLike,
  TracerProviderLike,
} from './otel-types.js';
