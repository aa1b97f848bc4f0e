// Only @lix/huffman: compress the corpus with the HCv1 codec and read it back.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode, encode, encodeString, decodeToString, HuffmanError } from '@lix/huffman';

const corpusPath = fileURLToPath(new URL('../../../fixtures/corpus/conversations.jsonl', import.meta.url));
const input = new Uint8Array(readFileSync(corpusPath));

let started = performance.now();
const packed = encode(input);
const encodeMs = performance.now() - started;
started = performance.now();
const restored = decode(packed);
const decodeMs = performance.now() - started;

const identical = restored.length === input.length && restored.every((byte, i) => byte === input[i]);
const mb = input.length / 1e6;
console.log(`corpus: ${input.length} bytes -> ${packed.length} bytes (${((packed.length / input.length) * 100).toFixed(1)}%)`);
console.log(`encode ${(mb / (encodeMs / 1000)).toFixed(1)} MB/s, decode ${(mb / (decodeMs / 1000)).toFixed(1)} MB/s`);
console.log(`round trip identical: ${identical}`);

const text = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
console.log(`string helpers: ${text.length} chars -> ${encodeString(text).length} bytes, back equal: ${decodeToString(encodeString(text)) === text}`);

try {
  decode(new Uint8Array([1, 2, 3]));
} catch (error) {
  if (error instanceof HuffmanError) console.log(`bad input is a typed error: ${error.code}`);
}
if (!identical) process.exit(1);
