/**
 * The browser figures of `npm run bench`: IndexedDB store throughput vs raw IndexedDB, the
 * page's frame time under a 1,000 writes/s workload, time to the first drawn disk grid on the
 * built app, the gzipped JavaScript size, and crash consistency (CRASH_KILLS SIGKILLs of the
 * browser under load, default 50; CRASH_KILLS=0 skips it). Needs Chromium (Debian's, or Playwright's).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from '@playwright/test';
import { build, createServer, preview } from 'vite';
import { measureAppPace, measureBigScenario } from './app-pace.js';
import { benchCrashConsistency } from './crash-consistency.js';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A stuck page fails the bench with the phase's name instead of hanging it (a page waiting for a dialog once did). */
function within<T>(phase: string, minutes: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser bench: ${phase} took more than ${minutes} min`)), minutes * 60_000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function launch(): Promise<Browser> {
  return chromium.launch({ headless: true, ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}), args: CHROMIUM_FLAGS });
}

async function idbThroughput(browser: Browser): Promise<{ storesMiBps: number; rawMiBps: number }> {
  const server = await createServer({ logLevel: 'silent', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no dev server address');
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${address.port}/tests/bench/browser/idb-throughput.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'running', undefined, { timeout: 600_000 });
    const error = await page.evaluate(() => (window as unknown as { benchError?: string }).benchError);
    if (error) throw new Error(error);
    return (await page.evaluate(() => (window as unknown as { benchResult: unknown }).benchResult)) as { storesMiBps: number; rawMiBps: number };
  } finally {
    await server.close();
  }
}

/**
 * The built app's JavaScript, gzipped (level 9), in KiB: what a first visit loads (the page's
 * entry that index.html names and the worker) and what loads later, when a part is first used
 * (the scenario library's index).
 */
function gzippedJsKiB(): { startKiB: number; laterKiB: number } {
  const directory = 'dist/assets';
  const html = readFileSync('dist/index.html', 'utf8');
  let startBytes = 0;
  let laterBytes = 0;
  for (const file of readdirSync(directory)) {
    if (!file.endsWith('.js')) continue;
    const bytes = gzipSync(readFileSync(join(directory, file)), { level: 9 }).length;
    if (html.includes(`assets/${file}`) || file.startsWith('sim.worker')) startBytes += bytes;
    else laterBytes += bytes;
  }
  return { startKiB: startBytes / 1024, laterKiB: laterBytes / 1024 };
}

interface AppFigures {
  firstGridMs: number;
  frameP95Ms: number;
  frameMedianMs: number;
  frames: number;
  pace: Awaited<ReturnType<typeof measureAppPace>>;
  big: Awaited<ReturnType<typeof measureBigScenario>>;
}

async function appFigures(browser: Browser): Promise<AppFigures> {
  const server = await preview({ logLevel: 'silent', preview: { port: 0, host: '127.0.0.1' } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview server address');
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const started = Date.now();
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.waitForFunction(() => performance.getEntriesByName('colo-sim:first-grid').length > 0, undefined, { timeout: 60_000 });
    const firstGridMs = await page.evaluate(() => performance.getEntriesByName('colo-sim:first-grid')[0]!.startTime);
    if (Date.now() - started < 0) throw new Error('clock went backwards');

    await page.evaluate(async () => {
      const client = (window as unknown as { coloSim: { client: { newSimulation(s: object): Promise<void>; execute(step: object): Promise<unknown>; setClock(c: object): Promise<void> } } }).coloSim.client;
      await client.newSimulation({ diskSizeBytes: 64 * 1024 * 1024, clusterSizeBytes: 64 * 1024 });
      await client.execute({ op: 'colo-start' });
      await client.execute({ op: 'workload', writesPerSecond: 1000, vm: 'both', blockSize: '4K', maxBlocks: 4 });
      await client.setClock({ playing: true, speed: 1000 });
    });
    // A string, not a function: tsx would wrap the function's inner names in its __name helper,
    // which the page does not have.
    const intervals = await page.evaluate<number[]>(`new Promise((resolve) => {
      const deltas = [];
      let last = performance.now();
      const end = last + 8000;
      function frame(now) {
        deltas.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(frame);
        else resolve(deltas.slice(30));
      }
      requestAnimationFrame(frame);
    })`);
    const sorted = [...intervals].sort((a, b) => a - b);
    const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
    await page.evaluate(() => window.coloSim.state.setPlaying(false));
    const pace = await within("the app's pace", 3, measureAppPace(page));
    const big = await within('the 100,000-step scenario', 10, measureBigScenario(page));
    return { firstGridMs, frameP95Ms: at(0.95), frameMedianMs: at(0.5), frames: intervals.length, pace, big };
  } finally {
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

export async function runBrowserBench(write: (line: string) => void): Promise<void> {
  const hasChromium = existsSync(SYSTEM_CHROMIUM) || existsSync(chromium.executablePath());
  if (!hasChromium) {
    write('Browser benchmarks skipped: no Chromium (install Debian chromium, or run npx playwright install chromium)\n');
    return;
  }
  await build({ logLevel: 'silent' });
  const js = gzippedJsKiB();
  write(`JavaScript of the built app, gzipped: ${js.startKiB.toFixed(1)} KiB loaded at start (page and worker; target <= 200 KB), ${js.laterKiB.toFixed(1)} KiB loaded when first used\n`);
  const browser = await launch();
  try {
    const idb = await within('IndexedDB throughput', 10, idbThroughput(browser));
    write(
      `IndexedDB-backed stores: ${idb.storesMiBps.toFixed(1)} MiB/s vs raw batched 60 KiB puts ${idb.rawMiBps.toFixed(1)} MiB/s = ${((idb.storesMiBps / idb.rawMiBps) * 100).toFixed(0)}% (target >= 50%)\n`,
    );
    const app = await appFigures(browser);
    write(`Built app, navigation to first drawn disk grid: ${app.firstGridMs.toFixed(0)} ms\n`);
    write(`Frame time with a 1,000 writes/s workload on 64 MiB: p95 ${app.frameP95Ms.toFixed(1)} ms, median ${app.frameMedianMs.toFixed(1)} ms over ${app.frames} frames (target p95 <= 18 ms)\n`);
    write(`The app's pace with saving on, flat out: ${app.pace.writesPerWallSecond.toFixed(0)} guest writes per second of wall time, ${app.pace.savesPerWallSecond.toFixed(1)} saves/s (target >= 2,000 writes/s)\n`);
    const big = app.big;
    write(
      `A scenario of ${big.steps.toLocaleString('en')} steps in the app (medians of ${big.rounds} rounds): loaded in ${big.loadMs.toFixed(0)} ms (target < 2,000 ms), run to its end (the outcome shown) in ${(big.runMs / 1000).toFixed(2)} s, saved ${(big.savedMs / 1000).toFixed(2)} s; colo-sim run of the same file, whole process ${(big.cliMs / 1000).toFixed(2)} s (the engine in this process, validation and run: ${(big.engineMs / 1000).toFixed(2)} s, of which the run ${(big.engineRunMs / 1000).toFixed(2)} s); the app's run / the CLI ${big.runToCliRatio.toFixed(2)} (target: the CLI's pace)${big.passed ? '' : '  [FAILED]'}\n`,
    );
  } finally {
    await browser.close();
  }
  if (Number(process.env.CRASH_KILLS ?? 50) > 0) await benchCrashConsistency(write);
}
