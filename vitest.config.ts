import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Builds the dashboard (dist/web) the service serves at / when its sources changed.
    globalSetup: ['test/web/build-dashboard.ts'],
    // Test files start real servers (S3, PostgreSQL, Chromium); two cores, so keep it modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
