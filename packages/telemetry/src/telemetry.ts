import { TelemetryError } from './errors.js';
import { loadOtelApi } from './load-api.js';
import {
  SPAN_KIND_INTERNAL,
  SPAN_STATUS_ERROR,
  type Attributes,
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

/** Where a layer sends its metrics and spans. */
export interface TelemetryOptions {
  /** An SDK `MeterProvider` (default: the global one of `@opentelemetry/api`, when installed). */
  meterProvider?: MeterProviderLike;
  /** An SDK `TracerProvider` (default: the global one of `@opentelemetry/api`, when installed). */
  tracerProvider?: TracerProviderLike;
  /** The `@opentelemetry/api` module itself, for bundles where it cannot be resolved by name. */
  api?: OtelApiLike;
}

/**
 * How a layer is told about telemetry: `undefined` or `true` use the global OpenTelemetry
 * API when `@opentelemetry/api` is installed (its no-op until an SDK is registered) and
 * nothing otherwise; `false` turns telemetry off; an object names the providers.
 */
export type TelemetrySetting = boolean | TelemetryOptions;

const OPTION_KEYS = new Set(['meterProvider', 'tracerProvider', 'api']);

const noopCounter: CounterLike = { add() {} };
const noopHistogram: HistogramLike = { record() {} };

/**
 * The meter and tracer of one instrumented package, with its instruments created once.
 * Obtain one with {@link resolveTelemetry}; when `enabled` is false every method is a
 * no-op and {@link Telemetry.run} calls straight through.
 */
export class Telemetry {
  /** The telemetry that does nothing. */
  static readonly disabled: Telemetry = new Telemetry(undefined, undefined);

  /** False when there is no OpenTelemetry API or provider to report to. */
  readonly enabled: boolean;
  readonly #meter: MeterLike | undefined;
  readonly #tracer: TracerLike | undefined;
  readonly #counters = new Map<string, CounterLike>();
  readonly #histograms = new Map<string, HistogramLike>();

  constructor(meter: MeterLike | undefined, tracer: TracerLike | undefined) {
    this.#meter = meter;
    this.#tracer = tracer;
    this.enabled = meter !== undefined || tracer !== undefined;
  }

  /** The counter `name` (created on first use, then shared). */
  counter(name: string, options: InstrumentOptions = {}): CounterLike {
    if (this.#meter === undefined) return noopCounter;
    let counter = this.#counters.get(name);
    if (counter === undefined) {
      counter = this.#meter.createCounter(name, options);
      this.#counters.set(name, counter);
    }
    return counter;
  }

  /** The histogram `name` (created on first use, then shared). */
  histogram(name: string, options: InstrumentOptions = {}): HistogramLike {
    if (this.#meter === undefined) return noopHistogram;
    let histogram = this.#histograms.get(name);
    if (histogram === undefined) {
      histogram = this.#meter.createHistogram(name, options);
      this.#histograms.set(name, histogram);
    }
    return histogram;
  }

  /**
   * Runs `operation` inside an active span named `spanName` (so spans of lower layers
   * become its children) and records its duration in seconds on `duration`, with
   * `error.type` added when it rejects. The span ends with status ERROR on a rejection,
   * which is passed on unchanged.
   */
  async run<T>(spanName: string, attributes: Attributes, duration: HistogramLike | undefined, operation: (span: SpanLike | undefined) => Promise<T>, kind = SPAN_KIND_INTERNAL): Promise<T> {
    if (!this.enabled) return operation(undefined);
    const start = performance.now();
    const measured = async (span: SpanLike | undefined): Promise<T> => {
      try {
        const result = await operation(span);
        duration?.record((performance.now() - start) / 1000, attributes);
        return result;
      } catch (error) {
        const type = errorType(error);
        duration?.record((performance.now() - start) / 1000, { ...attributes, 'error.type': type });
        if (span !== undefined) {
          span.setAttribute('error.type', type);
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SPAN_STATUS_ERROR, message: error instanceof Error ? error.message : String(error) });
        }
        throw error;
      } finally {
        span?.end();
      }
    };
    if (this.#tracer === undefined) return measured(undefined);
    return this.#tracer.startActiveSpan(spanName, { attributes, kind }, (span: SpanLike) => measured(span)) as Promise<T>;
  }
}

/** `error.type` of a failure: its stable `code` when it has one (our error classes do), else its class name. */
export function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

const byProvider = new WeakMap<object, Map<string, Telemetry>>();
const ids = new WeakMap<object, number>();
let nextId = 1;

function idOf(value: object): number {
  let id = ids.get(value);
  if (id === undefined) {
    id = nextId++;
    ids.set(value, id);
  }
  return id;
}
const VERSION = '0.0.0';

function cached(owner: object, scope: string, make: () => Telemetry): Telemetry {
  let scopes = byProvider.get(owner);
  if (scopes === undefined) {
    scopes = new Map();
    byProvider.set(owner, scopes);
  }
  let telemetry = scopes.get(scope);
  if (telemetry === undefined) {
    telemetry = make();
    scopes.set(scope, telemetry);
  }
  return telemetry;
}

/**
 * The {@link Telemetry} of instrumentation scope `scope` (a package name) for a layer's
 * `telemetry` option; see {@link TelemetrySetting}. Equal settings share one instance, so
 * layers created per session do not create instruments per session. Throws
 * `TelemetryError` `INVALID_OPTION` on an unknown key or a provider without its method.
 */
export function resolveTelemetry(setting: TelemetrySetting | undefined, scope: string): Telemetry {
  if (setting === false) return Telemetry.disabled;
  if (setting === undefined || setting === true) {
    const api = loadOtelApi();
    return api === null ? Telemetry.disabled : cached(api, scope, () => new Telemetry(api.metrics.getMeter(scope, VERSION), api.trace.getTracer(scope, VERSION)));
  }
  if (setting === null || typeof setting !== 'object') {
    throw new TelemetryError('INVALID_OPTION', `telemetry must be true, false or { meterProvider?, tracerProvider?, api? }, got ${String(setting)}.`);
  }
  for (const key of Object.keys(setting)) {
    if (!OPTION_KEYS.has(key)) throw new TelemetryError('INVALID_OPTION', `Unknown telemetry option "${key}"; the options are meterProvider, tracerProvider and api.`);
  }
  const { meterProvider, tracerProvider } = setting;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') throw new TelemetryError('INVALID_OPTION', 'telemetry.meterProvider must have a getMeter() method (an SDK MeterProvider).');
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') throw new TelemetryError('INVALID_OPTION', 'telemetry.tracerProvider must have a getTracer() method (an SDK TracerProvider).');
  const api = setting.api ?? (meterProvider !== undefined && tracerProvider !== undefined ? null : loadOtelApi());
  if (setting.api !== undefined && (typeof setting.api?.metrics?.getMeter !== 'function' || typeof setting.api?.trace?.getTracer !== 'function')) {
    throw new TelemetryError('INVALID_OPTION', 'telemetry.api must be the @opentelemetry/api module.');
  }
  const meters = meterProvider ?? api?.metrics;
  const tracers = tracerProvider ?? api?.trace;
  if (meters === undefined && tracers === undefined) return Telemetry.disabled;
  // Cache on the meter side (or the tracer when there is no meter); a second provider differing means a new instance.
  const owner = (meters ?? tracers) as object;
  const key = `${scope}\u0000${tracers === undefined ? 0 : idOf(tracers)}`;
  return cached(owner, key, () => new Telemetry(meters?.getMeter(scope, VERSION), tracers?.getTracer(scope, VERSION)));
}
