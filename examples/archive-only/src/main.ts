// Only @lix/archive: disk-only conversation memory, no Redis anywhere.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, ConversationArchive } from '@lix/archive';

const dir = mkdtempSync(join(tmpdir(), 'lix-archive-only-'));
try {
  const archive = new ConversationArchive({ dir, ttlDays: 30 });
  await archive.appendTurn('sess-1', { role: 'user', content: 'hello, can you help me plan a trip to Kyoto?' });
  await archive.appendTurn('sess-1', { role: 'assistant', content: 'Of course! Temples, gardens and tea houses are a good start.' });
  await archive.appendTurns('sess-1', [
    { role: 'user', content: 'which temples should I see first?' },
    { role: 'assistant', content: 'Kiyomizu-dera and Fushimi Inari are the classics.' },
  ]);

  const turns = await archive.loadAll('sess-1');
  console.log(`loaded ${turns.length} turns: ${turns.map((t) => `#${t.seq} ${t.role}`).join(', ')}`);
  const recent = await archive.loadRecent('sess-1', 2);
  console.log(`last 2: ${recent.map((t) => t.content).join(' | ')}`);
  const [best] = await archive.searchByText('sess-1', 'temples', 1);
  console.log(`best text match for "temples": #${best?.turn.seq} (score ${best?.score.toFixed(2)})`);
  const meta = await archive.getMetadata('sess-1');
  console.log(`metadata: ${meta?.turnCount} turns, ${meta?.sizeBytes} bytes on disk, last seq ${meta?.lastSeq}`);

  const retry = await archive.appendTurn('sess-1', { role: 'user', content: 'which temples should I see first?', seq: 3 });
  console.log(`retrying seq 3 appends ${retry.appended} and skips ${retry.skipped}`);

  try {
    await archive.appendTurn('../../etc/passwd', { role: 'user', content: 'x' });
    console.log('hostile id stored inside the archive folder as an encoded file name');
  } catch (error) {
    if (error instanceof ArchiveError) console.log(`hostile id rejected: ${error.code}`);
  }
  await archive.appendTurn('', { role: 'user', content: 'x' }).catch((error: unknown) => {
    if (error instanceof ArchiveError) console.log(`empty id is a typed error: ${error.code}`);
  });
  console.log(`expired sessions removed: ${await archive.cleanupExpired()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
