// Entry point of `@lix/redis-pool/node-redis`.
export {
  NODE_REDIS_DRIVER_NAME,
  createNodeRedisDriver,
  type NodeRedisClient,
  type NodeRedisCluster,
  type NodeRedisDriverOptions,
  type NodeRedisModule,
} from './clients/node-redis.js';
