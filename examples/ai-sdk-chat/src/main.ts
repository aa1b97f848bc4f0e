/**
 * A Vercel AI SDK chat with lix-cache in front of the model:
 *   1. a question misses the semantic cache and calls the model,
 *   2. the same question rephrased is answered from the cache (no model call),
 *   3. a streamed answer is stored and replayed, part for part, for a rephrasing,
 *   4. the chat is saved as UI messages (useChat's format) and loaded back.
 * Offline by default: a mock model (from `ai/test`) and a demo embedder, on the
 * in-memory driver. REDIS_URL=redis://host:port runs it on Redis; with
 * AI_GATEWAY_API_KEY set the answers come from a real model through the AI Gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageModelV3, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { createChatStore, embeddingCacheMiddleware, semanticCacheMiddleware } from '@lix/ai-sdk';
import { ConversationArchive } from '@lix/archive';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { gateway, generateText, streamText, wrapEmbeddingModel, wrapLanguageModel, type UIMessage } from 'ai';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { demoEmbeddingModel } from './demo-embedder.js';

function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

const ANSWERS: Array<[RegExp, string]> = [
  [/capital/i, 'Paris is the capital of France.'],
  [/semantic cache/i, 'A semantic cache embeds each question and answers a new one from a stored answer when the two embeddings are close enough.'],
];

function answerFor(prompt: Parameters<LanguageModelV3['doGenerate']>[0]['prompt']): string {
  const last = prompt.at(-1);
  const text = last?.role === 'user' ? last.content.map((part) => (part.type === 'text' ? part.text : '')).join(' ') : '';
  return ANSWERS.find(([pattern]) => pattern.test(text))?.[1] ?? 'I do not know.';
}

/** Stands in for the LLM: canned answers, streamed word by word with a small delay, and a call count. */
function mockModel(): LanguageModelV3 {
  const usage = { inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 20, text: 20, reasoning: 0 } };
  return new MockLanguageModelV3({
    provider: 'lix-demo',
    modelId: 'mock-llm',
    doGenerate: async ({ prompt }) => ({
      content: [{ type: 'text', text: answerFor(prompt) }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage,
      response: { id: `resp-${Date.now()}`, modelId: 'mock-llm', timestamp: new Date() },
      warnings: [],
    }),
    doStream: async ({ prompt }) => {
      const words = answerFor(prompt).split(/(?<= )/);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: `resp-${Date.now()}`, modelId: 'mock-llm', timestamp: new Date() },
        { type: 'text-start', id: 't' },
        ...words.map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta })),
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
      ];
      return { stream: simulateReadableStream({ chunks: parts, initialDelayInMs: 30, chunkDelayInMs: 5 }) };
    },
  });
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  const driver: KVDriver = redisUrl ? createIoredisDriver({ url: redisUrl }) : createMemoryDriver();
  await driver.connect();
  const archiveDir = mkdtempSync(join(tmpdir(), 'lix-ai-sdk-chat-'));
  const archive = new ConversationArchive({ dir: archiveDir });
  // A unique prefix keeps reruns against a shared Redis apart.
  const keyPrefix = `aisdkdemo-${process.pid}-${Date.now().toString(36)}`;
  line(`driver: ${redisUrl ? 'ioredis' : 'memory'}`);
  line('embeddings: DEMO EMBEDDER (hashed content words, not a language model)');

  const useGateway = Boolean(process.env.AI_GATEWAY_API_KEY);
  const baseModel: LanguageModelV3 = useGateway ? (gateway(process.env.LIX_DEMO_MODEL ?? 'openai/gpt-4o-mini') as LanguageModelV3) : mockModel();
  line(`model: ${useGateway ? `${baseModel.modelId} via the AI Gateway` : 'mock-llm (offline)'}`);
  let modelCalls = 0;
  const counted = wrapLanguageModel({
    model: baseModel,
    middleware: {
      specificationVersion: 'v3',
      wrapGenerate: ({ doGenerate }) => {
        modelCalls++;
        return doGenerate();
      },
      wrapStream: ({ doStream }) => {
        modelCalls++;
        return doStream();
      },
    },
  });

  const embedder = demoEmbeddingModel();
  const embeddingModel = wrapEmbeddingModel({ model: embedder, middleware: embeddingCacheMiddleware({ driver, keyPrefix }) });
  const cache = semanticCacheMiddleware({ driver, embeddingModel, sessionId: 'demo-user', cacheOptions: { keyPrefix, similarityThreshold: 0.85 } });
  const model = wrapLanguageModel({ model: counted, middleware: cache });
  const system = 'You answer in one sentence.';

  line();
  line('1. a question the cache has not seen');
  const first = await generateText({ model, system, prompt: 'What is the capital of France?' });
  line(`   answer: ${first.text}`);
  line(`   cache: ${first.providerMetadata?.lix?.hit === true ? 'HIT' : 'MISS'}, model calls so far: ${modelCalls}`);

  line('2. the same question, rephrased');
  const second = await generateText({ model, system, prompt: "Tell me France's capital city, please" });
  line(`   answer: ${second.text}`);
  line(
    `   cache: ${second.providerMetadata?.lix?.hit === true ? `HIT (similarity ${Number(second.providerMetadata.lix.similarity).toFixed(2)})` : 'MISS'}, model calls so far: ${modelCalls}, tokens spent: ${second.usage.totalTokens ?? 0}`,
  );

  line('3. a streamed answer, then a rephrasing replayed from the cache');
  const streamed = streamText({ model, system, prompt: 'How does a semantic cache work?' });
  let chunks = 0;
  for await (const delta of streamed.textStream) if (delta !== '') chunks++;
  line(`   streamed from the model: ${chunks} text chunks, model calls so far: ${modelCalls}`);
  const replayed = streamText({ model, system, prompt: 'Explain briefly how semantic cache works' });
  let replayedChunks = 0;
  for await (const delta of replayed.textStream) if (delta !== '') replayedChunks++;
  const replayMeta = (await replayed.providerMetadata)?.lix;
  line(`   replayed: ${replayedChunks} text chunks, cache ${replayMeta?.hit === true ? 'HIT' : 'MISS'}, model calls so far: ${modelCalls}`);
  line(`   same text: ${(await replayed.text) === (await streamed.text) ? 'yes' : 'no'}`);

  line('4. the chat saved as UI messages and loaded back');
  const store = createChatStore({ driver, archive, keyPrefix });
  const messages: UIMessage[] = [
    { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'What is the capital of France?' }] },
    { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: first.text }], metadata: { cached: false } },
    { id: 'u2', role: 'user', parts: [{ type: 'text', text: "Tell me France's capital city, please" }] },
    { id: 'a2', role: 'assistant', parts: [{ type: 'text', text: second.text }], metadata: { cached: true } },
  ];
  const saved = await store.saveChat({ chatId: 'demo-chat', messages: messages.slice(0, 2) });
  const savedMore = await store.saveChat({ chatId: 'demo-chat', messages });
  const loaded = await store.loadChat('demo-chat');
  line(
    `   saved ${saved.appended} then ${savedMore.appended} new messages; loaded ${loaded.length}: ${loaded.map((message) => `${message.id}/${message.role}`).join(' ')}`,
  );
  line(`   loaded exactly what was saved: ${JSON.stringify(loaded) === JSON.stringify(messages) ? 'yes' : 'no'}`);

  const stats = cache.getStats();
  line();
  line(`semantic cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.stores} stored, model calls ${modelCalls}`);
  line(`demo embedder calls: ${embedder.embeddedTexts} texts for ${stats.lookups} lookups`);

  await archive.close();
  await driver.close();
  rmSync(archiveDir, { recursive: true, force: true });
  line('demo finished');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
