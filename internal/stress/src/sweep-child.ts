/**
 * The bad-input sweep runs in its own process so that a synchronous hang (an endless
 * loop never yields to a timer) is still caught: the parent watches the per-case
 * messages and kills the process when one does not come back in time.
 */
import { mkdirSync } from 'node:fs';
import { ConversationArchive } from '@lix/archive';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { hashString, Rng } from './rng.js';
import { closeSweepGroups, SWEEP_GROUPS, type SweepEnv } from './sweep-cases.js';
import { SWEEP_CONFIG_ENV, type SweepChildConfig, type SweepMessage, type SweepOutcome } from './sweep-protocol.js';

const config = JSON.parse(process.env[SWEEP_CONFIG_ENV] ?? 'null') as SweepChildConfig | null;
if (!config) {
  process.stderr.write(`sweep: ${SWEEP_CONFIG_ENV} is not set\n`);
  process.exit(2);
}

function send(message: SweepMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

// Failures that escape a call (a promise rejected after the call returned) are crashes too.
process.on('unhandledRejection', (reason) => {
  void send({ type: 'stray', detail: `unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`.slice(0, 800) });
});

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return `non-error thrown: ${String(error)}`.slice(0, 300);
}

async function main(cfg: SweepChildConfig): Promise<void> {
  mkdirSync(cfg.dir, { recursive: true });
  let counter = 0;
  const env: SweepEnv = {
    redisUrl: cfg.redisUrl,
    dir: cfg.dir,
    memory: createMemoryDriver(),
    ioredis: createIoredisDriver({ url: cfg.redisUrl, commandTimeoutMs: 2000 }),
    nodeRedis: createNodeRedisDriver({ url: cfg.redisUrl, commandTimeoutMs: 2000 }),
    archive: new ConversationArchive({ dir: `${cfg.dir}/archive` }),
    next: () => ++counter,
  };
  const total = cfg.rounds * SWEEP_GROUPS.length;
  for (let index = cfg.startAt; index < total; index++) {
    const group = SWEEP_GROUPS[index % SWEEP_GROUPS.length]!;
    const rng = new Rng(hashString(`${cfg.seed}:${index}`));
    await send({ type: 'start', index, api: group.api });
    let outcome: SweepOutcome;
    let code: string | undefined;
    let detail: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = Promise.resolve().then(() => group.run(rng, env));
      const timeout = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), cfg.timeoutMs);
      });
      const result = await Promise.race([pending, timeout]);
      outcome = result === 'hang' ? 'hang' : 'accepted';
      if (outcome === 'hang') {
        detail = 'no answer within the time limit';
        pending.catch(() => undefined);
      }
    } catch (error) {
      const errorCode = (error as { code?: unknown } | null)?.code;
      const typed = group.errors.some((errorClass) => error instanceof errorClass) && typeof errorCode === 'string' && errorCode !== '';
      outcome = typed ? 'typed' : 'crash';
      if (typed) code = errorCode as string;
      else detail = describe(error);
    } finally {
      clearTimeout(timer);
    }
    await send({ type: 'done', index, api: group.api, outcome, ...(code ? { code } : {}), ...(detail ? { detail } : {}) });
  }
  await closeSweepGroups();
  await Promise.allSettled([env.ioredis.close(), env.nodeRedis.close(), env.memory.close(), env.archive.close?.()]);
  await send({ type: 'end', total });
}

main(config).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`sweep child failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
