import { describe, expect, it } from 'vitest';
import { encodeRecord } from './record.js';
import { WindowDecoder } from './window-decoder.js';

const record = (seq: number, content: string, metadata = {}) => encodeRecord({ seq, role: 'user', content, timestamp: 1_700_000_000 + seq, metadata });

/** The records as a driver hands them: views into one reply buffer, with RESP-like framing between them. */
function reply(records: Uint8Array[]): Uint8Array[] {
  const total = records.reduce((sum, r) => sum + r.length + 8, 0);
  const buffer = new Uint8Array(total + 8);
  let offset = 8;
  return records.map((r) => {
    buffer.set(r, offset);
    const view = new Uint8Array(buffer.buffer, offset, r.length);
    offset += r.length + 8;
    return view;
  });
}

describe('WindowDecoder', () => {
  it('serves an unchanged window from what it decoded, as new objects every time', () => {
    const decoder = new WindowDecoder();
    const records = [record(1, 'a'), record(2, 'b'), record(3, 'c', { k: 1 })];
    const first = decoder.decode(reply(records));
    expect(first.intact).toBe(true);
    first.messages[0]!.content = 'mutated';
    (first.messages[0]!.metadata as Record<string, number>).x = 1;
    (first.messages[2]!.metadata as Record<string, number>).k = 2;
    const second = decoder.decode(reply(records));
    expect(second.messages.map((m) => m.content)).toEqual(['a', 'b', 'c']);
    expect(second.messages.map((m) => m.metadata)).toEqual([{}, {}, { k: 1 }]);
    expect(second.messages[0]).not.toBe(first.messages[0]);
  });

  it('sees a change of one byte in a window of the same layout and lengths', () => {
    const decoder = new WindowDecoder();
    decoder.decode(reply([record(1, 'aaaa'), record(2, 'bbbb')]));
    decoder.decode(reply([record(1, 'aaaa'), record(2, 'bbbb')]));
    const changed = decoder.decode(reply([record(1, 'aaaa'), record(2, 'bbbc')]));
    expect(changed.messages.map((m) => m.content)).toEqual(['aaaa', 'bbbc']);
    // The same record at another seq (a new history) is decoded, not reused.
    const other = decoder.decode(reply([record(1, 'aaaa'), record(3, 'bbbc')]));
    expect(other.messages.map((m) => m.seq)).toEqual([1, 3]);
  });

  it('keeps working when the driver hands separate buffers, and after the window slid', () => {
    const decoder = new WindowDecoder();
    decoder.decode([record(1, 'a'), record(2, 'b')]);
    expect(decoder.decode([record(1, 'a'), record(2, 'b')]).messages.map((m) => m.content)).toEqual(['a', 'b']);
    expect(decoder.decode(reply([record(2, 'b'), record(3, 'c')])).messages.map((m) => [m.seq, m.content])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    expect(decoder.decode([record(2, 'b'), record(3, 'x')]).messages.map((m) => m.content)).toEqual(['b', 'x']);
  });

  it('reports a foreign value as not intact, and forgets the window', () => {
    const decoder = new WindowDecoder();
    decoder.decode(reply([record(1, 'a'), record(2, 'b')]));
    const foreign = decoder.decode([record(1, 'a'), new Uint8Array([1, 2, 3])]);
    expect(foreign.intact).toBe(false);
    expect(foreign.messages.map((m) => m.content)).toEqual(['a']);
    expect(decoder.decode('not a list' as never).intact).toBe(false);
    expect(decoder.decode(reply([record(1, 'a'), record(2, 'b')])).messages.map((m) => m.content)).toEqual(['a', 'b']);
  });
});
