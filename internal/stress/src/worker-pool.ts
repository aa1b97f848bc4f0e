import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addStats, emptyStats, WORKER_CONFIG_ENV, type WorkerConfig, type WorkerMessage, type WorkerStats } from './worker-protocol.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const workerScript = join(packageDir, 'src', 'worker.ts');

interface Slot {
  slot: number;
  generation: number;
  child: ChildProcess;
  exited: Promise<void>;
  /** Set before the harness kills or stops it, so the exit is not counted as a crash. */
  expectedExit: boolean;
  finished: boolean;
  stderr: string;
}

/** Counts the pool keeps about its processes. */
export interface PoolCounts {
  /** Workers the fault injector killed with SIGKILL (each restarted). */
  killed: number;
  /** Workers that exited on their own with an error (restarted too). */
  crashed: number;
  /** Workers that did not exit within the stop timeout after `stop` (then killed). */
  hung: number;
  /** Last lines of stderr of crashed or hung workers. */
  crashOutput: string[];
}

/**
 * The worker processes of one topology. Each slot always has one live process (after a
 * kill or crash its successor, one generation later, takes the slot's sessions back).
 * Workers run from source: `node --import tsx --conditions=@lix/source src/worker.ts`.
 */
export class WorkerPool {
  readonly stats: WorkerStats = emptyStats();
  readonly counts: PoolCounts = { killed: 0, crashed: 0, hung: 0, crashOutput: [] };
  readonly #slots: Slot[] = [];
  readonly #configFor: (slot: number, generation: number) => WorkerConfig;
  #stopping = false;

  readonly #hostsDir: string | undefined;

  /**
   * With `hostsDir`, every worker runs as its own "host": in a PID namespace of its own
   * (`unshare --pid --fork --mount-proc`, so its pids mean nothing to the others) with a
   * private temporary folder under `hostsDir` as TMPDIR. A SIGKILL of the worker takes the
   * whole namespace down, as a host dying would (`--kill-child`).
   */
  constructor(configFor: (slot: number, generation: number) => WorkerConfig, options: { hostsDir?: string } = {}) {
    this.#configFor = configFor;
    this.#hostsDir = options.hostsDir;
  }

  /** Starts `count` workers and waits until each has opened the system. */
  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, slot) => this.#spawn(slot, 0)));
  }

  /** Number of worker slots. */
  get size(): number {
    return this.#slots.length;
  }

  /** True when every worker has written all its messages. */
  allFinished(): boolean {
    return this.#slots.every((slot) => slot.finished);
  }

  #spawn(slotNumber: number, generation: number): Promise<void> {
    const config = this.#configFor(slotNumber, generation);
    const node = [process.execPath, '--import', 'tsx', '--conditions=@lix/source', workerScript];
    let command = node;
    const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) };
    if (this.#hostsDir) {
      const privateTmp = join(this.#hostsDir, `host-${slotNumber}-g${generation}`);
      mkdirSync(privateTmp, { recursive: true });
      env.TMPDIR = privateTmp;
      command = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', '--', ...node];
    }
    const child = spawn(command[0]!, command.slice(1), {
      cwd: packageDir,
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const slot: Slot = {
      slot: slotNumber,
      generation,
      child,
      expectedExit: false,
      finished: this.#slots[slotNumber]?.finished ?? false,
      stderr: '',
      exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    };
    this.#slots[slotNumber] = slot;
    child.stderr?.on('data', (chunk: Buffer) => {
      slot.stderr = (slot.stderr + chunk.toString()).slice(-4000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'stats') addStats(this.stats, message.stats);
        else if (message.type === 'finished') slot.finished = true;
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`worker ${slotNumber} exited before it was ready (code ${code}, signal ${signal}):\n${slot.stderr}`)),
      );
    });
    child.once('exit', (code, signal) => {
      if (slot.expectedExit || this.#stopping) return;
      // An exit nobody asked for is a crash: count it, keep its output, put a successor in place.
      this.counts.crashed++;
      this.counts.crashOutput.push(`worker ${slotNumber} g${generation} exited (code ${code}, signal ${signal}): ${slot.stderr.slice(-1500)}`);
      if (this.#slots[slotNumber] === slot) void this.#spawn(slotNumber, generation + 1).catch(() => undefined);
    });
    return ready;
  }

  /** SIGKILLs the worker in `slotNumber` and starts its successor after `downMs`. */
  async killAndRestart(slotNumber: number, downMs: number): Promise<void> {
    const slot = this.#slots[slotNumber];
    if (!slot || this.#stopping) return;
    slot.expectedExit = true;
    slot.child.kill('SIGKILL');
    await slot.exited;
    this.counts.killed++;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    if (this.#stopping) return;
    await this.#spawn(slotNumber, slot.generation + 1);
  }

  /** Asks every worker to finish its current calls and exit; kills those that do not within `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        slot.expectedExit = true;
        if (slot.child.exitCode !== null || slot.child.signalCode !== null) return;
        if (slot.child.connected) slot.child.send({ type: 'stop' });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          slot.exited.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          this.counts.hung++;
          this.counts.crashOutput.push(`worker ${slot.slot} did not stop within ${timeoutMs} ms: ${slot.stderr.slice(-1500)}`);
          slot.child.kill('SIGKILL');
          await slot.exited;
        } else if (slot.child.exitCode !== 0) {
          this.counts.crashed++;
          this.counts.crashOutput.push(`worker ${slot.slot} exited with code ${slot.child.exitCode} when stopped: ${slot.stderr.slice(-1500)}`);
        }
      }),
    );
  }
}
