import { describe, expect, it } from 'vitest';
import { CacheConfig, CONFIG_DEFAULTS, CONFIG_FIELDS, type CacheConfigOptions } from './config.js';
import { ConfigError, isConfigError } from './errors.js';

function catchError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('CacheConfig defaults', () => {
  it('keeps the original defaults for every layer', () => {
    const config = new CacheConfig();
    expect(config.sessionRedisDb).toBe(2);
    expect(config.semanticRedisDb).toBe(0);
    expect(config.urlCacheRedisDb).toBe(1);
    expect(config.hotWindowSize).toBe(20);
    expect(config.sessionTtlSeconds).toBe(24 * 3600);
    expect(config.semanticTtlSeconds).toBe(5 * 60);
    expect(config.semanticSimilarityThreshold).toBe(0.9);
    expect(config.semanticMaxItemsPerUrl).toBe(50);
    expect(config.urlCacheTtlSeconds).toBe(24 * 3600);
    expect(config.diskTtlDays).toBe(14);
    expect(config.evictAfterMinutes).toBe(120);
    expect(config.redisHost).toBe('localhost');
    expect(config.redisPort).toBe(6379);
    expect(config.redisKeyPrefix).toBe('lix');
    expect(config.redisSocketConnectTimeout).toBe(5);
    expect(config.redisSocketKeepalive).toBe(true);
    expect(config.urlCacheBatchSize).toBe(100);
    expect(config.archiveDir).toBe('./data/conversations');
    expect(config.sessionMaxTokens).toBeUndefined();
    expect(config.redisPassword).toBeUndefined();
    expect(config.clusterNodes).toEqual([]);
    expect(config.archiveCodec).toBe('brotli');
  });

  it('defaults to the in-memory driver when no Redis location is configured', () => {
    expect(new CacheConfig().driver).toBe('memory');
    expect(CacheConfig.fromEnv('APP', {}).driver).toBe('memory');
  });

  it('defaults to ioredis once a URL, host or cluster nodes are configured', () => {
    expect(new CacheConfig({ redisUrl: 'redis://127.0.0.1:6380' }).driver).toBe('ioredis');
    expect(new CacheConfig({ redisHost: 'redis.internal' }).driver).toBe('ioredis');
    expect(new CacheConfig({ clusterNodes: [{ host: 'a', port: 7000 }] }).driver).toBe('ioredis');
    expect(CacheConfig.fromEnv('APP', { APP_REDIS_HOST: 'redis.internal' }).driver).toBe('ioredis');
  });

  it('keeps an explicit driver choice', () => {
    expect(new CacheConfig({ driver: 'node-redis', redisUrl: 'redis://x:1' }).driver).toBe('node-redis');
    expect(new CacheConfig({ driver: 'memory', redisHost: 'x' }).driver).toBe('memory');
  });

  it('is frozen', () => {
    const config = new CacheConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { hotWindowSize: number }).hotWindowSize = 3;
    }).toThrow(TypeError);
  });

  it('documents a default for every field except the derived driver', () => {
    for (const field of CONFIG_FIELDS) {
      if (field === 'driver') continue;
      expect(Object.hasOwn(CONFIG_DEFAULTS, field), field).toBe(true);
    }
  });
});

describe('CacheConfig options', () => {
  it('accepts valid explicit values', () => {
    const config = new CacheConfig({
      redisPort: 7000,
      semanticSimilarityThreshold: -0.5,
      hotWindowSize: 5,
      sessionMaxTokens: 4000,
      redisTls: true,
      clusterNodes: [{ host: '10.0.0.1', port: 7000 }],
      archiveCodec: 'none',
    });
    expect(config.redisPort).toBe(7000);
    expect(config.semanticSimilarityThreshold).toBe(-0.5);
    expect(config.sessionMaxTokens).toBe(4000);
    expect(config.isCluster).toBe(true);
  });

  it.each<[keyof CacheConfigOptions, unknown]>([
    ['redisPort', 0],
    ['redisPort', 70000],
    ['redisPort', 1.5],
    ['semanticSimilarityThreshold', 2],
    ['semanticSimilarityThreshold', Number.NaN],
    ['hotWindowSize', 0],
    ['sessionRedisDb', -1],
    ['driver', 'redis'],
    ['redisUrl', 'http://localhost:6379'],
    ['redisTls', 'yes'],
    ['archiveCodec', 'gzip'],
    ['redisKeyPrefix', ''],
    ['redisKeyPrefix', 'app{1}'],
    ['redisKeyPrefix', 'my app'],
    ['hotWindowSize', 1001],
    ['clusterNodes', [{ host: '', port: 7000 }]],
  ])('rejects %s=%s as INVALID_VALUE naming the option', (field, value) => {
    const error = catchError(() => new CacheConfig({ [field]: value }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.variable).toBe(field);
    expect(error.message).toContain(field);
    expect(error.name).toBe('ConfigError');
  });

  it('refuses the removed redisPoolSize with a message saying why', () => {
    const error = catchError(() => new CacheConfig({ redisPoolSize: 10 } as Partial<CacheConfigOptions>));
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.variable).toBe('redisPoolSize');
    expect(error.message).toMatch(/removed.*one connection per Redis node/);
    expect(CacheConfig.fromEnv('A', { A_REDIS_POOL_SIZE: '10' }).hotWindowSize).toBe(20);
  });

  it('rejects an unknown option (a typo) as UNKNOWN_OPTION', () => {
    const error = catchError(() => new CacheConfig({ hotWindowSise: 5 } as Partial<CacheConfigOptions>));
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.message).toContain('hotWindowSise');
  });

  it('rejects the memory driver with cluster nodes as CONFLICTING_OPTIONS', () => {
    const error = catchError(() => new CacheConfig({ driver: 'memory', clusterNodes: [{ host: 'a', port: 7000 }] }));
    expect(error.code).toBe('CONFLICTING_OPTIONS');
  });

  it('rejects a URL together with cluster nodes as CONFLICTING_OPTIONS', () => {
    const error = catchError(() => new CacheConfig({ redisUrl: 'redis://a:1', clusterNodes: [{ host: 'a', port: 7000 }] }));
    expect(error.code).toBe('CONFLICTING_OPTIONS');
  });

  it('with() replaces settings and derives the driver again', () => {
    const base = new CacheConfig({ hotWindowSize: 4 });
    const remote = base.with({ redisUrl: 'redis://127.0.0.1:7001' });
    expect(remote.driver).toBe('ioredis');
    expect(remote.hotWindowSize).toBe(4);
    expect(base.with({ hotWindowSize: 8 }).driver).toBe('memory');
    expect(new CacheConfig({ driver: 'node-redis' }).with({ hotWindowSize: 2 }).driver).toBe('node-redis');
  });

  it('redacts the password and URL credentials in toJSON', () => {
    const config = new CacheConfig({ redisPassword: 'hunter2', redisUrl: 'redis://user:hunter2@h:6379/2' });
    const text = JSON.stringify(config);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('***');
  });
});

describe('CacheConfig.fromEnv', () => {
  it('reads every original variable name under the prefix', () => {
    const config = CacheConfig.fromEnv('myapp', {
      MYAPP_REDIS_HOST: 'redis.internal',
      MYAPP_REDIS_PORT: '6380',
      MYAPP_REDIS_PASSWORD: 'secret',
      MYAPP_REDIS_KEY_PREFIX: 'chat',
      MYAPP_REDIS_POOL_SIZE: '10',
      MYAPP_REDIS_SOCKET_CONNECT_TIMEOUT: '3',
      MYAPP_REDIS_SOCKET_KEEPALIVE: 'false',
      MYAPP_SESSION_REDIS_DB: '5',
      MYAPP_SESSION_TTL_SECONDS: '600',
      MYAPP_HOT_WINDOW_SIZE: '8',
      MYAPP_SESSION_MAX_TOKENS: '2000',
      MYAPP_SEMANTIC_REDIS_DB: '6',
      MYAPP_SEMANTIC_TTL_SECONDS: '60',
      MYAPP_SEMANTIC_SIMILARITY_THRESHOLD: '0.85',
      MYAPP_SEMANTIC_MAX_ITEMS_PER_URL: '7',
      MYAPP_URL_CACHE_REDIS_DB: '7',
      MYAPP_URL_CACHE_TTL_SECONDS: '120',
      MYAPP_URL_CACHE_BATCH_SIZE: '25',
      MYAPP_ARCHIVE_DIR: '/var/lib/chat',
      MYAPP_DISK_TTL_DAYS: '30',
      MYAPP_EVICT_AFTER_MINUTES: '15',
    });
    expect(config).toMatchObject({
      redisHost: 'redis.internal',
      redisPort: 6380,
      redisPassword: 'secret',
      redisKeyPrefix: 'chat',
      redisSocketConnectTimeout: 3,
      redisSocketKeepalive: false,
      sessionRedisDb: 5,
      sessionTtlSeconds: 600,
      hotWindowSize: 8,
      sessionMaxTokens: 2000,
      semanticRedisDb: 6,
      semanticTtlSeconds: 60,
      semanticSimilarityThreshold: 0.85,
      semanticMaxItemsPerUrl: 7,
      urlCacheRedisDb: 7,
      urlCacheTtlSeconds: 120,
      urlCacheBatchSize: 25,
      archiveDir: '/var/lib/chat',
      diskTtlDays: 30,
      evictAfterMinutes: 15,
      driver: 'ioredis',
    });
  });

  it('reads the new settings', () => {
    const config = CacheConfig.fromEnv('APP', {
      APP_REDIS_DRIVER: 'node-redis',
      APP_REDIS_USERNAME: 'bot',
      APP_REDIS_TLS: '1',
      APP_REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002',
      APP_ARCHIVE_CODEC: 'none',
      APP_EMBEDDING_MODEL_ID: 'minilm-l6',
    });
    expect(config.driver).toBe('node-redis');
    expect(config.redisUsername).toBe('bot');
    expect(config.redisTls).toBe(true);
    expect(config.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.archiveCodec).toBe('none');
    expect(config.embeddingModelId).toBe('minilm-l6');
  });

  it('reads unprefixed names when the prefix is empty', () => {
    const config = CacheConfig.fromEnv('', { REDIS_URL: 'redis://127.0.0.1:6390', HOT_WINDOW_SIZE: '3', APP_HOT_WINDOW_SIZE: '9' });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6390');
    expect(config.hotWindowSize).toBe(3);
    expect(config.driver).toBe('ioredis');
  });

  it('ignores variables of another prefix', () => {
    expect(CacheConfig.fromEnv('APP', { OTHER_HOT_WINDOW_SIZE: '3', HOT_WINDOW_SIZE: '4' }).hotWindowSize).toBe(20);
  });

  it('accepts booleans as true/false/1/0 in any case', () => {
    for (const [text, value] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['false', false],
      ['False', false],
      ['0', false],
    ] as const) {
      expect(CacheConfig.fromEnv('A', { A_REDIS_TLS: text }).redisTls).toBe(value);
    }
  });

  it('treats an empty password, URL or token limit as unset', () => {
    const config = CacheConfig.fromEnv('A', { A_REDIS_PASSWORD: '', A_REDIS_URL: '', A_SESSION_MAX_TOKENS: '', A_REDIS_CLUSTER_NODES: '' });
    expect(config.redisPassword).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.sessionMaxTokens).toBeUndefined();
    expect(config.clusterNodes).toEqual([]);
  });

  it.each([
    ['MYAPP_REDIS_PORT', 'abc'],
    ['MYAPP_REDIS_PORT', '65536'],
    ['MYAPP_REDIS_PORT', ''],
    ['MYAPP_REDIS_PORT', '63 79'],
    ['MYAPP_SEMANTIC_SIMILARITY_THRESHOLD', '2'],
    ['MYAPP_SEMANTIC_SIMILARITY_THRESHOLD', '-1.01'],
    ['MYAPP_SEMANTIC_SIMILARITY_THRESHOLD', 'high'],
    ['MYAPP_HOT_WINDOW_SIZE', '0'],
    ['MYAPP_HOT_WINDOW_SIZE', '2.5'],
    ['MYAPP_HOT_WINDOW_SIZE', '1e3'],
    ['MYAPP_SESSION_REDIS_DB', '-1'],
    ['MYAPP_SESSION_TTL_SECONDS', '99999999999999999999'],
    ['MYAPP_SESSION_MAX_TOKENS', 'none'],
    ['MYAPP_REDIS_TLS', 'yes'],
    ['MYAPP_REDIS_SOCKET_KEEPALIVE', 'on'],
    ['MYAPP_REDIS_URL', 'localhost:6379'],
    ['MYAPP_REDIS_URL', 'redis://host:99999'],
    ['MYAPP_REDIS_URL', 'redis://host:6379/abc'],
    ['MYAPP_REDIS_CLUSTER_NODES', 'host1:7000,host2'],
    ['MYAPP_REDIS_CLUSTER_NODES', 'host1:0'],
    ['MYAPP_REDIS_DRIVER', 'redis'],
    ['MYAPP_ARCHIVE_CODEC', 'zstd'],
    ['MYAPP_REDIS_KEY_PREFIX', ''],
    ['MYAPP_DISK_TTL_DAYS', '-3'],
    ['MYAPP_EVICT_AFTER_MINUTES', 'two hours'],
  ])('rejects %s=%j as INVALID_VALUE naming the variable and the value', (variable, value) => {
    const error = catchError(() => CacheConfig.fromEnv('myapp', { [variable]: value }));
    expect(isConfigError(error, 'INVALID_VALUE')).toBe(true);
    expect(error.variable).toBe(variable);
    expect(error.value).toBe(value);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(JSON.stringify(value));
  });

  it('rejects the memory driver with cluster nodes, naming the variables', () => {
    const error = catchError(() => CacheConfig.fromEnv('A', { A_REDIS_DRIVER: 'memory', A_REDIS_CLUSTER_NODES: 'h:7000' }));
    expect(error.code).toBe('CONFLICTING_OPTIONS');
    expect(error.message).toContain('A_REDIS_DRIVER');
    expect(error.message).toContain('A_REDIS_CLUSTER_NODES');
  });

  it('names each variable with envName', () => {
    expect(CacheConfig.envName('redisPort', 'myapp')).toBe('MYAPP_REDIS_PORT');
    expect(CacheConfig.envName('hotWindowSize')).toBe('HOT_WINDOW_SIZE');
    expect(CacheConfig.envName('clusterNodes', 'X_')).toBe('X_REDIS_CLUSTER_NODES');
  });

  it('reads process.env by default', () => {
    const key = 'LIXCFGTEST_HOT_WINDOW_SIZE';
    process.env[key] = '11';
    try {
      expect(CacheConfig.fromEnv('lixcfgtest').hotWindowSize).toBe(11);
    } finally {
      delete process.env[key];
    }
  });
});

describe('CONFIG_TABLE', () => {
  it('is the README table: regenerate with pnpm --filter @lix/coordinator docs', async () => {
    const { readFileSync } = await import('node:fs');
    const { configTableMarkdown, CONFIG_TABLE_MARKERS } = await import('./config-docs.js');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme
      .slice(readme.indexOf(CONFIG_TABLE_MARKERS.start) + CONFIG_TABLE_MARKERS.start.length, readme.indexOf(CONFIG_TABLE_MARKERS.end))
      .trim();
    expect(section).toBe(configTableMarkdown());
  });

  it('gives every field an environment variable, a parser that accepts its default, and docs', async () => {
    const { CONFIG_TABLE } = await import('./config-fields.js');
    const envs = new Set<string>();
    for (const [name, spec] of Object.entries(CONFIG_TABLE)) {
      expect(spec.env, name).toMatch(/^[A-Z][A-Z0-9_]+$/);
      envs.add(spec.env);
      expect(spec.doc.length, name).toBeGreaterThan(10);
      if (spec.default !== undefined) expect((spec.parse as (raw: unknown, variable: string) => unknown)(spec.default, name)).toEqual(spec.default);
    }
    expect(envs.size).toBe(Object.keys(CONFIG_TABLE).length);
  });
});

describe('CacheConfig.fromEnv arguments', () => {
  it('rejects a non-string prefix or a non-object environment with a ConfigError', async () => {
    const { CacheConfig: Config } = await import('./config.js');
    const { ConfigError: Err } = await import('./errors.js');
    for (const prefix of [42, null, {}, ['A']]) expect(() => Config.fromEnv(prefix as never)).toThrow(Err);
    expect(() => Config.fromEnv('X', null as never)).toThrow(Err);
  });
});
