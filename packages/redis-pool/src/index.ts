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
export { KVError, isKVError, type KVErrorCode } from './errors.js';
