export { PostgresArchiveStore, POSTGRES_FORMAT, type PostgresArchiveStoreOptions, type MigrateResult } from './store.js';
export { SCHEMA_VERSION } from './schema.js';
export type { PgModule } from './load-pg.js';
