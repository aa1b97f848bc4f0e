// Child process for the PostgreSQL crash and concurrency tests. Prints "ack <seq> <content>"
// only after an append resolved. Modes: "auto" (no seq; a failed append is not retried, the
// next turn goes on) and "explicit" (seq i + 1, retried until acknowledged: idempotent).
import { PostgresArchiveStore } from '@lix/archive/postgres';

const [url, schema, sessionId, label, countText, mode] = process.argv.slice(2);
const store = new PostgresArchiveStore({ connectionString: url!, schema: schema!, maxConnections: 2, connectTimeoutMs: 2000, compactAfterTurns: 4 });
const count = Number(countText);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
for (let i = 0; i < count; i++) {
  const content = `${label}-${i}`;
  for (;;) {
    try {
      const result = await store.appendTurn(sessionId!, mode === 'explicit' ? { role: 'user', content, seq: i + 1 } : { role: 'user', content });
      process.stdout.write(`ack ${result.seqs[0]} ${content}\n`);
      break;
    } catch (error) {
      process.stdout.write(`fail ${content} ${(error as { code?: string }).code}\n`);
      await sleep(50);
      if (mode !== 'explicit') break;
    }
  }
}
await store.close();
process.stdout.write('done\n');
