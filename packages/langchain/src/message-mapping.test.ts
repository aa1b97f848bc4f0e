import { AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { STORED_MESSAGE_KEY, fromWindowMessage, toWindowTurn } from './message-mapping.js';

const asWindow = (turn: ReturnType<typeof toWindowTurn>, seq = 1) => ({ seq, timestamp: 0, ...turn });

describe('message mapping', () => {
  it('keeps a string content as the window text and not twice', () => {
    const turn = toWindowTurn(new HumanMessage({ content: 'hello', id: 'h1' }));
    expect(turn).toEqual({
      role: 'user',
      content: 'hello',
      metadata: { [STORED_MESSAGE_KEY]: { type: 'human', data: { id: 'h1', additional_kwargs: {}, response_metadata: {} } } },
    });
  });

  it('gives content the window cannot hold a text for budgets and search, and keeps the original', () => {
    const calls = [{ id: 'c', name: 'lookup', args: { q: 1 }, type: 'tool_call' as const }];
    const toolCall = toWindowTurn(new AIMessage({ content: '', tool_calls: calls }));
    expect(toolCall.role).toBe('assistant');
    expect(toolCall.content).toBe(JSON.stringify(calls));
    const blocks = new HumanMessage({
      content: [
        { type: 'text', text: 'look at ' },
        { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        { type: 'text', text: 'this' },
      ],
    });
    const turn = toWindowTurn(blocks);
    expect(turn.content).toBe('look at this');
    expect(fromWindowMessage(asWindow(turn)).toDict()).toEqual(blocks.toDict());
    expect(toWindowTurn(new SystemMessage('')).content).toBe(' ');
    expect(fromWindowMessage(asWindow(toWindowTurn(new SystemMessage('')))).content).toBe('');
  });

  it('uses a generic message’s own role and the tool role', () => {
    expect(toWindowTurn(new ChatMessage({ content: 'x', role: 'critic' })).role).toBe('critic');
    expect(toWindowTurn(new ToolMessage({ content: 'x', tool_call_id: 't' })).role).toBe('tool');
  });

  it('reads messages other writers stored by their role', () => {
    const plain = (role: string) => fromWindowMessage({ seq: 1, role, content: 'text', timestamp: 0, metadata: { lang: 'en' } });
    expect(plain('user')).toBeInstanceOf(HumanMessage);
    expect(plain('assistant')).toBeInstanceOf(AIMessage);
    expect(plain('system')).toBeInstanceOf(SystemMessage);
    const other = plain('moderator');
    expect(other).toBeInstanceOf(ChatMessage);
    expect((other as ChatMessage).role).toBe('moderator');
  });

  it('falls back to the role, and reports it, when a stored form cannot be restored', () => {
    const errors: unknown[] = [];
    const message = fromWindowMessage(
      { seq: 1, role: 'tool', content: 'r', timestamp: 0, metadata: { [STORED_MESSAGE_KEY]: { type: 'tool', data: {} } } },
      (error) => errors.push(error),
    );
    expect(message).toBeInstanceOf(ChatMessage);
    expect(errors).toHaveLength(1);
  });
});
