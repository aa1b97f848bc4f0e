import type { KVDriver } from '@lix/redis-pool';
import type { ContextMessage, SemanticCacheLayer, SessionWindowLayer, UrlEmbeddingLayer } from '../src/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A user's own session layer: a capped Redis list of JSON messages, no archive. */
export class ListWindow implements SessionWindowLayer {
  readonly #driver: KVDriver;
  readonly #key: string;
  readonly #size: number;
  constructor(driver: KVDriver, key: string, size = 5) {
    this.#driver = driver;
    this.#key = key;
    this.#size = size;
  }
  async addMessage(role: string, content: string): Promise<void> {
    await this.#driver.rpush(this.#key, [encoder.encode(JSON.stringify({ role, content }))]);
    await this.#driver.ltrim(this.#key, -this.#size, -1);
  }
  async getContext(): Promise<ContextMessage[]> {
    return (await this.#driver.lrange(this.#key, 0, -1)).map((bytes) => JSON.parse(decoder.decode(bytes)) as ContextMessage);
  }
  async getFormattedContext(maxLines = 50): Promise<string> {
    return (await this.getContext())
      .slice(-maxLines)
      .map((message) => `${message.role}: ${message.content}`)
      .join('\n');
  }
  async clear(): Promise<void> {
    await this.#driver.del([this.#key]);
  }
  async getStats(): Promise<object> {
    return { hotMessages: await this.#driver.llen(this.#key) };
  }
}

/** Exact-match semantic layer on a hash: enough to exercise the runtime's wiring. */
export class HashSemantic implements SemanticCacheLayer<string> {
  readonly #driver: KVDriver;
  readonly #key: string;
  constructor(driver: KVDriver, key: string) {
    this.#driver = driver;
    this.#key = key;
  }
  #field(url: string, embedding: Float32Array): string {
    return `${url}|${Array.from(embedding).join(',')}`;
  }
  async get(url: string, embedding: Float32Array): Promise<string | null> {
    const bytes = await this.#driver.hget(this.#key, this.#field(url, embedding));
    return bytes === null ? null : decoder.decode(bytes);
  }
  async set(url: string, embedding: Float32Array, response: string): Promise<void> {
    await this.#driver.hset(this.#key, { [this.#field(url, embedding)]: encoder.encode(response) });
  }
  async clearSession(): Promise<void> {
    await this.#driver.del([this.#key]);
  }
  async getStats(): Promise<object> {
    return {};
  }
}

/** URL cache on plain keys. */
export class KeyUrlCache implements UrlEmbeddingLayer {
  readonly #driver: KVDriver;
  readonly #prefix: string;
  constructor(driver: KVDriver, prefix: string) {
    this.#driver = driver;
    this.#prefix = prefix;
  }
  async get(url: string): Promise<Float32Array | null> {
    const bytes = await this.#driver.get(`${this.#prefix}:${url}`);
    return bytes === null ? null : new Float32Array(bytes.slice().buffer);
  }
  async set(url: string, embedding: Float32Array): Promise<void> {
    await this.#driver.set(`${this.#prefix}:${url}`, new Uint8Array(embedding.slice().buffer));
  }
  async batchSet(entries: Iterable<readonly [string, Float32Array]>): Promise<void> {
    for (const [url, embedding] of entries) await this.set(url, embedding);
  }
  async getStats(): Promise<object> {
    return {};
  }
}
