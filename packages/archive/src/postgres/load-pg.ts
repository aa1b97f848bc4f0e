import { ArchiveError } from '../errors.js';

/** The `pg` module, as `import('pg')` returns it. */
export type PgModule = typeof import('pg');

/**
 * Imports `pg` on first use, so `@lix/archive/postgres` loads without it and a missing
 * install is a clear error instead of a crash at import time.
 */
export async function loadPg(lib?: PgModule): Promise<PgModule> {
  if (lib) return lib;
  try {
    const loaded = (await import('pg')) as PgModule & { default?: PgModule };
    // pg is CommonJS: its classes sit on the default export.
    return loaded.default ?? loaded;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new ArchiveError('IO_ERROR', missing ? 'the PostgreSQL store needs the pg package: pnpm add pg' : `could not load pg: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
