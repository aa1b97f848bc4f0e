import { defineConfig } from 'vitest/config';

// One vitest process runs every package and example as a project, so the root
// JSON report counts every test that CI executed. No unhandled error or rejection is
// tolerated: vitest fails the run on any of them.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'internal/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
  },
});
