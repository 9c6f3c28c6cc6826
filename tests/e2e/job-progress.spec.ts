/**
 * The active commit's figures on the job strip and the graph are the job's own once every
 * animation has played. A failover's animation is stretched and ends after the running clock's
 * later frames: its first job-progress (0 B) used to be put back over them, and the strip said
 * "0 B / 2.8 MiB" (the bar 0 %) for as long as the clock stayed paused.
 */
import { expect, openApp, test } from './helpers';
import { coloWithWrites, freshSmall, midCommit } from './states';

test("after the clock pauses mid-commit, the strip and the graph show the commit job's current progress, not an animation's older figure", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await openApp(page);
  await freshSmall(page);
  await coloWithWrites(page);
  await midCommit(page);
  const job = await page.evaluate(() => window.coloSim.state.summary!.jobs.find((candidate) => candidate.type === 'commit')!);
  expect(job.offsetBytes).toBeGreaterThan(0);
  const expected = await page.evaluate(({ offsetBytes, lenBytes }) => Math.round((offsetBytes / lenBytes) * 100), job);
  // The failover's own animation (stretched: a command) plays for a while after the pause.
  await page.waitForTimeout(3000);
  const strip = page.getByTestId('job-commit');
  await expect(strip.getByRole('progressbar')).toHaveAttribute('aria-valuenow', String(expected));
  await expect(strip.locator('.count')).not.toHaveText(/^0 B/);
  await expect(page.locator('[data-node="active-disk-mirror-top"]')).toContainText(`commit ${expected}%`);
  // The clock stayed paused: the job did not move while the animation played.
  const after = await page.evaluate(() => window.coloSim.state.summary!.jobs.find((candidate) => candidate.type === 'commit')!.offsetBytes);
  expect(after).toBe(job.offsetBytes);
});
