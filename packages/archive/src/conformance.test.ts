import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vitest from 'vitest';
import { runArchiveStoreConformance } from './conformance.js';
import { ConversationArchive } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'lix-archive-conformance-'));
vitest.afterAll(() => rmSync(root, { recursive: true, force: true }));

runArchiveStoreConformance(vitest, {
  name: 'ConversationArchive (files)',
  createStore: ({ storageKey, clock, ttlDays }) => new ConversationArchive({ dir: join(root, storageKey), clock, ttlDays, lockStaleMs: 2000 }),
  createStoreWithOptions: ({ storageKey }, extra) => new ConversationArchive({ dir: join(root, storageKey), ...extra }),
  destroyStorage: (storageKey) => rmSync(join(root, storageKey), { recursive: true, force: true }),
  spawnWriter: (spec) =>
    spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', join(packageDir, 'test', 'conformance-writer.ts'), root, JSON.stringify(spec)], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
});
