/**
 * Where a library reports what a caller may want to know (a cache failure turned into a
 * miss, a reconnect). Every method is optional; `console` fits. Nothing is printed without one.
 */
export interface Logger {
  debug?(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
  warn?(message: string, context?: Record<string, unknown>): void;
  error?(message: string, context?: Record<string, unknown>): void;
}

/** A source of the current time in milliseconds; inject one in tests. */
export interface Clock {
  now(): number;
}

/** `Date.now()`. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** True when `value` can serve as a {@link Logger}: an object whose present methods are functions. */
export function isLogger(value: unknown): value is Logger {
  if (value === null || typeof value !== 'object') return false;
  try {
    const logger = value as Record<string, unknown>;
    return (['debug', 'info', 'warn', 'error'] as const).every((level) => logger[level] === undefined || typeof logger[level] === 'function');
  } catch {
    return false;
  }
}

/** True when `value` can serve as a {@link Clock}. */
export function isClock(value: unknown): value is Clock {
  if (value === null || typeof value !== 'object') return false;
  try {
    return typeof (value as Record<string, unknown>).now === 'function';
  } catch {
    return false;
  }
}
