import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** One data point as the tests read it. */
export interface Point {
  attributes: Record<string, unknown>;
  /** Counter sum, or histogram count. */
  value: number;
  /** Histogram sum (undefined for counters). */
  sum?: number;
}

/** A real OpenTelemetry SDK (meter and tracer providers) exporting into memory. */
export function createTestSdk() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The interval is never reached: tests call forceFlush.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    /** Points per metric name, from a fresh collection. */
    async metrics(): Promise<Map<string, { unit: string; points: Point[] }>> {
      metricExporter.reset();
      await reader.forceFlush();
      const out = new Map<string, { unit: string; points: Point[] }>();
      for (const resource of metricExporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) {
            const points = metric.dataPoints.map((point) => {
              const value = point.value as number | { count: number; sum?: number };
              return typeof value === 'number'
                ? { attributes: point.attributes, value }
                : { attributes: point.attributes, value: value.count, sum: value.sum ?? 0 };
            });
            out.set(metric.descriptor.name, { unit: metric.descriptor.unit, points });
          }
        }
      }
      return out;
    },
    spans(): ReadableSpan[] {
      return spanExporter.getFinishedSpans();
    },
    async shutdown(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** Sum of a metric's points whose attributes include `match`. */
export function total(metric: { points: Point[] } | undefined, match: Record<string, unknown> = {}): number {
  if (metric === undefined) return 0;
  return metric.points
    .filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + point.value, 0);
}
