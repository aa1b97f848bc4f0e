import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ArchiveError, type ArchiveErrorCode } from '../errors.js';
import type { ArchiveStore } from '../store.js';

/** One assertion chain, the subset of vitest's / Jest's `expect(...)` the suite uses. */
export interface ArchiveConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toHaveLength(expected: number): void;
  toContain(expected: unknown): void;
  readonly not: ArchiveConformanceAssertion;
}

/** The test framework handed to the suite (`import * as vitest from 'vitest'` fits, so do Jest's globals). */
export interface ArchiveConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void> | void, timeout?: number): void;
  expect(actual: unknown, message?: string): ArchiveConformanceAssertion;
  afterAll(hook: () => Promise<void> | void, timeout?: number): void;
}

/** A clock the suite moves by hand; the store must take `updatedAt`, `createdAt` and default timestamps from it. */
export interface ConformanceClock {
  /** Milliseconds since the epoch. */
  now(): number;
  advance(ms: number): void;
}

/** What `createStore` receives. */
export interface ArchiveStoreContext {
  /**
   * Names the backing storage (a folder, a schema, a table prefix): every store created
   * with the same key must see the same sessions, and a key never seen before starts empty.
   * Made of `[a-z0-9_]`, at most 40 characters.
   */
  storageKey: string;
  /** Time source of the store; tests of one storage share it. */
  clock: ConformanceClock;
  /** The store's TTL for `cleanupExpired`. */
  ttlDays: number;
}

/** A writer child process the crash tests start: see {@link runConformanceWriter}. */
export interface ConformanceWriterSpec {
  storageKey: string;
  sessionId: string;
  /** Contents are `${label}-${i}`. */
  label: string;
  count: number;
}

/** Groups of the suite; each can be switched off with `groups: { name: false }`. */
export type ArchiveConformanceGroup =
  | 'seq'
  | 'reads'
  | 'metadata'
  | 'listing'
  | 'expiry'
  | 'search'
  | 'sessionIds'
  | 'badInput'
  | 'lifecycle'
  | 'abort'
  | 'concurrency'
  | 'crash';

/** Every group, in registration order. */
export const ARCHIVE_CONFORMANCE_GROUPS: readonly ArchiveConformanceGroup[] = [
  'seq',
  'reads',
  'metadata',
  'listing',
  'expiry',
  'search',
  'sessionIds',
  'badInput',
  'lifecycle',
  'abort',
  'concurrency',
  'crash',
];

/** Options of `runArchiveStoreConformance`. */
export interface ArchiveStoreConformanceOptions {
  /** Shown in the test names, e.g. `'file store'`. */
  name: string;
  /** Makes a store over the storage named by `context.storageKey`; called several times per test. */
  createStore(context: ArchiveStoreContext): ArchiveStore | Promise<ArchiveStore>;
  /** Removes a storage after the run (optional). */
  destroyStorage?(storageKey: string): Promise<void> | void;
  /**
   * Constructs a store with `extraOptions` merged into its options. When given, the suite
   * checks that an unknown option key is refused with `INVALID_ARGUMENT` naming the key.
   */
  createStoreWithOptions?(context: ArchiveStoreContext, extraOptions: Record<string, unknown>): unknown;
  /**
   * Starts a child process that opens the store over `spec.storageKey` and calls
   * {@link runConformanceWriter} with `spec` (pass it as `JSON.stringify(spec)` in argv).
   * When given, the crash group runs: real processes, concurrent, killed with SIGKILL.
   * Its stdout must be a pipe.
   */
  spawnWriter?(spec: ConformanceWriterSpec): ChildProcess;
  /** Switch groups off; every group runs by default (`crash` only with `spawnWriter`). */
  groups?: Partial<Record<ArchiveConformanceGroup, boolean>>;
  /** Per-test timeout in ms (default 60 s; the crash tests use 4× this). */
  timeoutMs?: number;
}

/** What each group's registration receives. */
export interface SuiteContext {
  readonly t: ArchiveConformanceTestApi;
  readonly options: ArchiveStoreConformanceOptions;
  /** A fresh, empty storage with its own clock; `open()` makes another store over it. */
  storage(): Promise<TestStorage>;
  /** A fresh session id, unique in the run. */
  sessionId(label?: string): string;
  it(name: string, body: () => Promise<void>, timeoutFactor?: number): void;
  expectArchiveError(run: () => unknown, code: ArchiveErrorCode, messagePart?: string): Promise<ArchiveError>;
}

/** One test's storage. */
export interface TestStorage {
  readonly context: ArchiveStoreContext;
  /** The first store, opened with the storage. */
  readonly store: ArchiveStore;
  /** Another store instance over the same storage (closed after the run). */
  open(): Promise<ArchiveStore>;
}

/** The suite's clock starts here: 2026-01-01T00:00:00Z. */
export const CONFORMANCE_EPOCH_MS = Date.UTC(2026, 0, 1);

function manualClock(): ConformanceClock {
  let now = CONFORMANCE_EPOCH_MS;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export function createSuiteContext(t: ArchiveConformanceTestApi, options: ArchiveStoreConformanceOptions): SuiteContext {
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  const opened: ArchiveStore[] = [];
  const storageKeys: string[] = [];
  t.afterAll(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => undefined);
    for (const key of storageKeys.splice(0)) await options.destroyStorage?.(key);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    t,
    options,
    async storage() {
      const context: ArchiveStoreContext = { storageKey: `conf_${run}_${++counter}`, clock: manualClock(), ttlDays: 1 };
      storageKeys.push(context.storageKey);
      const open = async () => {
        const store = await options.createStore(context);
        opened.push(store);
        return store;
      };
      return { context, store: await open(), open };
    },
    sessionId(label = 's') {
      return `${label}-${run}-${++counter}`;
    },
    it(name, body, timeoutFactor = 1) {
      t.it(name, body, timeoutMs * timeoutFactor);
    },
    async expectArchiveError(runIt, code, messagePart) {
      let caught: unknown;
      let threw = false;
      try {
        await runIt();
      } catch (error) {
        threw = true;
        caught = error;
      }
      t.expect(threw, `expected ArchiveError ${code}, but the call succeeded`).toBe(true);
      t.expect(caught instanceof ArchiveError, `expected an ArchiveError ${code}, got ${String(caught)}`).toBe(true);
      const error = caught as ArchiveError;
      t.expect(error.code, `wrong code for: ${error.message}`).toBe(code);
      if (messagePart !== undefined) t.expect(error.message).toContain(messagePart);
      return error;
    },
  };
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** `[from, from + 1, …, to]`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
