import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConversationArchive } from '@lix/archive';
import { fileURLToPath } from 'node:url';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { HybridConversationCache, IdleEvictor, sessionKeys } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const driver = createMemoryDriver();
afterAll(() => driver.close());

describe('IdleEvictor timer', () => {
  it('evicts idle sessions on its own once started, and stops', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const archive = new ConversationArchive({ dir: mkdtempSync(join(tmpdir(), 'lix-sw-ev-')) });
    const cache = new HybridConversationCache({ sessionId: 'timer', driver, archive, keyPrefix: 'timer', clock });
    await cache.addMessage('user', 'hello');
    const evictor = new IdleEvictor({ driver, keyPrefix: 'timer', evictAfterMs: 1000, intervalMs: 10, clock });
    evictor.start();
    evictor.start(); // idempotent: still one timer
    now += 1000;
    const deadline = Date.now() + 5000;
    while ((await driver.exists(sessionKeys('timer', 'timer').hot)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await evictor.stop();
    expect(await driver.exists(sessionKeys('timer', 'timer').hot)).toBe(false);
    expect((await cache.getContext()).map((m) => m.content)).toEqual(['hello']);
  });

  it('does not keep the process alive', async () => {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const child = spawn(process.execPath, ['--import', tsx, '--conditions=@lix/source', join(here, 'fixtures', 'evictor-exit.ts')], {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect(signal, output).toBeNull();
    expect(code, output).toBe(0);
    expect(output).toContain('started');
  });
});
