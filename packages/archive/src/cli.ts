#!/usr/bin/env node
// lix-archive: inspect and maintain an archive folder from the shell.
import { readdir } from 'node:fs/promises';
import { ConversationArchive } from './archive.js';
import { ArchiveError } from './errors.js';
import type { SessionMetadata } from './store.js';
import { runStoreMigration } from './cli-migrate.js';

const USAGE = `usage: lix-archive <command> [--dir DIR] [--json] [--ttl-days N]
commands:
  ls              list sessions (id, turns, bytes, updated)
  show SESSION    print a session's turns
  stats           totals for the folder
  cleanup         delete sessions older than --ttl-days (default 14)
  migrate         rewrite legacy .huff sessions in the current format
  migrate --from <dir|url> --to <dir|url> [--schema NAME]
                  copy every session between stores (folders or postgres:// URLs),
                  idempotently: a re-run copies nothing twice
  verify          read every session fully and report damaged ones
--dir defaults to $LIX_ARCHIVE_DIR or the current folder.`;

interface Args {
  command: string | undefined;
  positional: string[];
  dir: string;
  json: boolean;
  ttlDays: number;
  from: string | undefined;
  to: string | undefined;
  schema: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    command: undefined,
    positional: [],
    dir: process.env.LIX_ARCHIVE_DIR ?? process.cwd(),
    json: false,
    ttlDays: 14,
    from: undefined,
    to: undefined,
    schema: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--dir') args.dir = argv[++i] ?? fail('--dir needs a folder');
    else if (arg === '--from') args.from = argv[++i] ?? fail('--from needs a folder or a postgres:// URL');
    else if (arg === '--to') args.to = argv[++i] ?? fail('--to needs a folder or a postgres:// URL');
    else if (arg === '--schema') args.schema = argv[++i] ?? fail('--schema needs a schema name');
    else if (arg === '--ttl-days') {
      args.ttlDays = Number(argv[++i]);
      if (!(args.ttlDays > 0)) fail('--ttl-days needs a positive number');
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) fail(`unknown option ${arg}`);
    else if (args.command === undefined) args.command = arg;
    else args.positional.push(arg);
  }
  return args;
}

function fail(message: string): never {
  console.error(`lix-archive: ${message}\n${USAGE}`);
  process.exit(2);
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

async function collect(archive: ConversationArchive): Promise<SessionMetadata[]> {
  const out: SessionMetadata[] = [];
  for await (const meta of archive.listSessions()) out.push(meta);
  return out.sort((a, b) => a.sessionId.localeCompare(b.sessionId));
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === 'migrate' && (args.from !== undefined || args.to !== undefined)) {
    if (args.from === undefined || args.to === undefined) fail('migrate needs both --from and --to');
    // The first Ctrl-C stops the copy after the append in flight (nothing is half-copied, and
    // a re-run copies the rest); a second one ends the process at once, as usual.
    const interrupt = new AbortController();
    process.once('SIGINT', () => interrupt.abort(new Error('interrupted (SIGINT)')));
    return runStoreMigration(
      { from: args.from, to: args.to, schema: args.schema, json: args.json },
      { out: (line) => console.log(line), err: (text) => process.stderr.write(text), errIsTTY: process.stderr.isTTY === true, signal: interrupt.signal },
    );
  }
  const archive = new ConversationArchive({ dir: args.dir, ttlDays: args.ttlDays });
  const print = (value: unknown, text: () => string) => console.log(args.json ? JSON.stringify(value, null, 2) : text());
  switch (args.command) {
    case 'ls': {
      const sessions = await collect(archive);
      print(
        sessions,
        () => sessions.map((s) => `${s.sessionId}\t${s.turnCount} turns\t${s.sizeBytes} B\t${iso(s.updatedAt)}\t${s.format}`).join('\n') || '(no sessions)',
      );
      return 0;
    }
    case 'show': {
      const sessionId = args.positional[0] ?? fail('show needs a SESSION id');
      const turns = await archive.loadAll(sessionId);
      if (turns.length === 0 && !(await archive.sessionExists(sessionId))) fail(`no session ${JSON.stringify(sessionId)} in ${args.dir}`);
      print(
        turns.map((t) => ({ ...t, embedding: t.embedding ? Array.from(t.embedding) : undefined })),
        () => turns.map((t) => `#${t.seq} [${t.role}] ${iso(t.timestamp)}\n${t.content}\n`).join('\n'),
      );
      return 0;
    }
    case 'stats': {
      const sessions = await collect(archive);
      const stats = {
        sessions: sessions.length,
        turns: sessions.reduce((sum, s) => sum + s.turnCount, 0),
        bytes: sessions.reduce((sum, s) => sum + s.sizeBytes, 0),
        legacySessions: sessions.filter((s) => s.format === 'legacy-huff').length,
      };
      print(stats, () => `sessions ${stats.sessions}\nturns ${stats.turns}\nbytes ${stats.bytes}\nlegacy .huff sessions ${stats.legacySessions}`);
      return 0;
    }
    case 'cleanup': {
      const removed = await archive.cleanupExpired();
      print({ removed }, () => `removed ${removed} session(s) older than ${args.ttlDays} days`);
      return 0;
    }
    case 'migrate': {
      const migrated: string[] = [];
      for (const name of await readdir(args.dir)) {
        if (!name.endsWith('.huff')) continue;
        const sessionId = name.slice(0, -5);
        if (await archive.migrateLegacy(sessionId)) migrated.push(sessionId);
      }
      print({ migrated }, () => `migrated ${migrated.length} legacy session(s)${migrated.length ? `: ${migrated.join(', ')}` : ''}`);
      return 0;
    }
    case 'verify': {
      // Reads every session fully; reports the byte ranges skipped as damaged and any torn last append.
      const results: {
        sessionId: string;
        ok: boolean;
        readableTurns?: number;
        acknowledgedTurns?: number;
        damaged?: { start: number; end: number }[];
        tornTail?: { start: number; end: number };
        error?: string;
      }[] = [];
      for (const meta of await collect(archive)) {
        try {
          const report = await archive.verifySession(meta.sessionId);
          results.push({
            sessionId: report.sessionId,
            ok: report.ok,
            readableTurns: report.readableTurns,
            acknowledgedTurns: report.acknowledgedTurns,
            damaged: report.damaged,
            ...(report.tornTail ? { tornTail: report.tornTail } : {}),
          });
        } catch (error) {
          results.push({ sessionId: meta.sessionId, ok: false, error: error instanceof ArchiveError ? `${error.code}: ${error.message}` : String(error) });
        }
      }
      const bad = results.filter((r) => !r.ok);
      const describeResult = (r: (typeof results)[number]) => {
        if (r.error) return `  ${r.sessionId}: ${r.error}`;
        const ranges = (r.damaged ?? []).map((d) => `bytes ${d.start}-${d.end}`).join(', ');
        return `  ${r.sessionId}: ${r.readableTurns} of ${r.acknowledgedTurns} turns readable; damaged ${ranges || 'nowhere'}${r.tornTail ? `; torn last append at ${r.tornTail.start}` : ''}`;
      };
      print({ checked: results.length, damaged: bad }, () =>
        [`checked ${results.length} session(s), ${bad.length} damaged`, ...bad.map(describeResult)].join('\n'),
      );
      return bad.length === 0 ? 0 : 1;
    }
    default:
      fail(args.command === undefined ? 'missing command' : `unknown command ${args.command}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`lix-archive: ${error instanceof ArchiveError ? `${error.code}: ${error.message}` : String(error)}`);
    process.exit(1);
  },
);
