import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { ArchiveLogger } from '../archive.js';
import { abortedError, readAppendOptions, throwIfAborted, untilAborted } from '../abort.js';
import { codecIds, type ArchiveCodec } from '../codecs.js';
import { ArchiveError } from '../errors.js';
import { assertValidSessionId } from '../session-id.js';
import type { AppendOptions, AppendResult, ArchiveStore, SessionMetadata } from '../store.js';
import { rankByBm25, rankByCosine, type ScoredTurn } from '../text-search.js';
import { normalizeTurn, type ArchivedTurn, type ArchiveTurnInput } from '../turn-records.js';
import { CompactionQueue } from './compaction-queue.js';
import { packBlock, packBlockThorough, packTurn, rawLengthOf, unpackBlock, unpackTurn } from './packing.js';
import { toArchiveError } from './pg-errors.js';
import { loadPg, type PgModule } from './load-pg.js';
import { SCHEMA_VERSION, migrations, schemaNames, type SchemaNames } from './schema.js';

/** `format` of the metadata this store reports. */
export const POSTGRES_FORMAT = 'postgres';

/** Options of {@link PostgresArchiveStore}: give `pool` or `connectionString`. */
export interface PostgresArchiveStoreOptions {
  /** Your own `pg.Pool`. The store never ends it unless `closePool` is true. */
  pool?: Pool;
  /** `postgres://user:password@host:port/database`; the store then creates and owns a pool. */
  connectionString?: string;
  /** Connections of the pool the store creates (default 10). */
  maxConnections?: number;
  /** How long the store's own pool waits for a connection before failing (default 10 s). */
  connectTimeoutMs?: number;
  /** End an injected `pool` in `close()` (default false). */
  closePool?: boolean;
  /** Schema holding the tables (default `'public'`); `migrate()` creates it when missing. */
  schema?: string;
  /** Prefix of every table and function name (default `'lix_archive_'`). */
  tablePrefix?: string;
  /** Sessions not updated for this many days are removed by `cleanupExpired` (default 14). */
  ttlDays?: number;
  /** Codec of compacted blocks (default `'brotli'`); tail rows are stored as they are. */
  codec?: ArchiveCodec;
  /** Tail turns after which a session's tail is compacted into a block, in the background (default 32). */
  compactAfterTurns?: number;
  /** Tail bytes (as appended by this process) after which the tail is compacted (default 32 KiB). */
  compactAfterBytes?: number;
  /** Raw bytes a block holds at most; a longer tail becomes several blocks (default 32 KiB). */
  maxBlockBytes?: number;
  /** A session appended to by this process and then quiet this long has its shorter tail compacted too (default 5 s). */
  compactIdleMs?: number;
  /** Compactions this store runs at once, in the background (default 2). */
  compactConcurrency?: number;
  /**
   * After this process's compactions deleted this many tail rows (or a second after its
   * last compaction), it runs `VACUUM (SKIP_LOCKED)` on the tail table, so new tail rows
   * reuse the space at once (default 200; 0 leaves it to autovacuum). Needs the table's
   * owner; for another role PostgreSQL skips it with a warning.
   */
  vacuumAfterRows?: number;
  logger?: ArchiveLogger;
  /** Time source in milliseconds (default `Date.now`). */
  clock?: { now(): number };
  /** The `pg` module to use instead of `import('pg')`. */
  lib?: PgModule;
}

const OPTION_KEYS = new Set<string>([
  'pool',
  'connectionString',
  'maxConnections',
  'connectTimeoutMs',
  'closePool',
  'schema',
  'tablePrefix',
  'ttlDays',
  'codec',
  'compactAfterTurns',
  'compactAfterBytes',
  'maxBlockBytes',
  'compactIdleMs',
  'compactConcurrency',
  'vacuumAfterRows',
  'logger',
  'clock',
  'lib',
]);

/** Sessions per page of `listSessions`. */
const LIST_PAGE = 200;
/** Tail rows one compaction moves at most. */
const COMPACT_MAX_ROWS = 1024;

/** What `migrate()` did. */
export interface MigrateResult {
  /** Schema version found before (0: no tables). */
  from: number;
  /** Schema version now. */
  to: number;
}

/** What the one-turn append function returns. */
interface AppendOneRow {
  o_sid: string;
  o_last_seq: string;
  o_seq: string;
  o_appended: number;
}

/** What the batch append function returns. */
interface AppendRow {
  o_sid: string;
  o_last_seq: string;
  o_seqs: string[];
  o_appended: number;
  o_block_last: string;
}

/** True for the rejection of an aborted append (not to be mapped as a database error). */
function isAborted(error: unknown): boolean {
  return error instanceof ArchiveError && error.code === 'ABORTED';
}

interface StoredRow {
  kind: number;
  seq: string;
  turn_count: number;
  data: Buffer;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ArchiveError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function sessionKey(sessionId: unknown): Buffer {
  assertValidSessionId(sessionId);
  // Stored as bytes: PostgreSQL text cannot hold NUL, and ids may contain anything.
  return Buffer.from(sessionId, 'utf8');
}

function checkConnectionString(value: unknown): string {
  if (typeof value !== 'string') throw new ArchiveError('INVALID_ARGUMENT', 'connectionString must be a string such as "postgres://user@host:5432/db"');
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ArchiveError('INVALID_ARGUMENT', 'connectionString is not a URL; expected "postgres://user@host:5432/db"', { cause });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ArchiveError('INVALID_ARGUMENT', `connectionString must start with postgres:// or postgresql://, got ${url.protocol}//`);
  }
  return value;
}

/** Where a connection string points, without its password, for messages. */
function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return 'the given pool';
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/**
 * The cold tier on PostgreSQL: session history shared by every host that reaches the
 * database. An append is one round trip that writes one row: seqs are assigned under the
 * session's advisory lock and the primary key (session, seq) backs it, so concurrent
 * writers on any number of hosts lose and duplicate nothing. New turns are rows of a
 * per-session tail; a background queue compresses the tail into append-only blocks
 * (bounded in size), so storage stays compact and `loadRecent(n)` reads O(n). Call `migrate()` once (any number of times is fine) before
 * use. Import from `@lix/archive/postgres`; `pg` is an optional peer dependency.
 *
 * @example
 * const store = new PostgresArchiveStore({ connectionString: process.env.DATABASE_URL });
 * await store.migrate();
 * await store.appendTurn('user-42', { role: 'user', content: 'hello' });
 */
export class PostgresArchiveStore implements ArchiveStore {
  readonly #names: SchemaNames;
  readonly #statementPrefix: string;
  readonly #ttlDays: number;
  readonly #codec: ArchiveCodec;
  readonly #compactAfterTurns: number;
  readonly #compactAfterBytes: number;
  readonly #maxBlockBytes: number;
  readonly #logger: ArchiveLogger | undefined;
  readonly #clock: { now(): number };
  readonly #target: string;
  readonly #ownsPool: boolean;
  readonly #poolPromise: Promise<Pool>;
  readonly #onPoolError = (error: Error) => this.#logger?.warn?.('archive/postgres: an idle connection failed', { error: error.message });
  #injectedPool: Pool | undefined;
  #schemaChecked: Promise<void> | undefined;
  readonly #compactions: CompactionQueue;
  /** Tail bytes this process appended per session since it last scheduled a compaction. */
  readonly #tailBytes = new Map<number, number>();
  readonly #vacuumAfterRows: number;
  /** Tail rows this process's compactions deleted since its last VACUUM of the tail table. */
  #deletedSinceVacuum = 0;
  #vacuumTimer: NodeJS.Timeout | undefined;
  #vacuuming: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: PostgresArchiveStoreOptions) {
    if (options === null || typeof options !== 'object')
      throw new ArchiveError('INVALID_ARGUMENT', 'PostgresArchiveStore needs an options object with pool or connectionString');
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new ArchiveError('INVALID_ARGUMENT', `unknown option ${JSON.stringify(key)} of PostgresArchiveStore`);
    }
    if ((options.pool === undefined) === (options.connectionString === undefined)) {
      throw new ArchiveError('INVALID_ARGUMENT', 'PostgresArchiveStore needs exactly one of pool (a pg.Pool) or connectionString');
    }
    if (
      options.pool !== undefined &&
      (options.pool === null || typeof (options.pool as Partial<Pool>).query !== 'function' || typeof (options.pool as Partial<Pool>).connect !== 'function')
    ) {
      throw new ArchiveError('INVALID_ARGUMENT', 'pool must be a pg.Pool');
    }
    const codec = options.codec ?? 'brotli';
    if (typeof codec !== 'string' || !Object.hasOwn(codecIds, codec)) throw new ArchiveError('INVALID_ARGUMENT', `unknown codec ${String(codec)}`);
    const ttlDays = options.ttlDays ?? 14;
    if (typeof ttlDays !== 'number' || !(ttlDays > 0) || !Number.isFinite(ttlDays))
      throw new ArchiveError('INVALID_ARGUMENT', 'ttlDays must be a positive number');
    if (options.logger !== undefined && (options.logger === null || typeof options.logger !== 'object'))
      throw new ArchiveError('INVALID_ARGUMENT', 'logger must be an object');
    if (options.clock !== undefined && (options.clock === null || typeof options.clock.now !== 'function'))
      throw new ArchiveError('INVALID_ARGUMENT', 'clock must have a now() method');
    this.#names = schemaNames(options.schema ?? 'public', options.tablePrefix ?? 'lix_archive_');
    // Prepared statements are per connection and shared by every store on a pool: name them per table set.
    this.#statementPrefix = `lix_${options.schema ?? 'public'}_${options.tablePrefix ?? 'lix_archive_'}`;
    this.#ttlDays = ttlDays;
    this.#codec = codec;
    this.#compactAfterTurns = positiveInteger('compactAfterTurns', options.compactAfterTurns, 32);
    const vacuumAfterRows = options.vacuumAfterRows ?? 200;
    if (typeof vacuumAfterRows !== 'number' || !Number.isSafeInteger(vacuumAfterRows) || vacuumAfterRows < 0) {
      throw new ArchiveError('INVALID_ARGUMENT', `vacuumAfterRows must be a non-negative integer, got ${String(vacuumAfterRows)}`);
    }
    this.#vacuumAfterRows = vacuumAfterRows;
    this.#compactAfterBytes = positiveInteger('compactAfterBytes', options.compactAfterBytes, 32 * 1024);
    this.#maxBlockBytes = positiveInteger('maxBlockBytes', options.maxBlockBytes, 32 * 1024);
    this.#compactions = new CompactionQueue({
      run: (sid, idle) => this.#compactQuietly(sid, idle),
      concurrency: positiveInteger('compactConcurrency', options.compactConcurrency, 2),
      idleMs: Math.min(positiveInteger('compactIdleMs', options.compactIdleMs, 5000), 2 ** 31 - 1),
    });
    this.#logger = options.logger;
    this.#clock = options.clock ?? { now: () => Date.now() };
    const maxConnections = positiveInteger('maxConnections', options.maxConnections, 10);
    const connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs, 10_000);
    if (options.pool) {
      this.#ownsPool = options.closePool === true;
      this.#target = describeTarget(undefined);
      this.#injectedPool = options.pool;
      // Without a listener an idle connection's error (a server restart) would crash the process.
      options.pool.on('error', this.#onPoolError);
      this.#poolPromise = Promise.resolve(options.pool);
    } else {
      const connectionString = checkConnectionString(options.connectionString);
      this.#ownsPool = true;
      this.#target = describeTarget(connectionString);
      this.#poolPromise = loadPg(options.lib).then((pg) => {
        const pool = new pg.Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: connectTimeoutMs });
        pool.on('error', this.#onPoolError);
        return pool;
      });
      // Reported by the first call that needs the pool; never an unhandled rejection.
      this.#poolPromise.catch(() => undefined);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new ArchiveError('CLOSED', 'the archive store was closed');
  }

  #nowSeconds(): number {
    return this.#clock.now() / 1000;
  }

  #statement(name: string, text: string, values: unknown[]): QueryConfig {
    return { name: `${this.#statementPrefix}${name}`, text, values };
  }

  async #run<R>(action: string, query: QueryConfig | string, values?: unknown[]): Promise<R[]> {
    const pool = await this.#poolPromise;
    try {
      const result = typeof query === 'string' ? await pool.query(query, values) : await pool.query(query);
      return result.rows as R[];
    } catch (error) {
      throw toArchiveError(error, action, this.#target);
    }
  }

  /**
   * `#run` for an append with a signal: the pool's connection is taken by hand so that an
   * abort while waiting for it rejects at once (the connection, when it comes, goes back
   * unused) and the signal is looked at one last time just before the statement is sent.
   * From then on it is not observed: cancelling a statement that may already have committed
   * could not tell the caller whether the turns were stored.
   */
  async #runUntilSent<R>(action: string, query: QueryConfig, signal: AbortSignal): Promise<R[]> {
    const pool = await this.#poolPromise;
    let client: PoolClient;
    try {
      client = await untilAborted(pool.connect(), signal, (late) => late.release());
    } catch (error) {
      if (isAborted(error)) throw error;
      throw toArchiveError(error, action, this.#target);
    }
    if (signal.aborted) {
      client.release();
      throw abortedError(signal);
    }
    let failure: Error | undefined;
    try {
      return (await client.query(query)).rows as R[];
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw toArchiveError(error, action, this.#target);
    } finally {
      // As pool.query does: a connection whose statement failed is discarded, not reused.
      client.release(failure);
    }
  }

  /** Every call but `migrate()` first checks, once, that the tables are at this release's version. */
  #ready(): Promise<void> {
    this.#checkOpen();
    this.#schemaChecked ??= this.#checkSchema().catch((error: unknown) => {
      this.#schemaChecked = undefined;
      throw error;
    });
    return this.#schemaChecked;
  }

  async #checkSchema(): Promise<void> {
    const rows = await this.#run<{ version: number | null }>('schema check', `SELECT max(version) AS version FROM ${this.#names.migrations}`);
    const version = rows[0]?.version ?? 0;
    if (version < SCHEMA_VERSION) {
      throw new ArchiveError(
        'UNSUPPORTED_VERSION',
        `the archive tables are at schema version ${version}, this release needs ${SCHEMA_VERSION}: call migrate() (or run lix-archive migrate) first`,
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new ArchiveError(
        'UNSUPPORTED_VERSION',
        `the archive tables are at schema version ${version}, written by a newer release of @lix/archive (this one knows ${SCHEMA_VERSION}); upgrade it`,
      );
    }
  }

  /**
   * Creates the schema, tables and functions, or upgrades them to this release's version.
   * Idempotent, and safe to run from several hosts at once (an advisory lock serialises
   * them). Never deletes data.
   */
  async migrate(): Promise<MigrateResult> {
    this.#checkOpen();
    const pool = await this.#poolPromise;
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toArchiveError(error, 'connect', this.#target);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [this.#names.lockKey]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#names.schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.#names.migrations} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const found = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${this.#names.migrations}`);
      const from = found.rows[0]?.version ?? 0;
      if (from > SCHEMA_VERSION) {
        throw new ArchiveError(
          'UNSUPPORTED_VERSION',
          `the archive tables are at schema version ${from}, newer than this release's ${SCHEMA_VERSION}; upgrade @lix/archive`,
        );
      }
      for (const step of migrations(this.#names)) {
        if (step.version <= from) continue;
        await client.query(step.sql);
        await client.query(`INSERT INTO ${this.#names.migrations} (version) VALUES ($1)`, [step.version]);
        this.#logger?.info?.('archive/postgres: applied schema migration', { version: step.version });
      }
      await client.query('COMMIT');
      this.#schemaChecked = undefined;
      return { from, to: SCHEMA_VERSION };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toArchiveError(error, 'migrate', this.#target);
    } finally {
      client.release(broken);
    }
  }

  /** Appends one turn; see {@link appendTurns}. */
  async appendTurn(sessionId: string, turn: ArchiveTurnInput, options?: AppendOptions): Promise<AppendResult> {
    return this.appendTurns(sessionId, [turn], options);
  }

  /**
   * Appends turns in one transaction (all or none) and one round trip. Per turn: without
   * `seq` it gets lastSeq + 1; with `seq` ≤ lastSeq it is skipped (so retries with explicit
   * seqs are idempotent); with a larger `seq` it is stored and becomes lastSeq. Resolves
   * once PostgreSQL has committed.
   *
   * `options.signal` is observed until the append statement is sent: aborted already, or
   * aborted while the call waits for the schema check or for a connection of the pool, the
   * call rejects with `ABORTED` (arguments are checked first) and sends nothing. Once the
   * statement is sent (it may then wait on the session's advisory lock behind another
   * writer) the signal is no longer observed: the call resolves when PostgreSQL commits, so
   * an `ABORTED` rejection always means nothing was stored.
   */
  async appendTurns(sessionId: string, turns: readonly ArchiveTurnInput[], options?: AppendOptions): Promise<AppendResult> {
    this.#checkOpen();
    const key = sessionKey(sessionId);
    if (!Array.isArray(turns)) throw new ArchiveError('INVALID_ARGUMENT', 'turns must be an array');
    const now = this.#nowSeconds();
    const seqs: number[] = [];
    const data: Buffer[] = [];
    for (const turn of turns as unknown[]) {
      const seq = (turn as ArchiveTurnInput | undefined)?.seq;
      if (seq !== undefined && !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0))
        throw new ArchiveError('INVALID_TURN', 'turn.seq must be a positive safe integer');
      seqs.push(seq ?? 0);
      // Tail rows are stored uncompressed: compressing one turn costs the append more than it saves,
      // and the row lives only until the next compaction.
      data.push(packTurn('none', normalizeTurn(turn, 0, now)));
    }
    const signal = readAppendOptions('appendTurns', options);
    throwIfAborted(signal);
    if (signal === undefined) await this.#ready();
    else await untilAborted(this.#ready(), signal, () => undefined);
    if (seqs.length === 0) {
      const meta = await this.getMetadata(sessionId);
      return { appended: 0, skipped: 0, lastSeq: meta?.lastSeq ?? 0, seqs: [] };
    }
    if (seqs.length === 1) {
      const statement = this.#statement('append_one', `SELECT * FROM ${this.#names.appendOne}($1::bytea, $2::float8, $3::bigint, $4::bytea)`, [
        key,
        now,
        seqs[0],
        data[0],
      ]);
      const one =
        signal === undefined ? await this.#run<AppendOneRow>('append', statement) : await this.#runUntilSent<AppendOneRow>('append', statement, signal);
      const row = one[0]!;
      const seq = Number(row.o_seq);
      if (row.o_appended > 0) this.#noteAppend(Number(row.o_sid), seq % this.#compactAfterTurns === 0, data);
      return { appended: row.o_appended, skipped: 1 - row.o_appended, lastSeq: Number(row.o_last_seq), seqs: [seq] };
    }
    const statement = this.#statement('append', `SELECT * FROM ${this.#names.append}($1::bytea, $2::float8, $3::bigint[], $4::bytea[])`, [
      key,
      now,
      seqs,
      data,
    ]);
    const rows = signal === undefined ? await this.#run<AppendRow>('append', statement) : await this.#runUntilSent<AppendRow>('append', statement, signal);
    const row = rows[0]!;
    const appended = row.o_appended;
    if (appended > 0) this.#noteAppend(Number(row.o_sid), Number(row.o_last_seq) - Number(row.o_block_last) >= this.#compactAfterTurns, data);
    return { appended, skipped: seqs.length - appended, lastSeq: Number(row.o_last_seq), seqs: row.o_seqs.map(Number) };
  }

  /**
   * Queues the session's compaction; the append does not wait for it. `due`: the tail
   * reached `compactAfterTurns` (a batch knows it; a single turn is due when its seq is a
   * multiple of it, which whatever host took that seq sees). The bytes are this
   * process's appends since it last scheduled one. A missed trigger costs nothing but a
   * longer tail until the next one or the idle compaction.
   */
  #noteAppend(sid: number, due: boolean, data: Buffer[]): void {
    if (this.#closed) return;
    const bytes = (this.#tailBytes.get(sid) ?? 0) + data.reduce((sum, value) => sum + value.byteLength, 0);
    if (due || bytes >= this.#compactAfterBytes) {
      this.#tailBytes.delete(sid);
      this.#compactions.schedule(sid);
    } else {
      this.#tailBytes.set(sid, bytes);
      this.#compactions.touch(sid);
    }
  }

  /** A background compaction; a failure is logged, never thrown: the turns are safe in the tail. */
  async #compactQuietly(sid: number, idle: boolean): Promise<void> {
    try {
      await this.#compactSid(sid, idle ? 1 : this.#compactAfterTurns, idle);
    } catch (error) {
      this.#logger?.warn?.('archive/postgres: compaction failed; the tail stays as it is', { error: String(error) });
    } finally {
      if (idle) this.#tailBytes.delete(sid);
    }
    this.#maybeVacuum();
  }

  /**
   * Deleted tail rows are dead space until a VACUUM marks it reusable; autovacuum's
   * naptime (1 min by default) lets a busy tail table grow by a minute of appends. The
   * process that made the dead rows vacuums the (small) tail table itself: now after
   * `vacuumAfterRows` of them, else a second after its last compaction.
   */
  #maybeVacuum(): void {
    if (this.#vacuumAfterRows === 0 || this.#deletedSinceVacuum === 0 || this.#closed) return;
    if (this.#deletedSinceVacuum >= this.#vacuumAfterRows) {
      this.#vacuumNow();
      return;
    }
    if (this.#vacuumTimer) this.#vacuumTimer.refresh();
    else {
      this.#vacuumTimer = setTimeout(() => {
        this.#vacuumTimer = undefined;
        if (!this.#closed) this.#vacuumNow();
      }, 1000);
      this.#vacuumTimer.unref();
    }
  }

  #vacuumNow(): void {
    if (this.#vacuuming) return;
    this.#deletedSinceVacuum = 0;
    // SKIP_LOCKED: another host vacuuming it already is as good.
    this.#vacuuming = this.#run('vacuum', `VACUUM (SKIP_LOCKED) ${this.#names.turns}`)
      .then(
        () => undefined,
        (error: unknown) => this.#logger?.warn?.('archive/postgres: VACUUM of the tail table failed; autovacuum will do it', { error: String(error) }),
      )
      .finally(() => {
        this.#vacuuming = undefined;
      });
  }

  /** Compacts a session's whole tail into blocks now (normally automatic, in the background). */
  async compact(sessionId: string): Promise<void> {
    const key = sessionKey(sessionId);
    await this.#ready();
    const rows = await this.#run<{ id: string }>('compact', this.#statement('sid', `SELECT id FROM ${this.#names.sessions} WHERE session_key = $1`, [key]));
    if (rows[0]) await this.#compactSid(Number(rows[0].id), 1, false);
  }

  /**
   * Reads the oldest tail rows and turns them into new blocks of at most `maxBlockBytes`
   * raw, while at least `minTurns` rows are left. Each block is one call of
   * `<prefix>compact`, which re-checks the rows under the session's lock.
   */
  async #compactSid(sid: number, minTurns: number, thorough: boolean): Promise<void> {
    // A lost race (another host compacted part of what this one read) reads the tail
    // again, a few times: otherwise a quiet session could keep a tail nobody compacts.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.#compactTail(sid, minTurns, thorough)) return;
    }
  }

  /** One pass over the tail as read now; false when the database refused a block (a race). */
  async #compactTail(sid: number, minTurns: number, thorough: boolean): Promise<boolean> {
    const n = this.#names;
    const tail = await this.#run<{ seq: string; data: Buffer }>(
      'compaction read',
      this.#statement('compact_read', `SELECT seq, data FROM ${n.turns} WHERE sid = $1 ORDER BY seq LIMIT ${COMPACT_MAX_ROWS}`, [sid]),
    );
    let from = 0;
    while (tail.length - from >= minTurns && tail.length > from) {
      let to = from;
      let raw = 0;
      while (to < tail.length && (to === from || raw + rawLengthOf(tail[to]!.data) <= this.#maxBlockBytes)) raw += rawLengthOf(tail[to++]!.data);
      const turns = tail.slice(from, to).map((row) => unpackTurn(row.data, Number(row.seq)));
      const block = thorough ? await packBlockThorough(this.#codec, turns) : packBlock(this.#codec, turns);
      const done = await this.#run<{ done: boolean }>(
        'compaction',
        this.#statement('compact', `SELECT ${n.compact}($1, $2, $3, $4, $5) AS done`, [sid, turns[0]!.seq, turns[turns.length - 1]!.seq, turns.length, block]),
      );
      // Another host compacted or deleted meanwhile: these rows are no longer ours to move.
      if (done[0]?.done !== true) return false;
      this.#deletedSinceVacuum += to - from;
      from = to;
    }
    return true;
  }

  #decodeRows(rows: StoredRow[]): ArchivedTurn[] {
    const turns: ArchivedTurn[] = [];
    for (const row of rows) {
      if (row.kind === 1) turns.push(unpackTurn(row.data, Number(row.seq)));
      else for (const turn of unpackBlock(row.data, row.turn_count)) turns.push(turn);
    }
    return turns.sort((a, b) => a.seq - b.seq);
  }

  /** Every stored turn, oldest first; `[]` for an unknown session. One statement, one snapshot. */
  async loadAll(sessionId: string): Promise<ArchivedTurn[]> {
    const key = sessionKey(sessionId);
    await this.#ready();
    const n = this.#names;
    const rows = await this.#run<StoredRow>(
      'loadAll',
      this.#statement(
        'load_all',
        `WITH s AS (SELECT id FROM ${n.sessions} WHERE session_key = $1)
         SELECT 0 AS kind, last_seq AS seq, turn_count, data FROM ${n.blocks} WHERE sid = (SELECT id FROM s)
         UNION ALL
         SELECT 1, seq, 1, data FROM ${n.turns} WHERE sid = (SELECT id FROM s)`,
        [key],
      ),
    );
    return this.#decodeRows(rows);
  }

  /**
   * The last `count` turns, oldest first. Reads the newest tail rows and only the newest
   * blocks that cover the rest (by index, newest first), so the cost follows `count`, not
   * the history's length.
   */
  async loadRecent(sessionId: string, count: number): Promise<ArchivedTurn[]> {
    const key = sessionKey(sessionId);
    if (!Number.isSafeInteger(count) || count < 0) throw new ArchiveError('INVALID_ARGUMENT', 'count must be a non-negative integer');
    await this.#ready();
    if (count === 0) return [];
    const n = this.#names;
    const rows = await this.#run<StoredRow>(
      'loadRecent',
      this.#statement(
        'load_recent',
        `WITH s AS (SELECT id FROM ${n.sessions} WHERE session_key = $1),
         tail AS (SELECT seq, data FROM ${n.turns} WHERE sid = (SELECT id FROM s) ORDER BY seq DESC LIMIT $2),
         newest AS (SELECT last_seq, turn_count, data FROM ${n.blocks} WHERE sid = (SELECT id FROM s) ORDER BY last_seq DESC LIMIT $2),
         covered AS (SELECT last_seq, turn_count, data, sum(turn_count) OVER (ORDER BY last_seq DESC) AS upto FROM newest)
         SELECT 1 AS kind, seq, 1 AS turn_count, data FROM tail
         UNION ALL
         SELECT 0, last_seq, turn_count, data FROM covered WHERE upto - turn_count < $2 - (SELECT count(*) FROM tail)`,
        [key, count],
      ),
    );
    return this.#decodeRows(rows).slice(-count);
  }

  /** Turns with `seq > afterSeq`, oldest first, at most `limit` of them; by index from `afterSeq` on. */
  async loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]> {
    const key = sessionKey(sessionId);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new ArchiveError('INVALID_ARGUMENT', 'afterSeq must be a non-negative integer');
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new ArchiveError('INVALID_ARGUMENT', 'limit must be a non-negative integer');
    await this.#ready();
    if (limit === 0) return [];
    const n = this.#names;
    // Each block holds at least one turn, so `limit` blocks and `limit` tail rows always suffice.
    const rows = await this.#run<StoredRow>(
      'loadAfter',
      this.#statement(
        'load_after',
        `WITH s AS (SELECT id FROM ${n.sessions} WHERE session_key = $1)
         (SELECT 0 AS kind, last_seq AS seq, turn_count, data FROM ${n.blocks} WHERE sid = (SELECT id FROM s) AND last_seq > $2 ORDER BY last_seq LIMIT $3)
         UNION ALL
         (SELECT 1, seq, 1, data FROM ${n.turns} WHERE sid = (SELECT id FROM s) AND seq > $2 ORDER BY seq LIMIT $3)`,
        [key, afterSeq, limit ?? null],
      ),
    );
    const after = this.#decodeRows(rows).filter((turn) => turn.seq > afterSeq);
    return limit === undefined ? after : after.slice(0, limit);
  }

  /**
   * Created/updated times, turn count, bytes and last seq, derived in one statement
   * from the session row, its newest block (running totals) and its tail rows: three
   * index lookups and the short tail, never the history. `sizeBytes` counts each turn's
   * row as appended; compactions (in the background) change none of these figures.
   */
  async getMetadata(sessionId: string): Promise<SessionMetadata | null> {
    const key = sessionKey(sessionId);
    await this.#ready();
    const rows = await this.#run<MetaRow>('getMetadata', this.#statement('meta', `${this.#metadataSql()} WHERE s.session_key = $1`, [key]));
    return rows[0] ? metadataOf(rows[0]) : null;
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    const key = sessionKey(sessionId);
    await this.#ready();
    const rows = await this.#run('sessionExists', this.#statement('exists', `SELECT 1 FROM ${this.#names.sessions} WHERE session_key = $1`, [key]));
    return rows.length > 0;
  }

  /** Deletes the session's rows; `true` when there was one. */
  async deleteSession(sessionId: string): Promise<boolean> {
    const key = sessionKey(sessionId);
    await this.#ready();
    const rows = await this.#run<{ removed: boolean }>('deleteSession', this.#statement('delete', `SELECT ${this.#names.remove}($1) AS removed`, [key]));
    return rows[0]?.removed === true;
  }

  /** Streams every session's metadata in pages of 200, ordered by id bytes. */
  async *listSessions(): AsyncIterable<SessionMetadata> {
    await this.#ready();
    let after: Buffer | null = null;
    for (;;) {
      // Two statements rather than `$1 IS NULL OR …`, so each page is an index range scan.
      const columns = this.#metadataSql();
      const rows: MetaRow[] = await this.#run<MetaRow>(
        'listSessions',
        after === null
          ? this.#statement('list_first', `${columns} ORDER BY s.session_key LIMIT ${LIST_PAGE}`, [])
          : this.#statement('list_next', `${columns} WHERE s.session_key > $1 ORDER BY s.session_key LIMIT ${LIST_PAGE}`, [after]),
      );
      for (const row of rows) yield metadataOf(row);
      if (rows.length < LIST_PAGE) return;
      after = rows[rows.length - 1]!.session_key;
      this.#checkOpen();
    }
  }

  /**
   * Deletes sessions not updated within `ttlDays`; resolves with how many. Sweeps the
   * sessions in pages of 200 (one transaction each, so the locks it takes stay few).
   */
  async cleanupExpired(): Promise<number> {
    await this.#ready();
    const cutoff = this.#nowSeconds() - this.#ttlDays * 86_400;
    let after = 0;
    let removed = 0;
    for (;;) {
      const rows = await this.#run<{ o_last_id: string | null; o_removed: number }>(
        'cleanupExpired',
        this.#statement('cleanup', `SELECT * FROM ${this.#names.cleanup}($1, $2, ${LIST_PAGE})`, [cutoff, after]),
      );
      removed += rows[0]?.o_removed ?? 0;
      const last = rows[0]?.o_last_id;
      if (last === null || last === undefined) return removed;
      after = Number(last);
      this.#checkOpen();
    }
  }

  /** Metadata of sessions `s`, each derived from its newest block and its tail; the caller adds WHERE/ORDER. */
  #metadataSql(): string {
    const n = this.#names;
    return `SELECT s.session_key, s.created_at,
       coalesce(greatest(t.max_at, b.updated_at), s.created_at) AS updated_at,
       coalesce(b.total_turns, 0) + t.n AS turn_count,
       coalesce(b.total_bytes, 0) + coalesce(t.bytes, 0) AS size_bytes,
       greatest(t.max_seq, b.last_seq, 0) AS last_seq
  FROM ${n.sessions} s
  LEFT JOIN LATERAL (SELECT last_seq, total_turns, total_bytes, updated_at FROM ${n.blocks} WHERE sid = s.id ORDER BY last_seq DESC LIMIT 1) b ON true
  CROSS JOIN LATERAL (SELECT count(*) AS n, sum(octet_length(data)) AS bytes, max(seq) AS max_seq, max(at) AS max_at FROM ${n.turns} WHERE sid = s.id) t`;
  }

  /** Okapi BM25 over the session's turns' content. */
  async searchByText(sessionId: string, query: string, topK = 5): Promise<ScoredTurn[]> {
    sessionKey(sessionId);
    if (typeof query !== 'string') throw new ArchiveError('INVALID_ARGUMENT', 'query must be a string');
    checkTopK(topK);
    return rankByBm25(await this.loadAll(sessionId), query, topK);
  }

  /** Cosine similarity with the stored embeddings. */
  async searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK = 5): Promise<ScoredTurn[]> {
    sessionKey(sessionId);
    checkTopK(topK);
    const query =
      vector instanceof Float32Array
        ? vector
        : Array.isArray(vector) && vector.every((x) => typeof x === 'number' && Number.isFinite(x))
          ? Float32Array.from(vector)
          : undefined;
    if (!query) throw new ArchiveError('INVALID_ARGUMENT', 'vector must be a Float32Array or an array of finite numbers');
    return rankByCosine(await this.loadAll(sessionId), query, topK);
  }

  /** `close()`, for `await using store = …`: closed when the block ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Runs the compactions already due (idle ones are dropped: the next append, on any
   * host, schedules them again), then ends the pool the store created (an injected pool
   * is left open unless `closePool`). Later calls reject with `CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      await this.#compactions.drain();
      if (this.#vacuumTimer) clearTimeout(this.#vacuumTimer);
      await this.#vacuuming;
      if (this.#injectedPool && !this.#ownsPool) {
        this.#injectedPool.off('error', this.#onPoolError);
        return;
      }
      const pool = await this.#poolPromise.catch(() => undefined);
      await pool?.end().catch((error: unknown) => this.#logger?.warn?.('archive/postgres: ending the pool failed', { error: String(error) }));
    })();
    return this.#closing;
  }
}

interface MetaRow {
  session_key: Buffer;
  created_at: number;
  updated_at: number;
  turn_count: string;
  size_bytes: string;
  last_seq: string;
}

function metadataOf(row: MetaRow): SessionMetadata {
  return {
    sessionId: row.session_key.toString('utf8'),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    turnCount: Number(row.turn_count),
    sizeBytes: Number(row.size_bytes),
    lastSeq: Number(row.last_seq),
    format: POSTGRES_FORMAT,
  };
}

function checkTopK(topK: number): void {
  if (!Number.isInteger(topK) || topK < 0) throw new ArchiveError('INVALID_ARGUMENT', 'topK must be a non-negative integer');
}
