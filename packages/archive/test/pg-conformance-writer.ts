// Writer child of the conformance suite's crash group, for the PostgreSQL store.
import { PostgresArchiveStore } from '@lix/archive/postgres';
import { runConformanceWriter, type ConformanceWriterSpec } from '@lix/archive/conformance';

const [url, specText] = process.argv.slice(2);
const spec = JSON.parse(specText!) as ConformanceWriterSpec;
await runConformanceWriter(new PostgresArchiveStore({ connectionString: url!, schema: spec.storageKey, maxConnections: 2, compactAfterTurns: 4 }), spec);
