import { getEventListeners, setMaxListeners } from 'node:events';
import type { ArchiveStore } from '../store.js';
import type { SuiteContext } from './context.js';

const turn = (content: string) => ({ role: 'user', content });

/** Both append methods with the same options argument, each appending one turn `content`. */
function appendCalls(store: ArchiveStore, sessionId: string, content: string, options: unknown): (() => Promise<unknown>)[] {
  return [() => store.appendTurn(sessionId, turn(content), options as never), () => store.appendTurns(sessionId, [turn(content)], options as never)];
}

/** The appends' `{ signal }` option: aborted → ABORTED and nothing stored; bad options → INVALID_ARGUMENT. */
export function registerAbort(c: SuiteContext): void {
  const { t } = c;
  c.it('an already-aborted signal rejects with ABORTED (cause: the reason) and stores nothing', async () => {
    const { store } = await c.storage();
    const fresh = c.sessionId('abort-new');
    const existing = c.sessionId('abort-old');
    await store.appendTurns(existing, [turn('one'), turn('two')]);
    const reason = new Error('caller gave up');
    for (const id of [fresh, existing]) {
      for (const call of appendCalls(store, id, 'aborted', { signal: AbortSignal.abort(reason) })) {
        const error = await c.expectArchiveError(call, 'ABORTED');
        t.expect(error.cause).toBe(reason);
      }
      await c.expectArchiveError(() => store.appendTurns(id, [turn('a'), turn('b')], { signal: AbortSignal.abort() }), 'ABORTED');
    }
    t.expect(await store.sessionExists(fresh)).toBe(false);
    t.expect((await store.loadAll(existing)).map((x) => x.content)).toEqual(['one', 'two']);
    t.expect((await store.appendTurn(existing, turn('three'))).seqs).toEqual([3]);
  });

  c.it('an options argument with an unknown key, that is not a plain object, or whose signal is not an AbortSignal is INVALID_ARGUMENT', async () => {
    const { store } = await c.storage();
    const id = c.sessionId('abort-options');
    const bad: unknown[] = [
      { signal: undefined, noSuchAppendOptionXyz: 1 },
      { timeoutMs: 5 },
      null,
      'signal',
      42,
      [],
      { signal: {} },
      { signal: 'abort' },
      { signal: { aborted: true } },
    ];
    for (const options of bad) {
      for (const call of appendCalls(store, id, 'x', options)) await c.expectArchiveError(call, 'INVALID_ARGUMENT');
    }
    await c.expectArchiveError(() => store.appendTurn(id, turn('x'), { noSuchAppendOptionXyz: 1 } as never), 'INVALID_ARGUMENT', 'noSuchAppendOptionXyz');
    t.expect(await store.sessionExists(id)).toBe(false);
  });

  c.it('{}, { signal: undefined } and a signal that never aborts append as before, and leave no listener on the signal', async () => {
    const { store } = await c.storage();
    const id = c.sessionId('abort-none');
    const controller = new AbortController();
    const options: unknown[] = [undefined, {}, { signal: undefined }, { signal: controller.signal }];
    let expected = 0;
    for (const option of options) {
      t.expect((await store.appendTurn(id, turn(`one ${expected + 1}`), option as never)).seqs).toEqual([expected + 1]);
      const batch = await store.appendTurns(id, [turn(`batch ${expected + 2}`), turn(`batch ${expected + 3}`)], option as never);
      t.expect(batch.seqs).toEqual([expected + 2, expected + 3]);
      t.expect(batch.appended).toBe(2);
      expected += 3;
    }
    const skipped = await store.appendTurns(id, [{ ...turn('again'), seq: 1 }], { signal: controller.signal });
    t.expect([skipped.appended, skipped.skipped, skipped.lastSeq]).toEqual([0, 1, expected]);
    t.expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // An abort after the appends resolved changes nothing: they were stored.
    controller.abort();
    t.expect((await store.loadAll(id)).map((x) => x.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
  });

  c.it('appends of several store instances with live signals, racing on one session, lose and duplicate nothing', async () => {
    const storage = await c.storage();
    const stores = [storage.store, await storage.open(), await storage.open()];
    const id = c.sessionId('abort-race');
    const controller = new AbortController();
    // One listener per pending append is expected; Node warns past 10 by default.
    setMaxListeners(64, controller.signal);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % stores.length]!.appendTurn(id, turn(`r${i}`), { signal: controller.signal })),
    );
    const seqs = results.map((r) => r.seqs[0]!).sort((a, b) => a - b);
    t.expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    t.expect((await storage.store.loadAll(id)).map((x) => x.seq)).toEqual(seqs);
    t.expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
}
