import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample } from '@lix/test-utils';
import { describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('custom-coordinator example', () => {
  it('serves the window from the user layer and answers a rephrased query from the stock semantic cache', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('assistant: hello!\nuser: weather in Paris?\nassistant: Mild, 18°C.');
    expect(run.stdout).not.toContain('user: hi\n');
    expect(run.stdout).toContain('first lookup: null');
    expect(run.stdout).toContain('rephrased lookup: {"answer":"Mild, 18°C."}');
    expect(run.stdout).toContain('left-out layer: LAYER_MISSING');
  });
});
