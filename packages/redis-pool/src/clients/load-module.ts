import { KVError } from '../shared/errors.js';

const installHint: Record<string, string> = {
  ioredis: 'install ioredis: pnpm add ioredis',
  redis: 'install redis (node-redis): pnpm add redis',
};

/**
 * Imports an optional peer dependency on first use, so importing a driver's subpath
 * without its client library installed does not crash; using it gives `CLIENT_MISSING`.
 */
export async function loadOptionalModule<T>(name: string, load: () => Promise<unknown>): Promise<T> {
  try {
    return (await load()) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new KVError('CLIENT_MISSING', installHint[name] ?? `install ${name}`, { cause: error });
    }
    throw new KVError('CLIENT_MISSING', `could not load ${name}: ${(error as Error).message}`, { cause: error });
  }
}
