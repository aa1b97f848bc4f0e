import { systemClock, type Clock, type KVDriver, type Logger } from '@lix/redis-pool';
import type { ArchiveStore } from '@lix/archive';
import { SessionWindowError } from './errors.js';
import { activityKeyPattern, hotKeyOfActivity, validateKeyPrefix } from './keys.js';
import { evictScript } from './scripts.js';
import { checkOptionKeys, clockOption, describe, integerOption, loggerOption } from './validate.js';

/** Options of {@link IdleEvictor}. */
export interface IdleEvictorOptions {
  driver: KVDriver;
  /** Accepted for symmetry with the caches; eviction needs no archive read (see the README). */
  archive?: Pick<ArchiveStore, 'getMetadata'>;
  /** Must match the caches' `keyPrefix` (default `'lix'`). */
  keyPrefix?: string;
  /** A session idle this long is evicted from Redis (default 2 h). */
  evictAfterMs?: number;
  /** Time between passes once started (default 60 s). */
  intervalMs?: number;
  /** Sessions handled at once during a pass (default 8). */
  concurrency?: number;
  logger?: Logger;
  clock?: Clock;
}

/** What one eviction pass did. */
export interface EvictionPass {
  /** Sessions whose Redis keys this pass freed. */
  evicted: number;
  /** Sessions (activity keys) the pass looked at. */
  scanned: number;
}

const decoder = new TextDecoder();

/**
 * Frees the Redis keys of idle sessions. Activity lives in Redis (each session's
 * activity key), so any worker's evictor sees every session, and the claim is one atomic
 * script, so two evictors racing never evict a session twice. Eviction only deletes:
 * the archive already holds every message of a window (write-through), so nothing is
 * migrated and nothing can be lost. One evictor per process serves
 * every session; its timer is `unref()`ed and never keeps the process alive.
 */
export class IdleEvictor {
  /** Idle time after which a session is evicted, in ms. */
  readonly evictAfterMs: number;
  /** Time between passes, in ms. */
  readonly intervalMs: number;

  readonly #driver: KVDriver;
  readonly #keyPrefix: string;
  readonly #concurrency: number;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<EvictionPass> | undefined;

  constructor(options: IdleEvictorOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SessionWindowError('INVALID_OPTION', `IdleEvictor needs an options object (got ${describe(options)})`);
    }
    checkOptionKeys('IdleEvictor', options, ['driver', 'archive', 'keyPrefix', 'evictAfterMs', 'intervalMs', 'concurrency', 'logger', 'clock']);
    const driver = options.driver as unknown;
    if (driver === undefined || driver === null || typeof driver !== 'object' || typeof (driver as KVDriver).scan !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', `IdleEvictor needs { driver } (a KVDriver from @lix/redis-pool; got ${describe(driver)})`);
    }
    this.#driver = options.driver;
    this.#keyPrefix = validateKeyPrefix(options.keyPrefix);
    this.evictAfterMs = integerOption('evictAfterMs', options.evictAfterMs, 7_200_000, 0, 2 ** 40);
    this.intervalMs = integerOption('intervalMs', options.intervalMs, 60_000, 10, 2 ** 31 - 1);
    this.#concurrency = integerOption('concurrency', options.concurrency, 8, 1, 1000);
    this.#logger = loggerOption(options.logger);
    this.#clock = clockOption(options.clock) ?? systemClock;
  }

  /** Starts the periodic passes (idempotent). The timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return;
      this.runOnce().catch((error: unknown) => this.#logger?.warn?.('session-window: idle eviction pass failed', { error }));
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress to finish. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#running !== undefined) await this.#running.catch(() => undefined);
  }

  /** Runs one pass now: scans every session's activity key and evicts the idle ones. */
  runOnce(): Promise<EvictionPass> {
    const pass = this.#pass().finally(() => {
      if (this.#running === pass) this.#running = undefined;
    });
    this.#running = pass;
    return pass;
  }

  async #pass(): Promise<EvictionPass> {
    const now = this.#clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new SessionWindowError('INVALID_OPTION', `clock.now() must return a finite number of ms (got ${describe(now)})`);
    }
    const cutoff = Math.round(now) - this.evictAfterMs;
    let evicted = 0;
    let scanned = 0;
    const inFlight = new Set<Promise<void>>();
    for await (const activityKey of this.#driver.scan({ match: activityKeyPattern(this.#keyPrefix), count: 250 })) {
      scanned++;
      const task = this.#consider(activityKey, cutoff).then((done) => {
        if (done) evicted++;
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      if (inFlight.size >= this.#concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return { evicted, scanned };
  }

  async #consider(activityKey: string, cutoff: number): Promise<boolean> {
    try {
      // A cheap read first, so active sessions cost one GET and no script call.
      const at = await this.#driver.get(activityKey);
      if (at === null || !(Number(decoder.decode(at)) <= cutoff)) return false;
      return (await this.#driver.eval(evictScript, [hotKeyOfActivity(activityKey), activityKey], [cutoff, ''])) === 1;
    } catch (error) {
      this.#logger?.warn?.('session-window: could not evict an idle session', { activityKey, error });
      return false;
    }
  }
}
