import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle, getFreePort } from '@lix/test-utils';
import { isArchiveError } from '../errors.js';
import type { ArchivedTurn } from '../turn-records.js';
import { PostgresArchiveStore, SCHEMA_VERSION, type PostgresArchiveStoreOptions } from './index.js';
import { packBlock, packTurn } from './packing.js';
import { migrations, schemaNames } from './schema.js';

let server: PostgresServerHandle;
let admin: pg.Pool;
const stores: PostgresArchiveStore[] = [];
let schemaCounter = 0;

beforeAll(async () => {
  server = await startPostgresServer();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on('error', () => undefined);
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await admin?.end();
  await server?.stop();
});

/** A store in a schema of its own, migrated. */
async function freshStore(options: Partial<PostgresArchiveStoreOptions> = {}): Promise<PostgresArchiveStore> {
  const store = new PostgresArchiveStore({ connectionString: server.url, schema: `t${process.pid}_${schemaCounter++}`, ...options });
  stores.push(store);
  await store.migrate();
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('PostgresArchiveStore: schema', () => {
  it('migrate() creates the tables once and is idempotent, also when run concurrently', async () => {
    const schema = `mig_${process.pid}`;
    const make = () => {
      const store = new PostgresArchiveStore({ connectionString: server.url, schema });
      stores.push(store);
      return store;
    };
    const results = await Promise.all([make().migrate(), make().migrate(), make().migrate()]);
    expect(results.map((r) => r.from).sort()).toEqual([0, SCHEMA_VERSION, SCHEMA_VERSION]);
    expect(await make().migrate()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    const versions = await admin.query(`SELECT version FROM ${schema}.lix_archive_schema_migrations`);
    expect(versions.rows).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
  });

  it('migrate() upgrades a database written by schema version 1: every turn, seq and counter is kept', async () => {
    const schema = `v1_${process.pid}`;
    const names = schemaNames(schema, 'lix_archive_');
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${names.migrations} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(migrations(names)[0]!.sql);
    await admin.query(`INSERT INTO ${names.migrations} (version) VALUES (1)`);
    // What version 1 wrote: brotli'd tail rows through its append, and a block through its compact.
    const turn = (seq: number, content: string): ArchivedTurn => ({ seq, role: 'user', content, timestamp: 1000, metadata: { v: 1 } });
    const v1Append = (key: string, now: number, seqs: number[], turns: ArchivedTurn[]) =>
      admin.query(`SELECT * FROM ${names.append}($1::bytea, $2::float8, $3::bigint[], $4::bytea[])`, [
        Buffer.from(key),
        now,
        seqs,
        turns.map((t) => packTurn('brotli', t)),
      ]);
    await v1Append('old', 1_700_000_000, [0, 0, 0], [turn(0, 'one '.repeat(40)), turn(0, 'two'), turn(0, 'three')]);
    const sid = (await admin.query(`SELECT id FROM ${names.sessions} WHERE session_key = $1`, [Buffer.from('old')])).rows[0].id;
    await admin.query(`SELECT ${names.compact}($1, 1, 2, 2, NULL, 1, 2, $2)`, [sid, packBlock('brotli', [turn(1, 'one '.repeat(40)), turn(2, 'two')])]);
    await v1Append('old', 1_700_000_100, [7], [turn(0, 'seven')]);
    await v1Append('other', 1_700_000_050, [0], [turn(0, 'x')]);
    const before = (
      await admin.query(`SELECT updated_at, turn_count::int, size_bytes::int, last_seq::int FROM ${names.sessions} WHERE session_key = $1`, [
        Buffer.from('old'),
      ])
    ).rows[0];

    const store = new PostgresArchiveStore({ connectionString: server.url, schema, clock: { now: () => 1_700_000_200_000 } });
    stores.push(store);
    expect(isArchiveError(await rejection(store.loadAll('old')), 'UNSUPPORTED_VERSION')).toBe(true);
    expect(await store.migrate()).toEqual({ from: 1, to: SCHEMA_VERSION });
    expect(await store.migrate()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect((await store.loadAll('old')).map((t) => [t.seq, t.content, t.metadata])).toEqual([
      [1, 'one '.repeat(40), { v: 1 }],
      [2, 'two', { v: 1 }],
      [3, 'three', { v: 1 }],
      [7, 'seven', { v: 1 }],
    ]);
    expect(await store.getMetadata('old')).toEqual({
      sessionId: 'old',
      createdAt: 1_700_000_000,
      updatedAt: before.updated_at,
      turnCount: before.turn_count,
      sizeBytes: before.size_bytes,
      lastSeq: before.last_seq,
      format: 'postgres',
    });
    expect((await store.appendTurn('old', { role: 'user', content: 'eight' })).seqs).toEqual([8]);
    expect((await store.appendTurn('old', { role: 'user', content: 'dup', seq: 3 })).appended).toBe(0);
    await store.compact('old');
    expect((await store.loadRecent('old', 3)).map((t) => t.content)).toEqual(['three', 'seven', 'eight']);
    expect(await store.getMetadata('old')).toMatchObject({ turnCount: 5, lastSeq: 8, updatedAt: 1_700_000_200 });
    expect((await store.loadAll('other')).map((t) => t.content)).toEqual(['x']);
  });

  it('an unmigrated database gives UNSUPPORTED_VERSION naming migrate()', async () => {
    const store = new PostgresArchiveStore({ connectionString: server.url, schema: `never_${process.pid}` });
    stores.push(store);
    const error = await rejection(store.appendTurn('s', { role: 'user', content: 'x' }));
    expect(isArchiveError(error, 'UNSUPPORTED_VERSION')).toBe(true);
    expect((error as Error).message).toContain('migrate()');
  });

  it('tables of a newer release are refused with UNSUPPORTED_VERSION', async () => {
    const store = await freshStore();
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    await admin.query(`INSERT INTO ${schema}.lix_archive_schema_migrations (version) VALUES (${SCHEMA_VERSION + 1})`);
    const other = new PostgresArchiveStore({ connectionString: server.url, schema });
    stores.push(other);
    expect(isArchiveError(await rejection(other.loadAll('s')), 'UNSUPPORTED_VERSION')).toBe(true);
    expect(isArchiveError(await rejection(other.migrate()), 'UNSUPPORTED_VERSION')).toBe(true);
    await store.close();
  });
});

describe('PostgresArchiveStore: options', () => {
  it('rejects unknown options, both or neither of pool and connectionString, and bad values with INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      { connectionString: 'postgres://x@127.0.0.1/db', nope: 1 },
      {},
      { connectionString: 'postgres://x@127.0.0.1/db', pool: {} },
      { connectionString: 'mysql://x@127.0.0.1/db' },
      { connectionString: 'not a url' },
      { connectionString: 'postgres://x@127.0.0.1/db', schema: 'Robert"); DROP TABLE' },
      { connectionString: 'postgres://x@127.0.0.1/db', tablePrefix: 'a b' },
      { connectionString: 'postgres://x@127.0.0.1/db', ttlDays: 0 },
      { connectionString: 'postgres://x@127.0.0.1/db', codec: 'zip' },
      { connectionString: 'postgres://x@127.0.0.1/db', compactAfterTurns: 1.5 },
      { pool: { query: 1 } },
      null,
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        new PostgresArchiveStore(options as PostgresArchiveStoreOptions);
      } catch (caught) {
        error = caught;
      }
      expect(isArchiveError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true);
    }
  });

  it('works on an injected pg.Pool and leaves it open on close()', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    const store = new PostgresArchiveStore({ pool, schema: `pool_${process.pid}` });
    await store.migrate();
    await store.appendTurn('s', { role: 'user', content: 'via my pool' });
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(pool.listenerCount('error')).toBe(0);
    await pool.end();
  });
});

describe('PostgresArchiveStore: seq rules', () => {
  it('assigns lastSeq + 1, skips seqs already stored and jumps to a larger explicit seq', async () => {
    const store = await freshStore();
    expect(await store.appendTurn('a', { role: 'user', content: 'one' })).toEqual({ appended: 1, skipped: 0, lastSeq: 1, seqs: [1] });
    expect(
      await store.appendTurns('a', [
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'dup', seq: 1 },
      ]),
    ).toEqual({ appended: 1, skipped: 1, lastSeq: 2, seqs: [2, 1] });
    expect(await store.appendTurn('a', { role: 'user', content: 'ten', seq: 10 })).toEqual({ appended: 1, skipped: 0, lastSeq: 10, seqs: [10] });
    expect(await store.appendTurn('a', { role: 'user', content: 'eleven' })).toMatchObject({ seqs: [11] });
    expect(await store.appendTurn('a', { role: 'user', content: 'retry', seq: 10 })).toEqual({ appended: 0, skipped: 1, lastSeq: 11, seqs: [10] });
    expect(await store.appendTurns('a', [])).toEqual({ appended: 0, skipped: 0, lastSeq: 11, seqs: [] });
    const turns = await store.loadAll('a');
    expect(turns.map((t) => [t.seq, t.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [10, 'ten'],
      [11, 'eleven'],
    ]);
  });

  it('a batch with one bad turn stores nothing (INVALID_TURN)', async () => {
    const store = await freshStore();
    const error = await rejection(
      store.appendTurns('b', [
        { role: 'user', content: 'fine' },
        { role: '', content: 'bad' },
      ]),
    );
    expect(isArchiveError(error, 'INVALID_TURN')).toBe(true);
    expect(isArchiveError(await rejection(store.appendTurn('b', { role: 'user', content: 'x', seq: 0 })), 'INVALID_TURN')).toBe(true);
    expect(await store.sessionExists('b')).toBe(false);
  });

  it('50 concurrent appends on one session get seqs 1..50, none lost', async () => {
    const store = await freshStore({ maxConnections: 8, compactAfterTurns: 4 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendTurn('c', { role: 'user', content: `m${i}` })));
    expect(results.map((r) => r.seqs[0]).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const turns = await store.loadAll('c');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(turns.map((t) => t.content)).size).toBe(50);
  });
});

describe('PostgresArchiveStore: reads across tail and blocks', () => {
  it('loadAll, loadRecent and loadAfter agree with the appended turns after compactions', async () => {
    const store = await freshStore({ compactAfterTurns: 5, maxBlockBytes: 2048 });
    const expected: { seq: number; content: string }[] = [];
    for (let i = 0; i < 137; i++) {
      const content = `turn ${i} ${'x'.repeat(i % 40)}`;
      const { seqs } = await store.appendTurn('r', {
        role: i % 2 ? 'assistant' : 'user',
        content,
        metadata: { i },
        ...(i % 9 === 0 ? { embedding: [i, 1, 0] } : {}),
      });
      expected.push({ seq: seqs[0]!, content });
    }
    await store.compact('r');
    await store.appendTurns('r', [
      { role: 'user', content: 'tail a' },
      { role: 'user', content: 'tail b' },
    ]);
    expected.push({ seq: 138, content: 'tail a' }, { seq: 139, content: 'tail b' });
    const blocks = await admin.query(`SELECT count(*)::int AS n FROM ${`t${process.pid}_${schemaCounter - 1}`}.lix_archive_blocks`);
    expect(blocks.rows[0].n).toBeGreaterThan(1);

    const all = await store.loadAll('r');
    expect(all.map((t) => ({ seq: t.seq, content: t.content }))).toEqual(expected);
    expect(all[9]!.metadata).toEqual({ i: 9 });
    expect(Array.from(all[9]!.embedding!)).toEqual([9, 1, 0]);
    for (const n of [0, 1, 2, 3, 7, 20, 64, 139, 500]) {
      expect(
        (await store.loadRecent('r', n)).map((t) => t.seq),
        `loadRecent ${n}`,
      ).toEqual(
        expected
          .slice(-n || expected.length)
          .map((t) => t.seq)
          .slice(n === 0 ? expected.length : 0),
      );
    }
    for (const [after, limit] of [
      [0, undefined],
      [50, 10],
      [136, undefined],
      [137, 1],
      [139, 5],
      [10, 0],
    ] as const) {
      const want = expected
        .filter((t) => t.seq > after)
        .slice(0, limit ?? Infinity)
        .map((t) => t.seq);
      expect(
        (await store.loadAfter('r', after, limit)).map((t) => t.seq),
        `loadAfter ${after} ${limit}`,
      ).toEqual(want);
    }
    const meta = await store.getMetadata('r');
    expect(meta).toMatchObject({ sessionId: 'r', turnCount: 139, lastSeq: 139, format: 'postgres' });
    expect(meta!.sizeBytes).toBeGreaterThan(0);
    expect((await store.searchByText('r', 'tail', 2)).map((s) => s.turn.content)).toEqual(['tail a', 'tail b']);
    expect((await store.searchByEmbedding('r', [18, 1, 0], 1))[0]!.turn.seq).toBe(19);
  });

  it('compaction keeps the tail short: after 200 appends at most compactAfterTurns rows stay unblocked', async () => {
    const store = await freshStore({ compactAfterTurns: 8 });
    for (let i = 0; i < 200; i++) await store.appendTurn('k', { role: 'user', content: `hello number ${i}` });
    await store.close();
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    const tail = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.lix_archive_turns`);
    expect(tail.rows[0].n).toBeLessThan(8);
    const blocks = await admin.query(
      `SELECT count(*)::int AS n, max(total_turns)::int AS total, sum(turn_count)::int AS sum FROM ${schema}.lix_archive_blocks`,
    );
    expect(blocks.rows[0].total).toBe(blocks.rows[0].sum);
    expect(blocks.rows[0].total + tail.rows[0].n).toBe(200);
  });
});

describe('PostgresArchiveStore: background compaction', () => {
  it('two stores (two hosts) appending to and compacting one session at once lose and duplicate nothing', async () => {
    const first = await freshStore({ compactAfterTurns: 3, compactIdleMs: 50, vacuumAfterRows: 7, maxConnections: 4 });
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    const second = new PostgresArchiveStore({
      connectionString: server.url,
      schema,
      compactAfterTurns: 4,
      compactIdleMs: 60,
      compactConcurrency: 1,
      maxConnections: 4,
    });
    stores.push(second);
    const writes = Array.from({ length: 120 }, (_, i) => (i % 2 ? first : second).appendTurn('shared', { role: 'user', content: `m${i}` }));
    const compactions = Array.from({ length: 6 }, (_, i) => (i % 2 ? first : second).compact('shared'));
    const results = await Promise.all(writes);
    await Promise.all(compactions);
    expect(results.map((r) => r.seqs[0]).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    // The idle compactions (50/60 ms) leave no tail.
    for (let i = 0; i < 100; i++) {
      const tail = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.lix_archive_turns`);
      if (tail.rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.lix_archive_turns`)).rows[0].n).toBe(0);
    const turns = await first.loadAll('shared');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(new Set(turns.map((t) => t.content)).size).toBe(120);
    const seqOf = new Map(turns.map((t) => [t.content, t.seq]));
    results.forEach((r, i) => expect(seqOf.get(`m${i}`)).toBe(r.seqs[0]));
    expect(await second.getMetadata('shared')).toMatchObject({ turnCount: 120, lastSeq: 120 });
    const blocks = await admin.query(`SELECT first_seq::int, last_seq::int, turn_count, total_turns::int FROM ${schema}.lix_archive_blocks ORDER BY last_seq`);
    let covered = 0;
    for (const block of blocks.rows) {
      expect(block.first_seq).toBe(covered + 1);
      covered = block.last_seq;
      expect(block.total_turns).toBe(covered);
    }
    expect(covered).toBe(120);
  });

  it('an append resolves before its compaction; close() runs the compactions already due', async () => {
    const store = await freshStore({ compactAfterTurns: 4, compactIdleMs: 60_000 });
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    for (let i = 0; i < 10; i++) await store.appendTurn('q', { role: 'user', content: `q${i}` });
    await store.close();
    const counts = await admin.query(
      `SELECT (SELECT count(*) FROM ${schema}.lix_archive_turns)::int AS tail, (SELECT coalesce(sum(turn_count), 0) FROM ${schema}.lix_archive_blocks)::int AS blocked`,
    );
    // Seqs 4 and 8 were due; 9 and 10 wait for an idle compaction the close dropped.
    expect(counts.rows[0]).toEqual({ tail: 2, blocked: 8 });
  });

  it('a compaction changes no metadata figure (they move with appends only)', async () => {
    const store = await freshStore({ compactAfterTurns: 100 });
    for (let i = 0; i < 10; i++) await store.appendTurn('m', { role: 'user', content: `turn ${i} `.repeat(30) });
    const before = await store.getMetadata('m');
    await store.compact('m');
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.lix_archive_blocks`)).rows[0].n).toBe(1);
    expect(await store.getMetadata('m')).toEqual(before);
  });

  it('rejects a bad vacuumAfterRows, compactIdleMs or compactConcurrency with INVALID_ARGUMENT', () => {
    for (const bad of [{ vacuumAfterRows: -1 }, { vacuumAfterRows: 1.5 }, { compactIdleMs: 0 }, { compactConcurrency: 0 }]) {
      let error: unknown;
      try {
        new PostgresArchiveStore({ connectionString: 'postgres://x@127.0.0.1/db', ...bad });
      } catch (caught) {
        error = caught;
      }
      expect(isArchiveError(error, 'INVALID_ARGUMENT'), JSON.stringify(bad)).toBe(true);
    }
  });
});

describe('PostgresArchiveStore: sessions', () => {
  it('any session id round-trips (NUL, emoji, 512 characters) and bad ids are INVALID_SESSION_ID', async () => {
    const store = await freshStore();
    const ids = ['a\u0000b', 'user:é😀', 'x'.repeat(512), 'A', 'a', ' '];
    for (const id of ids) await store.appendTurn(id, { role: 'user', content: id });
    for (const id of ids) expect((await store.loadAll(id)).map((t) => t.content)).toEqual([id]);
    const listed: string[] = [];
    for await (const meta of store.listSessions()) listed.push(meta.sessionId);
    expect(listed.sort()).toEqual([...ids].sort());
    for (const bad of ['', 'x'.repeat(513), '\uD800', 42, null]) {
      expect(isArchiveError(await rejection(store.loadAll(bad as string)), 'INVALID_SESSION_ID'), String(bad)).toBe(true);
    }
  });

  it('listSessions pages through more sessions than one page', async () => {
    const store = await freshStore();
    for (let i = 0; i < 450; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => store.appendTurn(`s-${String(i + j).padStart(4, '0')}`, { role: 'user', content: 'x' })));
    }
    let count = 0;
    for await (const meta of store.listSessions()) {
      expect(meta.turnCount).toBe(1);
      count++;
    }
    expect(count).toBe(450);
  });

  it('deleteSession and cleanupExpired remove rows; an append after delete starts at seq 1', async () => {
    let now = 1_800_000_000_000;
    const store = await freshStore({ clock: { now: () => now }, ttlDays: 1 });
    for (let i = 0; i < 12; i++) await store.appendTurn('old', { role: 'user', content: `o${i}` });
    await store.appendTurn('gone', { role: 'user', content: 'g' });
    expect(await store.deleteSession('gone')).toBe(true);
    expect(await store.deleteSession('gone')).toBe(false);
    expect(await store.getMetadata('gone')).toBeNull();
    expect((await store.appendTurn('gone', { role: 'user', content: 'again' })).seqs).toEqual([1]);
    now += 2 * 86_400_000;
    await store.appendTurn('fresh', { role: 'user', content: 'f' });
    expect(await store.cleanupExpired()).toBe(2);
    expect(await store.sessionExists('old')).toBe(false);
    expect(await store.loadAll('old')).toEqual([]);
    expect(await store.sessionExists('fresh')).toBe(true);
    await store.close();
    const schema = `t${process.pid}_${schemaCounter - 1}`;
    const left = await admin.query(
      `SELECT (SELECT count(*) FROM ${schema}.lix_archive_turns)::int + (SELECT count(*) FROM ${schema}.lix_archive_blocks)::int AS n`,
    );
    expect(left.rows[0].n).toBe(1);
  });

  it('after close() every call rejects with CLOSED', async () => {
    const store = await freshStore();
    await store.close();
    await store.close();
    expect(isArchiveError(await rejection(store.loadAll('x')), 'CLOSED')).toBe(true);
    expect(isArchiveError(await rejection(store.appendTurn('x', { role: 'user', content: 'y' })), 'CLOSED')).toBe(true);
  });
});

describe('PostgresArchiveStore: outages', () => {
  it('nothing listening: IO_ERROR naming the server, with the cause', async () => {
    const port = await getFreePort();
    const store = new PostgresArchiveStore({ connectionString: `postgres://lix@127.0.0.1:${port}/postgres`, connectTimeoutMs: 2000 });
    stores.push(store);
    const error = await rejection(store.appendTurn('s', { role: 'user', content: 'x' }));
    expect(isArchiveError(error, 'IO_ERROR')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).cause).toBeDefined();
    expect(isArchiveError(await rejection(store.migrate()), 'IO_ERROR')).toBe(true);
  });
});

describe('PostgresArchiveStore: appends with an AbortSignal', () => {
  const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
  const turn = (content: string) => ({ role: 'user', content });
  async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await sleep(5);
    }
  }

  it('aborted while waiting for a connection of the pool: ABORTED within 100 ms, nothing sent, the connection goes back', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    pool.on('error', () => undefined);
    const store = new PostgresArchiveStore({ pool, schema: `abort_pool_${process.pid}` });
    stores.push(store);
    await store.migrate();
    await store.appendTurn('s', turn('first'));
    const busy = await pool.connect();
    const controller = new AbortController();
    const reason = new Error('request cancelled');
    const waiting = store.appendTurn('s', turn('never'), { signal: controller.signal });
    await until(() => pool.waitingCount === 1);
    await sleep(50);
    controller.abort(reason);
    const abortedAt = performance.now();
    const error = await rejection(waiting);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(isArchiveError(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    busy.release();
    // The connection the aborted call was handed late is given back unused.
    await until(() => pool.waitingCount === 0 && pool.idleCount === 1);
    expect((await store.appendTurn('s', turn('next'), { signal: new AbortController().signal })).seqs).toEqual([2]);
    expect((await store.loadAll('s')).map((t) => t.content)).toEqual(['first', 'next']);
    await store.close();
    await pool.end();
  });

  it('once the statement is sent (waiting on the advisory lock) the signal is not observed: the append commits and resolves', async () => {
    const schema = `t${process.pid}_${schemaCounter}`;
    const store = await freshStore();
    await store.appendTurn('locked', turn('first'));
    const names = schemaNames(schema, 'lix_archive_');
    const sid = (await admin.query(`SELECT id FROM ${names.sessions} WHERE session_key = $1`, [Buffer.from('locked')])).rows[0].id;
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT pg_advisory_xact_lock(hashtext(${names.sessionLockSpace}), ($1::bigint % 2147483647)::integer)`, [sid]);
      const controller = new AbortController();
      const one = store.appendTurn('locked', turn('one'), { signal: controller.signal });
      const batch = store.appendTurns('locked', [turn('a'), turn('b')], { signal: controller.signal });
      let settled = false;
      void Promise.allSettled([one, batch]).then(() => (settled = true));
      await until(async () => {
        const found = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'`);
        return found.rows[0].n === 2;
      });
      controller.abort();
      await sleep(150);
      expect(settled).toBe(false);
      await locker.query('COMMIT');
      const results = [await one, await batch];
      expect(results.flatMap((r) => r.seqs).sort((a, b) => a - b)).toEqual([2, 3, 4]);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      locker.release();
    }
    expect((await store.loadAll('locked')).map((t) => t.seq)).toEqual([1, 2, 3, 4]);
  });

  it('an already-aborted signal sends nothing, also before the first schema check', async () => {
    const store = await freshStore();
    const error = await rejection(store.appendTurns('never', [turn('x')], { signal: AbortSignal.abort() }));
    expect(isArchiveError(error, 'ABORTED')).toBe(true);
    expect(await store.sessionExists('never')).toBe(false);
    const unchecked = new PostgresArchiveStore({ connectionString: `postgres://lix@127.0.0.1:${await getFreePort()}/postgres` });
    stores.push(unchecked);
    expect(isArchiveError(await rejection(unchecked.appendTurn('s', turn('x'), { signal: AbortSignal.abort() })), 'ABORTED')).toBe(true);
  });
});
