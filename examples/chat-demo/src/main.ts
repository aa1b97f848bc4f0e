/**
 * A scripted chat that walks through every layer of lix-cache:
 *   1. the session window overflowing into the on-disk archive,
 *   2. a URL embedding computed once and reused,
 *   3. a rephrased question answered from the semantic cache,
 *   4. an idle session evicted from Redis and re-hydrated from the archive,
 *   5. the stats of every layer, with hit rates.
 * No Redis needed: without REDIS_URL it runs on the in-memory driver.
 * With REDIS_URL=redis://host:port it runs against that server.
 * With ARCHIVE_URL=postgres://user@host:port/db the archive lives in PostgreSQL (tables
 * created by migrateArchive), otherwise in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheConfig, createCacheRuntime, migrateArchive } from '@lix/coordinator';
import { DEMO_EMBEDDER_ID, cosine, demoEmbed } from './demo-embedder.js';

/** A clock the demo can move forward, so "two hours idle" takes no time. */
class DemoClock {
  #skewMs = 0;
  now(): number {
    return Date.now() + this.#skewMs;
  }
  advance(ms: number): void {
    this.#skewMs += ms;
  }
}

/** Stands in for the LLM: canned answers, and a count of how often it was called. */
class FakeLlm {
  calls = 0;
  async answer(question: string, page: string): Promise<{ answer: string; sources: string[] }> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { answer: `(from ${page}) ${question.includes('weather') ? 'It is 22°C and sunny in Tokyo.' : 'Here is what the page says.'}`, sources: [page] };
  }
}

const PAGES: Record<string, string> = {
  'https://weather.example/tokyo': 'Tokyo weather today: 22°C, sunny, light wind from the south.',
  'https://travel.example/tokyo': 'Tokyo travel guide: neighbourhoods, food, trains and temples.',
};

function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  const archiveUrl = process.env.ARCHIVE_URL || undefined;
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const archiveDir = mkdtempSync(join(tmpdir(), 'lix-chat-demo-'));
  const clock = new DemoClock();
  const config = new CacheConfig({
    ...(redisUrl ? { redisUrl } : { driver: 'memory' }),
    // A unique prefix keeps reruns against a shared Redis apart.
    redisKeyPrefix: `chatdemo-${runId}`,
    hotWindowSize: 4,
    archiveDir,
    ...(archiveUrl ? { archiveUrl } : {}),
    evictAfterMinutes: 120,
    embeddingModelId: DEMO_EMBEDDER_ID,
  });
  await migrateArchive(config);
  const runtime = createCacheRuntime<{ answer: string; sources: string[] }>({ config, clock });
  const llm = new FakeLlm();
  let embeddingsComputed = 0;

  line(
    `lix-cache chat demo — driver: ${config.driver}${redisUrl ? ` (${new URL(redisUrl).host})` : ' (in-memory, no Redis needed; set REDIS_URL to use a server)'}`,
  );
  line(`embedder: ${DEMO_EMBEDDER_ID} (DEMO EMBEDDER: hashed words and character trigrams, not a language model)`);
  line(`archive: ${archiveUrl ? `PostgreSQL (${new URL(archiveUrl).host})` : archiveDir}`);
  line();

  try {
    // A shared database outlives the run: give each run its own session there.
    const sessionId = archiveUrl ? `demo-user-1-${runId}` : 'demo-user-1';
    const chat = runtime.forSession(sessionId);

    async function ask(question: string, url: string): Promise<void> {
      const pageEmbedding = await chat.getOrComputeUrlEmbedding(url, () => {
        embeddingsComputed++;
        line(`  [url cache] MISS ${url}: embedding the page`);
        return demoEmbed(PAGES[url] ?? url);
      });
      void pageEmbedding;
      const queryEmbedding = demoEmbed(question);
      const callsBefore = llm.calls;
      const response = await chat.getOrComputeSemanticResponse(url, queryEmbedding, () => llm.answer(question, url));
      const fromCache = llm.calls === callsBefore;
      line(`user: ${question}`);
      line(`  [semantic cache] ${fromCache ? 'HIT: answered without calling the LLM' : 'MISS: called the LLM'}`);
      line(`assistant: ${response.answer}`);
      await chat.addMessageToContext('user', question, { url });
      await chat.addMessageToContext('assistant', response.answer, { cached: fromCache });
    }

    line('== 1. Chatting past the hot window (4 messages) ==');
    await ask("What's the weather in Tokyo today?", 'https://weather.example/tokyo');
    await ask('Which neighbourhoods should I visit in Tokyo?', 'https://travel.example/tokyo');
    await ask('Where can I eat ramen near the temples?', 'https://travel.example/tokyo');
    const window = await chat.getContextMessages();
    let stats = await chat.getStats();
    const session = stats.sessionWindow as { hotMessages: number; archivedMessages: number };
    line(
      `window overflow: ${session.hotMessages} messages hot in ${config.driver === 'memory' ? 'memory' : 'Redis'}, ${session.archivedMessages} in the archive`,
    );
    line(`hot window now starts at: "${window[0]?.role}: ${window[0]?.content}"`);
    line();

    line('== 2. A rephrased question ==');
    const original = "What's the weather in Tokyo today?";
    const rephrased = 'Tell me the weather in Tokyo today, please';
    line(
      `similarity("${original}", "${rephrased}") = ${cosine(demoEmbed(original), demoEmbed(rephrased)).toFixed(3)} (threshold ${config.semanticSimilarityThreshold})`,
    );
    await ask(rephrased, 'https://weather.example/tokyo');
    line();

    line('== 3. URL embedding reuse ==');
    const reused = await chat.getOrComputeUrlEmbedding('https://weather.example/tokyo', () => {
      embeddingsComputed++;
      return demoEmbed(PAGES['https://weather.example/tokyo']!);
    });
    line(
      `url embedding reused: ${reused.length} dimensions, pages embedded so far: ${embeddingsComputed} (for ${Object.keys(PAGES).length} pages and 5 lookups)`,
    );
    line();

    line('== 4. Idle eviction and re-hydration ==');
    clock.advance((config.evictAfterMinutes + 1) * 60_000);
    line(`(demo clock moved ${config.evictAfterMinutes + 1} minutes ahead)`);
    const pass = await runtime.runIdleEviction();
    stats = await chat.getStats();
    const evicted = stats.sessionWindow as { hotMessages: number; archivedMessages: number };
    line(`evicted ${pass?.evicted ?? 0} idle session(s): ${evicted.hotMessages} messages left hot, ${evicted.archivedMessages} safe in the archive`);
    const later = runtime.forSession(sessionId);
    const rehydrated = await later.getContextMessages();
    line(`re-hydrated ${rehydrated.length} messages from the archive on the next read:`);
    line(await later.getFormattedContext(rehydrated.length).then((text: string) => text.replace(/^/gm, '  | ')));
    line();

    line('== 5. Stats ==');
    const final = await later.getStats();
    const first = await chat.getStats();
    const semantic = first.semanticCache?.lookups;
    const urls = first.urlEmbeddingCache?.lookups;
    line(
      `semantic cache: ${semantic?.hits} hits, ${semantic?.misses} misses, hit rate ${((semantic?.hitRate ?? 0) * 100).toFixed(0)}%, LLM calls ${llm.calls}`,
    );
    line(`url embedding cache: ${urls?.hits} hits, ${urls?.misses} misses, hit rate ${((urls?.hitRate ?? 0) * 100).toFixed(0)}%`);
    line(`session window: ${JSON.stringify(final.sessionWindow)}`);
    // The semantic layer is per coordinator: report the one that served the lookups above.
    line(`semantic cache layer: ${JSON.stringify(first.semanticCache?.layer)}`);
    line(`url embedding layer: ${JSON.stringify(final.urlEmbeddingCache?.layer)}`);
    const resources = runtime.getStats();
    line(
      `runtime: ${resources.driversOpened} driver connection(s), ${resources.coordinatorsCreated} coordinators, idle evictor ${resources.evictorRunning ? 'running' : 'off'}`,
    );
    line('demo finished');
  } finally {
    await runtime.close();
    rmSync(archiveDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`chat-demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
