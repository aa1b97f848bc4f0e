import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample } from '@lix/test-utils';
import { describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('codec-only example', () => {
  it('round-trips the corpus and reports sizes, speeds and a typed error', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/corpus: 2620090 bytes -> \d+ bytes \(6\d\.\d%\)/);
    expect(run.stdout).toContain('round trip identical: true');
    expect(run.stdout).toContain('back equal: true');
    expect(run.stdout).toContain('bad input is a typed error: BAD_MAGIC');
  });
});
