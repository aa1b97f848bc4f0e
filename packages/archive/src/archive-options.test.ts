import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveError, ConversationArchive } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'lix-archive-options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function codeOf(build: () => unknown): string | undefined {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).message).not.toBe('');
    return (error as ArchiveError).code;
  }
  return undefined;
}

describe('ConversationArchive options are refused with ArchiveError, whatever the value', () => {
  const hostile: [string, unknown][] = [
    ['a prototype-less object', Object.create(null)],
    ['a symbol', Symbol('codec')],
    ['a bigint', 10n],
    [
      'an object whose toString throws',
      {
        toString: () => {
          throw new Error('no');
        },
      },
    ],
  ];
  for (const [label, value] of hostile) {
    it(`codec given ${label} is INVALID_ARGUMENT`, () => {
      expect(codeOf(() => new ConversationArchive({ dir: join(root, 'c'), codec: value as never }))).toBe('INVALID_ARGUMENT');
    });
    it(`ttlDays given ${label} is INVALID_ARGUMENT`, () => {
      expect(codeOf(() => new ConversationArchive({ dir: join(root, 't'), ttlDays: value as never }))).toBe('INVALID_ARGUMENT');
    });
  }

  it('an unknown codec name is named in the message', () => {
    expect(() => new ConversationArchive({ dir: join(root, 'n'), codec: 'zstd' as never })).toThrow(/"zstd"/);
  });

  it('a dir with a NUL byte is an ArchiveError, not a raw Node error', () => {
    expect(codeOf(() => new ConversationArchive({ dir: join(root, 'a\u0000b') }))).toMatch(/^(INVALID_ARGUMENT|IO_ERROR)$/);
  });

  it('a dir whose name is too long for the file system is IO_ERROR', () => {
    expect(codeOf(() => new ConversationArchive({ dir: join(root, 'x'.repeat(5000)) }))).toBe('IO_ERROR');
  });
});

describe('options that are not plain objects', () => {
  it('a revoked Proxy as options is INVALID_ARGUMENT', () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(codeOf(() => new ConversationArchive(revoked.proxy as never))).toBe('INVALID_ARGUMENT');
  });
});
