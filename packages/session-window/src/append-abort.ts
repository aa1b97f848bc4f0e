import { SessionWindowError } from './errors.js';
import { describe, readObject } from './validate.js';

/** Options of `addMessage(message, options)` and `addMessages(messages, options)`. */
export interface AddMessageOptions {
  /**
   * Gives up the call while its messages wait: queued behind this process's previous
   * archive write of the session, or (when every message of the write was given up)
   * while the archive waits for the session's lock. It then rejects with `ABORTED` and
   * stores nothing. Once the archive write holds the lock the signal is no longer
   * observed: the messages are stored and the call resolves with their seqs.
   */
  signal?: AbortSignal;
}

const OPTION_KEYS: readonly string[] = ['signal'];

/** Reads `addMessage`/`addMessages` options; rejects unknown keys and a `signal` that is not an `AbortSignal`. */
export function readAddOptions(options: unknown, where: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const { signal } = readObject(options, `${where} options`, OPTION_KEYS, 'an object');
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new SessionWindowError('INVALID_ARGUMENT', `${where}: signal must be an AbortSignal (got ${describe(signal)})`);
  return signal;
}

/** The rejection of a call given up through its signal (nothing of it was stored). */
export function abortedError(sessionId: string, signal: AbortSignal): SessionWindowError {
  return new SessionWindowError('ABORTED', `session "${sessionId}": addMessage was aborted before its message was stored`, { cause: signal.reason });
}

/**
 * The signal one archive write of a group runs under: none when a message of the group
 * has no signal (someone still waits for the write), the message's own when there is
 * one caller, else one that aborts once every caller's signal has.
 */
export function groupSignal(signals: readonly (AbortSignal | undefined)[]): { signal: AbortSignal | undefined; dispose(): void } {
  const distinct = new Set(signals);
  if (distinct.has(undefined)) return { signal: undefined, dispose: () => undefined };
  if (distinct.size === 1) return { signal: signals[0], dispose: () => undefined };
  const controller = new AbortController();
  let waiting = 0;
  const listeners: [AbortSignal, () => void][] = [];
  for (const signal of distinct as Set<AbortSignal>) {
    if (signal.aborted) continue;
    waiting++;
    const onAbort = () => {
      if (--waiting === 0) controller.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    listeners.push([signal, onAbort]);
  }
  if (waiting === 0) controller.abort([...distinct][0]!.reason);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [signal, onAbort] of listeners) signal.removeEventListener('abort', onAbort);
    },
  };
}
