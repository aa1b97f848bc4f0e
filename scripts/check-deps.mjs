#!/usr/bin/env node
// Dependency check run by `npm test`: every package and example declares what its code
// imports, and imports what it declares. A runtime dependency or peer of a published
// package must be imported by its published code (src/, outside tests); a dev dependency by
// its tests, benchmarks, scripts or configuration, or named by one of its scripts. A
// private package (examples, test utilities) is checked as one body of code.
// Two ways of being used without an import statement count: a peer of one of the
// package's own dependencies (pnpm resolves a peer through the package that depends on it,
// so `ioredis` must be declared next to `@lix/redis-pool`, which loads it by name), and
// `@types/x` next to `x`. Tests and tools may use the root's dev dependencies (vitest,
// fast-check).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)|\/\/\/\s*<reference\s+types=['"]([^'"]+)['"]/g;
// A dependency used only as a type through `import type` is still an import of its package.
// Packages a tool loads by name rather than by an import statement.
const TOOL_PACKAGES = {
  typescript: 'tsc',
  vitest: 'vitest',
  tsx: 'tsx',
  publint: 'publint',
  '@types/node': null, // ambient types
};

function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || builtins.has(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function filesUnder(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesUnder(path, out);
    else if (/\.(m?[jt]sx?|cjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** The code of a file without its comments, so an import in a TSDoc example does not count. */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function importsOf(files) {
  const used = new Map();
  for (const file of files) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const match of text.matchAll(IMPORT)) {
      const name = packageOf(match[1] ?? match[2] ?? match[3] ?? match[4] ?? match[5] ?? match[6]);
      if (name !== undefined && !used.has(name)) used.set(name, file);
    }
  }
  return used;
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rootDev = new Set(Object.keys(rootManifest.devDependencies ?? {}));

function peersOfDependencies(dir, names) {
  const peers = new Set();
  for (const name of names) {
    const path = join(dir, 'node_modules', name, 'package.json');
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) peers.add(peer);
  }
  return peers;
}

const isTestFile = (file) => /\.test(-helper)?\.[jt]s$/.test(file) || /\/test\//.test(file);
const problems = [];
const workspaces = ['packages', 'internal', 'examples'].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group))
        .map((name) => join(root, group, name))
        .filter((dir) => existsSync(join(dir, 'package.json')))
    : [],
);

for (const dir of workspaces) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const where = relative(root, dir);
  const all = filesUnder(dir);
  const isPrivate = manifest.private === true;
  const published = isPrivate ? all : all.filter((file) => file.startsWith(join(dir, 'src')) && !isTestFile(file));
  const rest = isPrivate ? [] : all.filter((file) => !published.includes(file));
  const usedByPublished = importsOf(published);
  const usedByRest = importsOf(rest);
  const runtime = isPrivate
    ? { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies }
    : { ...manifest.dependencies, ...manifest.peerDependencies };
  const dev = isPrivate ? {} : (manifest.devDependencies ?? {});
  const declared = [...Object.keys(runtime), ...Object.keys(dev)];
  const passedThrough = peersOfDependencies(dir, declared);
  const scripts = Object.values(manifest.scripts ?? {}).join(' ');
  const self = manifest.name;
  const usedWithoutImport = (name, used) =>
    passedThrough.has(name) ||
    (name.startsWith('@types/') && declared.includes(name.slice('@types/'.length))) ||
    (name in TOOL_PACKAGES && (TOOL_PACKAGES[name] === null || scripts.includes(TOOL_PACKAGES[name]))) ||
    scripts.split(/\s+/).includes(name) ||
    used.has(name);

  // What the published code needs: imported, or a peer passed through. A tool named by a
  // script (vitest in "test") is a dev dependency, not a reason to make users install it.
  const neededAtRuntime = (name) =>
    usedByPublished.has(name) || passedThrough.has(name) || (name.startsWith('@types/') && declared.includes(name.slice('@types/'.length)));
  for (const name of Object.keys(runtime)) {
    if (!(isPrivate ? usedWithoutImport(name, usedByPublished) : neededAtRuntime(name)))
      problems.push(`${where}: "${name}" is declared, but nothing ${isPrivate ? 'in the package' : 'in src/'} imports it`);
  }
  // pnpm resolves a dependency's peer from the package that depends on it: a published
  // package must pass its dependencies' peers on by declaring them (optional where theirs are).
  if (!isPrivate) {
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (!dependency.startsWith('@lix/')) continue;
      for (const peer of peersOfDependencies(dir, [dependency])) {
        if (!(peer in runtime)) problems.push(`${where}: depends on "${dependency}", whose peer "${peer}" it does not declare as a peer`);
      }
    }
  }
  for (const [name, file] of usedByPublished) {
    if (name === self || name in runtime) continue;
    if (isPrivate && rootDev.has(name)) continue;
    problems.push(
      `${where}: ${relative(root, file)} imports "${name}", which is not in ${isPrivate ? 'its package.json' : 'dependencies or peerDependencies'}`,
    );
  }
  for (const name of Object.keys(dev)) {
    if (name in runtime) continue; // a peer installed for the tests
    if (usedWithoutImport(name, usedByRest) || usedByPublished.has(name)) continue;
    problems.push(`${where}: dev dependency "${name}" is used by nothing (no import, no script)`);
  }
  for (const [name, file] of usedByRest) {
    if (name === self || name in runtime || name in dev || rootDev.has(name)) continue;
    problems.push(`${where}: ${relative(root, file)} imports "${name}", which the package does not declare`);
  }
}

if (problems.length > 0) {
  console.error(`dependency check: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n${problems.map((line) => `  - ${line}`).join('\n')}`);
  process.exit(1);
}
console.log(`dependency check: ${workspaces.length} workspaces, every declared dependency used and every import declared`);
