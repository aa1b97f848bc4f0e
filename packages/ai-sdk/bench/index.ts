/**
 * @lix/ai-sdk benchmark, per driver (ioredis on a throwaway redis-server started here,
 * and the in-memory driver as an extra row):
 *
 * 1. Hit overhead: `wrapGenerate` of the middleware answering from the cache, next to a raw
 *    `SemanticCache.lookup` of the same entry with the same embedding, and next to the
 *    embedding call alone (`embed` from `ai` over an embedder that returns a precomputed
 *    vector at once). overhead = middleware − embed − raw lookup; target ≤ 0.2 ms.
 * 2. Streamed miss: time to the first text delta through `wrapLanguageModel` with the
 *    middleware, next to the same model without it. The model's first token comes 50 ms
 *    after the call (LLM_TTFT_MS), the embedder answers at once; every question is new, so
 *    every call is a miss that is stored at the end. Target ≤ 1.05×.
 *
 * Ours and the references alternate call by call, so load drift hits them alike.
 */
import { cpus, loadavg } from 'node:os';
import type { EmbeddingModelV3, LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { SemanticCache } from '@lix/semantic-cache';
import { startRedisServer } from '@lix/test-utils';
import { embed, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { defaultFingerprint, semanticCacheMiddleware } from '../src/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const OPS = Number(process.env.BENCH_OPS ?? 300);
const TTFT_SAMPLES = Number(process.env.BENCH_TTFT_SAMPLES ?? 60);
const LLM_TTFT_MS = Number(process.env.LLM_TTFT_MS ?? 50);
const DIMENSIONS = 384;
const STORED = 20;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const p99 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))]!;

/** Deterministic pseudo-random unit-ish vectors (xorshift), so runs compare alike. */
function vector(seed: number): number[] {
  let state = seed * 2654435761 + 1;
  const out = new Array<number>(DIMENSIONS);
  for (let i = 0; i < DIMENSIONS; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** FNV-1a of the text: distinct questions get distinct (near-orthogonal) vectors. */
function textSeed(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0) % 1_000_000_007;
}

/** An embedding model that answers at once with a vector picked by the text, so the embedding costs only the SDK's own work. */
function instantEmbedder(vectors: Map<string, number[]>): EmbeddingModelV3 {
  return {
    specificationVersion: 'v3',
    provider: 'bench',
    modelId: 'instant',
    maxEmbeddingsPerCall: 2048,
    supportsParallelCalls: true,
    async doEmbed({ values }) {
      return { embeddings: values.map((value) => vectors.get(value) ?? vector(textSeed(value))), warnings: [] };
    },
  };
}

async function timeAsync(op: () => PromiseLike<unknown>, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await op();
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

function usage() {
  return { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };
}

const ANSWER = 'A semantic cache embeds each question and answers a new one from a stored answer when the embeddings are close enough. '.repeat(4);

function callOf(question: string): LanguageModelV3CallOptions {
  return {
    prompt: [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: question }] },
    ],
    temperature: 0,
  };
}

interface Row {
  driver: string;
  figure: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
}

async function hitOverhead(name: string, driver: KVDriver, rows: Row[]): Promise<void> {
  const keyPrefix = `bench-aisdk-${process.pid}-${name}`;
  const vectors = new Map<string, number[]>();
  const question = 'How does a semantic cache decide that two questions match?';
  vectors.set(question, vector(1));
  const embeddingModel = instantEmbedder(vectors);
  const model = new MockLanguageModelV3({
    provider: 'bench',
    modelId: 'bench-llm',
    doGenerate: async () => ({ content: [{ type: 'text', text: ANSWER }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(), warnings: [] }),
  });
  const middleware = semanticCacheMiddleware({ driver, embeddingModel, sessionId: 'bench', cacheOptions: { keyPrefix, similarityThreshold: 0.9 } });
  // Fill the partition: STORED answers, the one we ask for among them.
  for (let i = 0; i < STORED; i++) {
    const text = i === 0 ? question : `stored question number ${i}`;
    if (i > 0) vectors.set(text, vector(100 + i));
    await middleware.wrapGenerate!({
      doGenerate: () => model.doGenerate(callOf(text)),
      doStream: () => model.doStream(callOf(text)),
      params: callOf(text),
      model,
    });
  }
  const params = callOf(question);
  const notCalled = (): never => {
    throw new Error('the benchmark expected a hit');
  };
  const raw = new SemanticCache({ driver, sessionId: 'bench', keyPrefix, similarityThreshold: 0.9 });
  const partition = `ai-sdk:${defaultFingerprint(params, model)}`;
  const embedding = vector(1);
  const check = await raw.lookup(partition, embedding);
  if (check === null) throw new Error('raw lookup missed: the benchmark key layout no longer matches the middleware');
  const ours = () => middleware.wrapGenerate!({ doGenerate: notCalled, doStream: notCalled, params, model });
  const reference = () => raw.lookup(partition, embedding);
  const embedOnly = () => embed({ model: embeddingModel, value: question, maxRetries: 0 });
  for (const op of [ours, reference, embedOnly]) await timeAsync(op, Math.min(50, OPS));
  // Interleaved call by call (not batch by batch), so a load spike on the shared machine
  // lands on all three alike; medians over RUNS × OPS single-call samples each.
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const once = async (op: () => PromiseLike<unknown>): Promise<number> => {
    const start = process.hrtime.bigint();
    await op();
    return Number(process.hrtime.bigint() - start) / 1000;
  };
  for (let i = 0; i < RUNS * OPS; i++) {
    a.push(await once(ours));
    b.push(await once(reference));
    c.push(await once(embedOnly));
  }
  const oursUs = median(a);
  const refUs = median(b);
  const embedUs = median(c);
  const overheadMs = (oursUs - embedUs - refUs) / 1000;
  rows.push({
    driver: name,
    figure: 'hit: middleware wrapGenerate (embed + lookup + rebuild)',
    ours: `${oursUs.toFixed(1)} µs`,
    reference: `raw lookup ${refUs.toFixed(1)} µs`,
    ratio: `${(oursUs / refUs).toFixed(2)}×`,
    target: '—',
  });
  rows.push({
    driver: name,
    figure: 'hit: embed() of the SDK alone (instant embedder)',
    ours: `${embedUs.toFixed(1)} µs`,
    reference: '—',
    ratio: '—',
    target: '—',
  });
  rows.push({
    driver: name,
    figure: 'hit: overhead over raw lookup, embedding excluded',
    ours: `${overheadMs.toFixed(3)} ms`,
    reference: '—',
    ratio: '—',
    target: `≤ 0.2 ms ${overheadMs <= 0.2 ? 'met' : 'MISSED'}`,
  });
}

function slowFirstTokenModel(): LanguageModelV3 {
  return new MockLanguageModelV3({
    provider: 'bench',
    modelId: 'bench-llm',
    doStream: async () => {
      const words = ANSWER.split(/(?<= )/);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: 'r', modelId: 'bench-llm', timestamp: new Date() },
        { type: 'text-start', id: 't' },
        ...words.map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta })),
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage() },
      ];
      let index = 0;
      return {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          async pull(controller) {
            // The first text delta arrives LLM_TTFT_MS after the call, like a provider's first token.
            if (parts[index]?.type === 'text-delta' && index === 3) await new Promise((resolve) => setTimeout(resolve, LLM_TTFT_MS));
            const part = parts[index++];
            if (part === undefined) controller.close();
            else controller.enqueue(part);
          },
        }),
      };
    },
  });
}

async function firstTokenMs(model: LanguageModelV3, question: string): Promise<number> {
  const start = process.hrtime.bigint();
  const { stream } = await model.doStream(callOf(question));
  const reader = stream.getReader();
  let elapsed = -1;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    if (elapsed < 0 && next.value.type === 'text-delta') elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return elapsed;
}

async function streamedMiss(name: string, driver: KVDriver, rows: Row[]): Promise<void> {
  const keyPrefix = `bench-aisdk-ttft-${process.pid}-${name}`;
  const embeddingModel = instantEmbedder(new Map());
  const base = slowFirstTokenModel();
  const middleware = semanticCacheMiddleware({
    driver,
    embeddingModel,
    sessionId: 'bench',
    cacheOptions: { keyPrefix, similarityThreshold: 0.99, maxItemsPerUrl: 1000 },
  });
  const wrapped = wrapLanguageModel({ model: base, middleware });
  const through: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 5; i++) {
    await firstTokenMs(wrapped, `warm-up question ${i}`);
    await firstTokenMs(base, `warm-up question ${i}`);
  }
  for (let i = 0; i < TTFT_SAMPLES; i++) {
    through.push(await firstTokenMs(wrapped, `miss question ${i}`));
    direct.push(await firstTokenMs(base, `miss question ${i}`));
  }
  const stats = middleware.getStats();
  if (stats.hits > 0) throw new Error(`expected only misses, got ${stats.hits} hits`);
  const ratio = median(through) / median(direct);
  rows.push({
    driver: name,
    figure: `streamed miss: time to first token (model TTFT ${LLM_TTFT_MS} ms), median`,
    ours: `${median(through).toFixed(2)} ms`,
    reference: `${median(direct).toFixed(2)} ms`,
    ratio: `${ratio.toFixed(3)}×`,
    target: `≤ 1.05× ${ratio <= 1.05 ? 'met' : 'MISSED'}`,
  });
  rows.push({
    driver: name,
    figure: 'streamed miss: time to first token, mean / p99',
    ours: `${mean(through).toFixed(2)} / ${p99(through).toFixed(2)} ms`,
    reference: `${mean(direct).toFixed(2)} / ${p99(direct).toFixed(2)} ms`,
    ratio: `${(mean(through) / mean(direct)).toFixed(3)}× / ${(p99(through) / p99(direct)).toFixed(3)}×`,
    target: '—',
  });
  rows.push({
    driver: name,
    figure: 'streamed miss: added latency before the first token, median',
    ours: `${(median(through) - median(direct)).toFixed(2)} ms`,
    reference: '—',
    ratio: '—',
    target: '—',
  });
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const rows: Row[] = [];
  try {
    const targets: Array<[string, KVDriver]> = [
      ['ioredis', createIoredisDriver({ host: server.host, port: server.port })],
      ['memory', createMemoryDriver()],
    ];
    for (const [name, driver] of targets) {
      await driver.connect();
      await hitOverhead(name, driver, rows);
      await streamedMiss(name, driver, rows);
      await driver.close();
    }
  } finally {
    await server.stop();
  }
  process.stdout.write(
    `${cpus().length} cores, Node ${process.version}, load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}; ${RUNS} runs × ${OPS} calls (hit), ${TTFT_SAMPLES} samples (TTFT)\n\n`,
  );
  process.stdout.write('| driver | figure | ours | reference | ratio | target |\n|---|---|---|---|---|---|\n');
  for (const row of rows) process.stdout.write(`| ${row.driver} | ${row.figure} | ${row.ours} | ${row.reference} | ${row.ratio} | ${row.target} |\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
