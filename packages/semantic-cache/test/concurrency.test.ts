import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { uniquePrefix } from '@lix/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SemanticCache } from '../src/index.js';
import { scopeKeys } from '../src/keys.js';
import { writerPlan, type WriterConfig } from './fixtures/writer-plan.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, 'fixtures', 'concurrent-writer.ts');
const WRITERS = 4;
const MAX_ITEMS = 50;
// 4 × 12 = 48 fit under the cap: every one must survive. 4 × 20 = 80 overflow it: exactly the cap must remain.
const PER_URL = { fits: 12, overflows: 20 };

function waitForLine(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(expected)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      if (!seen.split('\n').includes(expected)) reject(new Error(`writer exited with ${code} before "${expected}": ${stderr}`));
    });
  });
}

async function runWriters(base: Omit<WriterConfig, 'writer' | 'driver'>): Promise<void> {
  const children = Array.from({ length: WRITERS }, (_, writer) => {
    const config: WriterConfig = { ...base, writer, driver: writer % 2 === 0 ? 'ioredis' : 'node-redis' };
    return spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', childScript], {
      cwd: join(here, '..'),
      env: { ...process.env, LIX_WRITER_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  });
  try {
    await Promise.all(children.map((child) => waitForLine(child, 'ready')));
    const done = children.map((child) => waitForLine(child, 'done'));
    for (const child of children) child.stdin?.write('go\n');
    await Promise.all(done);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const topologies = [
  { name: 'single node', config: () => ({ redisUrl: `redis://${inject('lixRedis').single.host}:${inject('lixRedis').single.port}` }) },
  { name: 'cluster', config: () => ({ clusterNodes: inject('lixRedis').cluster }) },
];

describe.each(topologies)('concurrent set from $name processes', ({ name, config }) => {
  const drivers: KVDriver[] = [];
  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
  });

  it(`loses no entry up to maxItemsPerUrl and keeps exactly the cap beyond it (${name})`, async () => {
    const prefix = uniquePrefix('conc');
    const connection = config();
    await runWriters({ ...connection, prefix, perUrl: PER_URL, maxItems: MAX_ITEMS });
    const driver = createIoredisDriver('clusterNodes' in connection ? { cluster: { nodes: connection.clusterNodes } } : { url: connection.redisUrl });
    drivers.push(driver);
    const reader = new SemanticCache<{ writer: number; index: number }>({ driver, sessionId: 'shared-session', keyPrefix: prefix, maxItemsPerUrl: MAX_ITEMS });
    const plans = Array.from({ length: WRITERS }, (_, writer) => writerPlan(writer, PER_URL));

    for (const entry of plans.flat().filter((e) => e.url === 'fits')) {
      expect(await reader.get('fits', entry.vector)).toEqual(entry.response);
    }

    let survivors = 0;
    for (const entry of plans.flat().filter((e) => e.url === 'overflows')) {
      const hit = await reader.lookup('overflows', entry.vector);
      if (hit !== null) {
        // A survivor must carry its own response: records and responses never get out of step.
        expect(hit.response).toEqual(entry.response);
        survivors++;
      }
    }
    expect(survivors).toBe(MAX_ITEMS);
    const fields = await driver.hgetall(scopeKeys(prefix, 'session', 'shared-session', 'overflows').responses);
    expect(Object.keys(fields)).toHaveLength(MAX_ITEMS + 1);
    const stats = await reader.getStats();
    expect(stats.storedEntries).toBe(WRITERS * PER_URL.fits + MAX_ITEMS);
  });
});
