/** What a {@link CompactionQueue} runs, and how many at once. */
interface CompactionQueueOptions {
  /** Compacts one session's tail; resolves when done, never rejects. */
  run: (sid: number, idle: boolean) => Promise<void>;
  /** Compactions running at once (each holds a connection for a moment). */
  concurrency: number;
  idleMs: number;
}

/**
 * Per-process background compaction: appends resolve without waiting for it. A session
 * whose tail reached the threshold is compacted soon (a few at a time); a session that
 * went quiet with a shorter tail is compacted after `idleMs`. Nothing here is needed for
 * correctness: the database decides (under the session's lock) whether a compaction still
 * applies, so jobs may run late, twice, or on several hosts at once. Timers are unref'd,
 * so the queue never keeps a process alive.
 */
export class CompactionQueue {
  /** Sessions waiting for a slot, and whether theirs is an idle compaction. */
  readonly #due = new Map<number, boolean>();
  readonly #running = new Map<number, Promise<void>>();
  readonly #idleTimers = new Map<number, NodeJS.Timeout>();
  readonly #again = new Set<number>();
  #stopped = false;

  readonly #options: CompactionQueueOptions;
  constructor(options: CompactionQueueOptions) {
    this.#options = options;
  }

  /** The session's tail reached the threshold: compact it soon. */
  schedule(sid: number): void {
    if (this.#stopped) return;
    this.#clearIdle(sid);
    if (this.#running.has(sid)) {
      this.#again.add(sid);
      return;
    }
    this.#due.set(sid, false);
    this.#pump();
  }

  /** The session was appended to below the threshold: compact its tail once it is quiet. */
  touch(sid: number): void {
    if (this.#stopped) return;
    const timer = this.#idleTimers.get(sid);
    if (timer) {
      timer.refresh();
      return;
    }
    const fresh = setTimeout(() => {
      this.#idleTimers.delete(sid);
      if (this.#stopped) return;
      // A compaction of the session is running or waiting: look again after it, since it
      // may leave a tail shorter than its threshold.
      if (this.#running.has(sid) || this.#due.has(sid)) this.touch(sid);
      else {
        this.#due.set(sid, true);
        this.#pump();
      }
    }, this.#options.idleMs);
    fresh.unref();
    this.#idleTimers.set(sid, fresh);
  }

  #clearIdle(sid: number): void {
    const timer = this.#idleTimers.get(sid);
    if (timer) {
      clearTimeout(timer);
      this.#idleTimers.delete(sid);
    }
  }

  #pump(): void {
    for (const [sid, idle] of this.#due) {
      if (this.#running.size >= this.#options.concurrency) return;
      if (this.#running.has(sid)) continue;
      this.#due.delete(sid);
      this.#start(sid, idle);
    }
  }

  #start(sid: number, idle: boolean): void {
    const job = this.#options.run(sid, idle).finally(() => {
      this.#running.delete(sid);
      if (this.#again.delete(sid)) this.#due.set(sid, false);
      if (!this.#stopped) this.#pump();
    });
    this.#running.set(sid, job);
  }

  /**
   * Stops taking work and drops the idle timers; compactions already due are run to the
   * end (each is small), so a store closed after a burst leaves short tails.
   */
  async drain(): Promise<void> {
    for (const timer of this.#idleTimers.values()) clearTimeout(timer);
    this.#idleTimers.clear();
    for (const [sid, idle] of this.#due) if (idle) this.#due.delete(sid);
    while (this.#running.size > 0 || this.#due.size > 0) {
      this.#pump();
      await Promise.all([...this.#running.values()]);
    }
    this.#stopped = true;
    this.#again.clear();
  }
}
