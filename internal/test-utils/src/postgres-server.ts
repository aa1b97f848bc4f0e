import { execFile, execFileSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { getFreePort } from './redis-server.js';

const INSTALL_HINT =
  'The PostgreSQL tests start their own throwaway cluster (initdb + pg_ctl) and need the server binaries: ' +
  'on Debian/Ubuntu run "apt-get update && apt-get install -y postgresql" (version 15 or newer), ' +
  'on macOS "brew install postgresql@16". CI\'s .ci/run installs them automatically.';

/** Thrown when the tests need the PostgreSQL server binaries and they are not installed. */
export class PostgresServerMissingError extends Error {
  override name = 'PostgresServerMissingError';
  constructor(missing: string) {
    super(`${missing} was not found. ${INSTALL_HINT}`);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding `initdb`, `pg_ctl` and `postgres`: the newest
 * `/usr/lib/postgresql/<version>/bin` (Debian's layout, where they are not on PATH), else
 * the folder of an `initdb` on PATH. Throws {@link PostgresServerMissingError} otherwise.
 */
export function findPostgresBinDir(search: { libDir?: string; path?: string } = {}): string {
  const libDir = search.libDir ?? '/usr/lib/postgresql';
  const candidates: string[] = [];
  try {
    const versions = readdirSync(libDir)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(join(libDir, version, 'bin'));
  } catch {
    // not Debian's layout
  }
  for (const dir of (search.path ?? process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isExecutable(join(dir, 'initdb'))) continue;
    // Debian links initdb into /usr/local/bin; pg_ctl and postgres live beside the real file.
    candidates.push(dirname(realpathSync(join(dir, 'initdb'))));
  }
  for (const dir of candidates) {
    if (['initdb', 'pg_ctl', 'postgres'].every((binary) => isExecutable(join(dir, binary)))) return dir;
  }
  throw new PostgresServerMissingError('initdb/pg_ctl/postgres');
}

/** The user the cluster runs as: PostgreSQL refuses to run as root. */
interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

function unprivilegedUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { user, uid, gid };
    } catch {
      // no such user
    }
  }
  throw new Error('running as root and found neither a "postgres" nor a "nobody" user to run PostgreSQL as');
}

function run(runAs: RunAs | undefined, binary: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [command, argv] = runAs ? ['runuser', ['-u', runAs.user, '--', binary, ...args]] : [binary, args];
  return new Promise((resolve, reject) => {
    execFile(command, argv, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${binary} ${args.join(' ')} failed: ${stderr || stdout || error.message}`));
      else resolve(stdout);
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Parent pid of every process, read from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the ppid; the command name (field 2) may hold spaces, so parse after ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it has exited for our purposes.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const livePostmasters = new Set<() => void>();
let exitHookInstalled = false;

/** Options of {@link startPostgresServer}. */
export interface StartPostgresServerOptions {
  /** Port to listen on (127.0.0.1 only); a free one is picked when omitted. */
  port?: number;
  /** Extra `-c name=value` server settings, e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

/** A throwaway PostgreSQL cluster in a temporary folder on a loopback port. */
export interface PostgresServerHandle {
  readonly host: string;
  readonly port: number;
  /** Superuser connection string (`postgres://lix@127.0.0.1:PORT/postgres`, trust auth). */
  readonly url: string;
  /** The cluster's data directory. */
  readonly dataDir: string;
  /** Pid of the running postmaster, read from `postmaster.pid`. */
  pid(): number | undefined;
  isRunning(): boolean;
  /**
   * SIGKILLs the postmaster and then every backend it had forked, as a crash of the
   * whole server would, and waits until they are gone. The data directory stays.
   */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory (crash recovery runs). */
  restart(): Promise<void>;
  /** Stops the server (immediate shutdown) and removes the temporary folder. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster: `initdb` into a temporary folder, then `pg_ctl
 * start` on a free 127.0.0.1 port. When the tests run as root the cluster runs as the
 * `postgres` (or `nobody`) user, which owns the folder. Never touches the machine's own
 * server. A missing binary throws {@link PostgresServerMissingError}, which says how to
 * install it.
 */
export async function startPostgresServer(options: StartPostgresServerOptions = {}): Promise<PostgresServerHandle> {
  const binDir = findPostgresBinDir();
  const runAs = unprivilegedUser();
  const port = options.port ?? (await getFreePort());
  const root = mkdtempSync(join(tmpdir(), `lix-pg-${port}-`));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chownSync(socketDir, runAs.uid, runAs.gid);
  }
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    max_connections: '100',
    shared_buffers: '32MB',
    // Durable commits are what the crash tests check: keep fsync and synchronous_commit on.
    fsync: 'on',
    synchronous_commit: 'on',
    ...options.settings,
  };
  try {
    await run(runAs, join(binDir, 'initdb'), ['-D', dataDir, '-U', 'lix', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], 120_000);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const serverOptions = Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');

  let postmaster: number | undefined;
  const killNow = () => {
    if (postmaster === undefined) return;
    const children = childrenOf(postmaster);
    try {
      process.kill(postmaster, 'SIGKILL');
    } catch {
      // already gone
    }
    for (const child of children) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  livePostmasters.add(killNow);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test runner that dies must not leave PostgreSQL clusters behind.
    process.once('exit', () => {
      for (const kill of livePostmasters) kill();
    });
  }

  async function launch(): Promise<void> {
    await run(
      runAs,
      join(binDir, 'pg_ctl'),
      ['start', '-w', '-t', String(Math.ceil(startTimeoutMs / 1000)), '-D', dataDir, '-l', join(root, 'server.log'), '-o', serverOptions],
      startTimeoutMs + 5000,
    ).catch((error: Error) => {
      let log = '';
      try {
        log = readFileSync(join(root, 'server.log'), 'utf8').slice(-4000);
      } catch {
        // no log yet
      }
      throw new Error(`${error.message}\n${log}`);
    });
    postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const deadline = Date.now() + startTimeoutMs;
    while (!(await canConnect(port))) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL on port ${port} does not accept connections`);
      await sleep(25);
    }
  }

  async function kill(): Promise<void> {
    const pid = postmaster;
    if (pid === undefined) return;
    const children = childrenOf(pid);
    killNow();
    postmaster = undefined;
    for (const target of [pid, ...children]) {
      while (isAlive(target)) await sleep(10);
    }
    // The killed postmaster may linger as a zombie until init reaps it, and PostgreSQL
    // would take that for a live owner of the data directory. Every process of the
    // cluster is dead now, so the lock file is stale.
    rmSync(join(dataDir, 'postmaster.pid'), { force: true });
    for (const name of readdirSync(socketDir)) rmSync(join(socketDir, name), { force: true });
  }

  await launch();
  return {
    host: '127.0.0.1',
    port,
    url: `postgres://lix@127.0.0.1:${port}/postgres`,
    dataDir,
    pid: () => postmaster,
    isRunning: () => postmaster !== undefined && isAlive(postmaster),
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      if (postmaster !== undefined && isAlive(postmaster)) {
        await run(runAs, join(binDir, 'pg_ctl'), ['stop', '-m', 'immediate', '-w', '-D', dataDir]).catch(() => kill());
        await kill();
      }
      livePostmasters.delete(killNow);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
