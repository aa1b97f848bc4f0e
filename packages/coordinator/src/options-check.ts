import { CONFIG_FIELDS } from './config.js';
import { describeValue } from './describe.js';
import { ConfigError } from './errors.js';

export { describeValue };

/**
 * Requires a plain options object (or nothing, when `optional`) whose keys are all in
 * `known`. A key that is a {@link CacheConfig} setting gets a hint: `{ redisUrl }` passed
 * to `createCacheRuntime` is a natural slip for `{ config: { redisUrl } }`, and ignoring it
 * would silently run on the in-memory driver.
 */
export function checkOptionKeys(options: unknown, known: readonly string[], owner: string, suggestConfig = false): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('INVALID_VALUE', `${owner} takes an options object, got ${describeValue(options)}.`, { variable: 'options', value: options });
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint =
      suggestConfig && (CONFIG_FIELDS as readonly string[]).includes(key)
        ? ` "${key}" is a CacheConfig setting: pass it as { config: { ${key} } }.`
        : ` Known options: ${known.join(', ')}.`;
    throw new ConfigError('UNKNOWN_OPTION', `${owner} has no option "${key}".${hint}`, { variable: key, value: (options as Record<string, unknown>)[key] });
  }
}

/** Requires `value` to be a function (a compute callback, a layer factory). */
export function checkFunction(value: unknown, name: string): void {
  if (typeof value !== 'function')
    throw new ConfigError('INVALID_VALUE', `${name} must be a function, got ${describeValue(value)}.`, { variable: name, value });
}
