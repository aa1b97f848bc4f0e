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
 * Follows the global OpenTelemetry API: whether an SDK is registered right now (metrics
 * or traces), and the current meter. The metrics API has no proxy, so a meter taken
 * before the SDK registers would stay a no-op forever; this re-reads the global provider
 * (an identity check per call) and recreates instruments when it changes.
 */
class GlobalSource {
  readonly #api: OtelApiLike;
  readonly #scope: string;
  readonly #noopTracerProvider: unknown;
  readonly #noopMeterPrototype: unknown;
  #meterProvider: unknown;
  #meter: MeterLike | undefined;
  #meterActive = false;
  generation = 0;

  constructor(api: OtelApiLike, scope: string) {
    this.#api = api;
    this.#scope = scope;
    this.#noopTracerProvider = api.ProxyTracerProvider === undefined ? undefined : new api.ProxyTracerProvider().getDelegate();
    this.#noopMeterPrototype = api.createNoopMeter === undefined ? undefined : Object.getPrototypeOf(api.createNoopMeter());
  }

  meter(): MeterLike {
    const provider = this.#api.metrics.getMeterProvider?.() ?? this.#api.metrics;
    if (provider !== this.#meterProvider || this.#meter === undefined) {
      this.#meterProvider = provider;
      this.#meter = provider.getMeter(this.#scope, VERSION);
      this.#meterActive = this.#noopMeterPrototype === undefined || Object.getPrototypeOf(this.#meter) !== this.#noopMeterPrototype;
      this.generation++;
    }
    return this.#meter;
  }

  active(): boolean {
    this.meter();
    if (this.#meterActive) return true;
    if (this.#noopTracerProvider === undefined) return true;
    const provider = this.#api.trace.getTracerProvider?.();
    const delegate = provider?.getDelegate === undefined ? provider : provider.getDelegate();
    return delegate !== this.#noopTracerProvider;
  }
}

/**
 * The meter and tracer of one instrumented package, with its instruments created once.
 * Obtain one with {@link resolveTelemetry}. `enabled` says whether instrumenting is worth
 * it at all (false: no API, no provider, or turned off; wrappers then hand back their
 * target unchanged). {@link Telemetry.active} says whether anything listens right now:
 * with the global API and no SDK registered it is false, and the wrappers call straight
 * through, so an instrumented hot path costs two identity checks.
 */
export class Telemetry {
  /** The telemetry that does nothing. */
  static readonly disabled: Telemetry = new Telemetry(undefined, undefined);

  readonly enabled: boolean;
  readonly #meter: MeterLike | undefined;
  readonly #tracer: TracerLike | undefined;
  readonly #global: GlobalSource | undefined;
  readonly #counters = new Map<string, CounterLike>();
  readonly #histograms = new Map<string, HistogramLike>();
  #generation = 0;

  constructor(meter: MeterLike | undefined, tracer: TracerLike | undefined, global?: { api: OtelApiLike; scope: string }) {
    this.#global = global === undefined ? undefined : new GlobalSource(global.api, global.scope);
    this.#meter = meter;
    this.#tracer = global === undefined ? tracer : global.api.trace.getTracer(global.scope, VERSION);
    this.enabled = this.#global !== undefined || meter !== undefined || tracer !== undefined;
  }

  /** True when an SDK (or a provider given in the options) receives what is reported. */
  active(): boolean {
    return this.#global === undefined ? this.enabled : this.#global.active();
  }

  #currentMeter(): MeterLike | undefined {
    if (this.#global === undefined) return this.#meter;
    const meter = this.#global.meter();
    if (this.#global.generation !== this.#generation) {
      this.#generation = this.#global.generation;
      this.#counters.clear();
      this.#histograms.clear();
    }
    return meter;
  }

  #counterNow(name: string, options: InstrumentOptions): CounterLike {
    const meter = this.#currentMeter();
    if (meter === undefined) return noopCounter;
    let counter = this.#counters.get(name);
    if (counter === undefined) {
      counter = meter.createCounter(name, options);
      this.#counters.set(name, counter);
    }
    return counter;
  }

  #histogramNow(name: string, options: InstrumentOptions): HistogramLike {
    const meter = this.#currentMeter();
    if (meter === undefined) return noopHistogram;
    let histogram = this.#histograms.get(name);
    if (histogram === undefined) {
      histogram = meter.createHistogram(name, options);
      this.#histograms.set(name, histogram);
    }
    return histogram;
  }

  /** The counter `name`; with the global API, a handle that follows the SDK registered at the time of each `add`. */
  counter(name: string, options: InstrumentOptions = {}): CounterLike {
    if (this.#global === undefined) return this.#counterNow(name, options);
    return { add: (value, attributes) => this.#counterNow(name, options).add(value, attributes) };
  }

  /** The histogram `name`; with the global API, a handle that follows the SDK registered at the time of each `record`. */
  histogram(name: string, options: InstrumentOptions = {}): HistogramLike {
    if (this.#global === undefined) return this.#histogramNow(name, options);
    return { record: (value, attributes) => this.#histogramNow(name, options).record(value, attributes) };
  }

  /**
   * Runs `operation` inside an active span named `spanName` (so spans of lower layers
   * become its children) and records its duration in seconds on `duration`, with
   * `error.type` added when it rejects. The span ends with status ERROR on a rejection,
   * which is passed on unchanged. Calls straight through when nothing listens.
   */
  async run<T>(
    spanName: string,
    attributes: Attributes,
    duration: HistogramLike | undefined,
    operation: (span: SpanLike | undefined) => Promise<T>,
    kind = SPAN_KIND_INTERNAL,
  ): Promise<T> {
    if (!this.active()) return operation(undefined);
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
    return api === null ? Telemetry.disabled : cached(api, scope, () => new Telemetry(undefined, undefined, { api, scope }));
  }
  if (setting === null || typeof setting !== 'object') {
    throw new TelemetryError('INVALID_OPTION', `telemetry must be true, false or { meterProvider?, tracerProvider?, api? }, got ${String(setting)}.`);
  }
  for (const key of Object.keys(setting)) {
    if (!OPTION_KEYS.has(key))
      throw new TelemetryError('INVALID_OPTION', `Unknown telemetry option "${key}"; the options are meterProvider, tracerProvider and api.`);
  }
  const { meterProvider, tracerProvider } = setting;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function')
    throw new TelemetryError('INVALID_OPTION', 'telemetry.meterProvider must have a getMeter() method (an SDK MeterProvider).');
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function')
    throw new TelemetryError('INVALID_OPTION', 'telemetry.tracerProvider must have a getTracer() method (an SDK TracerProvider).');
  if (setting.api !== undefined && (typeof setting.api?.metrics?.getMeter !== 'function' || typeof setting.api?.trace?.getTracer !== 'function')) {
    throw new TelemetryError('INVALID_OPTION', 'telemetry.api must be the @opentelemetry/api module.');
  }
  if (meterProvider === undefined && tracerProvider === undefined) {
    const global = setting.api ?? loadOtelApi();
    return global === null ? Telemetry.disabled : cached(global, scope, () => new Telemetry(undefined, undefined, { api: global, scope }));
  }
  const api = setting.api ?? (meterProvider !== undefined && tracerProvider !== undefined ? null : loadOtelApi());
  const meters = meterProvider ?? api?.metrics;
  const tracers = tracerProvider ?? api?.trace;
  if (meters === undefined && tracers === undefined) return Telemetry.disabled;
  // Cache on the meter side (or the tracer when there is no meter); a second provider differing means a new instance.
  const owner = (meters ?? tracers) as object;
  const key = `${scope}\u0000${tracers === undefined ? 0 : idOf(tracers)}`;
  return cached(owner, key, () => new Telemetry(meters?.getMeter(scope, VERSION), tracers?.getTracer(scope, VERSION)));
}
