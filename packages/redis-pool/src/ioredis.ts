// Entry point of `@lix/redis-pool/ioredis`.
export { IOREDIS_DRIVER_NAME, createIoredisDriver, type IoredisDriverOptions, type IoredisModule } from './clients/ioredis.js';
