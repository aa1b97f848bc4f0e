import type { LanguageModelV3Middleware, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { z } from 'zod';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { beforeAll, describe, expect, it } from 'vitest';
import { semanticCacheMiddleware, type SemanticCacheMiddlewareOptions } from '../src/index.js';
import { STREAM_TIMESTAMP, streamParts, testEmbeddingModel, testModel, textResult, usage } from './helpers.js';

const QUESTION = 'What is the capital of France?';
const REPHRASED = 'Tell me the capital city of France, please';

/** An outer middleware that records the stream parts the layers below hand up. */
function streamSpy(): { middleware: LanguageModelV3Middleware; calls: LanguageModelV3StreamPart[][] } {
  const calls: LanguageModelV3StreamPart[][] = [];
  return {
    calls,
    middleware: {
      specificationVersion: 'v3',
      async wrapStream({ doStream }) {
        const result = await doStream();
        const seen: LanguageModelV3StreamPart[] = [];
        calls.push(seen);
        return {
          ...result,
          stream: result.stream.pipeThrough(
            new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
              transform(part, controller) {
                seen.push(part);
                controller.enqueue(part);
              },
            }),
          ),
        };
      },
    },
  };
}

/** Resolves once `count` lookups have completed (each caller has then joined or led its flight). */
async function allLookedUp(middleware: { getStats(): { misses: number } }, count: number): Promise<void> {
  while (middleware.getStats().misses < count) await new Promise((resolve) => setTimeout(resolve, 2));
  await new Promise((resolve) => setImmediate(resolve));
}

describeEachDriver('semanticCacheMiddleware', (target) => {
  let driver: KVDriver;
  beforeAll(async () => {
    driver = await target.createDriver();
  });

  function setup(overrides: Partial<SemanticCacheMiddlewareOptions> = {}) {
    const embeddingModel = testEmbeddingModel();
    const middleware = semanticCacheMiddleware({
      driver,
      embeddingModel,
      sessionId: 'session-a',
      cacheOptions: { keyPrefix: uniquePrefix('aisdk'), similarityThreshold: 0.85 },
      ...overrides,
    });
    return { middleware, embeddingModel };
  }

  it('answers a rephrased question from the cache with usage zeroed and lix hit metadata (generateText)', async () => {
    const { middleware } = setup();
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    const first = await generateText({ model: wrapped, prompt: QUESTION });
    expect(first.text).toBe('Paris is the capital of France.');
    expect(first.providerMetadata?.lix).toBeUndefined();
    const second = await generateText({ model: wrapped, prompt: REPHRASED });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(second.text).toBe('Paris is the capital of France.');
    expect(second.providerMetadata?.lix).toEqual({ hit: true, similarity: expect.any(Number) });
    expect(second.providerMetadata?.lix?.similarity).toBeGreaterThanOrEqual(0.85);
    expect(second.usage.inputTokens).toBe(0);
    expect(second.usage.outputTokens).toBe(0);
    expect(second.response.timestamp).toEqual(new Date('2026-01-02T03:04:05.678Z'));
    expect(middleware.getStats()).toMatchObject({ lookups: 2, hits: 1, misses: 1, stores: 1, failures: 0 });
  });

  it('never answers an unrelated question from the cache', async () => {
    const { middleware } = setup();
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, prompt: QUESTION });
    await generateText({ model: wrapped, prompt: 'How tall is the Eiffel tower?' });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('never shares an answer between different models (fingerprint holds the model id)', async () => {
    const { middleware } = setup();
    const modelA = testModel({ modelId: 'model-a' });
    const modelB = testModel({ modelId: 'model-b' });
    await generateText({ model: wrapLanguageModel({ model: modelA, middleware }), prompt: QUESTION });
    await generateText({ model: wrapLanguageModel({ model: modelB, middleware }), prompt: QUESTION });
    expect(modelB.doGenerateCalls).toHaveLength(1);
    expect(middleware.getStats().hits).toBe(0);
  });

  it('never shares an answer between different system prompts or sampling settings', async () => {
    const { middleware } = setup();
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, system: 'You are terse.', prompt: QUESTION });
    await generateText({ model: wrapped, system: 'You are a pirate.', prompt: QUESTION });
    await generateText({ model: wrapped, system: 'You are terse.', prompt: QUESTION, temperature: 0.9 });
    await generateText({ model: wrapped, system: 'You are terse.', prompt: QUESTION, maxOutputTokens: 50 });
    expect(model.doGenerateCalls).toHaveLength(4);
    await generateText({ model: wrapped, system: 'You are terse.', prompt: REPHRASED });
    expect(model.doGenerateCalls).toHaveLength(4);
  });

  it("never answers another session from this session's entries (scope session)", async () => {
    const { middleware } = setup({ sessionId: undefined });
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, prompt: QUESTION, providerOptions: { lix: { sessionId: 'alice' } } });
    await generateText({ model: wrapped, prompt: QUESTION, providerOptions: { lix: { sessionId: 'bob' } } });
    expect(model.doGenerateCalls).toHaveLength(2);
    await generateText({ model: wrapped, prompt: REPHRASED, providerOptions: { lix: { sessionId: 'alice' } } });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('shares answers across sessions only with scope shared', async () => {
    const { middleware } = setup({ scope: 'shared', sessionId: undefined });
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, prompt: QUESTION, providerOptions: { lix: { sessionId: 'alice' } } });
    const second = await generateText({ model: wrapped, prompt: REPHRASED, providerOptions: { lix: { sessionId: 'bob' } } });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(second.providerMetadata?.lix?.hit).toBe(true);
  });

  it('does not cache a call without a session id in scope session, nor one that skip() refuses', async () => {
    const { middleware } = setup({ sessionId: undefined });
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, prompt: QUESTION });
    await generateText({ model: wrapped, prompt: QUESTION });
    expect(model.doGenerateCalls).toHaveLength(2);
    const skipping = setup({ skip: (params) => params.temperature === 1 });
    const wrapped2 = wrapLanguageModel({ model, middleware: skipping.middleware });
    await generateText({ model: wrapped2, prompt: QUESTION, temperature: 1 });
    await generateText({ model: wrapped2, prompt: QUESTION, temperature: 1 });
    expect(model.doGenerateCalls).toHaveLength(4);
    expect(skipping.middleware.getStats()).toMatchObject({ bypassed: 2, lookups: 0 });
  });

  it('does not store truncated answers (finish length) or tool calls', async () => {
    const { middleware } = setup();
    const truncated = testModel({ finish: 'length' });
    const wrapped = wrapLanguageModel({ model: truncated, middleware });
    await generateText({ model: wrapped, prompt: QUESTION });
    await generateText({ model: wrapped, prompt: QUESTION });
    expect(truncated.doGenerateCalls).toHaveLength(2);
    const toolCalling = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"city":"Paris"}' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usage(5, 5),
        warnings: [],
      }),
    });
    const wrappedTools = wrapLanguageModel({ model: toolCalling, middleware });
    await generateText({ model: wrappedTools, prompt: QUESTION });
    await generateText({ model: wrappedTools, prompt: QUESTION });
    expect(toolCalling.doGenerateCalls).toHaveLength(2);
    expect(middleware.getStats()).toMatchObject({ stores: 0, notCacheable: 4, hits: 0 });
  });

  it('passes a missed stream through and replays it part for part on a hit (streamText)', async () => {
    const { middleware } = setup();
    const model = testModel({ words: ['Paris ', 'is ', 'the ', 'capital.'] });
    const spy = streamSpy();
    const wrapped = wrapLanguageModel({ model, middleware: [spy.middleware, middleware] });
    const first = streamText({ model: wrapped, prompt: QUESTION });
    expect(await first.text).toBe('Paris is the capital.');
    const second = streamText({ model: wrapped, prompt: REPHRASED });
    expect(await second.text).toBe('Paris is the capital.');
    expect(model.doStreamCalls).toHaveLength(1);
    const [live, replayed] = spy.calls as [LanguageModelV3StreamPart[], LanguageModelV3StreamPart[]];
    expect(live).toEqual(streamParts(['Paris ', 'is ', 'the ', 'capital.']));
    expect(replayed.slice(0, -1)).toEqual(live.slice(0, -1));
    const replayedMetadata = replayed[1] as Extract<LanguageModelV3StreamPart, { type: 'response-metadata' }>;
    expect(replayedMetadata.timestamp).toBeInstanceOf(Date);
    expect(replayedMetadata.timestamp).toEqual(STREAM_TIMESTAMP);
    expect(replayed.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: { unified: 'stop' },
      usage: { inputTokens: { total: 0 }, outputTokens: { total: 0 } },
    });
    expect((await second.providerMetadata)?.lix).toEqual({ hit: true, similarity: expect.any(Number) });
    expect((await second.response).timestamp).toEqual(STREAM_TIMESTAMP);
    expect((await second.usage).outputTokens).toBe(0);
  });

  it('hands each part of a missed stream up before the model has produced the next one (no buffering)', async () => {
    const { middleware } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const parts = streamParts(['first ', 'second.']);
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          async start(controller) {
            for (const part of parts.slice(0, 4)) controller.enqueue(part);
            // The rest of the answer only exists once the consumer has seen the first delta.
            await gate;
            for (const part of parts.slice(4)) controller.enqueue(part);
            controller.close();
          },
        }),
      }),
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const result = streamText({ model: wrapped, prompt: QUESTION });
    const deltas: string[] = [];
    for await (const delta of result.textStream) {
      deltas.push(delta);
      if (delta === 'first ') release();
    }
    expect(deltas).toEqual(['first ', 'second.']);
    expect(middleware.getStats().stores).toBe(1);
  });

  it('answers generateText from a streamed entry and streamText from a generated one', async () => {
    const { middleware } = setup();
    const model = testModel({ text: 'Generated answer.', words: ['Streamed ', 'answer.'] });
    const wrapped = wrapLanguageModel({ model, middleware });
    expect(await streamText({ model: wrapped, prompt: QUESTION }).text).toBe('Streamed answer.');
    expect((await generateText({ model: wrapped, prompt: REPHRASED })).text).toBe('Streamed answer.');
    expect(await streamText({ model: wrapped, prompt: 'How tall is the Eiffel tower?' }).text).toBe('Streamed answer.');
    const generated = await generateText({ model: wrapped, prompt: 'Who painted the Mona Lisa?' });
    expect(generated.text).toBe('Generated answer.');
    expect(await streamText({ model: wrapped, prompt: 'Mona Lisa: who painted it?' }).text).toBe('Generated answer.');
    expect(model.doStreamCalls).toHaveLength(2);
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it('stores nothing from an aborted stream', async () => {
    const { middleware } = setup();
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: simulateReadableStream({ chunks: streamParts(['one ', 'two ', 'three ', 'four ', 'five.']), initialDelayInMs: null, chunkDelayInMs: 15 }),
      }),
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const controller = new AbortController();
    const aborted = streamText({ model: wrapped, prompt: QUESTION, abortSignal: controller.signal, onError: () => undefined });
    const seen: string[] = [];
    for await (const part of aborted.fullStream) {
      seen.push(part.type);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(seen).toContain('abort');
    expect(seen).not.toContain('finish');
    // Let the mock's remaining timers run out before checking nothing was written.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(middleware.getStats().stores).toBe(0);
    const again = streamText({ model: wrapped, prompt: QUESTION });
    expect(await again.text).toBe('one two three four five.');
    expect(model.doStreamCalls).toHaveLength(2);
  });

  it('stores nothing from a stream that fails midway, and the caller sees the model error', async () => {
    const { middleware } = setup();
    const parts = streamParts(['half ', 'an ', 'answer']);
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: simulateReadableStream<LanguageModelV3StreamPart>({
          chunks: [...parts.slice(0, 4), { type: 'error', error: new Error('provider went away') }],
          initialDelayInMs: null,
          chunkDelayInMs: null,
        }),
      }),
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const errors: unknown[] = [];
    const result = streamText({ model: wrapped, prompt: QUESTION, onError: ({ error }) => void errors.push(error) });
    await result.consumeStream();
    expect(errors).toHaveLength(1);
    expect(middleware.getStats()).toMatchObject({ stores: 0, notCacheable: 1 });
  });

  it('calls the model once for concurrent identical misses with singleFlight', async () => {
    const { middleware } = setup({ singleFlight: true });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        await gate;
        return textResult('Only once.');
      },
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const calls = Promise.all([1, 2, 3].map(() => generateText({ model: wrapped, prompt: QUESTION })));
    await allLookedUp(middleware, 3);
    release();
    const results = await calls;
    expect(results.map((result) => result.text)).toEqual(['Only once.', 'Only once.', 'Only once.']);
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(middleware.getStats().singleFlightJoins).toBe(2);
  });

  it('streams the model once for concurrent identical streamed misses with singleFlight', async () => {
    const { middleware } = setup({ singleFlight: true });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const model = new MockLanguageModelV3({
      doStream: async () => {
        await gate;
        return { stream: simulateReadableStream({ chunks: streamParts(['shared ', 'stream.']), initialDelayInMs: null, chunkDelayInMs: null }) };
      },
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const texts = Promise.all([1, 2, 3].map(() => streamText({ model: wrapped, prompt: QUESTION }).text));
    await allLookedUp(middleware, 3);
    release();
    expect(await texts).toEqual(['shared stream.', 'shared stream.', 'shared stream.']);
    expect(model.doStreamCalls).toHaveLength(1);
    expect(middleware.getStats()).toMatchObject({ singleFlightJoins: 2, stores: 1 });
  });

  it('lets a waiting identical stream call the model itself when the leading stream is aborted', async () => {
    const { middleware } = setup({ singleFlight: true });
    const controller = new AbortController();
    let follower: PromiseLike<string> | undefined;
    const model = new MockLanguageModelV3({
      doStream: async () => {
        if (follower === undefined) {
          // The aborted call is certainly the leader: the identical call starts only once it streams.
          follower = streamText({ model: wrapped, prompt: QUESTION }).text;
          setTimeout(() => controller.abort(), 20);
        }
        return { stream: simulateReadableStream({ chunks: streamParts(['slow ', 'answer.']), initialDelayInMs: 60, chunkDelayInMs: 10 }) };
      },
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const leader = streamText({ model: wrapped, prompt: QUESTION, abortSignal: controller.signal, onError: () => undefined });
    await leader.consumeStream();
    expect(await follower).toBe('slow answer.');
    expect(model.doStreamCalls).toHaveLength(2);
    expect(middleware.getStats()).toMatchObject({ singleFlightJoins: 0, stores: 1 });
  });

  it('never caches a tool-calling step nor the step that answers from tool results', async () => {
    const { middleware } = setup();
    let step = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        step++;
        return step % 2 === 1
          ? {
              content: [{ type: 'tool-call', toolCallId: `c${step}`, toolName: 'weather', input: '{"city":"Paris"}' }],
              finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
              usage: usage(5, 5),
              warnings: [],
            }
          : textResult(`It is ${step} degrees in Paris.`);
      },
    });
    const wrapped = wrapLanguageModel({ model, middleware });
    const tools = { weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, celsius: 20 + step }) }) };
    const first = await generateText({ model: wrapped, prompt: 'Weather in Paris?', tools, stopWhen: stepCountIs(3) });
    expect(first.text).toBe('It is 2 degrees in Paris.');
    const second = await generateText({ model: wrapped, prompt: 'Weather in Paris?', tools, stopWhen: stepCountIs(3) });
    expect(second.text).toBe('It is 4 degrees in Paris.');
    expect(model.doGenerateCalls).toHaveLength(4);
    expect(middleware.getStats()).toMatchObject({ stores: 0, hits: 0, bypassed: 2 });
  });

  it('partitions by the earlier turns with includeHistory', async () => {
    const { middleware } = setup({ includeHistory: true });
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    const history = (topic: string) => [
      { role: 'user' as const, content: `Let us talk about ${topic}.` },
      { role: 'assistant' as const, content: 'Sure.' },
      { role: 'user' as const, content: QUESTION },
    ];
    await generateText({ model: wrapped, messages: history('geography') });
    await generateText({ model: wrapped, messages: history('history') });
    expect(model.doGenerateCalls).toHaveLength(2);
    await generateText({ model: wrapped, messages: history('geography') });
    expect(model.doGenerateCalls).toHaveLength(2);
  });
});

describe('semanticCacheMiddleware options', () => {
  it('rejects an unknown option key as INVALID_OPTION', async () => {
    const { createMemoryDriver } = await import('@lix/redis-pool/memory');
    const driver = createMemoryDriver();
    expect(() => semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), similarityTreshold: 0.9 } as never)).toThrow(
      expect.objectContaining({ name: 'AiSdkCacheError', code: 'INVALID_OPTION' }),
    );
    expect(() => semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), cacheOptions: { similarityThreshold: 7 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), cacheOptions: { similarityTreshold: 0.5 } as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('similarityTreshold') }),
    );
    expect(() => semanticCacheMiddleware({ driver } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    // Values whose String() throws (found by the stress sweep) still give the typed error.
    for (const bad of [
      Object.create(null),
      {
        toString: () => {
          throw new Error('no');
        },
      },
    ]) {
      expect(() => semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), lookupTimeoutMs: bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(() => semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), scope: bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
    await driver.close();
  });
});

describe('semanticCacheMiddleware fails open', () => {
  async function memoryDriver(): Promise<KVDriver> {
    const { createMemoryDriver } = await import('@lix/redis-pool/memory');
    const driver = createMemoryDriver();
    await driver.connect();
    return driver;
  }

  it('treats a backend that never answers as a miss once lookupTimeoutMs has passed', async () => {
    const driver = await memoryDriver();
    const hanging = new Proxy(driver, {
      get(target, property, receiver) {
        if (property === 'get') return () => new Promise(() => undefined);
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const warnings: string[] = [];
    const middleware = semanticCacheMiddleware({
      driver: hanging,
      embeddingModel: testEmbeddingModel(),
      sessionId: 's',
      lookupTimeoutMs: 50,
      logger: { warn: (message) => void warnings.push(message) },
    });
    const model = testModel();
    const result = await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: QUESTION });
    expect(result.text).toBe('Paris is the capital of France.');
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(middleware.getStats().failures).toBe(1);
    expect(warnings[0]).toContain('lookup failed');
    await driver.close();
  });

  it('calls the model when the embedding model fails', async () => {
    const driver = await memoryDriver();
    const failingEmbedder = testEmbeddingModel();
    failingEmbedder.doEmbed = async () => {
      throw new Error('embedding provider down');
    };
    const middleware = semanticCacheMiddleware({ driver, embeddingModel: failingEmbedder, sessionId: 's' });
    const model = testModel();
    const wrapped = wrapLanguageModel({ model, middleware });
    expect((await generateText({ model: wrapped, prompt: QUESTION })).text).toBe('Paris is the capital of France.');
    expect(await streamText({ model: wrapped, prompt: QUESTION }).text).toBe('Paris is the capital.');
    expect(middleware.getStats()).toMatchObject({ failures: 2, stores: 0 });
    await driver.close();
  });

  it('returns the answer but stores nothing when it is larger than maxResponseBytes', async () => {
    const driver = await memoryDriver();
    const middleware = semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), sessionId: 's', cacheOptions: { maxResponseBytes: 64 } });
    const model = testModel({ text: 'A long answer. '.repeat(20) });
    const wrapped = wrapLanguageModel({ model, middleware });
    expect((await generateText({ model: wrapped, prompt: QUESTION })).text).toBe('A long answer. '.repeat(20));
    await generateText({ model: wrapped, prompt: QUESTION });
    expect(model.doGenerateCalls).toHaveLength(2);
    expect(middleware.getStats()).toMatchObject({ failures: 2, stores: 0, hits: 0 });
    await driver.close();
  });

  it('stops holding a stream longer than maxResponseBytes and does not store it', async () => {
    const driver = await memoryDriver();
    const middleware = semanticCacheMiddleware({ driver, embeddingModel: testEmbeddingModel(), sessionId: 's', cacheOptions: { maxResponseBytes: 40 } });
    const model = testModel({ words: ['twenty characters.. ', 'twenty characters.. ', 'and more'] });
    const wrapped = wrapLanguageModel({ model, middleware });
    expect(await streamText({ model: wrapped, prompt: QUESTION }).text).toBe('twenty characters.. twenty characters.. and more');
    expect(middleware.getStats()).toMatchObject({ notCacheable: 1, stores: 0, failures: 0 });
    await driver.close();
  });

  it('treats a throwing fingerprint function as a bypass, not a failed call', async () => {
    const driver = await memoryDriver();
    const middleware = semanticCacheMiddleware({
      driver,
      embeddingModel: testEmbeddingModel(),
      sessionId: 's',
      fingerprint: () => {
        throw new Error('bug in user code');
      },
    });
    const model = testModel();
    expect((await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: QUESTION })).text).toBe('Paris is the capital of France.');
    expect(middleware.getStats()).toMatchObject({ failures: 1, lookups: 0 });
    await driver.close();
  });
});
