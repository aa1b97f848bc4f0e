/**
 * A worker process: drives the sessions it owns (session n belongs to worker
 * `n % workerCount`) with a simulated chat workload through the coordinator, records
 * every acknowledged `addMessage` in its ledger before anything else, and reports
 * counters to the orchestrator over IPC. Killed with SIGKILL at random by the fault
 * injector; its successor (next generation) reads the ledgers and takes the sessions back.
 */
import { join } from 'node:path';
import { ledgerFileName, ledgerFilesOfSlot, LedgerWriter, nextIndexBySession, readLedgers } from './ledger.js';
import { Rng } from './rng.js';
import { openWorkerSystem, type SystemSession, type WorkerSystem } from './system.js';
import {
  emptyStats,
  WORKER_CONFIG_ENV,
  type OrchestratorMessage,
  type Operation,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerStats,
} from './worker-protocol.js';
import {
  cutText,
  embedQuery,
  messageBody,
  messageTag,
  parseSemanticResponse,
  phraseQuery,
  sameEmbedding,
  semanticResponse,
  sessionIdOf,
  TOPIC_COUNT,
  topicUrl,
  urlEmbedding,
} from './workload.js';

const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? 'null') as WorkerConfig | null;
if (!config) {
  process.stderr.write(`worker: ${WORKER_CONFIG_ENV} is not set\n`);
  process.exit(2);
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let stats: WorkerStats = emptyStats();
let stopping = false;

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'UNTYPED';
}

function countError(op: Operation, error: unknown): string {
  const code = errorCode(error);
  const key = `${op}:${code}`;
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
  if (code === 'UNTYPED') process.stderr.write(`worker ${config!.slot}: untyped error from ${op}: ${(error as Error)?.stack ?? String(error)}\n`);
  return code;
}

async function timed<T>(op: Operation, call: () => Promise<T>, latencies?: number[]): Promise<T> {
  const started = performance.now();
  const result = await call();
  latencies?.push(performance.now() - started);
  stats.ops[op]++;
  return result;
}

interface SessionState {
  number: number;
  id: string;
  handle: SystemSession;
  nextIndex: number;
  readyAt: number;
  rng: Rng;
}

async function addMessage(ledger: LedgerWriter, state: SessionState, role: string, text: string): Promise<void> {
  const index = state.nextIndex++;
  const content = `${messageTag(state.number, index, config!.slot, config!.generation)} ${text}`;
  ledger.intent(state.number, index);
  let seq: number | undefined;
  try {
    seq = await timed('addMessage', () => state.handle.addMessage(role, content), stats.addLatencyMs);
  } catch (error) {
    ledger.fail(state.number, index, countError('addMessage', error));
    return;
  }
  // On record before anything else may report the message as sent.
  ledger.ack(state.number, index, seq ?? 0);
}

async function getContext(state: SessionState): Promise<void> {
  try {
    await timed('getContext', () => state.handle.getContext(), stats.contextLatencyMs);
  } catch (error) {
    countError('getContext', error);
  }
}

/** Looks up the URL's embedding, caching it on a miss; checks a hit is exactly what was written. */
async function urlLookup(state: SessionState, url: string): Promise<void> {
  let cached: Float32Array | null;
  try {
    cached = await timed('urlGet', () => state.handle.urlGet(url));
  } catch (error) {
    countError('urlGet', error);
    return;
  }
  if (cached !== null) {
    stats.urlHits++;
    if (!sameEmbedding(cached, urlEmbedding(url))) stats.urlMismatches++;
    return;
  }
  stats.urlMisses++;
  try {
    await timed('urlSet', () => state.handle.urlSet(url, urlEmbedding(url)));
  } catch (error) {
    countError('urlSet', error);
  }
}

/** Asks the semantic cache; returns the response to use (cached or freshly "generated" and cached). */
async function semanticLookup(state: SessionState, topic: number, query: string): Promise<string> {
  const url = topicUrl(topic);
  const embedding = embedQuery(query);
  let cached: string | null = null;
  try {
    cached = await timed('semanticGet', () => state.handle.semanticGet(url, embedding));
  } catch (error) {
    countError('semanticGet', error);
  }
  if (cached !== null) {
    stats.semanticHits++;
    const owner = typeof cached === 'string' ? parseSemanticResponse(cached) : undefined;
    if (!owner) stats.unknownResponses++;
    else if (owner.sessionId !== state.id) stats.crossSessionHits++;
    else if (owner.topic !== topic) stats.wrongTopicHits++;
    return cached;
  }
  stats.semanticMisses++;
  const response = semanticResponse(state.id, topic, state.rng);
  try {
    await timed('semanticSet', () => state.handle.semanticSet(url, embedding, response));
  } catch (error) {
    countError('semanticSet', error);
  }
  return response;
}

/**
 * One chat turn: the user asks (a question many sessions share, often rephrased), the
 * service checks the URL and semantic caches, answers, and reads the context back.
 */
async function turn(ledger: LedgerWriter, state: SessionState, writing: boolean): Promise<void> {
  const rng = state.rng;
  // A small per-session set of topics, drawn from the global pool: sessions repeat their own
  // questions (hits) and share questions with other sessions (the cross-session trap).
  const topic = (state.number * 7 + rng.int(0, 3) * 11) % TOPIC_COUNT;
  const query = phraseQuery(topic, rng);
  if (writing) await addMessage(ledger, state, 'user', `${query}\n${messageBody(rng)}`);
  await urlLookup(state, topicUrl(topic));
  await urlLookup(state, topicUrl(rng.int(0, TOPIC_COUNT - 1)));
  const response = await semanticLookup(state, topic, query);
  await getContext(state);
  if (writing && state.nextIndex < config!.messagesPerSession) {
    await addMessage(ledger, state, 'assistant', `${cutText(response, 200)}\n${messageBody(rng)}`);
    await getContext(state);
  }
}

async function main(cfg: WorkerConfig): Promise<void> {
  const system: WorkerSystem = openWorkerSystem({
    driverKind: cfg.driverKind,
    redis: cfg.redis,
    archiveDir: cfg.archiveDir,
    ...(cfg.archiveUrl ? { archiveUrl: cfg.archiveUrl } : {}),
    keyPrefix: cfg.keyPrefix,
    hotWindowSize: cfg.hotWindowSize,
    sessionMaxTokens: cfg.sessionMaxTokens,
    similarityThreshold: cfg.similarityThreshold,
    embeddingModelId: 'stress-model',
    evictAfterMs: cfg.evictAfterMs,
  });
  const previous = nextIndexBySession(readLedgers(ledgerFilesOfSlot(cfg.ledgerDir, cfg.slot)));
  const ledger = new LedgerWriter(join(cfg.ledgerDir, ledgerFileName(cfg.slot, cfg.generation)));
  const base = new Rng(cfg.seed ^ Math.imul(cfg.slot + 1, 0x9e3779b1) ^ Math.imul(cfg.generation + 1, 0x85ebca6b));

  const sessions: SessionState[] = [];
  for (let number = cfg.slot; number < cfg.sessions; number += cfg.workerCount) {
    const id = sessionIdOf(cfg.runTag, number);
    sessions.push({ number, id, handle: system.session(id), nextIndex: previous.get(number) ?? 0, readyAt: 0, rng: base.fork(`s${number}`) });
  }

  process.on('message', (message: OrchestratorMessage) => {
    if (message?.type === 'stop') stopping = true;
  });
  // An orphaned worker (orchestrator gone) must not run forever.
  process.on('disconnect', () => {
    stopping = true;
  });

  const flush = () => {
    send({ type: 'stats', slot: cfg.slot, stats });
    stats = emptyStats();
  };
  const reporter = setInterval(flush, 500);
  reporter.unref();

  const evictionTimer = setInterval(
    () => {
      system.evictIdle().then(
        (evicted) => {
          stats.evicted += evicted;
        },
        () => undefined,
      );
    },
    Math.max(250, Math.floor(cfg.evictAfterMs / 4)),
  );
  evictionTimer.unref();

  send({ type: 'ready', slot: cfg.slot, generation: cfg.generation });

  let finishedSent = false;
  let cursor = 0;
  const lane = async () => {
    while (!stopping) {
      const now = Date.now();
      const writing = sessions.some((s) => s.nextIndex < cfg.messagesPerSession);
      if (!writing && !finishedSent) {
        finishedSent = true;
        send({ type: 'finished', slot: cfg.slot });
      }
      // Round-robin over sessions whose idle gap is over; each session is in at most one lane.
      let picked: SessionState | undefined;
      for (let i = 0; i < sessions.length; i++) {
        const candidate = sessions[(cursor + i) % sessions.length]!;
        if (candidate.readyAt <= now && !busy.has(candidate.number)) {
          picked = candidate;
          cursor = (cursor + i + 1) % sessions.length;
          break;
        }
      }
      if (!picked) {
        await sleep(20);
        continue;
      }
      busy.add(picked.number);
      try {
        await turn(ledger, picked, picked.nextIndex < cfg.messagesPerSession);
      } finally {
        busy.delete(picked.number);
      }
      const rng = picked.rng;
      // Idle gaps: some sessions fall silent long enough to be evicted, the rest think briefly.
      picked.readyAt =
        Date.now() +
        (rng.chance(cfg.idleChance)
          ? rng.int(cfg.evictAfterMs + 500, cfg.evictAfterMs * 2 + 1000)
          : rng.int(Math.floor(cfg.turnIntervalMs / 2), Math.ceil((cfg.turnIntervalMs * 3) / 2)));
      // Read-only traffic after the writes are done: keep the caches busy for the faults, but gently.
      if (picked.nextIndex >= cfg.messagesPerSession) picked.readyAt += 500;
    }
  };
  const busy = new Set<number>();
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, sessions.length) }, lane));

  clearInterval(reporter);
  clearInterval(evictionTimer);
  ledger.close();
  // The last report must reach the orchestrator before the process exits.
  await new Promise<void>((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send({ type: 'stats', slot: cfg.slot, stats } satisfies WorkerMessage, undefined, {}, () => resolve());
  });
  await system.close().catch((error: unknown) => process.stderr.write(`worker ${cfg.slot}: close failed: ${String(error)}\n`));
  if (process.connected) process.disconnect();
}

main(config).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`worker ${config.slot} crashed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
