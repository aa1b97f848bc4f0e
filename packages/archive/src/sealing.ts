import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ArchiveError } from './errors.js';

const IV_SIZE = 12;
const TAG_SIZE = 16;

export function checkKey(key: Uint8Array | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) {
    throw new ArchiveError('INVALID_KEY', 'encryptionKey must be 32 bytes (AES-256-GCM)');
  }
  return key;
}

/** AES-256-GCM: iv ‖ tag ‖ ciphertext; `aad` binds the frame head to its body. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function unseal(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.byteLength < IV_SIZE + TAG_SIZE) throw new ArchiveError('CORRUPT_FILE', 'encrypted block too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_SIZE));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(IV_SIZE, IV_SIZE + TAG_SIZE));
    return Buffer.concat([decipher.update(sealed.subarray(IV_SIZE + TAG_SIZE)), decipher.final()]);
  } catch (error) {
    // The frame's CRC already matched, so a failed tag means another key, not damage.
    throw new ArchiveError('DECRYPT_FAILED', 'cannot decrypt the archive: wrong encryption key', { cause: error });
  }
}
