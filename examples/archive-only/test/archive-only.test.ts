import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample } from '@lix/test-utils';
import { describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('archive-only example', () => {
  it('stores, loads, searches and retries idempotently without Redis', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('loaded 4 turns: #1 user, #2 assistant, #3 user, #4 assistant');
    expect(run.stdout).toMatch(/best text match for "temples": #3 /);
    expect(run.stdout).toContain('retrying seq 3 appends 0 and skips 1');
    expect(run.stdout).toContain('hostile id stored inside the archive folder as an encoded file name');
    expect(run.stdout).toContain('empty id is a typed error: INVALID_SESSION_ID');
  });
});
