import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionArchive } from '../src/archive-port.js';
import { MemoryArchive } from './doubles.js';

/** An archive for one test, and how to dispose of it. */
export interface TestArchive {
  archive: SessionArchive;
  dir: string;
  close(): Promise<void>;
}

/** Creates the archive the shared test bodies run against. */
export async function createTestArchive(): Promise<TestArchive> {
  const dir = mkdtempSync(join(tmpdir(), 'lix-sw-'));
  return {
    archive: new MemoryArchive(),
    dir,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
