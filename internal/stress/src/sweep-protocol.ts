/** Settings of the sweep child process, passed as JSON in `LIX_STRESS_SWEEP`. */
export interface SweepChildConfig {
  redisUrl: string;
  dir: string;
  seed: number;
  rounds: number;
  /** First case index to run (after a restart, one past the case that hung or crashed the process). */
  startAt: number;
  timeoutMs: number;
}

export const SWEEP_CONFIG_ENV = 'LIX_STRESS_SWEEP';

/** How one bad input was handled. */
export type SweepOutcome = 'typed' | 'accepted' | 'crash' | 'hang';

/** Messages from the sweep child. */
export type SweepMessage =
  | { type: 'start'; index: number; api: string }
  | { type: 'done'; index: number; api: string; outcome: SweepOutcome; code?: string; detail?: string }
  | { type: 'stray'; detail: string }
  | { type: 'end'; total: number };
