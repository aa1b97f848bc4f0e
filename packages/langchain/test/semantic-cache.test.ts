import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { ChatGeneration } from '@langchain/core/outputs';
import { FakeEmbeddings, FakeListChatModel, FakeStreamingChatModel, SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { SemanticCache } from '@lix/semantic-cache';
import { uniquePrefix } from '@lix/test-utils';
import { beforeEach, expect, it } from 'vitest';
import { LixSemanticCache, type LixSemanticCacheOptions } from '../src/index.js';
import { BagOfWordsEmbeddings, FailingEmbeddings, NamedFakeChatModel, absorbedFailures, instrumentedDriver } from './doubles.js';

describeEachDriver('LixSemanticCache', (target) => {
  let driver: KVDriver;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    keyPrefix = uniquePrefix('lcs');
  });

  const cacheOf = (options: Partial<LixSemanticCacheOptions> = {}) =>
    new LixSemanticCache({ driver, keyPrefix, scope: 'tests', embeddings: new BagOfWordsEmbeddings(), ...options });

  it('answers a rephrased question from the cache: the model is called once', async () => {
    const embeddings = new BagOfWordsEmbeddings();
    const cache = cacheOf({ embeddings });
    const model = new FakeListChatModel({ responses: ['Paris.', 'a second model call'], cache });
    const first = await model.invoke('What is the capital of France?');
    const rephrased = await model.invoke("Tell me, what's the capital of France?");
    expect(first.content).toBe('Paris.');
    expect(rephrased).toBeInstanceOf(AIMessage);
    expect(rephrased.content).toBe('Paris.');
    expect(cache.getStats()).toMatchObject({ lookups: 2, hits: 1, misses: 1, updates: 1, failedLookups: 0, failedUpdates: 0 });
    // The miss's embedding is reused by its update: one embedding call per question.
    expect(embeddings.calls).toBe(2);
    // An unrelated question is a miss, so the model is called.
    expect((await model.invoke('How tall is Mount Everest?')).content).toBe('a second model call');
  });

  it('uses the last human turn of a chat prompt as the key, and bypasses a prompt that ends in a tool result', async () => {
    const cache = cacheOf();
    const model = new FakeListChatModel({ responses: ['Paris.', 'tool step answer', 'third'], cache });
    await model.invoke([new SystemMessage('Be brief.'), new HumanMessage('Hi'), new AIMessage('Hello!'), new HumanMessage('What is the capital of France?')]);
    expect((await model.invoke([new SystemMessage('Be brief.'), new HumanMessage("what's the capital of France?")])).content).toBe('Paris.');
    const agentStep = [
      new HumanMessage('What is the capital of France?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'lookup', args: {}, type: 'tool_call' }] }),
      new ToolMessage({ content: 'Paris', tool_call_id: 'c1' }),
    ];
    expect((await model.invoke(agentStep)).content).toBe('tool step answer');
    expect(cache.getStats()).toMatchObject({ hits: 1, bypassed: 1, updates: 1 });
  });

  it('never answers one model with another model’s entry, even when every embedding is identical', async () => {
    const embeddings = new FakeEmbeddings();
    const cache = cacheOf({ embeddings });
    const small = new NamedFakeChatModel('small-1', ['small says Paris'], { cache });
    const large = new NamedFakeChatModel('large-1', ['large says Paris'], { cache });
    expect((await small.invoke('capital of France?')).content).toBe('small says Paris');
    expect((await large.invoke('capital of France?')).content).toBe('large says Paris');
    // FakeEmbeddings maps everything to one vector: within a model, any question hits.
    expect((await small.invoke('anything at all')).content).toBe('small says Paris');
    expect((await large.invoke('anything else')).content).toBe('large says Paris');
    // The call options are part of llmKey too: other settings are another partition.
    const plain = new FakeListChatModel({ responses: ['plain'], cache });
    expect((await plain.invoke('capital of France?')).content).toBe('plain');
    expect((await plain.invoke('capital of France?', { stop: ['STOP'] })).content).toBe('STOP');
    expect(cache.getStats()).toMatchObject({ lookups: 6, hits: 2 });
  });

  it('keeps scopes apart: one user never sees another user’s answers', async () => {
    const embeddings = new FakeEmbeddings();
    const alice = new FakeListChatModel({ responses: ['for alice'], cache: cacheOf({ embeddings, scope: 'user:alice' }) });
    const bob = new FakeListChatModel({ responses: ['for bob'], cache: cacheOf({ embeddings, scope: 'user:bob' }) });
    expect((await alice.invoke('my account balance?')).content).toBe('for alice');
    expect((await bob.invoke('my account balance?')).content).toBe('for bob');
    expect((await alice.invoke('my account balance?')).content).toBe('for alice');
  });

  it('serves the cached prompts of a batch from the cache and sends only the others to the model', async () => {
    const cache = cacheOf();
    const model = new FakeListChatModel({ responses: ['Paris.', 'Everest is 8,849 m.', 'Mars has two moons.'], cache });
    await model.invoke('What is the capital of France?');
    const answers = await model.batch(["Tell me, what's the capital of France?", 'How tall is Mount Everest?', 'How many moons has Mars?']);
    expect(answers.map((answer) => answer.content)).toEqual(['Paris.', 'Everest is 8,849 m.', 'Mars has two moons.']);
    expect(cache.getStats()).toMatchObject({ lookups: 4, hits: 1, updates: 3 });
  });

  it('answers an exact repeat with SyntheticEmbeddings', async () => {
    const cache = cacheOf({ embeddings: new SyntheticEmbeddings({ vectorSize: 16 }) });
    const model = new FakeListChatModel({ responses: ['one', 'two'], cache });
    expect((await model.invoke('Summarise the plot of Hamlet')).content).toBe('one');
    expect((await model.invoke('Summarise the plot of Hamlet')).content).toBe('one');
    expect(cache.getStats().hits).toBe(1);
  });

  it('returns cached chat messages as messages: tool calls, ids and metadata survive', async () => {
    const cache = cacheOf();
    const call = { id: 'call_9', name: 'get_weather', args: { city: 'Kyoto', unit: 'C' }, type: 'tool_call' as const };
    const model = new FakeStreamingChatModel({ responses: [new AIMessage('')], chunks: [new AIMessageChunk({ content: '', tool_calls: [call] })], cache });
    const first = await model.invoke('What is the weather in Kyoto?');
    expect(first.tool_calls).toEqual([call]);
    const second = await model.invoke('Kyoto weather, what is it?');
    expect(second).toBeInstanceOf(AIMessage);
    expect(second.tool_calls).toEqual([call]);
    expect(cache.getStats().hits).toBe(1);

    const message = new AIMessage({
      content: [{ type: 'text', text: 'Sunny, 21 °C.' }],
      id: 'run-1',
      additional_kwargs: { refusal: null },
      response_metadata: { model_name: 'weather-1', finish_reason: 'stop' },
      tool_calls: [call],
    });
    const generation: ChatGeneration = { text: 'Sunny, 21 °C.', message, generationInfo: { finish_reason: 'stop', logprobs: null } };
    await cache.update('Human: weather in Kyoto today', 'llm-key-1', [generation]);
    const hit = (await cache.lookup('Human: Kyoto weather today?', 'llm-key-1')) as ChatGeneration[] | null;
    expect(hit).not.toBeNull();
    expect(hit![0]!.message).toBeInstanceOf(AIMessage);
    expect(hit![0]!.message.toDict()).toEqual(message.toDict());
    expect(hit![0]!.text).toBe('Sunny, 21 °C.');
    expect(hit![0]!.generationInfo).toEqual({ finish_reason: 'stop', logprobs: null });
    // Each hit is a fresh instance: the chat model rewrites the usage of what it returns.
    const again = (await cache.lookup('Human: Kyoto weather today?', 'llm-key-1')) as ChatGeneration[];
    expect(again[0]!.message).not.toBe(hit![0]!.message);
    expect(await cache.lookup('Human: Kyoto weather today?', 'llm-key-2')).toBeNull();
  });

  it('works over a SemanticCache built by the caller, whose sessionId is the scope', async () => {
    const semanticCache = new SemanticCache<unknown>({ driver, keyPrefix, sessionId: 'tenant-7', similarityThreshold: 0.95 });
    const cache = new LixSemanticCache({ semanticCache, embeddings: new BagOfWordsEmbeddings() });
    expect(cache.scope).toBe('tenant-7');
    const model = new FakeListChatModel({ responses: ['42', 'other'], cache });
    await model.invoke('What is the answer?');
    expect((await model.invoke('Tell me the answer')).content).toBe('42');
    expect((await semanticCache.getStats()).storedEntries).toBe(1);
  });

  it('fails open: a failing backend or embedding model means the model is called, and failures are counted', async () => {
    const failing = instrumentedDriver(driver);
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message) };
    const cache = new LixSemanticCache({ driver: failing.driver, keyPrefix, scope: 'tests', embeddings: new BagOfWordsEmbeddings(), logger });
    const model = new FakeListChatModel({ responses: ['from the model 1', 'from the model 2', 'from the model 3'], cache });
    expect((await model.invoke('What is the capital of France?')).content).toBe('from the model 1');
    failing.failing = true;
    expect((await model.invoke('What is the capital of France?')).content).toBe('from the model 2');
    expect(cache.getStats()).toMatchObject({ hits: 0 });
    expect(await absorbedFailures(cache)).toBe(2);
    failing.failing = false;
    expect((await model.invoke('What is the capital of France?')).content).toBe('from the model 1');

    const broken = new LixSemanticCache({ driver, keyPrefix, scope: 'tests', embeddings: new FailingEmbeddings(), logger });
    const other = new FakeListChatModel({ responses: ['embedding-free answer'], cache: broken });
    expect((await other.invoke('anything')).content).toBe('embedding-free answer');
    expect(broken.getStats()).toMatchObject({ failedLookups: 1, failedUpdates: 1 });
    expect(warnings.length).toBeGreaterThanOrEqual(4);

    // What cannot be serialised is not cached, and the answer still reaches the caller.
    const odd = cacheOf();
    await odd.update('Human: q', 'k', [{ text: 't', generationInfo: { when: new Date() } }]);
    expect(odd.getStats()).toMatchObject({ updates: 0, failedUpdates: 1 });
  });

  it('refuses bad options with typed errors', () => {
    const embeddings = new FakeEmbeddings();
    const bad: unknown[] = [
      undefined,
      {},
      { driver, scope: 's' },
      { driver, embeddings },
      { driver, embeddings, scope: 's', similarity: 0.9 },
      { driver, embeddings, scope: '' },
      { driver, embeddings, scope: 's', similarityThreshold: 2 },
      { driver, embeddings, scope: 's', extractQuery: 'last' },
      { embeddings, scope: 's' },
      { driver, embeddings, scope: 's', semanticCache: new SemanticCache({ driver, sessionId: 's' }) },
      { semanticCache: new SemanticCache({ driver, sessionId: 's' }), embeddings, ttlMs: 5 },
    ];
    for (const options of bad)
      expect(() => new LixSemanticCache(options as LixSemanticCacheOptions)).toThrow(
        expect.objectContaining({ name: 'LixLangChainError', code: 'INVALID_OPTION' }),
      );
  });
});
