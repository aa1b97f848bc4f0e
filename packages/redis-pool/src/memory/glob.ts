/**
 * Redis glob matching (the `stringmatchlen` of `util.c`), used by the in-memory SCAN.
 *
 * Matching runs over UTF-8 bytes, as Redis does: `?` and a `[...]` class each take one
 * byte, so a two-byte character needs `??`. Supported: `*`, `?`, `[abc]`, `[^abc]`,
 * `[a-z]` (reversed ranges such as `[z-a]` are swapped), `\x` escapes (inside classes
 * too), an unterminated `[` that runs to the end of the pattern, and a trailing `\`
 * that matches a literal backslash. Range bounds compare as unsigned bytes (Redis
 * compares C `char`s, which makes ranges over bytes ≥ 0x80 platform-dependent there).
 */

const STAR = -1;
/** One pattern token: {@link STAR} or a predicate over a single byte. */
type Token = typeof STAR | ((byte: number) => boolean);

const encoder = new TextEncoder();
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;

function compile(pattern: Uint8Array): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const byte = pattern[i]!;
    if (byte === 0x2a /* * */) {
      // Consecutive stars behave as one; collapsing them keeps matching linear.
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      i += 1;
    } else if (byte === 0x3f /* ? */) {
      tokens.push(() => true);
      i += 1;
    } else if (byte === OPEN) {
      i += 1;
      const negate = pattern[i] === CARET;
      if (negate) i += 1;
      const singles = new Set<number>();
      const ranges: [number, number][] = [];
      for (;;) {
        const remaining = pattern.length - i;
        if (remaining >= 2 && pattern[i] === BACKSLASH) {
          singles.add(pattern[i + 1]!);
          i += 2;
        } else if (remaining === 0) {
          break;
        } else if (pattern[i] === CLOSE) {
          i += 1;
          break;
        } else if (remaining >= 3 && pattern[i + 1] === DASH) {
          const a = pattern[i]!;
          const b = pattern[i + 2]!;
          ranges.push(a <= b ? [a, b] : [b, a]);
          i += 3;
        } else {
          singles.add(pattern[i]!);
          i += 1;
        }
      }
      tokens.push((c) => {
        let hit = singles.has(c);
        if (!hit) for (const [lo, hi] of ranges) if (c >= lo && c <= hi) hit = true;
        return hit !== negate;
      });
    } else {
      let literal = byte;
      if (byte === BACKSLASH && i + 1 < pattern.length) {
        literal = pattern[i + 1]!;
        i += 1;
      }
      tokens.push((c) => c === literal);
      i += 1;
    }
  }
  return tokens;
}

function matchTokens(tokens: readonly Token[], subject: Uint8Array): boolean {
  // Every non-star token consumes exactly one byte, so the classic two-pointer wildcard
  // algorithm (backtrack only to the last star) is exact and never exponential.
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starSubject = 0;
  while (s < subject.length) {
    const token = tokens[t];
    if (token === STAR) {
      starToken = t;
      starSubject = s;
      t += 1;
    } else if (token?.(subject[s]!)) {
      t += 1;
      s += 1;
    } else if (starToken >= 0) {
      t = starToken + 1;
      starSubject += 1;
      s = starSubject;
    } else {
      return false;
    }
  }
  while (tokens[t] === STAR) t += 1;
  return t === tokens.length;
}

/** A compiled Redis glob pattern. */
export interface GlobMatcher {
  /** True when `key` (a string, matched as its UTF-8 bytes) matches the pattern. */
  matches(key: string): boolean;
}

/** Compiles a Redis glob pattern (as used by SCAN MATCH and KEYS). */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern === '*') return { matches: () => true };
  const tokens = compile(encoder.encode(pattern));
  return { matches: (key) => matchTokens(tokens, encoder.encode(key)) };
}

/** Escapes `*?[]\` so that `text` matches only itself in a Redis glob pattern. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
