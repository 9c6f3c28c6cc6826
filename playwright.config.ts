import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/** Debian's Chromium where it is installed (Playwright cannot download its own here); else Playwright's. */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
/** Ports can be moved (E2E_PREVIEW_PORT, E2E_DEV_PORT) so that two checkouts can run their browser tests at once. */
const PREVIEW_PORT = Number(process.env.E2E_PREVIEW_PORT ?? 4173);
const DEV_PORT = Number(process.env.E2E_DEV_PORT ?? 5174);
const chromiumFlags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // No retries: a test that fails once is a bug to find (the last "flake" was the graph losing a node).
  retries: 0,
  // The list for people, JUnit XML for CI systems (reports/, beside Vitest's).
  reporter: [['list'], ['junit', { outputFile: 'reports/e2e-junit.xml' }]],
  use: {
    baseURL: `http://127.0.0.1:${PREVIEW_PORT}`,
    headless: true,
    launchOptions: {
      ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
      args: chromiumFlags,
    },
    viewport: { width: 1600, height: 1000 },
    trace: 'off',
  },
  webServer: [
    {
      command: `npx vite build --logLevel warn && npx vite preview --host 127.0.0.1 --port ${PREVIEW_PORT} --strictPort`,
      url: `http://127.0.0.1:${PREVIEW_PORT}`,
      reuseExistingServer: false,
      timeout: 180_000,
    },
    // The dev server that `npm start` runs (on another port, so a running `npm start` does not clash).
    {
      command: `npx vite --host 127.0.0.1 --port ${DEV_PORT} --strictPort`,
      url: `http://127.0.0.1:${DEV_PORT}`,
      reuseExistingServer: false,
      timeout: 180_000,
    },
  ],
});
