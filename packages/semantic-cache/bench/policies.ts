/**
 * Benchmarks of issue 17, run by bench/index.ts per driver:
 *
 * - a lookup hit and miss on entries with sliding TTL and two tags (plus the URL tag),
 *   next to today's lookup done by hand with the same driver: GET of the vector string,
 *   the same scan, HGET of the response, decode (what `lookup` did before expiry modes);
 * - a lookup hit with telemetry on but no OpenTelemetry SDK registered (the API is
 *   installed, so its no-op meter and tracer run) next to the same cache with
 *   `telemetry: false`.
 */
import type { KVDriver } from '@lix/redis-pool';
import { SemanticCache } from '../src/index.js';
import { scopeKeys } from '../src/keys.js';
import { formatExpiry, readHeader, recordId, scanBestMatch } from '../src/records.js';
import { headerArg, setEntryScript } from '../src/scripts.js';
import { decodeResponse, encodeResponse } from '../src/serialization.js';
import { float32ToBytes, normalizeEmbedding } from '../src/vector.js';
import { randomVector, vectorAtSimilarity } from '../test/helpers.js';

/** One table row. */
export interface PolicyRow {
  figure: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
}

type Compare = (
  ours: () => Promise<unknown>,
  reference: () => Promise<unknown>,
) => Promise<{ ours: number; reference: number; oursMean: number; referenceMean: number; oursP99: number; referenceP99: number }>;

/**
 * Ours and the reference interleaved call by call (the order swapped every call), then the
 * median, mean and p99 of the per-call times: on a machine shared with other people's test
 * runs a burst of load hits both sides alike and shows in the tail, not in the median.
 */
export async function compareInterleaved(
  ours: () => Promise<unknown>,
  reference: () => Promise<unknown>,
  calls: number,
): Promise<Awaited<ReturnType<Compare>>> {
  for (let i = 0; i < 100; i++) {
    await ours();
    await reference();
  }
  const a: number[] = [];
  const b: number[] = [];
  const time = async (op: () => Promise<unknown>, into: number[]) => {
    const start = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  };
  for (let i = 0; i < calls; i++) {
    if (i % 2 === 0) {
      await time(ours, a);
      await time(reference, b);
    } else {
      await time(reference, b);
      await time(ours, a);
    }
  }
  const sorted = (values: number[]) => [...values].sort((x, y) => x - y);
  const at = (values: number[], q: number) => sorted(values)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  return { ours: at(a, 0.5), reference: at(b, 0.5), oursMean: mean(a), referenceMean: mean(b), oursP99: at(a, 0.99), referenceP99: at(b, 0.99) };
}

const us = (value: number) => `${value.toFixed(1)} µs`;

export async function benchPolicies(
  name: string,
  driver: KVDriver,
  stored: { vector: Float32Array; response: unknown }[],
  random: () => number,
  _compare: Compare,
  calls: number,
): Promise<PolicyRow[]> {
  const compare: Compare = (ours, reference) => compareInterleaved(ours, reference, calls);
  const prefix = `bench-policies:${name}`;
  const url = 'https://weather.com';
  const sliding = new SemanticCache({ driver, sessionId: 'bench-session', keyPrefix: prefix, expiry: 'sliding', ttlMs: 600_000, telemetry: false });
  await sliding.clearSession();
  for (const [i, entry] of stored.entries()) await sliding.set(url, entry.vector, entry.response, { tags: [`doc:${i % 7}`, 'tenant:bench'] });
  const hitQuery = vectorAtSimilarity(stored[17]!.vector, 0.95, random);
  const missQuery = randomVector(random, stored[0]!.vector.length);
  if ((await sliding.get(url, hitQuery)) === null || (await sliding.get(url, missQuery)) !== null) throw new Error('bench: expected one hit and one miss');

  // Today's scope, written exactly as `set` did before this change (the 7-argument script, no meta, no tags).
  const todayKeys = scopeKeys(`${prefix}:today`, 'session', 'bench-session', url);
  await driver.del([todayKeys.vectors, todayKeys.responses]);
  for (const entry of stored) {
    const unit = normalizeEmbedding(entry.vector);
    const now = Date.now();
    await driver.eval(
      setEntryScript,
      [todayKeys.vectors, todayKeys.responses],
      [now, formatExpiry(now + 600_000), 50, unit.length, float32ToBytes(unit), encodeResponse(entry.response, 1 << 22), headerArg(unit.length)],
    );
  }
  // Today's lookup, by hand: validation aside, exactly the work `lookup` did before this change.
  const today = async (query: Float32Array) => {
    const unit = normalizeEmbedding(query);
    const packed = await driver.get(todayKeys.vectors);
    if (packed === null) return null;
    const { dimensions, count } = readHeader(packed);
    const best = scanBestMatch(packed, dimensions, count, unit, Date.now());
    if (best.index < 0 || best.similarity < 0.9) return null;
    const bytes = await driver.hget(todayKeys.responses, recordId(packed, dimensions, best.index));
    return bytes === null ? null : decodeResponse(bytes);
  };
  const rows: PolicyRow[] = [];
  const row = (figure: string, result: Awaited<ReturnType<Compare>>, target: string) => {
    rows.push({ figure, ours: us(result.ours), reference: us(result.reference), ratio: `${(result.ours / result.reference).toFixed(2)}×`, target });
    rows.push({
      figure: `  (mean / p99 of the same calls)`,
      ours: `${us(result.oursMean)} / ${us(result.oursP99)}`,
      reference: `${us(result.referenceMean)} / ${us(result.referenceP99)}`,
      ratio: `${(result.oursMean / result.referenceMean).toFixed(2)}× / ${(result.oursP99 / result.referenceP99).toFixed(2)}×`,
      target: '',
    });
  };
  row(
    "lookup hit, sliding TTL + tags vs today's lookup hit",
    await compare(
      () => sliding.get(url, hitQuery),
      () => today(hitQuery),
    ),
    '≤ 1.1×',
  );
  row(
    "lookup miss, sliding TTL + tags vs today's lookup miss",
    await compare(
      () => sliding.get(url, missQuery),
      () => today(missQuery),
    ),
    '≤ 1.1×',
  );

  const observed = new SemanticCache({ driver, sessionId: 'bench-session', keyPrefix: prefix, expiry: 'sliding', ttlMs: 600_000 });
  row(
    'lookup hit, telemetry on, no SDK registered vs telemetry: false',
    await compare(
      () => observed.get(url, hitQuery),
      () => sliding.get(url, hitQuery),
    ),
    '≤ 1.05×',
  );
  const plain = new SemanticCache({ driver, sessionId: 'bench-session', keyPrefix: `${prefix}:plain`, telemetry: false });
  row(
    'set with 2 tags (3 tag registrations in parallel, then the write) vs set without tags (URL registration, then the write)',
    await compare(
      () => sliding.set('https://other.example', stored[3]!.vector, stored[3]!.response, { tags: ['doc:1', 'tenant:bench'] }),
      () => plain.set('https://other.example', stored[3]!.vector, stored[3]!.response),
    ),
    '—',
  );
  await plain.clearSession();
  await sliding.clearSession();
  await driver.del([todayKeys.vectors, todayKeys.responses]);
  return rows;
}
