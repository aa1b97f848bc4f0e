/**
 * The few shapes of `@opentelemetry/api` this package uses, declared here so that the
 * package has no dependency (not even a type-only one) on the optional peer. The real
 * API objects satisfy them structurally.
 */

/** Attribute values accepted on metrics and spans. */
export type AttributeValue = string | number | boolean;

/** Attributes of one measurement or span. */
export type Attributes = Record<string, AttributeValue>;

/** A monotonic counter (`Meter.createCounter`). */
export interface CounterLike {
  add(value: number, attributes?: Attributes): void;
}

/** A histogram (`Meter.createHistogram`). */
export interface HistogramLike {
  record(value: number, attributes?: Attributes): void;
}

/** Options of an instrument, as the OpenTelemetry API takes them. */
export interface InstrumentOptions {
  description?: string;
  unit?: string;
}

/** A meter (`MeterProvider.getMeter`). */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): CounterLike;
  createHistogram(name: string, options?: InstrumentOptions): HistogramLike;
}

/** A span, as far as this package touches it. */
export interface SpanLike {
  setAttribute(key: string, value: AttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error | string): unknown;
  end(): void;
}

/** A tracer (`TracerProvider.getTracer`). */
export interface TracerLike {
  startActiveSpan<F extends (span: SpanLike) => unknown>(name: string, options: { attributes?: Attributes; kind?: number }, fn: F): ReturnType<F>;
}

/** Anything with `getMeter`: an SDK `MeterProvider`, or the API's global `metrics`. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike;
}

/** Anything with `getTracer`: an SDK `TracerProvider`, or the API's global `trace`. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): TracerLike;
}

/** The part of the `@opentelemetry/api` module this package uses (inject it with `api`). */
export interface OtelApiLike {
  metrics: MeterProviderLike & { getMeterProvider?(): MeterProviderLike };
  trace: TracerProviderLike & { getTracerProvider?(): TracerProviderLike & { getDelegate?(): unknown } };
  /** Lets the wrappers tell "no SDK registered" (then they call straight through) from a registered one. */
  ProxyTracerProvider?: new () => { getDelegate(): unknown };
  createNoopMeter?(): MeterLike;
}

/** `SpanStatusCode.ERROR` of the OpenTelemetry API. */
export const SPAN_STATUS_ERROR = 2;
/** `SpanKind.INTERNAL`. */
export const SPAN_KIND_INTERNAL = 0;
/** `SpanKind.CLIENT`. */
export const SPAN_KIND_CLIENT = 2;
