import { Redis } from 'ioredis';
import * as vitest from 'vitest';
import { describeEachDriver, type DriverTarget } from '../../../internal/driver-matrix/src/index.js';
import { runKVDriverConformance } from './conformance.js';
import type { Clock } from './driver.js';

/** SCRIPT FLUSH on every node of a Redis target (each cluster node has its own script cache). */
async function flushScripts(target: DriverTarget): Promise<void> {
  const nodes = target.clusterNodes ?? [{ host: new URL(target.redisUrl!).hostname, port: Number(new URL(target.redisUrl!).port) }];
  await Promise.all(
    nodes.map(async (node) => {
      const raw = new Redis({ ...node, lazyConnect: true });
      try {
        await raw.connect();
        await raw.script('FLUSH');
      } finally {
        raw.disconnect();
      }
    }),
  );
}

// The one shared suite, unchanged, against every driver: in-memory, and ioredis and
// node-redis on a single node and on a 3-master cluster (servers from the global setup).
describeEachDriver('KVDriver', (target) => {
  if (target.kind === 'memory') {
    let now = 1_700_000_000_000;
    const clock: Clock = { now: () => now };
    runKVDriverConformance(vitest, {
      name: target.name,
      createDriver: () => target.createDriver({ clock }),
      advanceClock: (ms) => {
        now += ms;
      },
    });
    return;
  }
  runKVDriverConformance(vitest, {
    name: target.name,
    cluster: target.kind === 'cluster',
    createDriver: () => target.createDriver(),
    flushScripts: () => flushScripts(target),
  });
});
