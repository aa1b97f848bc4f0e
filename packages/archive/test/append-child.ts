// Child process for the crash and concurrency tests: appends turns and prints each
// acknowledged seq on stdout ("ack <seq> <content>") only after the append resolved.
import { ConversationArchive } from '@lix/archive';

const [dir, sessionId, label, countText, mode] = process.argv.slice(2);
const archive = new ConversationArchive({ dir: dir!, compactAfterAppends: 5, lockStaleMs: 1000 });
const count = Number(countText);
for (let i = 0; i < count; i++) {
  const content = `${label}-${i}`;
  const turn = mode === 'explicit' ? { role: 'user', content, seq: i + 1 } : { role: 'user', content };
  const result = await archive.appendTurn(sessionId!, turn);
  process.stdout.write(`ack ${result.seqs[0]} ${content}\n`);
}
process.stdout.write('done\n');
