import type { ArchivedTurn } from '../turn-records.js';
import { collect, range, type SuiteContext } from './context.js';

const DAY_MS = 86_400_000;

const turn = (content: string, extra: Record<string, unknown> = {}) => ({ role: 'user', content, ...extra });
const seqsOf = (turns: ArchivedTurn[]) => turns.map((t) => t.seq);
const contentsOf = (turns: ArchivedTurn[]) => turns.map((t) => t.content);

/** Seq rules: auto, explicit, skip ≤ lastSeq, atomic batches, the append result. */
export function registerSeq(c: SuiteContext): void {
  const { t } = c;
  c.it('turns without seq get 1, 2, 3 and the result reports each seq', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    t.expect(await store.appendTurn(id, turn('a'))).toEqual({ appended: 1, skipped: 0, lastSeq: 1, seqs: [1] });
    t.expect(await store.appendTurns(id, [turn('b'), turn('c')])).toEqual({ appended: 2, skipped: 0, lastSeq: 3, seqs: [2, 3] });
    t.expect(seqsOf(await store.loadAll(id))).toEqual([1, 2, 3]);
  });

  c.it('an explicit seq above lastSeq is stored and the next auto seq follows it', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    t.expect((await store.appendTurn(id, turn('five', { seq: 5 }))).lastSeq).toBe(5);
    t.expect((await store.appendTurn(id, turn('six'))).seqs).toEqual([6]);
    const loaded = await store.loadAll(id);
    t.expect(loaded.map((x) => [x.seq, x.content])).toEqual([
      [5, 'five'],
      [6, 'six'],
    ]);
  });

  c.it('a turn whose seq is at or below lastSeq is skipped and the stored turn is kept', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    await store.appendTurns(id, [turn('one'), turn('two')]);
    t.expect(await store.appendTurn(id, turn('again', { seq: 2 }))).toEqual({ appended: 0, skipped: 1, lastSeq: 2, seqs: [2] });
    t.expect(await store.appendTurn(id, turn('older', { seq: 1 }))).toEqual({ appended: 0, skipped: 1, lastSeq: 2, seqs: [1] });
    t.expect(contentsOf(await store.loadAll(id))).toEqual(['one', 'two']);
  });

  c.it('within one batch a repeated seq is skipped and later auto seqs continue from the largest', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    const result = await store.appendTurns(id, [turn('a', { seq: 3 }), turn('dup', { seq: 3 }), turn('b'), turn('low', { seq: 1 }), turn('c', { seq: 10 })]);
    t.expect(result).toEqual({ appended: 3, skipped: 2, lastSeq: 10, seqs: [3, 3, 4, 1, 10] });
    t.expect((await store.loadAll(id)).map((x) => [x.seq, x.content])).toEqual([
      [3, 'a'],
      [4, 'b'],
      [10, 'c'],
    ]);
  });

  c.it('an empty batch stores nothing and reports the current lastSeq', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    t.expect(await store.appendTurns(id, [])).toEqual({ appended: 0, skipped: 0, lastSeq: 0, seqs: [] });
    await store.appendTurn(id, turn('a'));
    t.expect(await store.appendTurns(id, [])).toEqual({ appended: 0, skipped: 0, lastSeq: 1, seqs: [] });
  });

  c.it('a batch with one bad turn stores none of its turns', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    await store.appendTurn(id, turn('before'));
    await c.expectArchiveError(() => store.appendTurns(id, [turn('ok 1'), turn('ok 2'), { role: 'user', content: 42 } as never]), 'INVALID_TURN');
    t.expect(contentsOf(await store.loadAll(id))).toEqual(['before']);
    t.expect((await store.getMetadata(id))?.lastSeq).toBe(1);
  });

  c.it('every field round-trips: role, content, timestamp, metadata, embedding', async () => {
    const { store, context } = await c.storage();
    const id = c.sessionId();
    const metadata = { lang: 'fr', nested: { list: [1, 'two', null, true, { deep: -0.5 }] }, empty: {} };
    await store.appendTurns(id, [
      { role: 'assistant', content: 'with all fields', timestamp: 1_700_000_000.25, metadata, embedding: [0.5, -1, 2] },
      { role: 'user', content: 'defaults' },
      { role: 'tool', content: '', embedding: new Float32Array([1.5, 0]) },
    ]);
    const [first, second, third] = await store.loadAll(id);
    t.expect(first?.role).toBe('assistant');
    t.expect(first?.timestamp).toBe(1_700_000_000.25);
    t.expect(first?.metadata).toEqual(metadata);
    t.expect(first?.embedding instanceof Float32Array).toBe(true);
    t.expect([...(first?.embedding ?? [])]).toEqual([0.5, -1, 2]);
    t.expect(second?.timestamp).toBe(context.clock.now() / 1000);
    t.expect(second?.metadata).toEqual({});
    t.expect(second?.embedding).toBe(undefined);
    t.expect(third?.content).toBe('');
    t.expect([...(third?.embedding ?? [])]).toEqual([1.5, 0]);
  });

  c.it('content of any Unicode (non-BMP, NUL, RTL) and of 1 MiB round-trips exactly', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    const texts = ['😀 emoji 𝄞 clef', 'nul \u0000 inside', 'עברית and العربية', 'é'.repeat(1000), 'x'.repeat(1024 * 1024)];
    for (const text of texts) await store.appendTurn(id, turn(text));
    t.expect(contentsOf(await store.loadAll(id))).toEqual(texts);
  });

  c.it('200 appends one at a time keep seqs 1..200 and every content (compactions included)', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (let i = 1; i <= 200; i++) await store.appendTurn(id, turn(`turn ${i} ${'lorem ipsum '.repeat(i % 7)}`));
    const loaded = await store.loadAll(id);
    t.expect(seqsOf(loaded)).toEqual(range(1, 200));
    t.expect(loaded[199]?.content.startsWith('turn 200 ')).toBe(true);
  });
}

/** loadAll / loadRecent / loadAfter. */
export function registerReads(c: SuiteContext): void {
  const { t } = c;
  c.it('an unknown session reads as []', async () => {
    const { store } = await c.storage();
    const id = c.sessionId('missing');
    t.expect(await store.loadAll(id)).toEqual([]);
    t.expect(await store.loadRecent(id, 5)).toEqual([]);
    t.expect(await store.loadAfter(id, 0)).toEqual([]);
    t.expect(await store.loadAfter(id, 0, 3)).toEqual([]);
  });

  c.it('loadRecent(n) returns the last n turns oldest first, for n = 0, 1, fewer and more than stored', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (let i = 1; i <= 30; i++) await store.appendTurn(id, turn(`t${i}`));
    t.expect(await store.loadRecent(id, 0)).toEqual([]);
    t.expect(seqsOf(await store.loadRecent(id, 1))).toEqual([30]);
    t.expect(seqsOf(await store.loadRecent(id, 7))).toEqual(range(24, 30));
    t.expect(seqsOf(await store.loadRecent(id, 30))).toEqual(range(1, 30));
    t.expect(seqsOf(await store.loadRecent(id, 500))).toEqual(range(1, 30));
    t.expect(await store.loadRecent(id, 3)).toEqual((await store.loadAll(id)).slice(-3));
  });

  c.it('loadAfter returns seqs above afterSeq oldest first, honouring limit and gaps', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (const seq of [2, 5, 9, 10, 14]) await store.appendTurn(id, turn(`s${seq}`, { seq }));
    t.expect(seqsOf(await store.loadAfter(id, 0))).toEqual([2, 5, 9, 10, 14]);
    t.expect(seqsOf(await store.loadAfter(id, 5))).toEqual([9, 10, 14]);
    t.expect(seqsOf(await store.loadAfter(id, 6))).toEqual([9, 10, 14]);
    t.expect(seqsOf(await store.loadAfter(id, 14))).toEqual([]);
    t.expect(seqsOf(await store.loadAfter(id, 99))).toEqual([]);
    t.expect(seqsOf(await store.loadAfter(id, 2, 2))).toEqual([5, 9]);
    t.expect(seqsOf(await store.loadAfter(id, 0, 0))).toEqual([]);
    t.expect(seqsOf(await store.loadAfter(id, 9, 100))).toEqual([10, 14]);
  });

  c.it('loadRecent and loadAfter agree with loadAll on a long session written one turn at a time', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (let i = 1; i <= 150; i++) await store.appendTurn(id, turn(`long ${i} ${'words and more words '.repeat(1 + (i % 5))}`));
    const all = await store.loadAll(id);
    t.expect(all).toHaveLength(150);
    t.expect(await store.loadRecent(id, 20)).toEqual(all.slice(-20));
    t.expect(await store.loadRecent(id, 149)).toEqual(all.slice(-149));
    t.expect(await store.loadAfter(id, 100)).toEqual(all.slice(100));
    t.expect(await store.loadAfter(id, 37, 11)).toEqual(all.slice(37, 48));
  });
}

/** getMetadata, sessionExists, deleteSession. */
export function registerMetadata(c: SuiteContext): void {
  const { t } = c;
  c.it('getMetadata is null and sessionExists false for an unknown session', async () => {
    const { store } = await c.storage();
    const id = c.sessionId('missing');
    t.expect(await store.getMetadata(id)).toBeNull();
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('getMetadata reports id, counts, lastSeq, size, format and clock times; updatedAt moves, createdAt stays', async () => {
    const { store, context } = await c.storage();
    const id = c.sessionId();
    const created = context.clock.now() / 1000;
    await store.appendTurns(id, [turn('a'), turn('b')]);
    context.clock.advance(90_000);
    await store.appendTurn(id, turn('c', { seq: 7 }));
    const meta = await store.getMetadata(id);
    t.expect(meta?.sessionId).toBe(id);
    t.expect(meta?.turnCount).toBe(3);
    t.expect(meta?.lastSeq).toBe(7);
    t.expect(meta?.createdAt).toBe(created);
    t.expect(meta?.updatedAt).toBe(created + 90);
    t.expect(meta?.sizeBytes).toBeGreaterThan(0);
    t.expect(typeof meta?.format === 'string' && meta.format.length > 0).toBe(true);
    t.expect(await store.sessionExists(id)).toBe(true);
  });

  c.it('a skipped append does not change updatedAt or the counts', async () => {
    const { store, context } = await c.storage();
    const id = c.sessionId();
    await store.appendTurn(id, turn('a'));
    const before = await store.getMetadata(id);
    context.clock.advance(5_000);
    await store.appendTurn(id, turn('again', { seq: 1 }));
    const after = await store.getMetadata(id);
    t.expect(after?.updatedAt).toBe(before?.updatedAt);
    t.expect(after?.turnCount).toBe(1);
  });

  c.it('deleteSession removes the session once: true, then false; the id starts again at seq 1', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    const other = c.sessionId();
    await store.appendTurns(id, [turn('a'), turn('b')]);
    await store.appendTurn(other, turn('kept'));
    t.expect(await store.deleteSession(id)).toBe(true);
    t.expect(await store.deleteSession(id)).toBe(false);
    t.expect(await store.sessionExists(id)).toBe(false);
    t.expect(await store.getMetadata(id)).toBeNull();
    t.expect(await store.loadAll(id)).toEqual([]);
    t.expect((await store.appendTurn(id, turn('fresh'))).seqs).toEqual([1]);
    t.expect(contentsOf(await store.loadAll(other))).toEqual(['kept']);
  });

  c.it('another store over the same storage sees the same sessions and metadata', async () => {
    const storage = await c.storage();
    const id = c.sessionId();
    await storage.store.appendTurns(id, [turn('a'), turn('b')]);
    const second = await storage.open();
    t.expect(contentsOf(await second.loadAll(id))).toEqual(['a', 'b']);
    t.expect(await second.getMetadata(id)).toEqual(await storage.store.getMetadata(id));
    t.expect((await second.appendTurn(id, turn('c'))).seqs).toEqual([3]);
  });
}

/** Streaming listSessions. */
export function registerListing(c: SuiteContext): void {
  const { t } = c;
  c.it('an empty storage lists nothing', async () => {
    const { store } = await c.storage();
    t.expect(await collect(store.listSessions())).toEqual([]);
  });

  c.it('listSessions yields each session once with the metadata getMetadata reports', async () => {
    const { store } = await c.storage();
    const ids = range(1, 25).map((i) => c.sessionId(`list${i}`));
    for (const [index, id] of ids.entries())
      await store.appendTurns(
        id,
        range(0, index % 4).map((i) => turn(`m${i}`)),
      );
    const listed = await collect(store.listSessions());
    t.expect(listed.map((m) => m.sessionId).sort()).toEqual([...ids].sort());
    for (const meta of listed) t.expect(meta).toEqual(await store.getMetadata(meta.sessionId));
  });

  c.it('listSessions is an async iterable that can be left early and iterated again', async () => {
    const { store } = await c.storage();
    for (let i = 0; i < 5; i++) await store.appendTurn(c.sessionId('early'), turn('x'));
    const iterable = store.listSessions();
    t.expect(typeof iterable[Symbol.asyncIterator]).toBe('function');
    let seen = 0;
    for await (const meta of iterable) {
      t.expect(typeof meta.sessionId).toBe('string');
      seen++;
      break;
    }
    t.expect(seen).toBe(1);
    t.expect(await collect(store.listSessions())).toHaveLength(5);
  });

  c.it('deleted sessions are not listed', async () => {
    const { store } = await c.storage();
    const gone = c.sessionId('gone');
    const kept = c.sessionId('kept');
    await store.appendTurn(gone, turn('x'));
    await store.appendTurn(kept, turn('y'));
    await store.deleteSession(gone);
    t.expect((await collect(store.listSessions())).map((m) => m.sessionId)).toEqual([kept]);
  });
}

/** cleanupExpired with the injected clock. */
export function registerExpiry(c: SuiteContext): void {
  const { t } = c;
  c.it('cleanupExpired removes only sessions not updated within the TTL and counts them', async () => {
    const { store, context } = await c.storage();
    const old = c.sessionId('old');
    const renewed = c.sessionId('renewed');
    const fresh = c.sessionId('fresh');
    await store.appendTurn(old, turn('a'));
    await store.appendTurn(renewed, turn('b'));
    context.clock.advance(context.ttlDays * DAY_MS * 0.75);
    await store.appendTurn(renewed, turn('b2'));
    await store.appendTurn(fresh, turn('c'));
    t.expect(await store.cleanupExpired()).toBe(0);
    context.clock.advance(context.ttlDays * DAY_MS * 0.5);
    t.expect(await store.cleanupExpired()).toBe(1);
    t.expect(await store.sessionExists(old)).toBe(false);
    t.expect(await store.loadAll(old)).toEqual([]);
    t.expect(contentsOf(await store.loadAll(renewed))).toEqual(['b', 'b2']);
    t.expect(await store.sessionExists(fresh)).toBe(true);
    context.clock.advance(context.ttlDays * DAY_MS * 2);
    t.expect(await store.cleanupExpired()).toBe(2);
    t.expect(await collect(store.listSessions())).toEqual([]);
    t.expect(await store.cleanupExpired()).toBe(0);
  });
}

/** searchByText / searchByEmbedding. */
export function registerSearch(c: SuiteContext): void {
  const { t } = c;
  c.it('searchByText ranks the turn with the query terms first, honours topK, ignores non-matches', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    await store.appendTurns(id, [
      turn('the weather in Paris is mild today'),
      turn('a recipe for bread with flour and water'),
      turn('bread bread bread, fresh bread'),
      turn('nothing relevant here at all'),
    ]);
    const hits = await store.searchByText(id, 'bread', 5);
    t.expect(hits.map((h) => h.turn.seq)).toEqual([3, 2]);
    t.expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    t.expect(hits[1]!.score).toBeGreaterThan(0);
    t.expect(await store.searchByText(id, 'bread', 1)).toHaveLength(1);
    t.expect(await store.searchByText(id, 'bread', 0)).toEqual([]);
    t.expect(await store.searchByText(id, 'zeppelin', 5)).toEqual([]);
    t.expect(await store.searchByText(c.sessionId('missing'), 'bread', 5)).toEqual([]);
    t.expect((await store.searchByText(id, 'PARIS weather')).map((h) => h.turn.seq)).toEqual([1]);
  });

  c.it('searchByEmbedding ranks by cosine, skips turns without or with other-sized embeddings, takes arrays and Float32Array', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    await store.appendTurns(id, [
      turn('x', { embedding: [1, 0, 0] }),
      turn('y', { embedding: [0, 1, 0] }),
      turn('xy', { embedding: [1, 1, 0] }),
      turn('none'),
      turn('other size', { embedding: [1, 0] }),
    ]);
    const hits = await store.searchByEmbedding(id, [1, 0.1, 0], 5);
    t.expect(hits.map((h) => h.turn.content)).toEqual(['x', 'xy', 'y']);
    t.expect(hits[0]!.score).toBeGreaterThan(0.99);
    t.expect((await store.searchByEmbedding(id, new Float32Array([0, 1, 0]), 1)).map((h) => h.turn.content)).toEqual(['y']);
    t.expect(await store.searchByEmbedding(id, [0, 0, 1], 0)).toEqual([]);
    t.expect(await store.searchByEmbedding(c.sessionId('missing'), [1, 0, 0], 3)).toEqual([]);
  });
}
