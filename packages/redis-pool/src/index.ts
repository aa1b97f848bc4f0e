export type {
  KVArg,
  ScriptReply,
  SetOptions,
  ScoredMember,
  RangeLimit,
  ScanOptions,
  KVBatchCommands,
  KVBatch,
  BatchOptions,
  KVDriver,
  Logger,
  Clock,
} from './driver.js';
export { systemClock } from './driver.js';
export { defineScript, argString, argNumber, type KVScript, type MemoryScript, type MemoryStore, type ScriptDefinition } from './script.js';
export { KVError, isKVError, type KVErrorCode } from './shared/errors.js';
export { keySlot, hashTagOf, crc16, groupBySlot, CLUSTER_SLOTS } from './cluster/slot.js';
export type { RedisConnectionOptions, RedisNodeAddress } from './clients/connection-options.js';
export {
  getPooledDriver,
  closeAllPooledDrivers,
  pooledDriverCount,
  pooledDriverKey,
  type PooledDriverHandle,
  type PooledDriverKind,
  type PooledDriverOptions,
} from './pool.js';
