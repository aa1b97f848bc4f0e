// Codec throughput on the corpus, next to node:zlib raw deflate level 1 / inflate on the
// same bytes in the same process. Medians of several runs.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { corpusPath } from '@lix/test-utils';
import { decode, encode } from '@lix/huffman';

const input = new Uint8Array(readFileSync(corpusPath));
const mb = input.byteLength / 1e6;
const RUNS = 9;

function medianMBps(fn: () => unknown): number {
  fn();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    fn();
    rates.push(mb / ((performance.now() - started) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const encoded = encode(input);
const deflated = deflateRawSync(input, { level: 1 });
if (Buffer.compare(Buffer.from(decode(encoded)), Buffer.from(input)) !== 0) throw new Error('round trip failed');

const huffEncode = medianMBps(() => encode(input));
const zlibEncode = medianMBps(() => deflateRawSync(input, { level: 1 }));
const huffDecode = medianMBps(() => decode(encoded));
const zlibDecode = medianMBps(() => inflateRawSync(deflated));

console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; input ${input.byteLength} bytes (corpus JSONL), median of ${RUNS} runs`,
);
console.log('| figure | @lix/huffman | node:zlib | ratio | target |');
console.log('|---|---:|---:|---:|---:|');
console.log(
  `| encode MB/s (zlib: deflateRaw level 1) | ${huffEncode.toFixed(1)} | ${zlibEncode.toFixed(1)} | ${(huffEncode / zlibEncode).toFixed(2)}× | ≥ 1.0× |`,
);
console.log(`| decode MB/s (zlib: inflateRaw) | ${huffDecode.toFixed(1)} | ${zlibDecode.toFixed(1)} | ${(huffDecode / zlibDecode).toFixed(2)}× | ≥ 0.5× |`);
console.log(`| compressed size / input | ${(encoded.byteLength / input.byteLength).toFixed(3)} | ${(deflated.byteLength / input.byteLength).toFixed(3)} | | |`);
