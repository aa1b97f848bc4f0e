import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Thrown when the tests need `redis-server` and it is not installed. */
export class RedisServerMissingError extends Error {
  override name = 'RedisServerMissingError';
  constructor(binary: string) {
    super(
      `${binary} was not found on PATH. The Redis tests start their own throwaway servers and need it installed: ` +
        `on Debian/Ubuntu run "apt-get update && apt-get install -y redis-server" (it brings redis-cli too), ` +
        `on macOS "brew install redis". CI's .ci/run installs it automatically.`,
    );
  }
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Absolute path of `redis-server`, or a {@link RedisServerMissingError} saying how to install it. */
export function findRedisServer(): string {
  const found = findOnPath('redis-server');
  if (!found) throw new RedisServerMissingError('redis-server');
  return found;
}

function findRedisCli(): string {
  const found = findOnPath('redis-cli');
  if (!found) throw new RedisServerMissingError('redis-cli');
  return found;
}

const reserved = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port. Ports stay below 55535 so that `port + 10000`, the
 * cluster bus port, is valid and checked free too.
 */
export async function getFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (reserved.has(port) || reserved.has(port + 10000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) {
      reserved.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found after 500 attempts');
}

/** Sends one inline command over a fresh socket and resolves with the raw reply text. */
function rawCommand(port: number, command: string, password?: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.on('connect', () => {
      if (password) socket.write(`AUTH ${password}\r\n`);
      socket.write(`${command}\r\n`);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const expected = password ? 2 : 1;
      if (reply.split('\r\n').length - 1 >= expected && /\r\n$/.test(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test runner that dies must not leave redis-server processes behind.
    process.once('exit', () => {
      for (const proc of live) proc.kill('SIGKILL');
    });
  }
}

export interface StartRedisServerOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** `requirepass` for the default user. */
  password?: string;
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
  /** Data directory; a fresh temporary one when omitted (removed by `stop`). */
  dir?: string;
  /** How long to wait for the server to answer PING. */
  startTimeoutMs?: number;
}

/** A throwaway `redis-server` process on a loopback port. */
export interface RedisServerHandle {
  readonly host: string;
  readonly port: number;
  /** `redis://` URL including the password, if any. */
  readonly url: string;
  readonly password: string | undefined;
  /** The data directory the server was started with. */
  readonly dir: string;
  /** Process id of the current server process. */
  pid(): number | undefined;
  /** True while the server process is running. */
  isRunning(): boolean;
  /** Sends a signal (default SIGKILL) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and directory (after `kill`). */
  restart(): Promise<void>;
  /** Stops the server and removes its temporary directory. */
  stop(): Promise<void>;
  /** Runs a command through `redis-cli` against this server and returns its output. */
  cli(...args: string[]): Promise<string>;
}

function runCli(port: number, password: string | undefined, args: string[]): Promise<string> {
  const cli = findRedisCli();
  const auth = password ? ['-a', password, '--no-auth-warning'] : [];
  return new Promise((resolve, reject) => {
    execFile(cli, ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Starts a throwaway `redis-server` (no persistence unless asked) and waits until it answers PING. */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = findRedisServer();
  const port = options.port ?? (await getFreePort());
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `lix-redis-${port}-`));
  const password = options.password;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let stderrText = '';

  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...(password ? ['--requirepass', password] : []),
    ...(options.args ?? []),
  ];

  async function launch(): Promise<void> {
    stderrText = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    trackChild(proc);
    proc.stdout?.on('data', (chunk: Buffer) => {
      stderrText = (stderrText + chunk.toString()).slice(-4000);
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrText = (stderrText + chunk.toString()).slice(-4000);
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      try {
        const reply = await rawCommand(port, 'PING', password, 500);
        if (reply.includes('PONG')) return;
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not start within ${startTimeoutMs} ms:\n${stderrText}`);
  }

  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  }

  await launch();
  const url = password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
  return {
    host: '127.0.0.1',
    port,
    url,
    password,
    dir,
    pid: () => child?.pid,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    kill,
    restart: async () => {
      await kill('SIGKILL');
      await launch();
    },
    stop: async () => {
      await kill('SIGKILL');
      reserved.delete(port);
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
    cli: (...cliArgs: string[]) => runCli(port, password, cliArgs),
  };
}

export interface StartRedisClusterOptions {
  /** Number of masters (default 3). */
  masters?: number;
  /** Replicas per master (default 0). */
  replicasPerMaster?: number;
  /** `cluster-node-timeout` in ms: how fast a failed master is noticed (default 2000). */
  nodeTimeoutMs?: number;
}

/** One line of `CLUSTER NODES`, parsed. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** Node id of the master a replica follows. */
  masterId: string | undefined;
  /** Flagged `fail` or `fail?` by the node that answered. */
  failing: boolean;
  /** Slot ranges served (masters only), e.g. `['0-5460']`. */
  slots: string[];
}

/** A throwaway Redis Cluster made of local `redis-server` processes. */
export interface RedisClusterHandle {
  readonly nodes: RedisServerHandle[];
  /** `CLUSTER NODES` as seen by the first running node. */
  clusterNodes(): Promise<ClusterNodeInfo[]>;
  /** The node process listening on `port`, if it is one of this cluster's. */
  nodeByPort(port: number): RedisServerHandle | undefined;
  /** Ports of the replicas following the master on `masterPort`. */
  replicaPortsOf(masterPort: number): Promise<number[]>;
  /**
   * After the master on `killedPort` was killed: waits until one of its replicas has
   * taken over all of its slots and every running node reports `cluster_state:ok`.
   * Resolves with the port of the promoted replica.
   */
  waitForFailover(killedPort: number, timeoutMs?: number): Promise<number>;
  /** Waits until the node on `port` runs as a replica whose link to its master is up (e.g. a restarted former master). */
  waitForReplica(port: number, timeoutMs?: number): Promise<void>;
  /** Seed addresses for cluster clients. */
  readonly startupNodes: { host: string; port: number }[];
  /** Ports of the nodes that are masters right now. */
  masterPorts(): Promise<number[]>;
  /** Waits until every running node reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function countSlots(ranges: string[]): number {
  let total = 0;
  for (const range of ranges) {
    if (range.startsWith('[')) continue; // a slot being migrated, not served
    const [from, to] = range.split('-').map(Number);
    if (from === undefined || !Number.isFinite(from)) continue;
    total += (to === undefined || !Number.isFinite(to) ? from : to) - from + 1;
  }
  return total;
}

/** Parses the text of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  const infos: ClusterNodeInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flagText, master] = fields as [string, string, string, string];
    const port = Number(address.split('@')[0]?.split(':').pop());
    if (!Number.isFinite(port)) continue;
    const flags = flagText.split(',');
    infos.push({
      id,
      port,
      role: flags.includes('master') ? 'master' : 'replica',
      masterId: master === '-' ? undefined : master,
      failing: flags.includes('fail') || flags.includes('fail?'),
      slots: fields.slice(8),
    });
  }
  return infos;
}

async function clusterInfo(node: RedisServerHandle): Promise<string> {
  return node.cli('cluster', 'info');
}

/** Starts a Redis Cluster of `masters` masters (and optional replicas), slots assigned, state ok. */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  const count = masters * (1 + replicas);
  const nodes: RedisServerHandle[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await getFreePort();
      nodes.push(
        await startRedisServer({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            String(nodeTimeout),
            '--cluster-replica-validity-factor',
            '0',
          ],
        }),
      );
    }
    const first = nodes[0]!;
    await first.cli('--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes');
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }

  async function waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const running = nodes.filter((node) => node.isRunning());
      const infos = await Promise.all(running.map((node) => clusterInfo(node).catch(() => '')));
      const slotsOk = await first().then((n) => (n ? n.cli('cluster', 'slots').catch(() => '') : ''));
      if (infos.every((info) => info.includes('cluster_state:ok')) && slotsOk !== '') return;
      await sleep(100);
    }
    throw new Error(`cluster did not become healthy within ${timeoutMs} ms`);
  }
  async function first(): Promise<RedisServerHandle | undefined> {
    return nodes.find((node) => node.isRunning());
  }

  async function clusterNodes(): Promise<ClusterNodeInfo[]> {
    const node = await first();
    if (!node) return [];
    return parseClusterNodes(await node.cli('cluster', 'nodes'));
  }

  async function waitForFailover(killedPort: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let promoted: number | undefined;
    let killedSlots: string[] = [];
    while (Date.now() < deadline) {
      const infos = await clusterNodes().catch(() => [] as ClusterNodeInfo[]);
      const killed = infos.find((info) => info.port === killedPort);
      // Until the failure is detected the killed node still lists its slots: remember them
      // to recognise the promoted replica, which takes exactly those slots over.
      if (killed && killed.slots.length > 0) killedSlots = killed.slots;
      if (killed?.failing && killed.slots.length === 0) {
        const masters = infos.filter((info) => info.role === 'master' && !info.failing && info.slots.length > 0);
        const replicasBefore = replicaMemory.get(killedPort) ?? [];
        promoted =
          masters.find((info) => killedSlots.length > 0 && info.slots.includes(killedSlots[0]!))?.port ??
          masters.find((info) => replicasBefore.includes(info.port))?.port ??
          promoted;
        const coveredSlots = masters.reduce((sum, info) => sum + countSlots(info.slots), 0);
        if (coveredSlots === 16384) {
          try {
            await waitHealthy(Math.max(1, deadline - Date.now()));
            if (promoted !== undefined) return promoted;
            throw new Error(`the slots of port ${killedPort} moved, but not to one of its known replicas`);
          } catch {
            break;
          }
        }
      }
      await sleep(100);
    }
    throw new Error(`no replica took over the slots of the master on port ${killedPort} within ${timeoutMs} ms`);
  }

  async function replicaPortsOf(masterPort: number): Promise<number[]> {
    const infos = await clusterNodes();
    const master = infos.find((info) => info.port === masterPort);
    if (!master) return [];
    const ports = infos.filter((info) => info.role === 'replica' && info.masterId === master.id).map((info) => info.port);
    // Remembered so that waitForFailover can name the promoted replica after the master is gone.
    replicaMemory.set(masterPort, ports);
    return ports;
  }
  const replicaMemory = new Map<number, number[]>();

  async function waitForReplica(port: number, timeoutMs = 30_000): Promise<void> {
    const node = nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`port ${port} is not a node of this cluster`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const info = await node.cli('info', 'replication').catch(() => '');
      if (info.includes('role:slave') && info.includes('master_link_status:up')) {
        await waitHealthy(Math.max(1, deadline - Date.now()));
        return;
      }
      await sleep(100);
    }
    throw new Error(`the node on port ${port} did not become a synced replica within ${timeoutMs} ms`);
  }

  // `cluster_state:ok` arrives before every node has heard that the replicas are replicas:
  // until then a node can still list one as a slot-less master. Tests read the topology at
  // once, so startup waits for every node to agree on it.
  async function waitTopology(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const views = await Promise.all(
        nodes.map((node) =>
          node
            .cli('cluster', 'nodes')
            .then(parseClusterNodes)
            .catch(() => [] as ClusterNodeInfo[]),
        ),
      );
      const agreed = views.every(
        (view) =>
          view.filter((info) => info.role === 'master' && info.slots.length > 0).length === masters &&
          view.filter((info) => info.role === 'replica').length === masters * replicas,
      );
      if (agreed) return;
      await sleep(100);
    }
    throw new Error(`cluster nodes did not agree on ${masters} masters and ${masters * replicas} replicas within ${timeoutMs} ms`);
  }

  try {
    await waitHealthy();
    await waitTopology();
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    clusterNodes,
    nodeByPort: (port: number) => nodes.find((node) => node.port === port),
    replicaPortsOf,
    waitForFailover,
    waitForReplica,
    startupNodes: nodes.map((node) => ({ host: node.host, port: node.port })),
    masterPorts: async () => {
      const node = await first();
      if (!node) return [];
      return parseClusterNodes(await node.cli('cluster', 'nodes'))
        .filter((info) => info.role === 'master' && !info.failing && info.slots.length > 0)
        .map((info) => info.port);
    },
    waitHealthy,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
