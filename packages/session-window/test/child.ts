import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsxLoader = require.resolve('tsx');

/** One acknowledged message as a child printed it. */
export interface Ack {
  session: string;
  seq: number;
  content: string;
}

/** A running writer child and what it acknowledged so far. */
export interface WriterChild {
  child: ChildProcess;
  acks: Ack[];
  /** Resolves once the child printed `ready`. */
  ready: Promise<void>;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Calls `listener` after each ack line. */
  onAck(listener: (ack: Ack) => void): void;
  stderr(): string;
}

/** Starts `test/fixtures/writer.ts` in a new Node process with the given job. */
export function startWriter(job: Record<string, unknown>): WriterChild {
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=@lix/source', join(here, 'fixtures', 'writer.ts')], {
    cwd: join(here, '..'),
    env: { ...process.env, LIX_SW_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Ack[] = [];
  const listeners: ((ack: Ack) => void)[] = [];
  let buffered = '';
  let errors = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line === 'ready') markReady();
      else if (line.startsWith('ack ')) {
        const [, session, seq, content] = line.split(' ');
        const ack = { session: session!, seq: Number(seq), content: content! };
        acks.push(ack);
        for (const listener of listeners) listener(ack);
      }
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (errors = (errors + chunk).slice(-8000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, acks, ready, exited, onAck: (listener) => listeners.push(listener), stderr: () => errors };
}
