import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * Shared vitest settings for every workspace package. The `@lix/source`
 * condition makes sibling packages resolve to their TypeScript sources, so
 * tests never run against a stale `dist/`.
 */
export function lixProject(name: string, overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['@lix/source'] },
    ssr: { resolve: { conditions: ['@lix/source'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  });
}
