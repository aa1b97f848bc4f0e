import { hash } from 'node:crypto';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3Prompt } from '@ai-sdk/provider';

/** Key of `providerOptions` reserved for this package's per-call options; never part of a fingerprint. */
export const LIX_PROVIDER_OPTIONS_KEY = 'lix';

/** Bumped whenever the fingerprint's inputs or encoding change, so old entries are never matched by new keys. */
const FINGERPRINT_VERSION = 1;

/**
 * Deterministic JSON: object keys sorted, `undefined` members dropped, binary data as
 * its SHA-256, and values JSON cannot hold (functions, symbols, bigints) as tagged
 * strings, so two equal settings always hash alike and nothing here throws.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value, new Set()));
}

function canonicalize(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : `#num:${String(value)}`;
  if (value === undefined) return null;
  if (typeof value === 'bigint') return `#bigint:${value.toString()}`;
  if (typeof value === 'function' || typeof value === 'symbol') return `#${typeof value}`;
  if (value instanceof Uint8Array) return `#bytes:${hash('sha256', value, 'hex')}`;
  if (value instanceof Date) return `#date:${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()}`;
  if (value instanceof URL) return `#url:${value.href}`;
  if (value instanceof RegExp) return `#re:${value.toString()}`;
  if (typeof value !== 'object') return `#${typeof value}`;
  if (seen.has(value)) return '#cycle';
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((item) => canonicalize(item, seen));
  } else {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) sorted[key] = canonicalize(member, seen);
    }
    out = sorted;
  }
  seen.delete(value);
  return out;
}

/** 32 hex digits of the SHA-256 of `text` (one-shot `crypto.hash`: a quarter of the cost of `createHash` per call). */
export function digest(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

function withoutLixOptions(providerOptions: LanguageModelV3CallOptions['providerOptions']): unknown {
  if (providerOptions === undefined || !(LIX_PROVIDER_OPTIONS_KEY in providerOptions)) return providerOptions;
  const { [LIX_PROVIDER_OPTIONS_KEY]: _lix, ...rest } = providerOptions;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/** Index of the last user message, or -1. */
export function lastUserMessageIndex(prompt: LanguageModelV3Prompt): number {
  for (let index = prompt.length - 1; index >= 0; index--) if (prompt[index]!.role === 'user') return index;
  return -1;
}

/**
 * Everything of the last user message except its text: attached files (by content hash
 * or URL) and per-message provider options. Two questions with the same words about
 * different images must never share an answer.
 */
function lastUserAttachments(prompt: LanguageModelV3Prompt): unknown {
  const index = lastUserMessageIndex(prompt);
  if (index < 0) return null;
  const message = prompt[index]!;
  if (message.role !== 'user') return null;
  const files = message.content.filter((part) => part.type !== 'text');
  const textOptions = message.content.filter((part) => part.type === 'text' && part.providerOptions !== undefined).map((part) => part.providerOptions);
  if (files.length === 0 && textOptions.length === 0 && message.providerOptions === undefined) return null;
  return { files, textOptions, messageOptions: message.providerOptions };
}

/**
 * The default hard partition of a call: a stable hash of what makes two answers
 * incomparable however similar the questions are. Inputs (see the README's
 * "Fingerprint rules"): provider and model id; every system message; tools, tool
 * choice and response format; the sampling settings that change answers
 * (`maxOutputTokens`, `temperature`, `topP`, `topK`, `presencePenalty`,
 * `frequencyPenalty`, `seed`, `stopSequences`); `providerOptions` (minus the `lix`
 * key); and the non-text parts (files) of the last user message.
 * Not included: headers, the abort signal, `includeRawChunks`, and earlier turns of
 * the conversation (pass `includeHistory: true` to the middleware to add them).
 */
export function defaultFingerprint(params: LanguageModelV3CallOptions, model: Pick<LanguageModelV3, 'provider' | 'modelId'>): string {
  const system = params.prompt.filter((message) => message.role === 'system').map((message) => message.content);
  return digest(
    canonicalJson({
      v: FINGERPRINT_VERSION,
      provider: model.provider,
      modelId: model.modelId,
      system,
      tools: params.tools,
      toolChoice: params.toolChoice,
      responseFormat: params.responseFormat,
      maxOutputTokens: params.maxOutputTokens,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      presencePenalty: params.presencePenalty,
      frequencyPenalty: params.frequencyPenalty,
      seed: params.seed,
      stopSequences: params.stopSequences,
      providerOptions: withoutLixOptions(params.providerOptions),
      attachments: lastUserAttachments(params.prompt),
    }),
  );
}

/** Hash of every non-system message before the last user message (for `includeHistory`). */
export function historyFingerprint(prompt: LanguageModelV3Prompt): string {
  const index = lastUserMessageIndex(prompt);
  const earlier = (index < 0 ? prompt : prompt.slice(0, index)).filter((message) => message.role !== 'system');
  return digest(canonicalJson(earlier));
}

/**
 * The default query text: the text parts of the last message when it is a user
 * message, joined by newlines; `undefined` (do not cache) when the prompt ends with
 * anything else (a tool result step of a multi-step call) or the text is blank.
 */
export function lastUserMessageText(params: LanguageModelV3CallOptions): string | undefined {
  const last = params.prompt[params.prompt.length - 1];
  if (last === undefined || last.role !== 'user') return undefined;
  const text = last.content
    .filter((part) => part.type === 'text')
    .map((part) => part.text)
    .join('\n');
  return text.trim() === '' ? undefined : text;
}
