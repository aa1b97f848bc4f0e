/**
 * A deliberately naive HCv1 decoder and encoder written straight from
 * fixtures/legacy-huff/FORMAT.md: BigInt codes, one bit at a time, no tables.
 * Tests use it as an independent oracle; it shares no code with src/.
 */

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Canonical codes per the spec: first 0, then (previous + 1) << (length growth). */
export function canonicalCodes(pairs: ReadonlyArray<readonly [number, number]>): bigint[] {
  const codes: bigint[] = [];
  let code = 0n;
  for (let i = 0; i < pairs.length; i++) {
    if (i > 0) code = (code + 1n) << BigInt(pairs[i]![1] - pairs[i - 1]![1]);
    codes.push(code);
  }
  return codes;
}

/** Decodes per the spec, rejecting with a plain Error whatever the spec does not describe. */
export function referenceDecode(stream: Uint8Array): Uint8Array {
  if (stream.length < 10) throw new Error('short header');
  if (String.fromCharCode(...stream.subarray(0, 4)) !== 'HCv1') throw new Error('magic');
  const n = u32(stream, 4);
  const s = stream[8]! | (stream[9]! << 8);
  if (n === 0) {
    if (s !== 0 || stream.length !== 10) throw new Error('bad empty stream');
    return new Uint8Array(0);
  }
  if (s < 1 || s > 256) throw new Error('symbol count');
  if (stream.length < 14 + 2 * s) throw new Error('short table');
  const pairs: [number, number][] = [];
  for (let i = 0; i < s; i++) pairs.push([stream[10 + 2 * i]!, stream[11 + 2 * i]!]);
  const symbolsSeen = new Set<number>();
  let kraft = 0n;
  const scale = 1n << 255n;
  for (let i = 0; i < s; i++) {
    const [symbol, length] = pairs[i]!;
    if (length === 0) throw new Error('zero length');
    if (symbolsSeen.has(symbol)) throw new Error('duplicate');
    symbolsSeen.add(symbol);
    if (i > 0) {
      const [ps, pl] = pairs[i - 1]!;
      if (pl > length || (pl === length && ps >= symbol)) throw new Error('unsorted');
    }
    kraft += scale >> BigInt(length);
  }
  if (kraft > scale) throw new Error('over-subscribed');
  const padding = u32(stream, 10 + 2 * s);
  if (padding > 7) throw new Error('padding');
  const codes = canonicalCodes(pairs);
  const lookup = new Map<string, number>();
  for (const [i, [symbol, length]] of pairs.entries()) lookup.set(`${length}:${codes[i]!}`, symbol);
  const maxLength = pairs[s - 1]![1];
  const payload = stream.subarray(14 + 2 * s);
  const totalBits = payload.length * 8 - padding;
  let pos = 0;
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o++) {
    let code = 0n;
    let length = 0;
    for (;;) {
      if (pos >= totalBits) throw new Error('truncated');
      code = (code << 1n) | BigInt((payload[pos >> 3]! >> (7 - (pos & 7))) & 1);
      pos++;
      length++;
      const symbol = lookup.get(`${length}:${code}`);
      if (symbol !== undefined) {
        out[o] = symbol;
        break;
      }
      if (length >= maxLength) throw new Error('unassigned code');
    }
  }
  if (pos !== totalBits) throw new Error('bits left over');
  return out;
}

/**
 * Writes an HCv1 stream for `data` with the given (symbol, length) table,
 * which must be sorted by (length, symbol); lengths may be anything up to 255.
 */
export function referenceEncodeWithTable(data: Uint8Array, pairs: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const codes = canonicalCodes(pairs);
  const codeOf = new Map<number, [bigint, number]>();
  for (const [i, [symbol, length]] of pairs.entries()) codeOf.set(symbol, [codes[i]!, length]);
  const bits: number[] = [];
  for (const byte of data) {
    const [code, length] = codeOf.get(byte)!;
    for (let k = length - 1; k >= 0; k--) bits.push(Number((code >> BigInt(k)) & 1n));
  }
  const payload = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    payload[i >> 3]! |= bit << (7 - (i & 7));
  });
  const header = new Uint8Array(14 + 2 * pairs.length);
  header.set([0x48, 0x43, 0x76, 0x31]);
  new DataView(header.buffer).setUint32(4, data.length, true);
  new DataView(header.buffer).setUint16(8, pairs.length, true);
  for (const [i, [symbol, length]] of pairs.entries()) header.set([symbol, length], 10 + 2 * i);
  new DataView(header.buffer).setUint32(10 + 2 * pairs.length, payload.length * 8 - bits.length, true);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}
