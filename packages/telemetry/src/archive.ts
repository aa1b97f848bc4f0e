import { TelemetryError } from './errors.js';
import { checkOptionKeys } from './driver.js';
import { METRICS } from './metric-names.js';
import { instrumentMethods, type MethodSpec } from './proxy.js';
import type { Attributes } from './otel-types.js';
import { resolveTelemetry, type TelemetrySetting } from './telemetry.js';

/** The structural part of an `ArchiveStore` (`@lix/archive`) this wrapper relies on. */
export interface ArchiveStoreLike {
  // `never`: any store matches, whatever turn collection its own signature names.
  appendTurns(sessionId: string, turns: never): Promise<unknown>;
  loadRecent(sessionId: string, count: number): Promise<unknown>;
}

/** Options of {@link instrumentArchiveStore}. */
export interface InstrumentArchiveOptions {
  /** Where to report (default: the global OpenTelemetry API when installed). */
  telemetry?: TelemetrySetting;
  /**
   * Count each `loadRecent`/`loadAfter` as a session-window rebuild
   * (`lix.session_window.rebuilds`): true for the archive a runtime hands to its windows,
   * which read it only to rebuild a hot window.
   */
  countWindowRebuilds?: boolean;
}

const OPTION_KEYS = new Set(['telemetry', 'countWindowRebuilds']);
const APPENDS = ['appendTurn', 'appendTurns'];
const LOADS = ['loadAll', 'loadRecent', 'loadAfter'];
const OTHERS = ['getMetadata', 'sessionExists', 'deleteSession', 'cleanupExpired', 'searchByText', 'searchByEmbedding', 'migrateLegacy', 'close'];

/**
 * An `ArchiveStore` that reports a span per public call (`lix.archive.<method>`, with
 * `lix.session.id`), append, load and compaction durations, and turns appended and
 * loaded. `listSessions` (a stream) passes through. Returns `store` itself when
 * telemetry is off or OpenTelemetry is not installed.
 */
export function instrumentArchiveStore<S extends ArchiveStoreLike>(store: S, options?: InstrumentArchiveOptions): S {
  checkOptionKeys(options, OPTION_KEYS, 'instrumentArchiveStore');
  if (store === null || typeof store !== 'object' || typeof store.appendTurns !== 'function' || typeof store.loadRecent !== 'function') {
    throw new TelemetryError('INVALID_TARGET', 'instrumentArchiveStore needs an ArchiveStore of @lix/archive.');
  }
  const telemetry = resolveTelemetry(options?.telemetry, '@lix/archive');
  if (!telemetry.enabled) return store;
  const appendDuration = telemetry.histogram(METRICS.archiveAppendDuration.name, METRICS.archiveAppendDuration);
  const appended = telemetry.counter(METRICS.archiveAppendedTurns.name, METRICS.archiveAppendedTurns);
  const loadDuration = telemetry.histogram(METRICS.archiveLoadDuration.name, METRICS.archiveLoadDuration);
  const loaded = telemetry.counter(METRICS.archiveLoadedTurns.name, METRICS.archiveLoadedTurns);
  const compaction = telemetry.histogram(METRICS.archiveCompactionDuration.name, METRICS.archiveCompactionDuration);
  const other = telemetry.histogram(METRICS.archiveOperationDuration.name, METRICS.archiveOperationDuration);
  const rebuilds = options?.countWindowRebuilds === true ? telemetry.counter(METRICS.sessionWindowRebuilds.name, METRICS.sessionWindowRebuilds) : undefined;
  const attributesOf =
    (operation: string) =>
    (args: unknown[]): Attributes =>
      typeof args[0] === 'string' ? { 'lix.operation': operation, 'lix.session.id': args[0] } : { 'lix.operation': operation };
  const specs: Record<string, MethodSpec> = {};
  for (const method of APPENDS) {
    specs[method] = {
      span: `lix.archive.${method}`,
      duration: appendDuration,
      attributes: attributesOf(method),
      after: (result) => {
        const count = (result as { appended?: unknown } | null)?.appended;
        if (typeof count === 'number' && count > 0) appended.add(count);
      },
    };
  }
  for (const method of LOADS) {
    specs[method] = {
      span: `lix.archive.${method}`,
      duration: loadDuration,
      attributes: attributesOf(method),
      after: (result) => {
        if (Array.isArray(result)) loaded.add(result.length, { 'lix.operation': method });
        if (rebuilds !== undefined && method !== 'loadAll') rebuilds.add(1);
      },
    };
  }
  specs.compact = { span: 'lix.archive.compact', duration: compaction, attributes: attributesOf('compact') };
  for (const method of OTHERS) specs[method] = { span: `lix.archive.${method}`, duration: other, attributes: attributesOf(method) };
  return instrumentMethods(store, telemetry, specs);
}
