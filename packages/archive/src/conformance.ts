import {
  ARCHIVE_CONFORMANCE_GROUPS,
  createSuiteContext,
  type ArchiveConformanceGroup,
  type ArchiveConformanceTestApi,
  type ArchiveStoreConformanceOptions,
  type SuiteContext,
} from './conformance/context.js';
import { registerAbort } from './conformance/abort-group.js';
import { registerBadInput, registerLifecycle, registerSessionIds } from './conformance/input-groups.js';
import { registerConcurrency, registerCrash } from './conformance/process-groups.js';
import { registerExpiry, registerListing, registerMetadata, registerReads, registerSearch, registerSeq } from './conformance/storage-groups.js';

export {
  ARCHIVE_CONFORMANCE_GROUPS,
  CONFORMANCE_EPOCH_MS,
  type ArchiveConformanceAssertion,
  type ArchiveConformanceGroup,
  type ArchiveConformanceTestApi,
  type ArchiveStoreConformanceOptions,
  type ArchiveStoreContext,
  type ConformanceClock,
  type ConformanceWriterSpec,
} from './conformance/context.js';
export { runConformanceWriter } from './conformance/process-groups.js';

const registrars: Record<Exclude<ArchiveConformanceGroup, 'crash'>, (context: SuiteContext) => void> = {
  seq: registerSeq,
  reads: registerReads,
  metadata: registerMetadata,
  listing: registerListing,
  expiry: registerExpiry,
  search: registerSearch,
  sessionIds: registerSessionIds,
  badInput: registerBadInput,
  lifecycle: registerLifecycle,
  abort: registerAbort,
  concurrency: registerConcurrency,
};

/**
 * Registers the `ArchiveStore` conformance suite with the test framework you pass in
 * (vitest's or Jest's `describe`/`it`/`expect`/`afterAll`), so this module never imports
 * one. Every test gets a fresh storage (`storageKey`) and a manual clock. The `crash` group
 * runs when `spawnWriter` is given: real child processes, SIGKILLed mid-append.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { runArchiveStoreConformance } from '@lix/archive/conformance';
 * runArchiveStoreConformance(vitest, {
 *   name: 'my store',
 *   createStore: ({ storageKey, clock, ttlDays }) => new MyStore({ namespace: storageKey, clock, ttlDays }),
 * });
 * ```
 */
export function runArchiveStoreConformance(t: ArchiveConformanceTestApi, options: ArchiveStoreConformanceOptions): void {
  t.describe(`ArchiveStore conformance: ${options.name}`, () => {
    const context = createSuiteContext(t, options);
    for (const group of ARCHIVE_CONFORMANCE_GROUPS) {
      if (options.groups?.[group] === false) continue;
      if (group === 'crash') {
        const spawnWriter = options.spawnWriter;
        if (spawnWriter) t.describe(group, () => registerCrash(context, spawnWriter));
        continue;
      }
      t.describe(group, () => registrars[group](context));
    }
  });
}
