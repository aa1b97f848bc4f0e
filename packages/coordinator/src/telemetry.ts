import type { KVDriver } from '@lix/redis-pool';
import { instrumentDriver, instrumentSessionWindow, instrumentUrlEmbeddingCache, type TelemetrySetting } from '@lix/telemetry';
import type { ContextMessage, SessionWindowLayer, UrlEmbeddingLayer } from './layers.js';

/** How a runtime instruments its layers; every wrapper hands its target back unchanged when telemetry is off. */
export interface RuntimeTelemetry {
  readonly setting: TelemetrySetting | undefined;
  sessionWindow<M extends ContextMessage>(window: SessionWindowLayer<M>): SessionWindowLayer<M>;
  urlEmbeddingCache(cache: UrlEmbeddingLayer): UrlEmbeddingLayer;
}

/**
 * Wraps the runtime's drivers in place (a driver shared by several layers is wrapped
 * once, so its commands are not measured twice) and returns the wrappers for the
 * per-session layers. The archive is wrapped where it is created (`createCacheRuntime`),
 * and the stock semantic cache instruments itself from `LayerContext.telemetry`.
 */
export function composeTelemetry(setting: TelemetrySetting | undefined, drivers: Partial<Record<string, KVDriver>>): RuntimeTelemetry {
  const wrapped = new Map<KVDriver, KVDriver>();
  for (const [slot, driver] of Object.entries(drivers)) {
    if (driver === undefined) continue;
    let instrumented = wrapped.get(driver);
    if (instrumented === undefined) {
      instrumented = instrumentDriver(driver, { telemetry: setting });
      wrapped.set(driver, instrumented);
    }
    drivers[slot] = instrumented;
  }
  return {
    setting,
    sessionWindow: (window) => instrumentSessionWindow(window, { telemetry: setting }),
    urlEmbeddingCache: (cache) => instrumentUrlEmbeddingCache(cache, { telemetry: setting }),
  };
}
