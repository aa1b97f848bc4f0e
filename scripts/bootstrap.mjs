#!/usr/bin/env node
// The two newcomer commands (`npm run demo`, `npm test`) start here, so that a fresh
// clone with only Node 20 and npm can install pnpm, the workspace and then run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const PNPM_VERSION = '12.4.2';
const root = new URL('..', import.meta.url).pathname;
const task = process.argv[2];

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function onPath(binary) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return ['pnpm', []];
  // No matching global pnpm: npx fetches the pinned one from the npm registry.
  return ['npx', ['--yes', `pnpm@${PNPM_VERSION}`]];
}

const [pnpm, pnpmPrefix] = pnpmCommand();
const pnpmRun = (...args) => run(pnpm, [...pnpmPrefix, ...args]);

function install() {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  const status = pnpmRun('install', ...frozen);
  if (status !== 0) process.exit(status);
}

function checkRedis() {
  if (onPath('redis-server') && onPath('redis-cli')) return;
  console.error(
    'redis-server (and redis-cli) are needed by the Redis tests, which start their own throwaway servers.\n' +
      'Install them: "apt-get update && apt-get install -y redis-server" on Debian/Ubuntu, "brew install redis" on macOS.',
  );
  process.exit(1);
}

function summarize(reportPath) {
  if (!existsSync(reportPath)) {
    console.log('0 passed, 0 failed');
    return;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const passed = report.numPassedTests ?? 0;
  const failed =
    (report.numFailedTests ?? 0) + (report.numTotalTests - passed - (report.numFailedTests ?? 0) - (report.numPendingTests ?? 0) - (report.numTodoTests ?? 0));
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
}

if (task === 'test') {
  install();
  checkRedis();
  let status = run(process.execPath, [join(root, 'scripts', 'check-deps.mjs')]);
  if (status !== 0) process.exit(status);
  status = run(process.execPath, [join(root, 'scripts', 'check-private-fields.mjs')]);
  if (status !== 0) process.exit(status);
  // Lint and format check; `pnpm exec biome check --write .` fixes what it can.
  status = pnpmRun('exec', 'biome', 'check', '.');
  if (status !== 0) process.exit(status);
  status = pnpmRun('exec', 'turbo', 'run', 'typecheck', 'build', '--output-logs=errors-only');
  if (status !== 0) process.exit(status);
  status = pnpmRun('exec', 'turbo', 'run', 'lint', '--output-logs=errors-only');
  if (status !== 0) process.exit(status);
  const reportPath = join(root, '.vitest-results.json');
  rmSync(reportPath, { force: true });
  status = pnpmRun('exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`);
  summarize(reportPath);
  process.exit(status);
} else if (task === 'demo') {
  install();
  process.exit(pnpmRun('--filter', './examples/chat-demo', 'start'));
} else {
  console.error('usage: node scripts/bootstrap.mjs test|demo');
  process.exit(2);
}
