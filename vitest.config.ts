import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/scenarios/**/*.test.ts', 'tests/property/**/*.test.ts', 'tests/worker/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    // The usual output for people, JUnit XML for CI systems (reports/, beside Playwright's).
    reporters: ['default', 'junit'],
    outputFile: { junit: 'reports/unit-junit.xml' },
  },
});
