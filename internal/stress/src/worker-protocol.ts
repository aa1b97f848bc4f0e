import type { DriverKind, RedisTarget } from './system.js';

/** Everything a worker process needs, passed as JSON in `LIX_STRESS_WORKER`. */
export interface WorkerConfig {
  slot: number;
  generation: number;
  workerCount: number;
  sessions: number;
  messagesPerSession: number;
  runTag: string;
  driverKind: DriverKind;
  redis: RedisTarget;
  archiveDir: string;
  /** `postgres://…`: the archive is the PostgreSQL store (then `archiveDir` is unused). */
  archiveUrl: string | undefined;
  ledgerDir: string;
  keyPrefix: string;
  seed: number;
  /** Sessions a worker drives at the same time (each session's calls stay sequential). */
  concurrency: number;
  hotWindowSize: number;
  sessionMaxTokens: number | undefined;
  similarityThreshold: number;
  evictAfterMs: number;
  /** Probability that a session goes idle for longer than `evictAfterMs` after a turn. */
  idleChance: number;
  /**
   * Mean pause between two turns of one session, so that the writes spread over the
   * phase and the faults hit a system under load (0: as fast as the system answers).
   */
  turnIntervalMs: number;
}

/** Name of the environment variable holding the {@link WorkerConfig}. */
export const WORKER_CONFIG_ENV = 'LIX_STRESS_WORKER';

/** Operations a worker times and counts. */
export const OPERATIONS = ['addMessage', 'getContext', 'semanticGet', 'semanticSet', 'urlGet', 'urlSet'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Counters a worker sends every half second (as a delta since its previous report). */
export interface WorkerStats {
  ops: Record<Operation, number>;
  /** Failed calls by `operation:code` (`UNTYPED` when the error had no string code). */
  errors: Record<string, number>;
  addLatencyMs: number[];
  contextLatencyMs: number[];
  semanticHits: number;
  semanticMisses: number;
  /** A semantic `get` returned a response cached by another session. */
  crossSessionHits: number;
  /** A hit whose response is about another question of the same session (a similarity false positive). */
  wrongTopicHits: number;
  /** A hit that is not a response this workload ever wrote. */
  unknownResponses: number;
  urlHits: number;
  urlMisses: number;
  /** A cached URL embedding that differs from the one written for that URL. */
  urlMismatches: number;
  evicted: number;
}

/** Messages from a worker to the orchestrator. */
export type WorkerMessage =
  | { type: 'ready'; slot: number; generation: number }
  | { type: 'stats'; slot: number; stats: WorkerStats }
  | { type: 'finished'; slot: number };

/** Messages from the orchestrator to a worker. */
export type OrchestratorMessage = { type: 'stop' };

/** Zeroed counters. */
export function emptyStats(): WorkerStats {
  return {
    ops: { addMessage: 0, getContext: 0, semanticGet: 0, semanticSet: 0, urlGet: 0, urlSet: 0 },
    errors: {},
    addLatencyMs: [],
    contextLatencyMs: [],
    semanticHits: 0,
    semanticMisses: 0,
    crossSessionHits: 0,
    wrongTopicHits: 0,
    unknownResponses: 0,
    urlHits: 0,
    urlMisses: 0,
    urlMismatches: 0,
    evicted: 0,
  };
}

/** Adds `delta` into `into`. */
export function addStats(into: WorkerStats, delta: WorkerStats): WorkerStats {
  for (const op of OPERATIONS) into.ops[op] += delta.ops[op];
  for (const [key, count] of Object.entries(delta.errors)) into.errors[key] = (into.errors[key] ?? 0) + count;
  for (const value of delta.addLatencyMs) into.addLatencyMs.push(value);
  for (const value of delta.contextLatencyMs) into.contextLatencyMs.push(value);
  const scalar = [
    'semanticHits',
    'semanticMisses',
    'crossSessionHits',
    'wrongTopicHits',
    'unknownResponses',
    'urlHits',
    'urlMisses',
    'urlMismatches',
    'evicted',
  ] as const;
  for (const key of scalar) into[key] += delta[key];
  return into;
}
