import { loadCorpus } from '@lix/test-utils';
import { hashString, type Rng } from './rng.js';

/**
 * The simulated chat workload: message contents that identify themselves, long enough to
 * overflow the hot window; queries that repeat and rephrase across sessions for the
 * semantic cache; URLs shared by every session for the embedding cache.
 */

const TAG = /^\[msg s=(\d+) i=(\d+) w=\d+ g=\d+\]/;

/** The tag that makes a message's content unique per `(session, index)`. */
export function messageTag(session: number, index: number, worker: number, generation: number): string {
  return `[msg s=${session} i=${index} w=${worker} g=${generation}]`;
}

/** Reads back the `(session, index)` of a stored message, or `undefined` when it carries no tag. */
export function parseMessageTag(content: string): { session: number; index: number } | undefined {
  const match = TAG.exec(content);
  if (!match) return undefined;
  return { session: Number(match[1]), index: Number(match[2]) };
}

/** The id a session has in the system under test. */
export function sessionIdOf(runTag: string, session: number): string {
  return `${runTag}-s${String(session).padStart(4, '0')}`;
}

let corpusTexts: string[] | undefined;
function texts(): string[] {
  corpusTexts ??= loadCorpus()
    .flatMap((conversation) => conversation.turns.map((turn) => turn.content))
    .filter((text) => text.length > 0);
  return corpusTexts;
}

/**
 * A body of `length` characters cut from the corpus, starting at a random turn. Most
 * messages are chat-sized; one in ten is long (4–12 kB) so that the token budget of the
 * hot window overflows as well as its message count.
 */
export function messageBody(rng: Rng): string {
  const length = rng.chance(0.1) ? rng.int(4000, 12000) : rng.int(80, 1500);
  const pool = texts();
  let body = '';
  let at = rng.int(0, pool.length - 1);
  while (body.length < length) {
    body += (body ? '\n' : '') + pool[at % pool.length];
    at++;
  }
  return cutText(body, length);
}

/** The first `length` UTF-16 units of `text`, one fewer when that would split a surrogate pair (the session layer rejects lone surrogates). */
export function cutText(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/** Dimensions of the workload's embeddings. */
export const EMBEDDING_DIMENSIONS = 128;

/** Number of distinct questions; every session draws from the same pool, so questions repeat across sessions. */
export const TOPIC_COUNT = 40;

const WORDS_PER_TOPIC = 8;
const FILLERS = ['please', 'could', 'you', 'tell', 'me', 'again', 'quickly', 'actually', 'so', 'hey'];

/** The question words of a topic; topics share no word, so their embeddings are far apart. */
function topicWords(topic: number): string[] {
  return Array.from({ length: WORDS_PER_TOPIC }, (_, i) => `t${topic}w${i}${'abcdefgh'[(topic + i) % 8]}`);
}

/** A phrasing of a topic's question: same words, shuffled, with a few filler words. */
export function phraseQuery(topic: number, rng: Rng): string {
  const words = topicWords(topic);
  for (let i = words.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  const fillers = rng.int(0, 3);
  for (let i = 0; i < fillers; i++) words.splice(rng.int(0, words.length), 0, rng.pick(FILLERS));
  return `${words.join(' ')}?`;
}

/**
 * A deterministic bag-of-words embedding: each word adds to a hashed dimension, filler
 * words weigh little, the vector is normalised. Rephrasings of one topic score above
 * 0.95 cosine; different topics stay far below any sensible threshold.
 */
export function embedQuery(query: string): Float32Array {
  const vector = new Float32Array(EMBEDDING_DIMENSIONS);
  for (const word of query.replace(/\?$/, '').split(/\s+/)) {
    if (!word) continue;
    const hash = hashString(word);
    const weight = FILLERS.includes(word) ? 0.15 : 1;
    vector[hash % EMBEDDING_DIMENSIONS]! += (hash & 0x10000 ? 1 : -1) * weight;
  }
  return normalise(vector);
}

function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
}

/** Cosine of two normalised vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * (b[i] ?? 0);
  return dot;
}

/** The page a topic's question is about; shared by every session asking it. */
export function topicUrl(topic: number): string {
  return `https://docs.example.com/guide/topic-${topic}`;
}

/** The embedding of a URL's page: a pure function of the URL, so any cached copy can be checked exactly. */
export function urlEmbedding(url: string): Float32Array {
  const vector = new Float32Array(EMBEDDING_DIMENSIONS);
  let state = hashString(url);
  for (let i = 0; i < vector.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    vector[i] = state / 4294967296 - 0.5;
  }
  return normalise(vector);
}

/** True when two embeddings hold exactly the same floats. */
export function sameEmbedding(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

/** The "LLM answer" a session caches: it names its owning session, which is what the cross-session check reads. */
export function semanticResponse(sessionId: string, topic: number, rng: Rng): string {
  return `resp session=${sessionId} topic=${topic} | ${cutText(messageBody(rng), 400)}`;
}

/** The owner and topic of a cached response, or `undefined` for a response this workload never wrote. */
export function parseSemanticResponse(response: string): { sessionId: string; topic: number } | undefined {
  const match = /^resp session=(\S+) topic=(\d+) \|/.exec(response);
  if (!match) return undefined;
  return { sessionId: match[1]!, topic: Number(match[2]) };
}
