import type { KVDriver } from '../driver.js';
import { registerBatch, registerScan } from './scan-batch.js';
import { registerCounters, registerLifecycle, registerMultiKey, registerStrings, registerTtl } from './strings.js';
import { registerHashes, registerLists, registerSortedSets } from './collections.js';
import { registerScripts } from './scripts.js';
import { registerBinary, registerErrors } from './errors-binary.js';
import { GROUP_NAMES, createSuiteContext, type ConformanceTestApi, type GroupName, type KVDriverConformanceOptions, type SuiteContext } from './context.js';

export {
  GROUP_NAMES,
  type ConformanceAssertion,
  type ConformanceTestApi,
  type GroupName,
  type KVDriverConformanceOptions,
} from './context.js';

const registrars: Record<GroupName, (context: SuiteContext) => void> = {
  lifecycle: registerLifecycle,
  strings: registerStrings,
  ttl: registerTtl,
  multiKey: registerMultiKey,
  lists: registerLists,
  hashes: registerHashes,
  sortedSets: registerSortedSets,
  counters: registerCounters,
  scan: registerScan,
  batch: registerBatch,
  scripts: registerScripts,
  errors: registerErrors,
  binary: registerBinary,
};

/**
 * Registers the `KVDriver` conformance suite with the test framework you pass in (vitest's
 * or Jest's `describe`/`it`/`expect`/hooks), so this package never depends on one at
 * runtime. Every test uses its own key prefix; keys of one multi-key operation share a
 * hash tag, except in the tests that deliberately spread keys over cluster slots.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { runKVDriverConformance } from '@lix/redis-pool/conformance';
 * runKVDriverConformance(vitest, { name: 'my-driver', createDriver: () => createMyDriver() });
 * ```
 */
export function runKVDriverConformance(t: ConformanceTestApi, options: KVDriverConformanceOptions): void {
  let shared: KVDriver | undefined;
  const context = createSuiteContext(t, options, () => {
    if (shared === undefined) throw new Error('The conformance suite driver is not ready: did beforeAll fail?');
    return shared;
  });
  t.describe(`KVDriver conformance: ${options.name}`, () => {
    t.beforeAll(async () => {
      shared = await options.createDriver();
      await shared.connect();
    });
    t.afterAll(async () => {
      await shared?.close();
      shared = undefined;
    });
    for (const group of GROUP_NAMES) {
      if (options.groups?.[group] === false) continue;
      t.describe(group, () => registrars[group](context));
    }
  });
}
