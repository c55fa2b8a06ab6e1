import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// Two cores on CI: more workers than that only adds contention to tests that time real links.
export default defineConfig({
  // The package's own `epara/emulation` entry, from source (as tsconfig.json's paths map it), so a
  // test loads one copy of every module rather than src/ plus dist/.
  resolve: { alias: { 'epara/emulation': fileURLToPath(new URL('./firmware-sims/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // test/package installs the packed tarball from the registry: `npm run test:package` (.ci/run).
    exclude: [...configDefaults.exclude, 'test/package/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
