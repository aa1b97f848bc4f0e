// A coordinator from your own parts: a session window of your own (here: a plain
// in-process array that keeps the last 3 messages) next to the stock semantic cache,
// and no URL embedding cache at all. No fork of lix-cache needed.
import { CacheCoordinator, ConfigError, type ContextMessage, type MessageMetadata, type SessionWindowLayer } from '@lix/coordinator';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { SemanticCache } from '@lix/semantic-cache';

/** Your own layer: anything with these methods works. */
class LastThreeMessages implements SessionWindowLayer {
  readonly #messages: ContextMessage[] = [];
  async addMessage(role: string, content: string, metadata?: MessageMetadata): Promise<void> {
    this.#messages.push({ role, content, ...(metadata ? { metadata } : {}) });
    if (this.#messages.length > 3) this.#messages.shift();
  }
  async getContext(): Promise<ContextMessage[]> {
    return [...this.#messages];
  }
  async getFormattedContext(maxLines = 50): Promise<string> {
    return this.#messages
      .slice(-maxLines)
      .map((m) => `${m.role}: ${m.content}`)
      .join('\n');
  }
  async clear(): Promise<void> {
    this.#messages.length = 0;
  }
  async getStats(): Promise<object> {
    return { layer: 'LastThreeMessages', messages: this.#messages.length };
  }
}

const driver = createMemoryDriver();
const coordinator = new CacheCoordinator<ContextMessage, { answer: string }>({
  sessionId: 'custom-1',
  sessionWindow: new LastThreeMessages(),
  semanticCache: new SemanticCache({ driver, sessionId: 'custom-1' }),
});

for (const [role, content] of [
  ['user', 'hi'],
  ['assistant', 'hello!'],
  ['user', 'weather in Paris?'],
  ['assistant', 'Mild, 18°C.'],
] as const) {
  await coordinator.addMessageToContext(role, content);
}
console.log('window from the custom layer:');
console.log(await coordinator.getFormattedContext());

const question = Float32Array.from([0.9, 0.1, 0.3]);
const rephrased = Float32Array.from([0.88, 0.12, 0.31]);
console.log(`first lookup: ${JSON.stringify(await coordinator.getSemanticResponse('https://weather.example/paris', question))}`);
await coordinator.cacheSemanticResponse('https://weather.example/paris', question, { answer: 'Mild, 18°C.' });
console.log(`rephrased lookup: ${JSON.stringify(await coordinator.getSemanticResponse('https://weather.example/paris', rephrased))}`);

try {
  await coordinator.getUrlEmbedding('https://weather.example/paris');
} catch (error) {
  if (error instanceof ConfigError) console.log(`left-out layer: ${error.code}`);
}
const stats = await coordinator.getStats();
console.log(`stats layers: ${Object.keys(stats).sort().join(', ')}`);
await coordinator.close();
await driver.close();
