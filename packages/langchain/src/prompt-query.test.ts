import { AIMessage, HumanMessage, SystemMessage, ToolMessage, getBufferString } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { lastHumanTurn } from './prompt-query.js';

describe('lastHumanTurn', () => {
  it('takes the last human turn of a getBufferString prompt', () => {
    const prompt = getBufferString([
      new SystemMessage('Be brief.'),
      new HumanMessage('Hi'),
      new AIMessage('Hello!'),
      new HumanMessage('What is the capital\nof France?'),
    ]);
    expect(lastHumanTurn(prompt)).toBe('What is the capital\nof France?');
    expect(lastHumanTurn(getBufferString([new HumanMessage('only one')]))).toBe('only one');
  });

  it('takes a plain LLM prompt whole', () => {
    expect(lastHumanTurn('Translate "cat" into French.')).toBe('Translate "cat" into French.');
  });

  it('bypasses prompts that do not end with a human turn, or have nothing to embed', () => {
    const tool = getBufferString([
      new HumanMessage('weather?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c', name: 'w', args: {}, type: 'tool_call' }] }),
      new ToolMessage({ content: 'sunny', tool_call_id: 'c' }),
    ]);
    expect(lastHumanTurn(tool)).toBeNull();
    expect(lastHumanTurn(getBufferString([new HumanMessage('q'), new AIMessage('prefill')]))).toBeNull();
    expect(lastHumanTurn(getBufferString([new SystemMessage('rules only')]))).toBeNull();
    expect(lastHumanTurn('Human:   ')).toBeNull();
    expect(lastHumanTurn('')).toBeNull();
  });
});
