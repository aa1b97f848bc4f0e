/** A Redis node address as the global setup provides it. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** What `src/global-setup.ts` provides to every test file of the run under `lixRedis`. */
export interface LixRedisServers {
  /** One plain `redis-server` (no password). */
  single: RedisAddress;
  /** Seed nodes of a 3-master Redis Cluster. */
  cluster: RedisAddress[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    lixRedis: LixRedisServers;
  }
}
