import { TelemetryError } from './errors.js';
import { SPAN_KIND_CLIENT } from './otel-types.js';
import { instrumentMethods, type MethodSpec } from './proxy.js';
import { resolveTelemetry, type TelemetrySetting } from './telemetry.js';
import { METRICS } from './metric-names.js';

/** The commands of a `KVDriver` (`@lix/redis-pool`) that get a span and a duration. */
export const DRIVER_COMMANDS: readonly string[] = [
  'get',
  'set',
  'mget',
  'mset',
  'del',
  'exists',
  'incrBy',
  'pexpire',
  'pttl',
  'rpush',
  'lrange',
  'llen',
  'ltrim',
  'hset',
  'hget',
  'hgetall',
  'hdel',
  'hincrBy',
  'zadd',
  'zrangeByScore',
  'zrem',
  'zcard',
  'eval',
  'memoryUsage',
  'ping',
];

/** The structural part of a `KVDriver` this wrapper relies on. */
export interface DriverLike {
  readonly driverName: string;
  get(key: string): Promise<unknown>;
  eval(script: { name: string }, keys: string[], args: unknown[]): Promise<unknown>;
}

/** Options of {@link instrumentDriver}. */
export interface InstrumentDriverOptions {
  /** Where to report (default: the global OpenTelemetry API when installed). */
  telemetry?: TelemetrySetting;
}

const OPTION_KEYS = new Set(['telemetry']);

export function checkOptionKeys(options: object | undefined, known: ReadonlySet<string>, what: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') throw new TelemetryError('INVALID_OPTION', `${what} options must be an object.`);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TelemetryError('INVALID_OPTION', `Unknown ${what} option "${key}"; the options are ${[...known].join(', ')}.`);
  }
}

/**
 * A `KVDriver` that reports a CLIENT span per command (named after the command, e.g.
 * `GET`, `EVALSHA`) and `db.client.operation.duration` in seconds, with
 * `db.system.name`, `db.operation.name` and, on failure, `error.type` (the `KVError`
 * code). `scan` and `batch` pass through unmeasured. Returns `driver` itself when
 * telemetry is off or OpenTelemetry is not installed, so that costs nothing.
 */
export function instrumentDriver<D extends DriverLike>(driver: D, options?: InstrumentDriverOptions): D {
  checkOptionKeys(options, OPTION_KEYS, 'instrumentDriver');
  if (driver === null || typeof driver !== 'object' || typeof driver.get !== 'function' || typeof driver.eval !== 'function') {
    throw new TelemetryError('INVALID_TARGET', 'instrumentDriver needs a KVDriver of @lix/redis-pool.');
  }
  const telemetry = resolveTelemetry(options?.telemetry, '@lix/redis-pool');
  if (!telemetry.enabled) return driver;
  const duration = telemetry.histogram(METRICS.dbOperationDuration.name, METRICS.dbOperationDuration);
  const system = driver.driverName === 'memory' ? 'lix-memory' : 'redis';
  const specs: Record<string, MethodSpec> = {};
  for (const command of DRIVER_COMMANDS) {
    const operation = command === 'eval' ? 'EVALSHA' : command.toUpperCase();
    const base = { 'db.system.name': system, 'db.operation.name': operation, 'lix.kv.driver': driver.driverName };
    specs[command] = {
      span: operation,
      duration,
      kind: SPAN_KIND_CLIENT,
      attributes:
        command === 'eval'
          ? (args) => {
              const script = args[0] as { name?: unknown } | undefined;
              return typeof script?.name === 'string' ? { ...base, 'lix.kv.script': script.name } : base;
            }
          : base,
    };
  }
  return instrumentMethods(driver, telemetry, specs);
}
