import type { ArchiveCodec } from '@lix/archive';
import { ConfigError } from './errors.js';
import { describeValue } from './describe.js';

/** Which {@link KVDriver} implementation the runtime opens. */
export type DriverChoice = 'memory' | 'ioredis' | 'node-redis';

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Turns one raw setting (a typed option or an environment string) into its value, or throws a ConfigError naming `variable`. */
export type FieldParser<T> = (raw: unknown, variable: string) => T;

/** Codecs `@lix/archive` offers; brotli is its default, chosen by its benchmark. */
export const ARCHIVE_CODECS: readonly ArchiveCodec[] = ['brotli', 'deflate', 'huffman', 'none'];

/** True when `value` is one of {@link ARCHIVE_CODECS} (narrows it to the archive's codec type). */
export function isArchiveCodec(value: unknown): value is ArchiveCodec {
  return typeof value === 'string' && (ARCHIVE_CODECS as readonly string[]).includes(value);
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The ConfigError of a value that cannot be used, naming the variable and showing the value. */
export function invalid(variable: string, value: unknown, expected: string, cause?: unknown): ConfigError {
  return new ConfigError('INVALID_VALUE', `${variable}=${describeValue(value)} is not valid: expected ${expected}.`, {
    variable,
    value,
    ...(cause === undefined ? {} : { cause }),
  });
}

function integerIn(min: number, max: number, expected: string): FieldParser<number> {
  return (raw, variable) => {
    let value: number;
    if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'string' && INTEGER.test(raw.trim())) value = Number(raw.trim());
    else throw invalid(variable, raw, expected);
    if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(variable, raw, expected);
    return value;
  };
}

export const parsePort: FieldParser<number> = integerIn(1, 65_535, 'an integer port from 1 to 65535');
export const parseDb: FieldParser<number> = integerIn(0, 2_147_483_647, 'a database number (an integer of 0 or more)');
export const parsePositiveInt: FieldParser<number> = integerIn(1, Number.MAX_SAFE_INTEGER, 'a whole number of 1 or more');
export const parseBatchSize: FieldParser<number> = integerIn(1, 10_000, 'a whole number from 1 to 10000');
export const parseItemsPerScope: FieldParser<number> = integerIn(1, 1000, 'a whole number from 1 to 1000');
export const parseWindowSize: FieldParser<number> = integerIn(1, 1000, 'a whole number from 1 to 1000');
export const parseTimeoutMs: FieldParser<number> = integerIn(1, 3_600_000, 'a whole number of milliseconds from 1 to 3600000');

export const parseOptionalPositiveInt: FieldParser<number | undefined> = (raw, variable) => {
  if (raw === undefined || raw === null || raw === '') return undefined;
  return integerIn(1, Number.MAX_SAFE_INTEGER, 'a whole number of 1 or more (or unset for no limit)')(raw, variable);
};

export const parseDriver: FieldParser<DriverChoice> = (raw, variable) => {
  if (raw === 'memory' || raw === 'ioredis' || raw === 'node-redis') return raw;
  throw invalid(variable, raw, 'one of "memory", "ioredis", "node-redis"');
};

export const parseNonEmptyString: FieldParser<string> = (raw, variable) => {
  if (typeof raw === 'string' && raw.trim() !== '') return raw;
  throw invalid(variable, raw, 'a non-empty string');
};

/** Empty counts as unset: for settings whose default is "none". */
export const parseOptionalString: FieldParser<string | undefined> = (raw, variable) => {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') return raw === '' ? undefined : raw;
  throw invalid(variable, raw, 'a string');
};

export const parseBool: FieldParser<boolean> = (raw, variable) => {
  if (typeof raw === 'boolean') return raw;
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw invalid(variable, raw, 'a boolean: true, false, 1 or 0');
};

export const parseThreshold: FieldParser<number> = (raw, variable) => {
  const expected = 'a number from -1 to 1 (cosine similarity)';
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && DECIMAL.test(raw.trim())) value = Number(raw.trim());
  else throw invalid(variable, raw, expected);
  if (!Number.isFinite(value) || value < -1 || value > 1) throw invalid(variable, raw, expected);
  return value;
};

export const parseKeyPrefix: FieldParser<string> = (raw, variable) => {
  // Braces would move the cluster hash tag and glob characters would break SCAN patterns.
  if (typeof raw === 'string' && raw.length > 0 && raw.length <= 128 && !/[{}*?[\]\\\s]/.test(raw)) return raw;
  throw invalid(variable, raw, 'a non-empty key prefix of at most 128 characters without "{", "}", "*", "?", "[", "]", "\\" or spaces');
};

export const parseCodec: FieldParser<string> = (raw, variable) => {
  if (isArchiveCodec(raw)) return raw;
  throw invalid(variable, raw, `one of ${ARCHIVE_CODECS.map((codec) => JSON.stringify(codec)).join(', ')}`);
};

function parseUrlOf(protocols: readonly string[], expected: string, check: (url: URL, raw: string, variable: string) => void): FieldParser<string | undefined> {
  return (raw, variable) => {
    if (raw === undefined || raw === '') return undefined;
    if (typeof raw !== 'string') throw invalid(variable, raw, expected);
    let url: URL;
    try {
      url = new URL(raw);
    } catch (cause) {
      throw invalid(variable, raw, expected, cause);
    }
    if (!protocols.includes(url.protocol) || url.hostname === '') throw invalid(variable, raw, expected);
    if (url.port !== '') parsePort(url.port, variable);
    check(url, raw, variable);
    return raw;
  };
}

const REDIS_URL_EXPECTED = 'a redis:// or rediss:// URL such as "redis://localhost:6379"';
export const parseRedisUrl: FieldParser<string | undefined> = parseUrlOf(['redis:', 'rediss:'], REDIS_URL_EXPECTED, (url, raw, variable) => {
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw invalid(variable, raw, `${REDIS_URL_EXPECTED} whose path, if any, is a database number`);
});

export const parseArchiveUrl: FieldParser<string | undefined> = parseUrlOf(
  ['postgres:', 'postgresql:'],
  'a postgres:// or postgresql:// URL such as "postgres://app@db.internal:5432/chat"',
  () => {},
);

export const parseClusterNodes: FieldParser<ClusterNode[]> = (raw, variable) => {
  const expected = 'a comma-separated list of host:port (e.g. "10.0.0.1:7000,10.0.0.2:7000")';
  if (raw === undefined) return [];
  if (Array.isArray(raw)) {
    return raw.map((node: unknown) => {
      if (typeof node === 'string') return parseClusterNode(variable, raw, node, expected);
      if (node === null || typeof node !== 'object') throw invalid(variable, raw, expected);
      const { host, port } = node as { host?: unknown; port?: unknown };
      if (typeof host !== 'string' || host.trim() === '') throw invalid(variable, raw, 'cluster nodes with a non-empty host');
      return { host, port: parsePort(port, variable) };
    });
  }
  if (typeof raw !== 'string') throw invalid(variable, raw, expected);
  if (raw.trim() === '') return [];
  return raw.split(',').map((part) => parseClusterNode(variable, raw, part.trim(), expected));
};

function parseClusterNode(variable: string, whole: unknown, node: string, expected: string): ClusterNode {
  // "[::1]:7000" for IPv6, "host:7000" otherwise.
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(node) ?? /^([^:\s]+):(\d+)$/.exec(node);
  if (!match) throw invalid(variable, whole, expected);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) throw invalid(variable, whole, `${expected} with ports from 1 to 65535`);
  return { host: match[1]!, port };
}
