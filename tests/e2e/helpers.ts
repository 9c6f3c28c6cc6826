/**
 * Shared helpers for the browser tests: a page fixture that fails the test on console errors,
 * waiting for the app, running steps through the page's client, and persistent contexts that
 * launch Chromium exactly as playwright.config.ts does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test as base, type BrowserContext, type Page } from '@playwright/test';
import config from '../../playwright.config';

export const BASE_URL = config.use?.baseURL ?? 'http://127.0.0.1:4173';

/** Collects console errors and page errors; `allow` lists patterns a test expects. */
export class ErrorWatch {
  readonly errors: string[] = [];
  private readonly allowed: RegExp[] = [];

  watch(page: Page): void {
    page.on('console', (message) => {
      if (message.type() === 'error') this.record(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.record(`pageerror: ${error.message}`));
  }

  allow(pattern: RegExp): void {
    this.allowed.push(pattern);
  }

  private record(text: string): void {
    this.errors.push(text);
  }

  unexpected(): string[] {
    return this.errors.filter((text) => !this.allowed.some((pattern) => pattern.test(text)));
  }
}

/** `page` that fails its test on any console error or uncaught page error. */
export const test = base.extend<{ errorWatch: ErrorWatch }>({
  errorWatch: async ({ page }, use) => {
    const watch = new ErrorWatch();
    watch.watch(page);
    await use(watch);
    expect(watch.unexpected(), 'console errors and page errors').toEqual([]);
  },
});

export { expect };

/** Waits until the app shows a simulation. */
export async function waitForApp(page: Page): Promise<void> {
  await expect(page.locator('.app[data-ready="true"]')).toBeVisible({ timeout: 30_000 });
}

export async function openApp(page: Page, path = '/'): Promise<void> {
  await page.goto(path);
  await waitForApp(page);
}

/** Runs one step through the page's worker client; returns its CommandResult. */
export function execute(page: Page, step: Record<string, unknown>): Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }> {
  return page.evaluate((command) => window.coloSim.client.execute(command) as Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }>, step);
}

export function digest(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => window.coloSim.client.digestDisks());
}

/** Applies every pending cell change on the page and hashes what the grids show. */
export function visibleCells(page: Page): Promise<string> {
  return page.evaluate(() => {
    const disks = window.coloSim.state.disks;
    disks.flush();
    let hash = 2166136261;
    const names = [...disks.images.keys(), 'svm-view'].sort();
    for (const name of names) {
      const image = disks.get(name);
      if (!image) continue;
      for (let index = 0; index < image.content.length; index++) {
        hash = Math.imul(hash ^ image.content[index]!, 16777619) >>> 0;
        hash = Math.imul(hash ^ image.allocated[index]!, 16777619) >>> 0;
      }
    }
    return `${names.join(',')}:${hash.toString(16)}`;
  });
}

/** Waits until the worker says the state on screen is saved in IndexedDB. */
export async function waitSaved(page: Page): Promise<void> {
  await expect(page.getByTestId('saved-state')).toHaveText(/^\s*saved\s*$/);
}

/** A Chromium with a real profile on disk (IndexedDB survives reloads and restarts). */
export async function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  const launch = config.use?.launchOptions ?? {};
  return chromium.launchPersistentContext(userDataDir, {
    headless: true,
    ...(launch.executablePath ? { executablePath: launch.executablePath } : {}),
    args: launch.args ?? [],
    viewport: config.use?.viewport ?? { width: 1600, height: 1000 },
    baseURL: BASE_URL,
  });
}

export function temporaryProfile(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'colo-sim-profile-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const SCREENSHOT_DIR = 'test-results/screenshots';

/**
 * Clicks a library entry over a session that holds the user's own commands: the page asks before
 * replacing it (the replace dialog), and the test answers "Replace it".
 */
export async function openOverSession(page: Page, libraryPath: string): Promise<void> {
  await page.locator(`[data-path="${libraryPath}"]`).click();
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await page.getByTestId('replace-confirm').click();
  await expect(page.getByTestId('scenario-loaded')).toBeVisible();
}
