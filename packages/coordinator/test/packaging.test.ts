import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Packs the published packages the way `pnpm publish` would and installs the tarballs
 * into empty projects with npm, as a user would: proves that `files`, `exports` and the
 * rewritten `workspace:` ranges work outside the monorepo, and that a package pulls in
 * only what it declares (the codec nothing, the archive no Redis client).
 */
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const tscBin = join(repoRoot, 'node_modules', '.bin', 'tsc');

function pnpmCommand(): [string, string[]] {
  // Under `pnpm exec`/`pnpm test` npm_execpath is pnpm's own entry; use it so the pinned pnpm runs.
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath) && existsSync(execPath)) return [process.execPath, [execPath]];
  return ['pnpm', []];
}

async function build(dir: string): Promise<void> {
  await run(tscBin, ['-p', 'tsconfig.build.json'], { cwd: join(repoRoot, 'packages', dir) });
}

async function pack(dir: string, destination: string): Promise<string> {
  const [command, prefix] = pnpmCommand();
  const before = new Set(readdirSync(destination));
  await run(command, [...prefix, 'pack', '--pack-destination', destination], { cwd: join(repoRoot, 'packages', dir) });
  const created = readdirSync(destination).filter((name) => name.endsWith('.tgz') && !before.has(name));
  if (created.length !== 1) throw new Error(`pnpm pack in packages/${dir} produced ${created.length} tarballs`);
  return join(destination, created[0]!);
}

/** Installs tarballs into a fresh project; offline first (npm's cache), the registry only if a dependency is not cached. */
async function installInto(project: string, tarballs: string[]): Promise<void> {
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', ...tarballs];
  try {
    await run('npm', [...args, '--offline'], { cwd: project, timeout: 60_000 });
  } catch {
    await run('npm', [...args, '--prefer-offline'], { cwd: project, timeout: 60_000 });
  }
}

/** Every package name installed under node_modules (scoped names included). */
function installedPackages(project: string): string[] {
  const modules = join(project, 'node_modules');
  const names: string[] = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const scoped of readdirSync(join(modules, entry))) names.push(`${entry}/${scoped}`);
    else names.push(entry);
  }
  return names.sort();
}

async function runModule(project: string, source: string): Promise<string> {
  const file = join(project, 'check.mjs');
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd: project });
  return stdout.trim();
}

describe('packed packages install alone', () => {
  let work: string;
  let huffmanTarball: string;
  let coreTarball: string;
  let archiveTarball: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lix-packaging-'));
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    await Promise.all([build('huffman'), build('core'), build('archive')]);
    huffmanTarball = await pack('huffman', tarballs);
    coreTarball = await pack('core', tarballs);
    archiveTarball = await pack('archive', tarballs);
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('@lix/core pulls no runtime dependency', async () => {
    const project = join(work, 'core-only');
    await installInto(project, [coreTarball]);
    expect(installedPackages(project)).toEqual(['@lix/core']);
    const out = await runModule(
      project,
      `import { sessionIdProblem, MAX_SESSION_ID_LENGTH } from '@lix/core';\nconsole.log(MAX_SESSION_ID_LENGTH, sessionIdProblem('ok') === undefined);`,
    );
    expect(out).toBe('512 true');
  }, 90_000);

  it('@lix/huffman pulls no runtime dependency and round-trips from its tarball', async () => {
    const project = join(work, 'huffman-only');
    await installInto(project, [huffmanTarball]);
    expect(installedPackages(project)).toEqual(['@lix/huffman']);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/@lix/huffman/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
    const out = await runModule(
      project,
      `import { encode, decode } from '@lix/huffman';
const input = new TextEncoder().encode('hello huffman, hello tarball');
const back = new TextDecoder().decode(decode(encode(input)));
console.log(back);`,
    );
    expect(out).toBe('hello huffman, hello tarball');
  }, 90_000);

  it('@lix/archive pulls no Redis client and stores and loads a turn from its tarball', async () => {
    const project = join(work, 'archive-only');
    await installInto(project, [huffmanTarball, coreTarball, archiveTarball]);
    const installed = installedPackages(project);
    expect(installed).toContain('@lix/archive');
    expect(installed).toContain('@lix/huffman');
    expect(installed).toContain('@lix/core');
    expect(installed.filter((name) => name === 'ioredis' || name === 'redis' || name.startsWith('@redis/') || name.startsWith('@ioredis/'))).toEqual([]);
    const out = await runModule(
      project,
      `import { ConversationArchive } from '@lix/archive';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const archive = new ConversationArchive({ dir: mkdtempSync(join(tmpdir(), 'lix-archive-consumer-')) });
await archive.appendTurn('s1', { role: 'user', content: 'hello from a tarball' });
const turns = await archive.loadAll('s1');
await archive.close();
console.log(turns.map((turn) => turn.content).join('|'));`,
    );
    expect(out).toBe('hello from a tarball');
  }, 90_000);
});
