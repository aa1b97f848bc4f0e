// Writer child of the conformance suite's crash group, for the file store.
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import { runConformanceWriter, type ConformanceWriterSpec } from '@lix/archive/conformance';

const [root, specText] = process.argv.slice(2);
const spec = JSON.parse(specText!) as ConformanceWriterSpec;
await runConformanceWriter(new ConversationArchive({ dir: join(root!, spec.storageKey), compactAfterAppends: 5, lockStaleMs: 2000 }), spec);
