import { describe as group, expect, it } from 'vitest';
import { describe } from './validate.js';

group('describe() names any value for an error message without throwing', () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const cases: [string, unknown, RegExp][] = [
    ['a prototype-less object', Object.create(null), /null-prototype/],
    ['a symbol', Symbol('x'), /symbol/],
    ['a bigint', 10n, /10n/],
    [
      'an object whose toString throws',
      {
        toString: () => {
          throw new Error('no');
        },
      },
      /^an object$/,
    ],
    [
      'a Proxy whose getPrototypeOf trap throws',
      new Proxy(
        {},
        {
          getPrototypeOf: () => {
            throw new Error('trap');
          },
        },
      ),
      /^an object$/,
    ],
    ['a revoked Proxy', revoked.proxy, /^an object$/],
    ['an array', [1], /array/],
  ];
  for (const [label, value, expected] of cases) {
    it(`describes ${label}`, () => {
      expect(describe(value)).toMatch(expected);
    });
  }
});
