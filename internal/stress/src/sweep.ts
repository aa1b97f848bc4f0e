import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@lix/test-utils';
import { SWEEP_GROUPS } from './sweep-cases.js';
import { SWEEP_CONFIG_ENV, type SweepChildConfig, type SweepMessage } from './sweep-protocol.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const childScript = join(packageDir, 'src', 'sweep-child.ts');

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** Inputs per API. */
  rounds: number;
  seed: number;
  /** A call still pending after this long is a hang. */
  timeoutMs: number;
  workDir: string;
}

/** Per-API counts. */
export interface SweepApiCounts {
  tried: number;
  typed: number;
  accepted: number;
  crashes: number;
  hangs: number;
}

/** What the sweep found. */
export interface SweepResult {
  apis: number;
  tried: number;
  /** Rejected with the package's error class and a string `code`. */
  typed: number;
  /** Accepted (the input was valid after all, or harmless). */
  accepted: number;
  /** Other errors, rejections escaping a call, or a dead process. */
  crashes: number;
  hangs: number;
  byApi: Record<string, SweepApiCounts>;
  /** Typed error codes seen, with counts. */
  codes: Record<string, number>;
  /** The first crashes and hangs, for the report. */
  examples: string[];
}

/** Calls every public API with bad input in a watched child process and counts the outcomes. */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  mkdirSync(options.workDir, { recursive: true });
  const total = options.rounds * SWEEP_GROUPS.length;
  const result: SweepResult = { apis: SWEEP_GROUPS.length, tried: 0, typed: 0, accepted: 0, crashes: 0, hangs: 0, byApi: {}, codes: {}, examples: [] };
  const countsOf = (api: string) => (result.byApi[api] ??= { tried: 0, typed: 0, accepted: 0, crashes: 0, hangs: 0 });
  const example = (text: string) => {
    if (result.examples.length < 20) result.examples.push(text);
  };
  const redis = await startRedisServer();
  try {
    let startAt = 0;
    while (startAt < total) {
      const config: SweepChildConfig = {
        redisUrl: redis.url,
        dir: join(options.workDir, `run-${startAt}`),
        seed: options.seed,
        rounds: options.rounds,
        startAt,
        timeoutMs: options.timeoutMs,
      };
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', childScript], {
        cwd: packageDir,
        env: { ...process.env, [SWEEP_CONFIG_ENV]: JSON.stringify(config) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-3000);
      });
      let current: { index: number; api: string } | undefined;
      let lastDone = startAt - 1;
      let watchdog: NodeJS.Timeout | undefined;
      let hungIndex: number | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        // Generous: the child's own timer reports async hangs; this catches a blocked event loop.
        watchdog = setTimeout(
          () => {
            hungIndex = current?.index;
            child.kill('SIGKILL');
          },
          options.timeoutMs * 3 + 15_000,
        );
      };
      arm();
      child.on('message', (message: SweepMessage) => {
        arm();
        if (message.type === 'start') current = { index: message.index, api: message.api };
        else if (message.type === 'done') {
          lastDone = message.index;
          current = undefined;
          const counts = countsOf(message.api);
          counts.tried++;
          result.tried++;
          if (message.outcome === 'typed') {
            counts.typed++;
            result.typed++;
            const key = message.code ?? '?';
            result.codes[key] = (result.codes[key] ?? 0) + 1;
          } else if (message.outcome === 'accepted') {
            counts.accepted++;
            result.accepted++;
          } else if (message.outcome === 'crash') {
            counts.crashes++;
            result.crashes++;
            example(`crash in ${message.api} (input #${message.index}): ${message.detail}`);
          } else {
            counts.hangs++;
            result.hangs++;
            example(`hang in ${message.api} (input #${message.index})`);
          }
        } else if (message.type === 'stray') {
          result.crashes++;
          example(message.detail);
        }
      });
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      clearTimeout(watchdog);
      if (exit.code === 0 && lastDone === total - 1) break;
      // The process died or froze in the middle of a case: that case is a hang or a crash; resume after it.
      const failed = current ?? { index: lastDone + 1, api: SWEEP_GROUPS[(lastDone + 1) % SWEEP_GROUPS.length]!.api };
      const counts = countsOf(failed.api);
      counts.tried++;
      result.tried++;
      if (hungIndex !== undefined) {
        counts.hangs++;
        result.hangs++;
        example(`hang (event loop blocked) in ${failed.api} (input #${failed.index})`);
      } else {
        counts.crashes++;
        result.crashes++;
        example(`process died in ${failed.api} (input #${failed.index}, code ${exit.code}, signal ${exit.signal}): ${stderr.slice(-600)}`);
      }
      startAt = failed.index + 1;
    }
  } finally {
    await redis.stop();
  }
  return result;
}
