/**
 * An export records exactly what the app did: replayed in Node it reaches the page's virtual time
 * and disks, also when the session began as a scenario file with settings of its own (its setup
 * must travel with the export).
 */
import { digest, execute, expect, openApp, replayExport, test } from './helpers';

test('a session that began as a scenario with its own vmstateLoadTime exports a file that replays to its time and disks', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  const scenario = {
    format: 'colo-sim/1',
    title: 'a slow device state load',
    setup: { diskSize: '16M', seed: 5, vmstateLoadTime: '50ms' },
    steps: [{ op: 'colo-start' }, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x11' }, { op: 'checkpoint' }],
  };
  const loaded = await page.evaluate((text) => window.coloSim.client.loadScenario('slow-vmstate.json', text), JSON.stringify(scenario));
  expect(loaded.ok).toBe(true);
  await page.evaluate(() => window.coloSim.client.scenarioRunToEnd());
  // What ran becomes the user's session, and it goes on under a workload.
  await page.evaluate(() => window.coloSim.client.closeScenario());
  for (const step of [
    { op: 'workload', writesPerSecond: 2000, vm: 'both', blockSize: '4K', maxBlocks: 4 },
    { op: 'run', for: '300ms' },
    { op: 'checkpoint' },
    { op: 'run', for: '100ms' },
  ]) {
    const result = await execute(page, step);
    expect(result.ok && result.result?.passed, `${JSON.stringify(step)}: ${result.result?.actual}`).toBe(true);
  }
  const nowUs = await page.evaluate(() => window.coloSim.state.summary!.nowUs);
  const exported = await page.evaluate(() => window.coloSim.client.exportScenario('slow vmstate session'));
  const replay = replayExport(exported);
  expect(replay.outcome.passed, JSON.stringify(replay.outcome.failure)).toBe(true);
  expect(replay.simulation.nowUs, `the replay ends at the page's virtual time (export setup ${JSON.stringify(JSON.parse(exported).setup)})`).toBe(nowUs);
  expect(replay.digests, "the replay's disks are the page's").toEqual(await digest(page));
});
