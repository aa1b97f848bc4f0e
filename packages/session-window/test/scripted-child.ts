import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** A running `test/fixtures/scripted-writer.ts`, driven one command at a time. */
export interface ScriptedWriter {
  child: ChildProcess;
  /** Adds a message and resolves with its acknowledged seq. */
  add(session: string, content: string): Promise<number>;
  /** Arms the kill: the next push SIGKILLs the child after its archive append. */
  dieOnPush(): Promise<void>;
  /** Sends a command without waiting for an answer. */
  send(command: Record<string, unknown>): void;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  stderr(): string;
}

/** Starts the scripted writer with the given job and waits until it is connected. */
export async function startScriptedWriter(job: Record<string, unknown>): Promise<ScriptedWriter> {
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=@lix/source', join(here, 'fixtures', 'scripted-writer.ts')], {
    cwd: join(here, '..'),
    env: { ...process.env, LIX_SW_JOB: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (errors = (errors + chunk).slice(-8000)));
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      waiting.shift()?.(line);
      newline = buffered.indexOf('\n');
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(({ code, signal }) => reject(new Error(`writer exited (${code ?? signal}) before answering: ${errors}`)));
    });
  const send = (command: Record<string, unknown>) => child.stdin!.write(`${JSON.stringify(command)}\n`);
  const ready = await nextLine();
  if (ready !== 'ready') throw new Error(`writer said ${ready}: ${errors}`);
  return {
    child,
    send,
    async add(session, content) {
      const answer = nextLine();
      send({ op: 'add', session, content });
      const [word, , seq] = (await answer).split(' ');
      if (word !== 'ack') throw new Error(`writer answered ${word}: ${errors}`);
      return Number(seq);
    },
    async dieOnPush() {
      const answer = nextLine();
      send({ op: 'die-on-push' });
      await answer;
    },
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ op: 'exit' });
      await exited;
    },
    stderr: () => errors,
  };
}
