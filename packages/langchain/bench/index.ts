/**
 * @lix/langchain benchmark: what a LangChain cache hit costs on top of the semantic cache.
 *
 * Per driver (ioredis and node-redis against one throwaway redis-server started here, and
 * the in-memory driver), with 50 stored entries of 384 dimensions in one scope and model:
 *
 * - ours: `LixSemanticCache.lookup(prompt, llmKey)`, a hit, with an embeddings double that
 *   returns a precomputed vector (the embedding model is excluded, as the target says);
 *   it extracts the last human turn, digests the llmKey (memoised), looks up, and restores
 *   the generations with LangChain's deserialisation (a new AIMessage per hit);
 * - reference: `SemanticCache.lookup(url, vector)` on a scope holding the same 50 records,
 *   i.e. what a user calling the semantic cache directly would pay.
 *
 * Calls alternate one by one (ours, reference, ours, …) so load drift hits both alike. The
 * overhead is the median over RUNS runs of (mean ours − mean reference) over OPS call pairs;
 * per-call medians, means and p99s are printed too. A "pure" row times the adapter's CPU work alone.
 *
 * A second figure per driver, with no target: reading a 20-message history through
 * `LixChatMessageHistory.getMessages()` against the window's own `getContext()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embeddings } from '@langchain/core/embeddings';
import { AIMessage, HumanMessage, SystemMessage, getBufferString } from '@langchain/core/messages';
import type { ChatGeneration } from '@langchain/core/outputs';
import { ConversationArchive } from '@lix/archive';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { SemanticCache } from '@lix/semantic-cache';
import { HybridConversationCache } from '@lix/session-window';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { LixChatMessageHistory, LixSemanticCache, lastHumanTurn } from '../src/index.js';
import { decodeGenerations, encodeGenerations } from '../src/internal.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const OPS = Number(process.env.BENCH_OPS ?? 200);
const DIMENSIONS = 384;
const ENTRIES = 50;
const TARGET_MS = 0.2;

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const random = seededRandom(20261201);
const randomVector = (): number[] => Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);

/** Returns the vector registered for a text: the embedding model is out of the measurement. */
class PrecomputedEmbeddings extends Embeddings {
  readonly vectors = new Map<string, number[]>();
  constructor() {
    super({});
  }
  async embedDocuments(documents: string[]): Promise<number[][]> {
    return Promise.all(documents.map((document) => this.embedQuery(document)));
  }
  async embedQuery(document: string): Promise<number[]> {
    const vector = this.vectors.get(document);
    if (vector === undefined) throw new Error(`bench: no vector for ${JSON.stringify(document)}`);
    return vector;
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function timeOnce(op: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - start) / 1000;
}

/**
 * Per-call µs of ours and the reference, alternating call by call so both see the same
 * load; the overhead is the median over runs of (mean ours − mean reference) of that run.
 */
async function compare(ours: () => Promise<unknown>, reference: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) {
    await ours();
    await reference();
  }
  const a: number[] = [];
  const b: number[] = [];
  const differences: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let sumOurs = 0;
    let sumReference = 0;
    for (let i = 0; i < OPS; i++) {
      const x = await timeOnce(ours);
      const y = await timeOnce(reference);
      a.push(x);
      b.push(y);
      sumOurs += x;
      sumReference += y;
    }
    differences.push((sumOurs - sumReference) / OPS);
  }
  return {
    ours: median(a),
    reference: median(b),
    oursMean: mean(a),
    referenceMean: mean(b),
    oursP99: percentile(a, 99),
    referenceP99: percentile(b, 99),
    overhead: median(differences),
    medianOverhead: median(a) - median(b),
  };
}

const corpus = loadCorpus();
const answers = corpus.flatMap((conversation) => conversation.turns.filter((turn) => turn.role === 'assistant').map((turn) => turn.content));
const questions = corpus.flatMap((conversation) => conversation.turns.filter((turn) => turn.role === 'user').map((turn) => turn.content));
const LLM_KEY = 'model_name:"gpt-4o-mini",temperature:0,_type:"openai",_model:"base_chat_model",stop:undefined';

function generationOf(i: number): ChatGeneration[] {
  const text = answers[i % answers.length]!;
  const message = new AIMessage({
    content: text,
    id: `chatcmpl-${i}`,
    response_metadata: { model_name: 'gpt-4o-mini', finish_reason: 'stop', system_fingerprint: 'fp_0' },
    usage_metadata: { input_tokens: 120 + i, output_tokens: 80, total_tokens: 200 + i },
  });
  return [{ text, message, generationInfo: { finish_reason: 'stop' } }];
}

interface Row {
  driver: string;
  figure: string;
  ours: string;
  reference: string;
  overhead: string;
  target: string;
}
const us = (value: number) => `${value.toFixed(1)} µs`;
const ms = (valueUs: number) => `${(valueUs / 1000).toFixed(3)} ms`;

async function benchDriver(name: string, driver: KVDriver): Promise<Row[]> {
  const keyPrefix = `bench-lc:${name}:${Date.now()}`;
  const embeddings = new PrecomputedEmbeddings();
  const cache = new LixSemanticCache({ driver, keyPrefix, scope: 'bench', embeddings, similarityThreshold: 0.9 });
  const raw = new SemanticCache<unknown>({ driver, keyPrefix, sessionId: 'bench-raw', similarityThreshold: 0.9 });
  const vectors: number[][] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const question = `${questions[i % questions.length]!} (#${i})`;
    const vector = randomVector();
    vectors.push(vector);
    embeddings.vectors.set(question, vector);
    const prompt = getBufferString([new SystemMessage('You are a helpful assistant.'), new HumanMessage(question)]);
    await cache.update(prompt, LLM_KEY, generationOf(i));
    await raw.set('https://bench.example/raw', vector, encodeGenerations(generationOf(i)));
  }
  const target = 17;
  const hitQuestion = `${questions[target % questions.length]!} (rephrased)`;
  embeddings.vectors.set(hitQuestion, vectors[target]!);
  const hitPrompt = getBufferString([
    new SystemMessage('You are a helpful assistant.'),
    new HumanMessage('Hello!'),
    new AIMessage('Hi, how can I help?'),
    new HumanMessage(hitQuestion),
  ]);
  const hitVector = vectors[target]!;
  const check = await cache.lookup(hitPrompt, LLM_KEY);
  if (check === null || (check[0] as ChatGeneration).message.content !== answers[target % answers.length]) throw new Error('bench: expected a hit on entry 17');
  if ((await raw.lookup('https://bench.example/raw', hitVector)) === null) throw new Error('bench: expected a raw hit');
  if (cache.getStats().failedUpdates !== 0) throw new Error('bench: an update failed');

  const hit = await compare(
    () => cache.lookup(hitPrompt, LLM_KEY),
    () => raw.lookup('https://bench.example/raw', hitVector),
  );
  await cache.semanticCache.clearSession();
  await raw.clearSession();
  return [
    {
      driver: name,
      figure: 'hit: LixSemanticCache.lookup vs SemanticCache.lookup (50×384)',
      ours: `${us(hit.ours)} (mean ${us(hit.oursMean)}, p99 ${us(hit.oursP99)})`,
      reference: `${us(hit.reference)} (mean ${us(hit.referenceMean)}, p99 ${us(hit.referenceP99)})`,
      overhead: `${ms(hit.overhead)} (difference of medians ${ms(hit.medianOverhead)})`,
      target: `≤ ${TARGET_MS} ms`,
    },
  ];
}

/**
 * Reading a 20-message history through LangChain (restoring each message) against the
 * window's own `getContext()` of the same session: what the LangChain layer adds to a read.
 */
async function benchHistory(name: string, driver: KVDriver): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'lix-langchain-bench-'));
  const archive = new ConversationArchive({ dir });
  try {
    const keyPrefix = `bench-lh:${name}:${Date.now()}`;
    const history = new LixChatMessageHistory({ sessionId: 'bench', driver, archive, keyPrefix, hotWindowSize: 20 });
    const window = new HybridConversationCache({ sessionId: 'bench', driver, archive, keyPrefix, hotWindowSize: 20 });
    for (let i = 0; i < 20; i++) {
      await history.addMessage(
        i % 2 === 0
          ? new HumanMessage({ content: questions[i % questions.length]!, id: `h-${i}` })
          : new AIMessage({ content: answers[i % answers.length]!, id: `a-${i}`, response_metadata: { model_name: 'gpt-4o-mini', finish_reason: 'stop' } }),
      );
    }
    if ((await history.getMessages()).length !== 20 || (await window.getContext()).length !== 20) throw new Error('bench: expected a 20-message window');
    const read = await compare(
      () => history.getMessages(),
      () => window.getContext(),
    );
    await history.clear();
    return {
      driver: name,
      figure: "history: getMessages() vs the window's getContext() (20 messages)",
      ours: `${us(read.ours)} (mean ${us(read.oursMean)}, p99 ${us(read.oursP99)})`,
      reference: `${us(read.reference)} (mean ${us(read.referenceMean)}, p99 ${us(read.referenceP99)})`,
      overhead: `${ms(read.overhead)} (difference of medians ${ms(read.medianOverhead)})`,
      target: '—',
    };
  } finally {
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The adapter's own CPU work per hit: extract the question, restore the generations from the decoded record. */
function pureRow(): Row {
  const prompt = getBufferString([
    new SystemMessage('You are a helpful assistant.'),
    new HumanMessage('Hello!'),
    new AIMessage('Hi!'),
    new HumanMessage(questions[3]!),
  ]);
  const record = structuredClone(encodeGenerations(generationOf(3)));
  const iterations = 2000;
  const samples: number[] = [];
  // A checksum of the results, so no work can be optimised away.
  let checksum = 0;
  for (let i = 0; i < 500; i++) checksum += decodeGenerations(record)!.length;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      checksum += lastHumanTurn(prompt)!.length;
      checksum += String((decodeGenerations(record)![0] as ChatGeneration).message.content).length;
    }
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
  }
  if (checksum === 0) throw new Error('bench: nothing was decoded');
  return {
    driver: 'pure',
    figure: 'extract question + restore generations (no I/O)',
    ours: us(median(samples)),
    reference: '—',
    overhead: ms(median(samples)),
    target: '—',
  };
}

function printTable(rows: Row[]): void {
  console.log('\n| driver | figure | ours per call: median | reference per call: median | overhead per call | target |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.driver} | ${row.figure} | ${row.ours} | ${row.reference} | ${row.overhead} | ${row.target} |`);
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
console.log(`runs: ${RUNS} × ${OPS} call pairs per figure, ours and the reference alternating call by call; redis-server started by the bench on a free port`);

const rows: Row[] = [pureRow()];
const server = await startRedisServer();
try {
  for (const [name, create] of [
    ['ioredis', () => createIoredisDriver({ url: server.url })],
    ['node-redis', () => createNodeRedisDriver({ url: server.url })],
  ] as const) {
    const driver = create();
    await driver.connect();
    try {
      rows.push(...(await benchDriver(name, driver)));
      rows.push(await benchHistory(name, driver));
    } finally {
      await driver.close();
    }
  }
  const memory = createMemoryDriver();
  rows.push(...(await benchDriver('memory', memory)));
  rows.push(await benchHistory('memory', memory));
  await memory.close();
} finally {
  await server.stop();
}
printTable(rows);
