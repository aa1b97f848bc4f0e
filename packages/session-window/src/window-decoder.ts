import { createHash } from 'node:crypto';
import type { ScriptReply } from '@lix/redis-pool';
import { decodeRecord, recordSeq } from './record.js';
import { TAIL_DIGEST_BYTES } from './scripts.js';
import type { ConversationMessage } from './types.js';

/** The length and last record (or its SHA-1 hex, `mode` `h`) of the window a decoder holds. */
export interface WindowProbe {
  length: number;
  mode: 'r' | 'h';
  tail: Uint8Array | string;
}

/** The messages of a window read, and whether every entry was a record (false: a foreign value under our key). */
export interface DecodedWindow {
  messages: ConversationMessage[];
  intact: boolean;
}

/**
 * The last window one process read for a session, position by position: a copy of each
 * record's bytes and, for a record without metadata, its decoded fields. A window is
 * read far more often than it changes, and comparing bytes natively costs a fraction
 * of decoding them, so a read whose records all equal the last read's decodes nothing.
 */
export class WindowDecoder {
  #records: Uint8Array[] = [];
  /** The decoded fields of `records[i]`, or `null` when it carries metadata (decoded on every read: the caller may mutate it). */
  #fields: (ConversationMessage | null)[] = [];
  /**
   * Both drivers hand a reply's records as views into one buffer holding the whole
   * reply. When the last read's did, `span` is a copy of the bytes from its first
   * record's start to its last record's end, `offsets` where each record starts in it
   * (`records` are views into `span`). A read laid out alike (same buffer, same offsets,
   * same lengths) whose span equals this one holds equal records: one native comparison
   * instead of one per record, the larger share of a read's own cost.
   */
  #span: Uint8Array | null = null;
  #offsets: number[] = [];
  #probe: WindowProbe | null = null;

  /**
   * Decodes a window reply. Every call returns objects of its own (a caller mutating a
   * message cannot affect another caller), oldest first, like the reply.
   */
  decode(reply: ScriptReply): DecodedWindow {
    if (!Array.isArray(reply)) {
      this.forget();
      return { messages: [], intact: false };
    }
    const count = reply.length;
    const records = this.#records;
    if (count === records.length) {
      let same = count > 0 && this.#span !== null && this.#sameSpan(reply as unknown[]);
      if (!same) {
        same = true;
        for (let index = 0; index < count; index++) {
          const item = reply[index];
          const known = records[index]!;
          if (!(item instanceof Uint8Array) || item.length !== known.length || Buffer.compare(item, known) !== 0) {
            same = false;
            break;
          }
        }
        // The records are unchanged, so a span kept from an earlier read still holds them:
        // keep it (a reply split across socket reads arrives in two buffers now and then,
        // and copying the span again for it would cost more than the comparison saves).
        if (same && this.#span === null) this.#adoptLayout(reply as unknown[]);
      }
      if (same) return this.unchanged();
    }
    return this.#decodeChanged(reply as unknown[]);
  }

  /**
   * What a conditional read sends to learn whether the window is still the one this
   * decoder holds: its length and its last record (or the record's SHA-1 hex when it is
   * long); `null` when the decoder holds no window.
   */
  probe(): WindowProbe | null {
    const records = this.#records;
    if (records.length === 0) return null;
    if (this.#probe === null) {
      const tail = records[records.length - 1]!;
      this.#probe =
        tail.length > TAIL_DIGEST_BYTES
          ? { length: records.length, mode: 'h', tail: createHash('sha1').update(tail).digest('hex') }
          : { length: records.length, mode: 'r', tail };
    }
    return this.#probe;
  }

  /** The window this decoder holds, as fresh objects (a conditional read found it unchanged). */
  unchanged(): DecodedWindow {
    const records = this.#records;
    const fields = this.#fields;
    const count = records.length;
    const messages = new Array<ConversationMessage>(count);
    for (let index = 0; index < count; index++) {
      const known = fields[index]!;
      messages[index] =
        known === null
          ? decodeRecord(records[index]!)!
          : { seq: known.seq, role: known.role, content: known.content, timestamp: known.timestamp, metadata: {} };
    }
    return { messages, intact: true };
  }

  /** Drops what the decoder holds (the window was replaced or is unknown). */
  forget(): void {
    this.#probe = null;
    this.#records = [];
    this.#fields = [];
    this.#span = null;
    this.#offsets = [];
  }

  /** The reply has the last read's layout and its span's bytes equal the last read's. */
  #sameSpan(reply: unknown[]): boolean {
    const first = reply[0];
    if (!(first instanceof Uint8Array)) return false;
    const buffer = first.buffer;
    const base = first.byteOffset;
    const records = this.#records;
    const offsets = this.#offsets;
    for (let index = 0; index < reply.length; index++) {
      const item = reply[index];
      if (!(item instanceof Uint8Array) || item.buffer !== buffer || item.byteOffset - base !== offsets[index] || item.length !== records[index]!.length)
        return false;
    }
    const span = this.#span!;
    const last = reply[reply.length - 1] as Uint8Array;
    if (last.byteOffset + last.length - base !== span.length) return false;
    return Buffer.compare(new Uint8Array(buffer, base, span.length), span) === 0;
  }

  /**
   * Keeps a copy of the reply's span when its records lie in one buffer, in order and
   * with little between them; `records` then become views into it (no more memory than
   * copies of each). Otherwise reads compare record by record.
   */
  #adoptLayout(reply: unknown[]): void {
    this.#span = null;
    this.#offsets = [];
    if (reply.length < 2) return;
    const first = reply[0] as Uint8Array;
    const buffer = first.buffer;
    const base = first.byteOffset;
    let end = base;
    let bytes = 0;
    const offsets: number[] = [];
    for (const item of reply as Uint8Array[]) {
      if (item.buffer !== buffer || item.byteOffset < end) return;
      offsets.push(item.byteOffset - base);
      end = item.byteOffset + item.length;
      bytes += item.length;
    }
    // RESP frames each record with a dozen bytes or so; more means a layout not worth copying.
    if (end - base > bytes + 32 * reply.length) return;
    const span = new Uint8Array(buffer, base, end - base).slice();
    this.#records = this.#records.map((record, index) => span.subarray(offsets[index]!, offsets[index]! + record.length));
    this.#span = span;
    this.#offsets = offsets;
  }

  /** The slow path: a window that changed since the last read; records that only moved (the window slid) keep their decoded strings. */
  #decodeChanged(reply: unknown[]): DecodedWindow {
    let previous: Map<number, number> | undefined;
    if (this.#records.length > 0) {
      previous = new Map();
      for (let index = 0; index < this.#records.length; index++) previous.set(recordSeq(this.#records[index]!), index);
    }
    const messages: ConversationMessage[] = [];
    const records: Uint8Array[] = [];
    const fields: (ConversationMessage | null)[] = [];
    let intact = true;
    for (const item of reply) {
      if (!(item instanceof Uint8Array)) {
        intact = false;
        continue;
      }
      const at = item.length >= 6 ? previous?.get(recordSeq(item)) : undefined;
      const old = at === undefined ? undefined : this.#records[at]!;
      const oldFields = at === undefined ? null : this.#fields[at]!;
      if (old !== undefined && oldFields !== null && old.length === item.length && Buffer.compare(old, item) === 0) {
        messages.push({ seq: oldFields.seq, role: oldFields.role, content: oldFields.content, timestamp: oldFields.timestamp, metadata: {} });
        records.push(old);
        fields.push(oldFields);
        continue;
      }
      const message = decodeRecord(item);
      if (message === null) {
        intact = false;
        continue;
      }
      messages.push(message);
      // A copy: the driver's reply buffer may be reused.
      records.push(Uint8Array.prototype.slice.call(item));
      let empty = true;
      for (const _key in message.metadata) {
        empty = false;
        break;
      }
      fields.push(empty ? { seq: message.seq, role: message.role, content: message.content, timestamp: message.timestamp, metadata: {} } : null);
    }
    this.#probe = null;
    if (intact) {
      this.#records = records;
      this.#fields = fields;
      this.#adoptLayout(reply);
    } else {
      this.forget();
    }
    return { messages, intact };
  }
}

/** Decodes a window reply without a cache (repairs, rebuild replies). */
export function decodeWindow(reply: ScriptReply): DecodedWindow {
  return new WindowDecoder().decode(reply);
}
