import { execFile } from 'node:child_process';

/** What a finished example program printed. */
export interface ExampleRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript program as the examples' `start` script does (tsx with the
 * `@lix/source` condition), so example tests exercise exactly what a user runs.
 */
export function runExample(script: string, options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<ExampleRun> {
  const env = { ...process.env, ...options.env };
  for (const [name, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[name];
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@lix/source', script],
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
