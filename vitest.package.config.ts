import { defineConfig } from 'vitest/config';

// `npm run test:package`: the packed tarball installed into fresh apps (test/package). Apart from
// the main suite because it installs from the npm registry (about a minute) and needs dist/ built.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
