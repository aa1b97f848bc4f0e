export {
  RedisServerMissingError,
  findRedisServer,
  getFreePort,
  startRedisServer,
  startRedisCluster,
  parseClusterNodes,
  type ClusterNodeInfo,
  type RedisServerHandle,
  type RedisClusterHandle,
  type StartRedisServerOptions,
  type StartRedisClusterOptions,
} from './redis-server.js';
export { fixturesDir, corpusPath, legacyHuffDir, loadCorpus, type CorpusConversation, type CorpusTurn } from './fixtures.js';
export { uniquePrefix } from './prefix.js';
export { runExample, type ExampleRun } from './run-example.js';
export {
  PostgresServerMissingError,
  findPostgresBinDir,
  startPostgresServer,
  type PostgresServerHandle,
  type StartPostgresServerOptions,
} from './postgres-server.js';
export { startOutageTopology, type OutageTopology, type RedisConnection } from './outage.js';
