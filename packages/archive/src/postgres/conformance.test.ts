import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vitest from 'vitest';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle } from '@lix/test-utils';
import { runArchiveStoreConformance } from '../conformance.js';
import { PostgresArchiveStore } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The suite registers its tests synchronously; the server starts before any of them run.
const serverReady: Promise<PostgresServerHandle> = startPostgresServer();
serverReady.catch(() => undefined);
let url = '';
let admin: pg.Pool | undefined;
vitest.beforeAll(async () => {
  const server = await serverReady;
  url = server.url;
  admin = new pg.Pool({ connectionString: url, max: 1 });
  admin.on('error', () => undefined);
});
vitest.afterAll(async () => {
  await admin?.end();
  await (await serverReady).stop();
});

runArchiveStoreConformance(vitest, {
  name: 'PostgresArchiveStore',
  createStore: async ({ storageKey, clock, ttlDays }) => {
    // A schema per storage key: the suite's key is [a-z0-9_], a valid identifier.
    const store = new PostgresArchiveStore({ connectionString: url, schema: storageKey, clock, ttlDays, maxConnections: 4, compactAfterTurns: 4 });
    await store.migrate();
    return store;
  },
  createStoreWithOptions: ({ storageKey }, extra) => new PostgresArchiveStore({ connectionString: url, schema: storageKey, ...extra }),
  destroyStorage: async (storageKey) => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${storageKey}" CASCADE`);
  },
  spawnWriter: (spec) =>
    spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', join(packageDir, 'test', 'pg-conformance-writer.ts'), url, JSON.stringify(spec)], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
});
