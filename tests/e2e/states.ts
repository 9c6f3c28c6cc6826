/**
 * The app's main states, reached the same way by the accessibility, layout and screenshot specs:
 * each function leaves the page in one state and returns once it shows.
 */
import type { Page } from '@playwright/test';
import { execute, expect } from './helpers';

export const MiB = 1024 * 1024;

/** A small simulation (8 MiB, 128 cells) whose commit is slow enough to be caught half way. */
export async function freshSmall(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await window.coloSim.client.newSimulation({ diskSizeBytes: 8 * 1024 * 1024, clusterSizeBytes: 65536, copyTimeUs: 40_000 });
  });
  await expect(page.getByTestId('virtual-time')).toHaveText('0 µs');
}

/** COLO running with writes of both VMs in the epoch and one checkpoint behind. */
export async function coloWithWrites(page: Page): Promise<void> {
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 2 * MiB, pattern: '0x11' });
  await execute(page, { op: 'checkpoint' });
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 3 * MiB, length: 512 * 1024, pattern: '0x33' });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 5 * MiB, length: 256 * 1024, pattern: '0x66' });
}

/** Failover to the secondary with the active commit half way (the clock paused). */
export async function midCommit(page: Page): Promise<void> {
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 1 * MiB, length: 2 * MiB, pattern: '0x55' });
  await execute(page, { op: 'failover', to: 'secondary' });
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('failover');
  await page.evaluate(async () => {
    await window.coloSim.state.setSpeed(400);
    await window.coloSim.state.setPlaying(true);
  });
  await expect.poll(async () => Number(await page.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(20);
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
}

/** FAILOVER_FAILED: the commit's first write to the secondary disk fails (as behaviours/08 does it). */
export async function failoverFailed(page: Page): Promise<void> {
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 1 * MiB, pattern: '0x22' });
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 2 * MiB, length: 1 * MiB, pattern: '0x44' });
  await execute(page, { op: 'fault', kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 });
  await execute(page, { op: 'failover', to: 'secondary' });
  await execute(page, { op: 'run', until: 'idle' });
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('failover failed', { timeout: 20_000 });
}
