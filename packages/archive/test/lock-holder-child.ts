// Child process of the abort tests: takes a session's lock as a writer of another process
// would (renewing its lease meanwhile), prints "held", keeps it until a line arrives on
// stdin, then releases it, prints "released" and exits.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sessionFileStem } from '@lix/archive';
import { LOCK_FOLDER } from '../src/archive.js';
import { SessionLocks } from '../src/session-lock.js';

const [dir, sessionId] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const locks = new SessionLocks(30_000, 3_000);
await locks.withLock(join(dir!, LOCK_FOLDER, sessionFileStem(sessionId)), async () => {
  process.stdout.write('held\n');
  await lines.next();
});
locks.releaseAll();
process.stdout.write('released\n');
process.exit(0);
