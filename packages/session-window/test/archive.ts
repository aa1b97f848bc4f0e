import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import type { ArchiveStore } from '@lix/archive';

/** An archive for one test, and how to dispose of it. */
export interface TestArchive {
  archive: ArchiveStore;
  dir: string;
  close(): Promise<void>;
}

/** Creates the real `@lix/archive` the shared test bodies run against, in a fresh temp folder. */
export async function createTestArchive(): Promise<TestArchive> {
  const dir = mkdtempSync(join(tmpdir(), 'lix-sw-'));
  const archive = new ConversationArchive({ dir });
  return {
    archive,
    dir,
    close: async () => {
      await archive.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
