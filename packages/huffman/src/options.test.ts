import { describe, expect, it } from 'vitest';
import { decode } from './decoder.js';
import { encode } from './encoder.js';
import { HuffmanError } from './errors.js';

function expectInvalidArgument(run: () => unknown, mentions?: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HuffmanError);
  expect((caught as HuffmanError).code).toBe('INVALID_ARGUMENT');
  if (mentions !== undefined) expect((caught as HuffmanError).message).toContain(mentions);
}

describe('encode and decode options', () => {
  const stream = encode(new TextEncoder().encode('hello'));
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it('name an unknown option instead of ignoring it', () => {
    expectInvalidArgument(() => encode(new Uint8Array(3), { maxCodeLenght: 8 } as never), '"maxCodeLenght"');
    expectInvalidArgument(() => decode(stream, { maxOutput: 8 } as never), '"maxOutput"');
  });

  it('refuse option values that String() or JSON cannot describe with the typed error', () => {
    for (const value of [Object.create(null), circular, 10n, Symbol('s'), [1]]) {
      expectInvalidArgument(() => decode(stream, { maxOutputLength: value } as never));
      expectInvalidArgument(() => encode(new Uint8Array(3), { maxCodeLength: value } as never));
    }
  });

  it('refuse options that are not plain objects', () => {
    for (const options of [null, 5, 'x', []]) {
      expectInvalidArgument(() => decode(stream, options as never));
      expectInvalidArgument(() => encode(new Uint8Array(3), options as never));
    }
  });
});
