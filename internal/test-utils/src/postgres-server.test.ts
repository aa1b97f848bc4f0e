import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresServerMissingError, findPostgresBinDir, startPostgresServer, type PostgresServerHandle } from './postgres-server.js';

function psql(server: PostgresServerHandle, sql: string): string {
  return execFileSync(`${findPostgresBinDir()}/psql`, ['-X', '-A', '-t', '-d', server.url, '-c', sql], { encoding: 'utf8' }).trim();
}

describe('throwaway PostgreSQL cluster', () => {
  const started: PostgresServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });

  it('starts on a free port (never 5432), keeps committed data through SIGKILL + restart, and stop() removes its folder', async () => {
    const server = await startPostgresServer();
    started.push(server);
    expect(server.port).not.toBe(5432);
    psql(server, 'CREATE TABLE t (x int); INSERT INTO t VALUES (42)');
    await server.kill();
    expect(server.isRunning()).toBe(false);
    await server.restart();
    expect(server.isRunning()).toBe(true);
    expect(psql(server, 'SELECT x FROM t')).toBe('42');
    await server.stop();
    expect(existsSync(server.dataDir)).toBe(false);
    const accepts = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: server.port });
      socket.once('error', () => resolve(false));
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
    });
    expect(accepts, 'the stopped server still accepts connections').toBe(false);
  });

  it('runs the server as an unprivileged user when the tests run as root', async () => {
    const server = await startPostgresServer();
    started.push(server);
    const user = execFileSync('ps', ['-o', 'user=', '-p', String(server.pid())], { encoding: 'utf8' }).trim();
    if (process.getuid?.() === 0) expect(user).not.toBe('root');
    else expect(user).toBe(execFileSync('id', ['-un'], { encoding: 'utf8' }).trim());
  });

  it('a missing installation fails with the apt-get command that installs it', () => {
    let error: unknown;
    try {
      findPostgresBinDir({ libDir: '/nonexistent', path: '/nonexistent' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PostgresServerMissingError);
    expect((error as Error).message).toContain('apt-get install -y postgresql');
  });
});
