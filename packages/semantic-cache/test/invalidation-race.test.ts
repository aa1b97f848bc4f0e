import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { uniquePrefix } from '@lix/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SemanticCache } from '../src/index.js';
import { unpackEntryValue } from '../src/entry-value.js';
import { parseEntryMeta } from '../src/expiry.js';
import { scopeKeys } from '../src/keys.js';
import { readHeader, recordId } from '../src/records.js';
import { tagRef } from '../src/tags.js';
import { sleep } from './helpers.js';
import type { TaggedWriterConfig } from './fixtures/tagged-writer.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, 'fixtures', 'tagged-writer.ts');
const WRITERS = 3;
const SESSIONS = ['s-a', 's-b', 's-c'];
const URLS = ['https://doc/1', 'https://doc/2'];
const INVALIDATIONS = 4;

function lineFrom(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((candidate) => candidate.startsWith(prefix));
      if (line !== undefined) {
        child.stdout?.off('data', onData);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`writer exited with ${code} before "${prefix}": ${stderr}`)));
  });
}

const topologies = [
  { name: 'single node', config: () => ({ redisUrl: `redis://${inject('lixRedis').single.host}:${inject('lixRedis').single.port}` }) },
  { name: 'cluster', config: () => ({ clusterNodes: inject('lixRedis').cluster }) },
];

describe.each(topologies)('invalidate({ tags }) racing writer processes on a $name', ({ name, config }) => {
  const drivers: KVDriver[] = [];
  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
  });

  it(`leaves no entry tagged below the last invalidation's generation, whatever was in flight (${name})`, async () => {
    const prefix = uniquePrefix('race');
    const connection = config();
    const driver = createIoredisDriver('clusterNodes' in connection ? { cluster: { nodes: connection.clusterNodes } } : { url: connection.redisUrl });
    drivers.push(driver);
    const children = Array.from({ length: WRITERS }, (_, writer) => {
      const writerConfig: TaggedWriterConfig = {
        ...connection,
        prefix,
        writer,
        sessions: SESSIONS,
        urls: URLS,
        driver: writer % 2 === 0 ? 'ioredis' : 'node-redis',
      };
      return spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', childScript], {
        cwd: join(here, '..'),
        env: { ...process.env, LIX_WRITER_CONFIG: JSON.stringify(writerConfig) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    });
    const invalidator = new SemanticCache({ driver, sessionId: 'invalidator', keyPrefix: prefix, telemetry: false });
    let removed = 0;
    let finalGeneration = 0;
    let writes = 0;
    try {
      await Promise.all(children.map((child) => lineFrom(child, 'ready')));
      const done = children.map((child) => lineFrom(child, 'done'));
      for (const child of children) child.stdin?.write('go\n');
      for (let round = 0; round < INVALIDATIONS; round++) {
        // Let the writers fill the scopes, then invalidate while they keep writing.
        await sleep(150);
        removed += (await invalidator.invalidate({ tags: ['doc'] })).removed;
      }
      const index = await driver.hget(tagRef(prefix, 'doc').indexKey, '#g');
      finalGeneration = Number(new TextDecoder().decode(index!));
      // Writers go on after the last invalidation: their new entries must survive.
      await sleep(150);
      for (const child of children) child.stdin?.write('stop\n');
      writes = (await Promise.all(done)).reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }

    expect(removed).toBeGreaterThan(0);
    const docTag = tagRef(prefix, 'doc').name;
    let current = 0;
    for (const session of SESSIONS) {
      for (const url of URLS) {
        const keys = scopeKeys(prefix, 'session', session, url);
        const fields = await driver.hgetall(keys.responses);
        const packed = await driver.get(keys.vectors);
        const ids = new Set<string>();
        if (packed !== null) {
          const { dimensions, count } = readHeader(packed);
          for (let i = 0; i < count; i++) ids.add(recordId(packed, dimensions, i));
        }
        for (const [field, value] of Object.entries(fields)) {
          if (field === '#') continue;
          const generation = parseEntryMeta(unpackEntryValue(value).meta!)?.tags.get(docTag);
          // The invariant: nothing written with a generation the last invalidation retired.
          expect(generation).toBeGreaterThanOrEqual(finalGeneration);
          // Records and responses stay in step.
          expect(ids.has(field)).toBe(true);
          current++;
        }
        for (const id of ids) expect(fields[id]).toBeDefined();
      }
    }
    expect(current).toBeGreaterThan(0);
    expect(writes).toBeGreaterThan(current);
  });
});
