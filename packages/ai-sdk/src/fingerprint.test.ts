import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { canonicalJson, defaultFingerprint, historyFingerprint, lastUserMessageText } from './fingerprint.js';

const model = { provider: 'openai.chat', modelId: 'gpt-x' };

function call(overrides: Partial<LanguageModelV3CallOptions> = {}, question = 'What is the capital of France?'): LanguageModelV3CallOptions {
  return {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: question }] },
    ],
    ...overrides,
  };
}

describe('canonicalJson', () => {
  it('is independent of key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(canonicalJson({ a: { d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  it('encodes bytes by hash, dates by ISO time and never throws on cycles, bigints or functions', () => {
    const cyclic: Record<string, unknown> = { n: 1n, f: () => 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).not.toThrow();
    expect(canonicalJson(new Uint8Array([1, 2]))).not.toBe(canonicalJson(new Uint8Array([1, 3])));
    expect(canonicalJson(new Date(0))).toBe('"#date:1970-01-01T00:00:00.000Z"');
  });
});

describe('defaultFingerprint', () => {
  it('is the same for two calls that differ only in the question, headers or the abort signal', () => {
    const base = defaultFingerprint(call(), model);
    expect(defaultFingerprint(call({}, "Which city is France's capital?"), model)).toBe(base);
    expect(defaultFingerprint(call({ headers: { 'x-trace': '1' }, abortSignal: new AbortController().signal, includeRawChunks: true }), model)).toBe(base);
    expect(defaultFingerprint(call({ providerOptions: { lix: { sessionId: 'abc' } } }), model)).toBe(base);
  });

  it('changes with every answer-changing input', () => {
    const base = defaultFingerprint(call(), model);
    const variants: Array<[string, string]> = [
      ['model id', defaultFingerprint(call(), { ...model, modelId: 'gpt-y' })],
      ['provider', defaultFingerprint(call(), { ...model, provider: 'anthropic' })],
      ['system prompt', defaultFingerprint({ prompt: [{ role: 'system', content: 'Be verbose.' }, ...call().prompt.slice(1)] }, model)],
      ['temperature', defaultFingerprint(call({ temperature: 0.2 }), model)],
      ['topP', defaultFingerprint(call({ topP: 0.5 }), model)],
      ['topK', defaultFingerprint(call({ topK: 5 }), model)],
      ['maxOutputTokens', defaultFingerprint(call({ maxOutputTokens: 10 }), model)],
      ['seed', defaultFingerprint(call({ seed: 7 }), model)],
      ['stopSequences', defaultFingerprint(call({ stopSequences: ['END'] }), model)],
      ['presencePenalty', defaultFingerprint(call({ presencePenalty: 1 }), model)],
      ['frequencyPenalty', defaultFingerprint(call({ frequencyPenalty: 1 }), model)],
      ['responseFormat', defaultFingerprint(call({ responseFormat: { type: 'json' } }), model)],
      ['toolChoice', defaultFingerprint(call({ toolChoice: { type: 'required' } }), model)],
      ['tools', defaultFingerprint(call({ tools: [{ type: 'function', name: 'weather', inputSchema: { type: 'object' } }] }), model)],
      ['providerOptions', defaultFingerprint(call({ providerOptions: { openai: { reasoningEffort: 'high' } } }), model)],
      [
        'attached file',
        defaultFingerprint(
          {
            prompt: [
              {
                role: 'user',
                content: [
                  { type: 'text', text: 'What is in this image?' },
                  { type: 'file', mediaType: 'image/png', data: new Uint8Array([1, 2, 3]) },
                ],
              },
            ],
          },
          model,
        ),
      ],
    ];
    const seen = new Set([base]);
    for (const [name, fingerprint] of variants) {
      expect(fingerprint, name).not.toBe(base);
      seen.add(fingerprint);
    }
    expect(seen.size).toBe(variants.length + 1);
  });

  it('tells two different attached images apart even with the same question', () => {
    const withImage = (byte: number): LanguageModelV3CallOptions => ({
      prompt: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'file', mediaType: 'image/png', data: new Uint8Array([byte]) },
          ],
        },
      ],
    });
    expect(defaultFingerprint(withImage(1), model)).not.toBe(defaultFingerprint(withImage(2), model));
  });
});

describe('lastUserMessageText', () => {
  it('joins the text parts of a final user message', () => {
    expect(
      lastUserMessageText({
        prompt: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
      }),
    ).toBe('a\nb');
  });

  it('is undefined when the prompt ends with a tool result (a later step of a multi-step call) or blank text', () => {
    expect(
      lastUserMessageText({
        prompt: [
          { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
          { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c', toolName: 'w', input: {} }] },
          { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', toolName: 'w', output: { type: 'text', value: 'sunny' } }] },
        ],
      }),
    ).toBeUndefined();
    expect(lastUserMessageText({ prompt: [{ role: 'user', content: [{ type: 'text', text: '  ' }] }] })).toBeUndefined();
  });
});

describe('historyFingerprint', () => {
  it('depends on the earlier turns only, not on the last question', () => {
    const turns = (topic: string, question: string): LanguageModelV3CallOptions['prompt'] => [
      { role: 'user', content: [{ type: 'text', text: topic }] },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      { role: 'user', content: [{ type: 'text', text: question }] },
    ];
    expect(historyFingerprint(turns('geo', 'q1'))).toBe(historyFingerprint(turns('geo', 'q2')));
    expect(historyFingerprint(turns('geo', 'q1'))).not.toBe(historyFingerprint(turns('art', 'q1')));
  });
});
