import { randomBytes } from 'node:crypto';
import type { KVDriver } from '../driver.js';
import { KVError, type KVErrorCode } from '../shared/errors.js';
import { escapeGlob } from '../memory/glob.js';

/** One assertion chain, the subset of vitest's / Jest's `expect(...)` the suite uses. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toHaveLength(expected: number): void;
  readonly not: ConformanceAssertion;
}

/** The test framework handed to the suite (vitest's and Jest's globals fit). */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void> | void, timeout?: number): void;
  expect(actual: unknown, message?: string): ConformanceAssertion;
  beforeAll(hook: () => Promise<void> | void, timeout?: number): void;
  afterAll(hook: () => Promise<void> | void, timeout?: number): void;
  beforeEach(hook: () => Promise<void> | void, timeout?: number): void;
  afterEach(hook: () => Promise<void> | void, timeout?: number): void;
}

/** Groups of the conformance suite; each can be switched off with `groups: { name: false }`. */
export type GroupName =
  | 'lifecycle'
  | 'strings'
  | 'ttl'
  | 'multiKey'
  | 'lists'
  | 'hashes'
  | 'sortedSets'
  | 'counters'
  | 'scan'
  | 'batch'
  | 'scripts'
  | 'errors'
  | 'binary';

/** Every group, in the order they are registered. */
export const GROUP_NAMES: readonly GroupName[] = [
  'lifecycle',
  'strings',
  'ttl',
  'multiKey',
  'lists',
  'hashes',
  'sortedSets',
  'counters',
  'scan',
  'batch',
  'scripts',
  'errors',
  'binary',
];

/** Options of `runKVDriverConformance`. */
export interface KVDriverConformanceOptions {
  /** Shown in the test names, e.g. `'ioredis (cluster)'`. */
  name: string;
  /**
   * Makes a driver under test. Called once per run for the shared driver and again by
   * the tests that close their own driver; every driver it returns must reach the same
   * keyspace.
   */
  createDriver: () => Promise<KVDriver> | KVDriver;
  /** The driver talks to a Redis Cluster: `isCluster` must be true (default false). */
  cluster?: boolean;
  /** Switch groups off (`{ scripts: false }`); every group runs by default. */
  groups?: Partial<Record<GroupName, boolean>>;
  /**
   * A fresh key prefix per test (default `kvc:<random hex>:<counter>`). It must not
   * contain `{` or `}`: the suite wraps it in a hash tag to keep multi-key operations in
   * one cluster slot.
   */
  keyPrefix?: () => string;
  /**
   * Moves the driver's clock forward (an in-memory driver with a manual clock). When
   * given, TTL tests call it instead of sleeping.
   */
  advanceClock?: (ms: number) => void;
  /**
   * Drops the server's script cache (SCRIPT FLUSH on every master). When given, the
   * suite proves that `eval` recovers from NOSCRIPT after the cache was flushed.
   */
  flushScripts?: () => Promise<void>;
  /** Per-test timeout in ms (default: the framework's). */
  timeoutMs?: number;
}

/** Keys of one test: all share a unique prefix. */
export interface TestKeys {
  readonly prefix: string;
  /** A key inside the test's hash tag: every `key()` of one test maps to the same cluster slot. */
  key(name: string): string;
  /** A key without a hash tag: different names land in different slots on a cluster. */
  loose(name: string): string;
  /** A SCAN pattern matching `loose()` keys whose name matches `nameGlob`. */
  loosePattern(nameGlob: string): string;
}

/** What each group's registration receives. */
export interface SuiteContext {
  readonly t: ConformanceTestApi;
  readonly options: KVDriverConformanceOptions;
  /** The shared driver (connected in `beforeAll`). */
  driver(): KVDriver;
  /** A fresh key prefix for one test. */
  keys(): TestKeys;
  /** Lets `ms` pass: advances the injected clock, or sleeps on a real server. */
  elapse(ms: number): Promise<void>;
  /** Registers a test with the configured timeout. */
  it(name: string, body: () => Promise<void>): void;
  expectBytes(actual: unknown, expected: Uint8Array | string, what: string): void;
  expectPlainBytes(actual: unknown, what: string): void;
  expectKVError(run: () => Promise<unknown>, code: KVErrorCode | readonly KVErrorCode[]): Promise<KVError>;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function hex(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

let prefixCounter = 0;

/** Builds the context the groups share; the shared driver is set by the caller's hooks. */
export function createSuiteContext(t: ConformanceTestApi, options: KVDriverConformanceOptions, driver: () => KVDriver): SuiteContext {
  const run = randomBytes(4).toString('hex');
  const makePrefix = options.keyPrefix ?? (() => `kvc:${run}:${(prefixCounter += 1)}`);

  const expectPlainBytes = (actual: unknown, what: string): void => {
    t.expect(actual instanceof Uint8Array, `${what} is a Uint8Array`).toBe(true);
    t.expect(Object.getPrototypeOf(actual) === Uint8Array.prototype, `${what} is a plain Uint8Array, not a Buffer or other subclass`).toBe(true);
  };

  return {
    t,
    options,
    driver,
    keys() {
      const prefix = makePrefix();
      if (/[{}]/.test(prefix)) throw new Error(`keyPrefix() returned ${prefix}, which contains a brace; the suite adds its own hash tags.`);
      return {
        prefix,
        key: (name) => `{${prefix}}:${name}`,
        loose: (name) => `${prefix}:${name}`,
        loosePattern: (nameGlob) => `${escapeGlob(prefix)}:${nameGlob}`,
      };
    },
    async elapse(ms) {
      if (options.advanceClock !== undefined) options.advanceClock(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    },
    it(name, body) {
      t.it(name, body, options.timeoutMs);
    },
    expectPlainBytes,
    expectBytes(actual, expected, what) {
      expectPlainBytes(actual, what);
      const want = typeof expected === 'string' ? bytes(expected) : expected;
      const got = actual as Uint8Array;
      t.expect(got.length, `${what}: length`).toBe(want.length);
      if (want.length <= 4096) t.expect(hex(got), `${what}: bytes (hex)`).toBe(hex(want));
      else t.expect(Buffer.compare(got, want) === 0, `${what}: bytes equal`).toBe(true);
    },
    async expectKVError(runCommand, code) {
      const codes: readonly KVErrorCode[] = typeof code === 'string' ? [code] : code;
      let pending: Promise<unknown>;
      try {
        pending = runCommand();
      } catch (error) {
        throw new Error(`The driver threw synchronously instead of returning a rejected promise: ${String(error)}`, { cause: error });
      }
      let caught: unknown;
      let settled = false;
      try {
        await pending;
        settled = true;
      } catch (error) {
        caught = error;
      }
      t.expect(settled, `the command should reject with ${codes.join(' or ')}`).toBe(false);
      t.expect(caught instanceof KVError, `rejects with a KVError (got ${String(caught)})`).toBe(true);
      const error = caught as KVError;
      t.expect(error.name).toBe('KVError');
      t.expect(codes.includes(error.code), `code ${error.code} should be ${codes.join(' or ')} (${error.message})`).toBe(true);
      return error;
    },
  };
}
