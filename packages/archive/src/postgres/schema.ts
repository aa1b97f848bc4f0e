import { ArchiveError } from '../errors.js';

/** The schema version this release writes and reads; `migrate()` brings a database up to it. */
export const SCHEMA_VERSION = 1;

/** Where the store's tables live: `schema.<tablePrefix>sessions`, and so on. */
export interface SchemaNames {
  schema: string;
  sessions: string;
  turns: string;
  blocks: string;
  migrations: string;
  append: string;
  compact: string;
  remove: string;
  cleanup: string;
  /** Key of the advisory lock that serialises concurrent `migrate()` calls. */
  lockKey: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Double-quoted SQL identifier (the names are checked against {@link IDENTIFIER} first). */
function quote(name: string): string {
  return `"${name}"`;
}

/** Checks the schema and prefix options and derives every qualified name from them. */
export function schemaNames(schema: unknown, tablePrefix: unknown): SchemaNames {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > 48) {
    throw new ArchiveError('INVALID_ARGUMENT', `schema must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters), got ${JSON.stringify(schema)}`);
  }
  if (typeof tablePrefix !== 'string' || (tablePrefix !== '' && !IDENTIFIER.test(tablePrefix)) || tablePrefix.length > 40) {
    throw new ArchiveError('INVALID_ARGUMENT', `tablePrefix must be empty or a lowercase SQL identifier of at most 40 characters, got ${JSON.stringify(tablePrefix)}`);
  }
  const q = (name: string) => `${quote(schema)}.${quote(tablePrefix + name)}`;
  return {
    schema: quote(schema),
    sessions: q('sessions'),
    turns: q('turns'),
    blocks: q('blocks'),
    migrations: q('schema_migrations'),
    append: q('append'),
    compact: q('compact'),
    remove: q('delete_session'),
    cleanup: q('cleanup_expired'),
    lockKey: `lix-archive:${schema}.${tablePrefix}`,
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
  ];
}
