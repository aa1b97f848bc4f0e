import { ArchiveError } from '../errors.js';

/** The schema version this release writes and reads; `migrate()` brings a database up to it. */
export const SCHEMA_VERSION = 2;

/** Where the store's tables live: `schema.<tablePrefix>sessions`, and so on. */
export interface SchemaNames {
  schema: string;
  sessions: string;
  turns: string;
  blocks: string;
  migrations: string;
  append: string;
  appendOne: string;
  compact: string;
  remove: string;
  cleanup: string;
  updatedAt: string;
  /** Key of the advisory lock that serialises concurrent `migrate()` calls. */
  lockKey: string;
  /** SQL literal naming the table set's space of per-session advisory locks. */
  sessionLockSpace: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Double-quoted SQL identifier (the names are checked against {@link IDENTIFIER} first). */
function quote(name: string): string {
  return `"${name}"`;
}

/** Checks the schema and prefix options and derives every qualified name from them. */
export function schemaNames(schema: unknown, tablePrefix: unknown): SchemaNames {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > 48) {
    throw new ArchiveError(
      'INVALID_ARGUMENT',
      `schema must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters), got ${JSON.stringify(schema)}`,
    );
  }
  if (typeof tablePrefix !== 'string' || (tablePrefix !== '' && !IDENTIFIER.test(tablePrefix)) || tablePrefix.length > 40) {
    throw new ArchiveError(
      'INVALID_ARGUMENT',
      `tablePrefix must be empty or a lowercase SQL identifier of at most 40 characters, got ${JSON.stringify(tablePrefix)}`,
    );
  }
  const q = (name: string) => `${quote(schema)}.${quote(tablePrefix + name)}`;
  return {
    schema: quote(schema),
    sessions: q('sessions'),
    turns: q('turns'),
    blocks: q('blocks'),
    migrations: q('schema_migrations'),
    append: q('append'),
    appendOne: q('append_one'),
    compact: q('compact'),
    remove: q('delete_session'),
    cleanup: q('cleanup_expired'),
    updatedAt: q('session_updated_at'),
    lockKey: `lix-archive:${schema}.${tablePrefix}`,
    sessionLockSpace: `'lix-archive-session:${schema}.${tablePrefix}'`,
  };
}

/**
 * The migrations, in order; `migrate()` applies those above the recorded version, each in
 * the same transaction as its row in `schema_migrations`. A released step is never edited:
 * changes come as a new step.
 */
export function migrations(n: SchemaNames): { version: number; sql: string }[] {
  return [
    {
      version: 1,
      sql: `
CREATE TABLE IF NOT EXISTS ${n.sessions} (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_key bytea  NOT NULL UNIQUE,
  created_at  double precision NOT NULL,
  updated_at  double precision NOT NULL,
  last_seq    bigint NOT NULL DEFAULT 0,
  turn_count  bigint NOT NULL DEFAULT 0,
  size_bytes  bigint NOT NULL DEFAULT 0,
  tail_count  integer NOT NULL DEFAULT 0,
  tail_bytes  bigint NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS ${n.turns} (
  sid  bigint NOT NULL,
  seq  bigint NOT NULL,
  data bytea  NOT NULL,
  PRIMARY KEY (sid, seq)
);

CREATE TABLE IF NOT EXISTS ${n.blocks} (
  sid        bigint  NOT NULL,
  last_seq   bigint  NOT NULL,
  first_seq  bigint  NOT NULL,
  turn_count integer NOT NULL,
  data       bytea   NOT NULL,
  PRIMARY KEY (sid, last_seq)
);
-- Blocks are compressed already: skip PostgreSQL's own (pglz) attempt and store them out of line.
ALTER TABLE ${n.blocks} ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE ${n.turns} ALTER COLUMN data SET STORAGE EXTERNAL;
-- Tail rows are inserted and deleted all the time and session rows updated on every
-- append: have autovacuum reclaim them early, so the space is reused, not grown.
ALTER TABLE ${n.turns} SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, fillfactor = 100);
ALTER TABLE ${n.blocks} SET (autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE ${n.sessions} SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05);

-- The append: one round trip, seqs assigned under the session row's lock.
CREATE OR REPLACE FUNCTION ${n.append}(p_key bytea, p_now double precision, p_seqs bigint[], p_data bytea[])
RETURNS TABLE (o_sid bigint, o_last_seq bigint, o_seqs bigint[], o_appended integer, o_tail_count integer, o_tail_bytes bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
  v_last bigint;
  v_seq bigint;
  v_out bigint[] := '{}';
  v_fresh_seqs bigint[] := '{}';
  v_fresh_data bytea[] := '{}';
  v_bytes bigint := 0;
  v_n integer := coalesce(array_length(p_seqs, 1), 0);
  v_tail_count integer;
  v_tail_bytes bigint;
BEGIN
  IF v_n > 0 AND p_seqs = array_fill(0::bigint, ARRAY[v_n]) THEN
    -- The common case, auto seqs only: lock, count and assign in one UPDATE.
    FOR i IN 1 .. v_n LOOP
      v_bytes := v_bytes + octet_length(p_data[i]);
    END LOOP;
    LOOP
      UPDATE ${n.sessions}
         SET last_seq = last_seq + v_n, updated_at = p_now, turn_count = turn_count + v_n,
             size_bytes = size_bytes + v_bytes, tail_count = tail_count + v_n, tail_bytes = tail_bytes + v_bytes
       WHERE session_key = p_key
       RETURNING id, last_seq, tail_count, tail_bytes INTO v_sid, v_last, v_tail_count, v_tail_bytes;
      EXIT WHEN FOUND;
      INSERT INTO ${n.sessions} (session_key, created_at, updated_at) VALUES (p_key, p_now, p_now) ON CONFLICT (session_key) DO NOTHING;
    END LOOP;
    INSERT INTO ${n.turns} (sid, seq, data) SELECT v_sid, v_last - v_n + f.i, p_data[f.i] FROM generate_series(1, v_n) AS f(i);
    RETURN QUERY SELECT v_sid, v_last, ARRAY(SELECT v_last - v_n + g FROM generate_series(1, v_n) AS g), v_n, v_tail_count, v_tail_bytes;
    RETURN;
  END IF;
  LOOP
    SELECT id, last_seq INTO v_sid, v_last FROM ${n.sessions} WHERE session_key = p_key FOR UPDATE;
    EXIT WHEN FOUND;
    -- A new session: a concurrent first append makes this insert do nothing; the loop
    -- then locks the row that one created.
    INSERT INTO ${n.sessions} (session_key, created_at, updated_at) VALUES (p_key, p_now, p_now) ON CONFLICT (session_key) DO NOTHING;
  END LOOP;
  FOR i IN 1 .. v_n LOOP
    v_seq := CASE WHEN p_seqs[i] = 0 THEN v_last + 1 ELSE p_seqs[i] END;
    v_out := v_out || v_seq;
    IF v_seq > v_last THEN
      v_fresh_seqs := v_fresh_seqs || v_seq;
      v_fresh_data := v_fresh_data || p_data[i];
      v_bytes := v_bytes + octet_length(p_data[i]);
      v_last := v_seq;
    END IF;
  END LOOP;
  IF coalesce(array_length(v_fresh_seqs, 1), 0) > 0 THEN
    INSERT INTO ${n.turns} (sid, seq, data) SELECT v_sid, f.seq, f.data FROM unnest(v_fresh_seqs, v_fresh_data) AS f(seq, data);
    UPDATE ${n.sessions}
       SET last_seq = v_last, updated_at = p_now,
           turn_count = turn_count + array_length(v_fresh_seqs, 1),
           size_bytes = size_bytes + v_bytes,
           tail_count = tail_count + array_length(v_fresh_seqs, 1),
           tail_bytes = tail_bytes + v_bytes
     WHERE id = v_sid
     RETURNING tail_count, tail_bytes INTO v_tail_count, v_tail_bytes;
  ELSE
    SELECT tail_count, tail_bytes INTO v_tail_count, v_tail_bytes FROM ${n.sessions} WHERE id = v_sid;
  END IF;
  RETURN QUERY SELECT v_sid, v_last, v_out, coalesce(array_length(v_fresh_seqs, 1), 0), v_tail_count, v_tail_bytes;
END
$fn$;

-- Moves tail turns [p_first, p_last] (and, when p_merged_last is not null, the block
-- ending at p_merged_last) into one new block. The caller read them without a lock; under
-- the lock this checks they are all still there, so a concurrent compaction or delete
-- makes it a no-op (false) instead of a loss.
CREATE OR REPLACE FUNCTION ${n.compact}(p_sid bigint, p_first bigint, p_last bigint, p_tail_count integer, p_merged_last bigint,
                                        p_block_first bigint, p_block_count integer, p_data bytea)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  v_found integer;
  v_removed bigint := 0;
  v_tail_removed bigint;
BEGIN
  PERFORM 1 FROM ${n.sessions} WHERE id = p_sid FOR UPDATE;
  IF NOT FOUND THEN RETURN false; END IF;
  SELECT count(*), coalesce(sum(octet_length(data)), 0) INTO v_found, v_tail_removed FROM ${n.turns} WHERE sid = p_sid AND seq BETWEEN p_first AND p_last;
  IF v_found <> p_tail_count THEN RETURN false; END IF;
  IF p_merged_last IS NOT NULL THEN
    DELETE FROM ${n.blocks} WHERE sid = p_sid AND last_seq = p_merged_last RETURNING octet_length(data) INTO v_removed;
    IF NOT FOUND THEN RETURN false; END IF;
  END IF;
  DELETE FROM ${n.turns} WHERE sid = p_sid AND seq BETWEEN p_first AND p_last;
  INSERT INTO ${n.blocks} (sid, last_seq, first_seq, turn_count, data) VALUES (p_sid, p_last, p_block_first, p_block_count, p_data);
  UPDATE ${n.sessions}
     SET tail_count = tail_count - p_tail_count,
         tail_bytes = tail_bytes - v_tail_removed,
         size_bytes = size_bytes - v_tail_removed - v_removed + octet_length(p_data)
   WHERE id = p_sid;
  RETURN true;
END
$fn$;

-- Deletes under the session row's lock, so an append committing meanwhile is either
-- wholly before (and deleted) or wholly after (a new session).
CREATE OR REPLACE FUNCTION ${n.remove}(p_key bytea)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
BEGIN
  SELECT id INTO v_sid FROM ${n.sessions} WHERE session_key = p_key FOR UPDATE;
  IF NOT FOUND THEN RETURN false; END IF;
  DELETE FROM ${n.turns} WHERE sid = v_sid;
  DELETE FROM ${n.blocks} WHERE sid = v_sid;
  DELETE FROM ${n.sessions} WHERE id = v_sid;
  RETURN true;
END
$fn$;

CREATE OR REPLACE FUNCTION ${n.cleanup}(p_cutoff double precision)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
  v_removed integer := 0;
BEGIN
  FOR v_sid IN SELECT id FROM ${n.sessions} WHERE updated_at < p_cutoff LOOP
    -- Re-checked under the lock: an append since the scan keeps the session.
    PERFORM 1 FROM ${n.sessions} WHERE id = v_sid AND updated_at < p_cutoff FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    DELETE FROM ${n.turns} WHERE sid = v_sid;
    DELETE FROM ${n.blocks} WHERE sid = v_sid;
    DELETE FROM ${n.sessions} WHERE id = v_sid;
    v_removed := v_removed + 1;
  END LOOP;
  RETURN v_removed;
END
$fn$;
`,
    },
    {
      version: 2,
      sql: migrationV2(n),
    },
  ];
}

/**
 * Version 2: an append writes one heap row (the tail turn, uncompressed) and no counter;
 * the session's counters are derived from its rows (the newest block carries running
 * totals). Writers of one session queue on a transaction-scoped advisory lock instead of
 * the session row's lock, so the append updates no row. Blocks are append-only.
 */
function migrationV2(n: SchemaNames): string {
  // Both ints of pg_advisory_xact_lock(int, int): the table set, and the session's id.
  const lock = (sid: string) => `pg_advisory_xact_lock(hashtext(${n.sessionLockSpace}), (${sid} % 2147483647)::integer)`;
  const tryLock = (sid: string) => `pg_try_advisory_xact_lock(hashtext(${n.sessionLockSpace}), (${sid} % 2147483647)::integer)`;
  return `
DROP FUNCTION IF EXISTS ${n.append}(bytea, double precision, bigint[], bytea[]);
DROP FUNCTION IF EXISTS ${n.compact}(bigint, bigint, bigint, integer, bigint, bigint, integer, bytea);
DROP FUNCTION IF EXISTS ${n.cleanup}(double precision);

-- Tail rows carry their append time; blocks carry running totals of the session up to them.
ALTER TABLE ${n.turns} ADD COLUMN IF NOT EXISTS at double precision;
UPDATE ${n.turns} t SET at = s.updated_at FROM ${n.sessions} s WHERE s.id = t.sid AND t.at IS NULL;
ALTER TABLE ${n.turns} ALTER COLUMN at SET NOT NULL;
ALTER TABLE ${n.blocks}
  ADD COLUMN IF NOT EXISTS total_turns bigint,
  ADD COLUMN IF NOT EXISTS total_bytes bigint,
  ADD COLUMN IF NOT EXISTS updated_at double precision;
UPDATE ${n.blocks} b
   SET total_turns = r.total_turns, total_bytes = r.total_bytes, updated_at = r.updated_at
  FROM (SELECT x.sid, x.last_seq,
               sum(x.turn_count) OVER w AS total_turns,
               sum(octet_length(x.data)) OVER w AS total_bytes,
               s.updated_at
          FROM ${n.blocks} x JOIN ${n.sessions} s ON s.id = x.sid
        WINDOW w AS (PARTITION BY x.sid ORDER BY x.last_seq)) r
 WHERE b.sid = r.sid AND b.last_seq = r.last_seq AND b.total_turns IS NULL;
ALTER TABLE ${n.blocks}
  ALTER COLUMN total_turns SET NOT NULL,
  ALTER COLUMN total_bytes SET NOT NULL,
  ALTER COLUMN updated_at SET NOT NULL;
-- The counters version 1 kept on the session row are derived from the rows now.
ALTER TABLE ${n.sessions}
  DROP COLUMN IF EXISTS updated_at,
  DROP COLUMN IF EXISTS last_seq,
  DROP COLUMN IF EXISTS turn_count,
  DROP COLUMN IF EXISTS size_bytes,
  DROP COLUMN IF EXISTS tail_count,
  DROP COLUMN IF EXISTS tail_bytes;
-- Session rows are written once now; tail rows are inserted once and deleted once (by a
-- compaction): autovacuum reclaims them after 50 dead rows whatever the table's size, so
-- inserts reuse their space.
ALTER TABLE ${n.sessions} SET (fillfactor = 100);
-- Tail rows are uncompressed now: let PostgreSQL compress a long one (pglz) and keep it in
-- the row, rather than move it out of line uncompressed.
ALTER TABLE ${n.turns} ALTER COLUMN data SET STORAGE MAIN;
ALTER TABLE ${n.turns} SET (autovacuum_vacuum_threshold = 50, autovacuum_vacuum_scale_factor = 0,
  toast.autovacuum_vacuum_threshold = 50, toast.autovacuum_vacuum_scale_factor = 0);

-- The append: one round trip and one heap row per turn. Writers of the session queue on
-- its advisory lock; each statement after it sees what the previous holder committed.
CREATE OR REPLACE FUNCTION ${n.append}(p_key bytea, p_now double precision, p_seqs bigint[], p_data bytea[])
RETURNS TABLE (o_sid bigint, o_last_seq bigint, o_seqs bigint[], o_appended integer, o_block_last bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
  v_live boolean;
  v_last bigint;
  v_block bigint;
  v_seq bigint;
  v_out bigint[] := '{}';
  v_fresh_seqs bigint[] := '{}';
  v_fresh_data bytea[] := '{}';
  v_n integer := coalesce(array_length(p_seqs, 1), 0);
BEGIN
  LOOP
    SELECT id INTO v_sid FROM ${n.sessions} WHERE session_key = p_key;
    IF NOT FOUND THEN
      -- A concurrent first append makes this do nothing; the loop then finds its row.
      INSERT INTO ${n.sessions} (session_key, created_at) VALUES (p_key, p_now) ON CONFLICT (session_key) DO NOTHING RETURNING id INTO v_sid;
      CONTINUE WHEN v_sid IS NULL;
    END IF;
    PERFORM ${lock('v_sid')};
    -- A delete that held the lock before us removed the row: start a new session.
    SELECT EXISTS (SELECT 1 FROM ${n.sessions} WHERE id = v_sid),
           (SELECT max(seq) FROM ${n.turns} WHERE sid = v_sid),
           (SELECT max(last_seq) FROM ${n.blocks} WHERE sid = v_sid)
      INTO v_live, v_last, v_block;
    EXIT WHEN v_live;
  END LOOP;
  v_block := coalesce(v_block, 0);
  v_last := greatest(coalesce(v_last, 0), v_block);
  IF v_n > 0 AND p_seqs = array_fill(0::bigint, ARRAY[v_n]) THEN
    INSERT INTO ${n.turns} (sid, seq, at, data) SELECT v_sid, v_last + f.i, p_now, p_data[f.i] FROM generate_series(1, v_n) AS f(i);
    RETURN QUERY SELECT v_sid, v_last + v_n, ARRAY(SELECT v_last + g FROM generate_series(1, v_n) AS g), v_n, v_block;
    RETURN;
  END IF;
  FOR i IN 1 .. v_n LOOP
    v_seq := CASE WHEN p_seqs[i] = 0 THEN v_last + 1 ELSE p_seqs[i] END;
    v_out := v_out || v_seq;
    IF v_seq > v_last THEN
      v_fresh_seqs := v_fresh_seqs || v_seq;
      v_fresh_data := v_fresh_data || p_data[i];
      v_last := v_seq;
    END IF;
  END LOOP;
  IF coalesce(array_length(v_fresh_seqs, 1), 0) > 0 THEN
    INSERT INTO ${n.turns} (sid, seq, at, data) SELECT v_sid, f.seq, p_now, f.data FROM unnest(v_fresh_seqs, v_fresh_data) AS f(seq, data);
  END IF;
  RETURN QUERY SELECT v_sid, v_last, v_out, coalesce(array_length(v_fresh_seqs, 1), 0), v_block;
END
$fn$;

-- The same for one turn (p_seq 0: the next seq), the common case, with plain parameters
-- (no arrays to build, send and parse) and, for an auto seq, two statements: find the
-- session and take its lock; insert the row at the next seq, read in the insert's own
-- snapshot, taken after the lock (so it sees what the previous holder committed).
CREATE OR REPLACE FUNCTION ${n.appendOne}(p_key bytea, p_now double precision, p_seq bigint, p_data bytea,
                                          OUT o_sid bigint, OUT o_last_seq bigint, OUT o_seq bigint, OUT o_appended integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_last bigint;
BEGIN
  LOOP
    SELECT s.id INTO o_sid FROM ${n.sessions} s CROSS JOIN LATERAL ${lock('s.id')} WHERE s.session_key = p_key;
    IF NOT FOUND THEN
      -- A concurrent first append makes this do nothing; the loop then finds its row.
      INSERT INTO ${n.sessions} (session_key, created_at) VALUES (p_key, p_now) ON CONFLICT (session_key) DO NOTHING RETURNING id INTO o_sid;
      CONTINUE WHEN o_sid IS NULL;
      PERFORM ${lock('o_sid')};
    END IF;
    IF p_seq = 0 THEN
      -- The join re-checks the session: a delete that held the lock before us removed it.
      INSERT INTO ${n.turns} (sid, seq, at, data)
      SELECT s.id, greatest(coalesce((SELECT max(seq) FROM ${n.turns} WHERE sid = s.id), 0),
                            coalesce((SELECT max(last_seq) FROM ${n.blocks} WHERE sid = s.id), 0)) + 1, p_now, p_data
        FROM ${n.sessions} s WHERE s.id = o_sid
      RETURNING seq INTO o_seq;
      CONTINUE WHEN NOT FOUND;
      o_last_seq := o_seq;
      o_appended := 1;
      RETURN;
    END IF;
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM ${n.sessions} WHERE id = o_sid);
    SELECT greatest(coalesce((SELECT max(seq) FROM ${n.turns} WHERE sid = o_sid), 0),
                    coalesce((SELECT max(last_seq) FROM ${n.blocks} WHERE sid = o_sid), 0)) INTO v_last;
    o_seq := p_seq;
    IF p_seq <= v_last THEN
      o_last_seq := v_last;
      o_appended := 0;
    ELSE
      INSERT INTO ${n.turns} (sid, seq, at, data) VALUES (o_sid, p_seq, p_now, p_data);
      o_last_seq := p_seq;
      o_appended := 1;
    END IF;
    RETURN;
  END LOOP;
END
$fn$;

-- Moves tail turns [p_first, p_last] (p_count rows, read by the caller without a lock)
-- into a new block; blocks are never rewritten. Under the session's lock it checks the
-- rows are all still there, so a concurrent compaction (any host) or delete makes it a
-- no-op (false), never a loss or a double.
CREATE OR REPLACE FUNCTION ${n.compact}(p_sid bigint, p_first bigint, p_last bigint, p_count integer, p_data bytea)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  v_found integer;
  v_at double precision;
  v_tail_bytes bigint;
  v_turns bigint;
  v_bytes bigint;
BEGIN
  PERFORM ${lock('p_sid')};
  PERFORM 1 FROM ${n.sessions} WHERE id = p_sid;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM 1 FROM ${n.blocks} WHERE sid = p_sid AND last_seq >= p_first;
  IF FOUND THEN RETURN false; END IF;
  SELECT count(*), max(at), sum(octet_length(data)) INTO v_found, v_at, v_tail_bytes FROM ${n.turns} WHERE sid = p_sid AND seq BETWEEN p_first AND p_last;
  IF v_found <> p_count THEN RETURN false; END IF;
  SELECT total_turns, total_bytes INTO v_turns, v_bytes FROM ${n.blocks} WHERE sid = p_sid ORDER BY last_seq DESC LIMIT 1;
  DELETE FROM ${n.turns} WHERE sid = p_sid AND seq BETWEEN p_first AND p_last;
  INSERT INTO ${n.blocks} (sid, last_seq, first_seq, turn_count, data, total_turns, total_bytes, updated_at)
  -- sizeBytes counts the rows as appended: a compaction, which runs in the background,
  -- leaves the session's metadata as the appends made it.
  VALUES (p_sid, p_last, p_first, p_count, p_data, coalesce(v_turns, 0) + p_count, coalesce(v_bytes, 0) + v_tail_bytes, v_at);
  RETURN true;
END
$fn$;

-- Deletes under the session's lock, so an append committing meanwhile is either wholly
-- before (and deleted) or wholly after (a new session).
CREATE OR REPLACE FUNCTION ${n.remove}(p_key bytea)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
BEGIN
  SELECT id INTO v_sid FROM ${n.sessions} WHERE session_key = p_key;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM ${lock('v_sid')};
  DELETE FROM ${n.turns} WHERE sid = v_sid;
  DELETE FROM ${n.blocks} WHERE sid = v_sid;
  DELETE FROM ${n.sessions} WHERE id = v_sid;
  RETURN FOUND;
END
$fn$;

-- Last append of a session: its newest tail row, else its newest block, else its creation.
CREATE OR REPLACE FUNCTION ${n.updatedAt}(p_sid bigint)
RETURNS double precision
LANGUAGE sql STABLE AS $fn$
  SELECT coalesce((SELECT max(at) FROM ${n.turns} WHERE sid = p_sid),
                  (SELECT updated_at FROM ${n.blocks} WHERE sid = p_sid ORDER BY last_seq DESC LIMIT 1),
                  (SELECT created_at FROM ${n.sessions} WHERE id = p_sid))
$fn$;

-- One page of the expiry sweep: sessions with id > p_after, at most p_limit of them. A
-- session whose lock is held (being written) is skipped; it was just updated. Returns
-- the last id looked at (null when done) and how many were removed.
CREATE OR REPLACE FUNCTION ${n.cleanup}(p_cutoff double precision, p_after bigint, p_limit integer)
RETURNS TABLE (o_last_id bigint, o_removed integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sid bigint;
  v_last bigint;
  v_removed integer := 0;
BEGIN
  FOR v_sid IN SELECT id FROM ${n.sessions} WHERE id > p_after ORDER BY id LIMIT p_limit LOOP
    v_last := v_sid;
    CONTINUE WHEN NOT ${tryLock('v_sid')};
    -- Checked under the lock: an append since keeps the session.
    CONTINUE WHEN ${n.updatedAt}(v_sid) >= p_cutoff;
    DELETE FROM ${n.turns} WHERE sid = v_sid;
    DELETE FROM ${n.blocks} WHERE sid = v_sid;
    DELETE FROM ${n.sessions} WHERE id = v_sid;
    v_removed := v_removed + 1;
  END LOOP;
  RETURN QUERY SELECT v_last, v_removed;
END
$fn$;
`;
}
