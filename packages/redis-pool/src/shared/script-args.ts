import type { KVArg } from '../driver.js';
import { KVError } from './errors.js';

const encoder = new TextEncoder();

/**
 * The decimal text a number becomes as a command or script argument, identical on every
 * driver: integers are written out in full (`1e21` → `"1000000000000000000000"`, `-0` →
 * `"0"`), other finite numbers use JavaScript's shortest round-trip form (`0.1` → `"0.1"`,
 * which may use an exponent below 1e-6: `1e-7` → `"1e-7"`, still read back exactly by
 * Lua's `tonumber`). `NaN` and `±Infinity` are refused with `INVALID_ARGUMENT`, because
 * Redis clients would send them as words that no Redis number parser accepts.
 */
export function formatArgNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new KVError('INVALID_ARGUMENT', `Cannot pass ${String(value)} as a Redis argument: only finite numbers have a decimal form.`);
  }
  // String() writes safe integers digit for digit; larger ones would come out in exponent
  // notation past 1e21, which BigInt avoids (at the cost of an allocation).
  if (Number.isSafeInteger(value)) return String(value);
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}

/**
 * The bytes a script argument reaches Lua as: bytes unchanged (copied), strings as
 * UTF-8, numbers as {@link formatArgNumber} text.
 */
export function encodeScriptArg(arg: KVArg): Uint8Array {
  if (arg instanceof Uint8Array) return new Uint8Array(arg);
  if (typeof arg === 'string') return encoder.encode(arg);
  if (typeof arg === 'number') return encoder.encode(formatArgNumber(arg));
  throw new KVError('INVALID_ARGUMENT', `Script arguments must be strings, numbers or Uint8Array, got ${typeof arg}.`);
}
