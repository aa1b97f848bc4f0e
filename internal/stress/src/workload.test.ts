import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import {
  cosine,
  cutText,
  embedQuery,
  messageBody,
  messageTag,
  parseMessageTag,
  parseSemanticResponse,
  phraseQuery,
  semanticResponse,
  TOPIC_COUNT,
  urlEmbedding,
} from './workload.js';

describe('workload', () => {
  it('tags content so that (session, index) reads back', () => {
    expect(parseMessageTag(`${messageTag(12, 345, 3, 2)} hello`)).toEqual({ session: 12, index: 345 });
    expect(parseMessageTag('hello [msg s=1 i=2 w=0 g=0]')).toBeUndefined();
  });

  it('rephrasings of one question embed above 0.9 cosine and other questions far below', () => {
    const rng = new Rng(7);
    let worstSame = 1;
    let worstOther = -1;
    for (let topic = 0; topic < TOPIC_COUNT; topic++) {
      const a = embedQuery(phraseQuery(topic, rng));
      const b = embedQuery(phraseQuery(topic, rng));
      const other = embedQuery(phraseQuery((topic + 1 + rng.int(0, TOPIC_COUNT - 2)) % TOPIC_COUNT, rng));
      worstSame = Math.min(worstSame, cosine(a, b));
      worstOther = Math.max(worstOther, cosine(a, other));
    }
    expect(worstSame).toBeGreaterThan(0.95);
    expect(worstOther).toBeLessThan(0.7);
  });

  it('names the owning session in each cached response', () => {
    const response = semanticResponse('run-s0042', 17, new Rng(1));
    expect(parseSemanticResponse(response)).toEqual({ sessionId: 'run-s0042', topic: 17 });
  });

  it('derives a URL embedding from the URL alone', () => {
    expect(urlEmbedding('https://a')).toEqual(urlEmbedding('https://a'));
    expect(cosine(urlEmbedding('https://a'), urlEmbedding('https://b'))).toBeLessThan(0.9);
  });

  it('never cuts a surrogate pair in half', () => {
    expect(cutText('ab\u{1F642}cd', 3)).toBe('ab');
    expect(cutText('ab\u{1F642}cd', 4)).toBe('ab\u{1F642}');
    expect(cutText('abc', 10)).toBe('abc');
  });

  it('produces bodies without lone surrogates, some longer than 4000 characters', () => {
    const rng = new Rng(3);
    const bodies = Array.from({ length: 200 }, () => messageBody(rng));
    expect(bodies.some((body) => body.length >= 4000)).toBe(true);
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (const body of bodies) expect(loneSurrogate.test(body)).toBe(false);
  });
});
