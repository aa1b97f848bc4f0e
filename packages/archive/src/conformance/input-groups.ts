import { MAX_SESSION_ID_LENGTH } from '../session-id.js';
import type { ArchiveStore } from '../store.js';
import { collect, type SuiteContext } from './context.js';

const turn = (content: string) => ({ role: 'user', content });

/** Calls every session-scoped method with `sessionId` (valid arguments otherwise). */
function sessionCalls(store: ArchiveStore, sessionId: unknown): [string, () => Promise<unknown>][] {
  const id = sessionId as string;
  return [
    ['appendTurn', () => store.appendTurn(id, turn('x'))],
    ['appendTurns', () => store.appendTurns(id, [turn('x')])],
    ['loadAll', () => store.loadAll(id)],
    ['loadRecent', () => store.loadRecent(id, 3)],
    ['loadAfter', () => store.loadAfter(id, 0)],
    ['getMetadata', () => store.getMetadata(id)],
    ['sessionExists', () => store.sessionExists(id)],
    ['deleteSession', () => store.deleteSession(id)],
    ['searchByText', () => store.searchByText(id, 'x', 3)],
    ['searchByEmbedding', () => store.searchByEmbedding(id, [1, 0], 3)],
  ];
}

/** Ids a session window accepts: all must work end to end, each as its own session. */
function acceptedIds(unique: string): string[] {
  const long = MAX_SESSION_ID_LENGTH;
  return [
    `user:${'é'.repeat(150)}${unique}`,
    `${'x'.repeat(300)}${unique}`,
    `${'ABC_'.repeat(70)}${unique}`,
    `${unique}${'z'.repeat(long - unique.length)}`,
    `${unique}${'é'.repeat(long - unique.length)}`,
    `${unique}${'😀'.repeat((long - unique.length) >> 1)}`,
    `${unique}${'x'.repeat(long - unique.length - 1)}a`,
    `${unique}${'x'.repeat(long - unique.length - 1)}b`,
    `日本語のセッション-${unique}`,
    `emoji 🎉🧪 ${unique}`,
    `../../etc/passwd-${unique}`,
    `a/b\\c:d*e?f"g<h>i|j-${unique}`,
    `CON-${unique}`,
    `Case-${unique}`,
    `case-${unique}`,
    `nul\u0000byte-${unique}`,
    `  spaces and\ttabs\n-${unique}`,
    `.-${unique}`,
  ];
}

/** Unicode and long ids, up to the shared limit. */
export function registerSessionIds(c: SuiteContext): void {
  const { t } = c;
  c.it(`every id of up to MAX_SESSION_ID_LENGTH (${MAX_SESSION_ID_LENGTH}) well-formed UTF-16 units is its own session end to end`, async () => {
    const storage = await c.storage();
    const { store } = storage;
    const ids = acceptedIds(c.sessionId('u'));
    for (const id of ids) t.expect(id.length).toBeLessThanOrEqual(MAX_SESSION_ID_LENGTH);
    for (const [index, id] of ids.entries()) {
      await store.appendTurns(id, [turn(`first of ${index}`), turn(`second of ${index}`)]);
    }
    const reopened = await storage.open();
    for (const [index, id] of ids.entries()) {
      t.expect((await reopened.loadAll(id)).map((x) => x.content)).toEqual([`first of ${index}`, `second of ${index}`]);
      t.expect((await reopened.loadRecent(id, 1)).map((x) => x.seq)).toEqual([2]);
      t.expect((await reopened.getMetadata(id))?.sessionId).toBe(id);
      t.expect(await reopened.sessionExists(id)).toBe(true);
      t.expect((await reopened.appendTurn(id, turn('third'))).seqs).toEqual([3]);
    }
    const listed = (await collect(reopened.listSessions())).map((m) => m.sessionId);
    t.expect([...listed].sort()).toEqual([...ids].sort());
    t.expect(await reopened.deleteSession(ids[3]!)).toBe(true);
    t.expect(await reopened.sessionExists(ids[3]!)).toBe(false);
    t.expect(await reopened.sessionExists(ids[4]!)).toBe(true);
  });

  c.it('ids that differ in one character (case, last of 512) never share a session', async () => {
    const { store } = await c.storage();
    const unique = c.sessionId('pair');
    const pad = 'q'.repeat(MAX_SESSION_ID_LENGTH - unique.length - 1);
    const pairs: [string, string][] = [
      [`${unique}${pad}A`, `${unique}${pad}a`],
      [`Ab-${unique}`, `ab-${unique}`],
      [`é-${unique}`, `e\u0301-${unique}`],
    ];
    for (const [left, right] of pairs) {
      await store.appendTurn(left, turn('left'));
      await store.appendTurn(right, turn('right'));
      t.expect((await store.loadAll(left)).map((x) => x.content)).toEqual(['left']);
      t.expect((await store.loadAll(right)).map((x) => x.content)).toEqual(['right']);
    }
  });
}

const BAD_IDS: [string, unknown][] = [
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an object', { id: 'x' }],
  ['an empty string', ''],
  [`${MAX_SESSION_ID_LENGTH + 1} characters`, 'x'.repeat(MAX_SESSION_ID_LENGTH + 1)],
  ['a lone high surrogate', 'abc\uD800'],
  ['a lone low surrogate', '\uDC00abc'],
];

/** Bad input → ArchiveError with a stable code, and nothing stored. */
export function registerBadInput(c: SuiteContext): void {
  const { t } = c;
  c.it('a bad session id (non-string, empty, too long, lone surrogate) is INVALID_SESSION_ID on every method', async () => {
    const { store } = await c.storage();
    for (const [, bad] of BAD_IDS) {
      for (const [, call] of sessionCalls(store, bad)) await c.expectArchiveError(call, 'INVALID_SESSION_ID');
    }
    t.expect(await collect(store.listSessions())).toEqual([]);
  });

  c.it('a turn that is not a plain object with string role and content is INVALID_TURN', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    const bad: unknown[] = [
      null,
      'text',
      42,
      [],
      {},
      { role: 'user' },
      { content: 'x' },
      { role: '', content: 'x' },
      { role: 7, content: 'x' },
      { role: 'user', content: 7 },
      { role: 'user', content: null },
      { role: 'user', content: 'x', timestamp: Number.NaN },
      { role: 'user', content: 'x', timestamp: '2020' },
      { role: 'user', content: 'x', metadata: [] },
      { role: 'user', content: 'x', metadata: 'm' },
      { role: 'user', content: 'x', metadata: new Date(0) },
      { role: 'user', content: 'x', embedding: [1, Number.NaN] },
      { role: 'user', content: 'x', embedding: ['1'] },
      { role: 'user', content: 'x', embedding: 'vec' },
    ];
    for (const value of bad) {
      await c.expectArchiveError(() => store.appendTurn(id, value as never), 'INVALID_TURN');
      await c.expectArchiveError(() => store.appendTurns(id, [turn('ok'), value as never]), 'INVALID_TURN');
    }
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('a bad seq (0, negative, fractional, NaN, a string, unsafe) is INVALID_TURN', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (const seq of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', 2 ** 53]) {
      await c.expectArchiveError(() => store.appendTurn(id, { role: 'user', content: 'x', seq } as never), 'INVALID_TURN');
    }
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('metadata holding a BigInt, a function, a symbol or a cycle is INVALID_TURN, never a TypeError', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const deepCircular: Record<string, unknown> = { list: [] };
    (deepCircular.list as unknown[]).push({ back: deepCircular });
    for (const metadata of [{ big: 10n }, { nested: { big: 1n } }, { fn: () => 1 }, { sym: Symbol('s') }, circular, deepCircular, { n: Number.NaN }]) {
      await c.expectArchiveError(() => store.appendTurn(id, { role: 'user', content: 'x', metadata } as never), 'INVALID_TURN');
    }
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('turns that are not an iterable of turns are INVALID_ARGUMENT', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    for (const turns of [null, undefined, 42, { role: 'user', content: 'x' }, true]) {
      await c.expectArchiveError(() => store.appendTurns(id, turns as never), 'INVALID_ARGUMENT');
    }
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('bad counts, seqs, limits, queries, vectors and topK are INVALID_ARGUMENT', async () => {
    const { store } = await c.storage();
    const id = c.sessionId();
    await store.appendTurn(id, turn('x'));
    const badCounts: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', null, 10n];
    for (const n of badCounts) {
      await c.expectArchiveError(() => store.loadRecent(id, n as number), 'INVALID_ARGUMENT');
      await c.expectArchiveError(() => store.loadAfter(id, n as number), 'INVALID_ARGUMENT');
      await c.expectArchiveError(() => store.loadAfter(id, 0, n as number), 'INVALID_ARGUMENT');
      await c.expectArchiveError(() => store.searchByText(id, 'x', n as number), 'INVALID_ARGUMENT');
      await c.expectArchiveError(() => store.searchByEmbedding(id, [1], n as number), 'INVALID_ARGUMENT');
    }
    for (const query of [42, null, undefined, ['x'], 10n])
      await c.expectArchiveError(() => store.searchByText(id, query as unknown as string), 'INVALID_ARGUMENT');
    for (const vector of [null, 'v', 42, [1, 'x'], [Number.NaN], { 0: 1, length: 1 }, new Float64Array([1])]) {
      await c.expectArchiveError(() => store.searchByEmbedding(id, vector as never), 'INVALID_ARGUMENT');
    }
  });

  const withOptions = c.options.createStoreWithOptions;
  if (withOptions) {
    c.it('an unknown option key is INVALID_ARGUMENT naming the key', async () => {
      const { context } = await c.storage();
      await c.expectArchiveError(() => withOptions(context, { noSuchOptionXyz: 1 }), 'INVALID_ARGUMENT', 'noSuchOptionXyz');
    });
  }
}

/** close() → CLOSED, idempotent. */
export function registerLifecycle(c: SuiteContext): void {
  const { t } = c;
  c.it('after close every method rejects with CLOSED, and close is idempotent', async () => {
    const storage = await c.storage();
    const store = await storage.open();
    const id = c.sessionId();
    await store.appendTurn(id, turn('x'));
    await store.close();
    await store.close();
    for (const [, call] of sessionCalls(store, id)) await c.expectArchiveError(call, 'CLOSED');
    await c.expectArchiveError(() => collect(store.listSessions()), 'CLOSED');
    await c.expectArchiveError(() => store.cleanupExpired(), 'CLOSED');
    t.expect((await storage.store.loadAll(id)).map((x) => x.content)).toEqual(['x']);
  });
  c.it('await using closes the store when its block ends, keeping what it acknowledged', async () => {
    const storage = await c.storage();
    const id = c.sessionId();
    let escaped: Awaited<ReturnType<typeof storage.open>> | undefined;
    {
      await using store = await storage.open();
      escaped = store;
      await store.appendTurn(id, turn('kept'));
    }
    await c.expectArchiveError(() => escaped!.loadAll(id), 'CLOSED');
    t.expect((await storage.store.loadAll(id)).map((x) => x.content)).toEqual(['kept']);
  });
}
