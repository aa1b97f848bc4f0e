/**
 * Building blocks of the middleware's records: the canonical JSON of fingerprints and the stored-record version.
 * Not part of the public API: it may change in any release.
 */
export { canonicalJson } from './fingerprint.js';
export { RECORD_VERSION, zeroUsage } from './cached-response.js';
