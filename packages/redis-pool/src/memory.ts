// Entry point of `@lix/redis-pool/memory`.
export { MEMORY_DRIVER_NAME, createMemoryDriver, type MemoryDriverOptions } from './memory/driver.js';
export { MemoryServer, createMemoryServer, type MemoryServerOptions } from './memory/server.js';
export { compileGlob, escapeGlob, type GlobMatcher } from './memory/glob.js';
export { encodeScriptArg, formatArgNumber } from './shared/script-args.js';
