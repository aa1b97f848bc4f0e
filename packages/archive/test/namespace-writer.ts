// Writer for the PID-namespace tests: runs as pid 1 of its own namespace (unshare --pid),
// appends turns one at a time and prints "ack <seq> <content>" after each append resolved.
import { ConversationArchive } from '@lix/archive';

const [dir, sessionId, label, countText] = process.argv.slice(2);
const archive = new ConversationArchive({ dir: dir!, compactAfterAppends: 4, lockStaleMs: 1500, lockTimeoutMs: 60_000 });
process.stdout.write(`pid ${process.pid}\n`);
for (let i = 0; i < Number(countText); i++) {
  const content = `${label}-${i}`;
  const result = await archive.appendTurn(sessionId!, { role: 'user', content });
  await new Promise<void>((resolve, reject) => process.stdout.write(`ack ${result.seqs[0]} ${content}\n`, (error) => (error ? reject(error) : resolve())));
}
process.stdout.write('done\n');
await archive.close();
