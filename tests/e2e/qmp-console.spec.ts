/**
 * The QMP consoles (the QMP tab): QEMU's replies and errors word for word, the host's events,
 * history and completion from the keyboard; COLO started, checkpointed and failed over by typing
 * the QMP that src/engine/qmp/equivalents.ts says each action stands for; the QMP runbook
 * export; the copy button beside an action; the transcript after a reload; axe on the console;
 * screenshots at 1280 and 390 px.
 */
import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { commandsToType, qmpEquivalent, type LooseStep } from '../../src/engine/qmp/equivalents';
import { formatQmpCommand } from '../../src/engine/qmp/qmp-json';
import { execute, expect, openApp, SCREENSHOT_DIR, test, waitSaved } from './helpers';
import { freshSmall } from './states';

const input = (page: Page) => page.getByTestId('qmp-input');
const transcript = (page: Page) => page.getByTestId('qmp-transcript');
const state = (page: Page, field: string) => page.getByTestId(`qmp-state-${field}`);

/** Shows the QMP tab with the keyboard (5 also puts the focus in the command field). */
async function openConsole(page: Page): Promise<void> {
  await page.locator('body').focus();
  await page.keyboard.press('5');
  await expect(page.getByRole('tab', { name: /QMP/ })).toHaveAttribute('aria-selected', 'true');
  await expect(input(page)).toBeFocused();
}

async function chooseHost(page: Page, host: 'primary' | 'secondary'): Promise<void> {
  // A click on the host's label, as a user makes it (the radio inside is invisible); then it must be checked.
  await page.getByRole('radiogroup', { name: 'Host' }).locator('label').filter({ hasText: new RegExp(`^${host}$`) }).click();
  await expect(page.getByRole('radio', { name: host, exact: true })).toBeChecked();
  await expect(page.getByRole('log', { name: `QMP transcript of the ${host}` })).toBeVisible();
}

/** Types a line into the console and sends it; waits until its command is in the transcript. */
async function send(page: Page, text: string): Promise<void> {
  const commands = transcript(page).locator('.line.command');
  const before = await commands.count();
  await input(page).fill(text);
  await input(page).press('Enter');
  await expect(commands).toHaveCount(before + 1);
}

/** The text of the transcript's lines, in order. */
async function lines(page: Page): Promise<string[]> {
  return transcript(page).locator('.line .text').allTextContents();
}

/** Runs the virtual clock until `done` shows, then stops it. */
async function runClockUntil(page: Page, done: () => Promise<void>): Promise<void> {
  await page.evaluate(() => window.coloSim.state.setPlaying(true));
  await done();
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
}

/** Types the commands an action stands for, each on its host, each answered {"return": {}}. */
async function typeEquivalent(page: Page, step: LooseStep, checkpointDelayMs?: number): Promise<string[]> {
  const typed: string[] = [];
  for (const { host, command } of commandsToType(qmpEquivalent(step, checkpointDelayMs === undefined ? {} : { checkpointDelayMs }))) {
    await chooseHost(page, host);
    const text = formatQmpCommand(command);
    await send(page, text);
    const all = await lines(page);
    // The command, maybe events it caused, then QEMU's reply.
    expect(all.slice(all.lastIndexOf(text))).toContain('{"return": {}}');
    expect(all[all.length - 1]).toBe('{"return": {}}');
    typed.push(`${host} ${text}`);
  }
  return typed;
}

test('a console per host: replies and errors in QEMU\'s words, unknown commands, malformed input, history and completion from the keyboard', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await openConsole(page);
  await expect(page.getByTestId('qmp-state')).toContainText('mode none');

  await page.keyboard.type('query-status');
  await page.keyboard.press('Enter');
  await expect(transcript(page)).toContainText('{"return": {"status": "running", "singlestep": false, "running": true}}');
  // QEMU 7.2's qmp_x_colo_lost_heartbeat before COLO: QERR_FEATURE_DISABLED.
  await send(page, '{"execute": "x-colo-lost-heartbeat"}');
  await expect(transcript(page)).toContainText('{"error": {"class": "GenericError", "desc": "The feature \'colo\' is not enabled"}}');
  await send(page, 'query-cheese');
  await expect(transcript(page)).toContainText('{"error": {"class": "CommandNotFound", "desc": "The command query-cheese has not been found"}}');
  await expect(transcript(page).locator('.line.reply.error')).toHaveCount(2);
  expect(await lines(page)).toEqual([
    '{"execute": "query-status"}',
    '{"return": {"status": "running", "singlestep": false, "running": true}}',
    '{"execute": "x-colo-lost-heartbeat"}',
    '{"error": {"class": "GenericError", "desc": "The feature \'colo\' is not enabled"}}',
    '{"execute": "query-cheese"}',
    '{"error": {"class": "CommandNotFound", "desc": "The command query-cheese has not been found"}}',
  ]);

  // Malformed JSON is not sent; colo-sim says why, and the line can be brought back to be fixed.
  await input(page).fill('{"execute": "query-status"');
  await input(page).press('Enter');
  await expect(page.getByTestId('qmp-problem')).toContainText('Not sent (colo-sim): Not valid JSON');
  await expect(input(page)).toHaveAttribute('aria-invalid', 'true');
  await expect(transcript(page).locator('.line.command')).toHaveCount(3);
  await input(page).fill('');
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('{"execute": "query-status"');
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('query-cheese');
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('x-colo-lost-heartbeat');
  await input(page).press('ArrowDown');
  await expect(input(page)).toHaveValue('query-cheese');
  await input(page).press('ArrowDown');
  await input(page).press('ArrowDown');
  await expect(input(page)).toHaveValue('');

  // Completion: the list of names, Tab to the common prefix, arrows to an option, Enter to take it.
  await page.keyboard.type('query-m');
  const list = page.getByRole('listbox', { name: 'QMP commands' });
  await expect(list).toBeVisible();
  await expect(input(page)).toHaveAttribute('aria-expanded', 'true');
  await expect(list.getByRole('option')).toHaveText(['query-migrate', 'query-migrate-capabilities', 'query-migrate-parameters']);
  await page.keyboard.press('Tab');
  await expect(input(page)).toHaveValue('query-migrate');
  await expect(input(page)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(input(page)).toHaveAttribute('aria-activedescendant', 'qmp-option-2');
  await expect(list.getByRole('option', { selected: true })).toHaveText('query-migrate-parameters');
  await page.keyboard.press('Enter');
  await expect(input(page)).toHaveValue('query-migrate-parameters');
  await expect(list).toBeHidden();
  await expect(page.getByTestId('qmp-args')).toHaveText('query-migrate-parameters: no arguments.');
  await page.keyboard.press('Enter');
  await expect(transcript(page)).toContainText('{"return": {"x-checkpoint-delay": 20000}}');
  // A unique prefix completes at once.
  await page.keyboard.type('x-colo');
  await page.keyboard.press('Tab');
  await expect(input(page)).toHaveValue('x-colo-lost-heartbeat');
  await input(page).fill('');

  // axe on the console with its list of completions open.
  await page.keyboard.type('nbd');
  await expect(list).toBeVisible();
  const results = await new AxeBuilder({ page }).include('#side-panel').analyze();
  const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  expect(serious).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  await input(page).fill('');

  // The secondary's console: its own transcript, state and history.
  await chooseHost(page, 'secondary');
  await expect(transcript(page).locator('.line')).toHaveCount(0);
  await expect(state(page, 'run')).toHaveText('inmigrate (VM stopped)');
  await send(page, 'query-status');
  await expect(transcript(page)).toContainText('{"return": {"status": "inmigrate", "singlestep": false, "running": false}}');
  // The QAPI visitor's range check of a uint32 member.
  await send(page, 'migrate-set-parameters {"x-checkpoint-delay": -1}');
  await expect(transcript(page)).toContainText('{"error": {"class": "GenericError", "desc": "Parameter \'x-checkpoint-delay\' expects uint32_t"}}');
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('migrate-set-parameters {"x-checkpoint-delay": -1}');
  await input(page).press('ArrowUp');
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('query-status');
  await chooseHost(page, 'primary');
  await expect(transcript(page).locator('.line.command')).toHaveCount(4);
});

test('COLO start, a checkpoint and a failover typed as the QMP the actions stand for', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await openConsole(page);

  // COLO start: x-colo and migrate on the primary (the secondary's part is done at boot).
  const typed = await typeEquivalent(page, { op: 'colo-start' });
  expect(typed).toEqual(['primary {"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-colo", "state": true}]}}', 'primary {"execute": "migrate", "arguments": {"uri": "tcp:secondary:9998"}}']);
  await runClockUntil(page, () => expect(page.getByTestId('colo-state')).toHaveText('COLO running'));
  await chooseHost(page, 'primary');
  await expect(state(page, 'mode')).toHaveText('mode primary, last-mode none');
  await expect(state(page, 'migration')).toHaveText('outgoing colo, incoming none');
  await expect(state(page, 'thread')).toHaveText('idle: waits for a checkpoint to be due');
  await expect(page.getByTestId('stage-replication-primary')).toContainText('running');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await chooseHost(page, 'secondary');
  await expect(state(page, 'mode')).toHaveText('mode secondary, last-mode none');
  await expect(state(page, 'thread')).toHaveText('waiting-message: waits for CHECKPOINT_REQUEST');
  await send(page, 'query-colo-status');
  await expect(transcript(page)).toContainText('{"return": {"mode": "secondary", "last-mode": "none", "reason": "none"}}');

  // A checkpoint: x-checkpoint-delay set to its value while COLO runs.
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' })).ok).toBe(true);
  await expect(page.getByTestId('qmp-state')).toContainText('0 done');
  await typeEquivalent(page, { op: 'checkpoint' }, 20000);
  await runClockUntil(page, () => expect(page.getByTestId('qmp-state')).toContainText('1 done'));
  await chooseHost(page, 'primary');
  await expect(page.getByTestId('qmp-state')).toContainText('1 done · x-checkpoint-delay 20000 ms');
  // The primary's VM stopped for the checkpoint and runs again.
  const afterCheckpoint = await lines(page);
  const set = afterCheckpoint.lastIndexOf('{"execute": "migrate-set-parameters", "arguments": {"x-checkpoint-delay": 20000}}');
  expect(afterCheckpoint.slice(set + 2).map((line) => /"event": "(\w+)"/.exec(line)?.[1])).toEqual(['STOP', 'RESUME']);

  // Failover to the secondary: x-colo-lost-heartbeat there (the primary's loss has no QMP).
  const failover = qmpEquivalent({ op: 'failover', to: 'secondary' });
  expect(failover.parts[0]).toMatchObject({ kind: 'no-qmp', host: 'primary' });
  await typeEquivalent(page, { op: 'failover', to: 'secondary' });
  await runClockUntil(page, () => expect(state(page, 'failover')).toHaveText('completed'));
  await expect(state(page, 'mode')).toHaveText('mode none, last-mode secondary');
  await expect(state(page, 'run')).toHaveText('running');
  await expect(page.getByTestId('colo-state')).toContainText('failed over');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText(/failover|done/);
  await expect(transcript(page)).toContainText('"event": "COLO_EXIT", "data": {"mode": "secondary", "reason": "request"}');
  // Typed, the primary is not lost (the difference the equivalent states): it still runs COLO,
  // and its next checkpoint fails on the closed migration channel.
  await chooseHost(page, 'primary');
  await expect(state(page, 'mode')).toHaveText('mode primary, last-mode none');
  await expect(state(page, 'thread')).toHaveText('idle: waits for a checkpoint to be due');
  await send(page, 'migrate-set-parameters {"x-checkpoint-delay": 20000}');
  const exit = await lines(page);
  expect(exit.at(-2)).toMatch(/^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, "event": "COLO_EXIT", "data": \{"mode": "primary", "reason": "error"\}\}$/);
  expect(exit.at(-1)).toBe('{"return": {}}');
  await expect(state(page, 'thread')).toHaveText('exited: left its loop (COLO_EXIT); waits for a failover');
});

test('the runbook export, the copy button beside an action, and the transcript after a reload', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openApp(page);
  await freshSmall(page);

  // Copy beside COLO start: the primary's two commands, as pasted into its monitor.
  await page.locator('body').focus();
  await page.keyboard.press('1');
  const colo = page.locator('details.qmp-eq').filter({ hasText: 'QMP for these actions' });
  await colo.locator('summary').click();
  const start = page.getByTestId('qmp-eq-COLO start');
  await expect(start).toContainText('Done when colo-sim\'s hosts boot');
  await start.getByRole('button', { name: "Copy the primary's QMP for COLO start" }).click();
  await expect(start.getByTestId('qmp-copy')).toHaveText('Copied');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(commandsToType(qmpEquivalent({ op: 'colo-start' })).map(({ command }) => formatQmpCommand(command)).join('\n'));
  await expect(page.getByTestId('qmp-eq-Failover → secondary')).toContainText('No QMP (primary): The primary host is lost');

  await page.getByRole('button', { name: /^COLO start/ }).click();
  await expect(page.getByTestId('colo-state')).toHaveText('COLO running');
  await openConsole(page);
  await send(page, 'query-status');
  await chooseHost(page, 'secondary');
  await send(page, '{"execute": "query-colo-status"}');
  expect((await execute(page, { op: 'guest-write', vm: 'secondary', offset: 0, length: 4096, pattern: '0x33' })).ok).toBe(true);

  // The runbook: the commands, under host lines; the other steps as comments.
  await page.getByRole('tab', { name: /History/ }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export as QMP runbook' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('colo-sim-session.qmp');
  const runbook = readFileSync(await file.path(), 'utf8').split('\n');
  expect(runbook[0]).toBe('# colo-sim QMP runbook: colo-sim session');
  expect(runbook.filter((line) => line !== '' && (!line.startsWith('#') || line.startsWith('# on the')))).toEqual([
    '# on the primary',
    '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-colo", "state": true}]}}',
    '{"execute": "migrate", "arguments": {"uri": "tcp:secondary:9998"}}',
    '{"execute": "query-status"}',
    '# on the secondary',
    '{"execute": "query-colo-status"}',
  ]);
  expect(runbook).toContain("#   no QMP: The secondary VM's own write: QMP does not do a guest's I/O.");

  // A reload keeps both transcripts.
  await page.getByRole('tab', { name: /QMP/ }).click();
  const secondaryBefore = await lines(page);
  await chooseHost(page, 'primary');
  const primaryBefore = await lines(page);
  expect(primaryBefore).toHaveLength(4);
  await waitSaved(page);
  await page.reload();
  await expect(page.locator('.app[data-ready="true"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('tab', { name: /QMP/ })).toHaveAttribute('aria-selected', 'true');
  await chooseHost(page, 'primary');
  await expect.poll(() => lines(page)).toEqual(primaryBefore);
  await chooseHost(page, 'secondary');
  await expect.poll(() => lines(page)).toEqual(secondaryBefore);
  // And the history goes on from the saved commands.
  await input(page).press('ArrowUp');
  await expect(input(page)).toHaveValue('query-colo-status');
});

test('the periodic-checkpoint switch sets x-checkpoint-delay on the primary', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await page.locator('body').focus();
  await page.keyboard.press('1');
  const periodic = page.getByTestId('periodic');
  const onOff = periodic.getByRole('switch', { name: /Periodic checkpoints/ });
  await expect(onOff).toBeChecked();
  await expect(page.getByTestId('periodic-now')).toContainText('Now: x-checkpoint-delay 20000 ms on the primary.');
  await onOff.uncheck();
  await expect(page.getByTestId('periodic-now')).toContainText('Now: x-checkpoint-delay 4294967295 ms on the primary (no periodic checkpoint for 49.7 days)');
  await expect(periodic.getByRole('spinbutton')).toBeDisabled();
  await onOff.check();
  await expect(page.getByTestId('periodic-now')).toContainText('x-checkpoint-delay 20000 ms');

  // In COLO, setting the delay also starts a checkpoint (migrate_params_apply → colo_checkpoint_notify).
  await page.getByRole('button', { name: /^COLO start/ }).click();
  await expect(page.getByTestId('colo-state')).toHaveText('COLO running');
  await periodic.getByRole('spinbutton').fill('300');
  await periodic.getByRole('button', { name: 'Set' }).click();
  await expect(page.getByTestId('periodic-now')).toContainText('x-checkpoint-delay 300 ms');
  await openConsole(page);
  await send(page, 'query-migrate-parameters');
  await expect(transcript(page)).toContainText('{"return": {"x-checkpoint-delay": 300}}');
  await expect(page.getByTestId('qmp-state')).toContainText('0 done');
  await runClockUntil(page, () => expect(page.getByTestId('qmp-state')).toContainText('1 done'));
  // Then every 300 ms of virtual time.
  await runClockUntil(page, () => expect(page.getByTestId('qmp-state')).toContainText('3 done', { timeout: 30_000 }));
});

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test(`screenshots of the QMP console and an action's QMP at ${viewport.width} px`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    await freshSmall(page);
    expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
    await openConsole(page);
    await expect(page.locator('aside.side')).toBeVisible();
    await send(page, 'query-status');
    await send(page, 'migrate-set-parameters {"x-checkpoint-delay": 2000}');
    await send(page, 'query-colo-status');
    await input(page).fill('{"execute": "query-status"');
    await input(page).press('Enter');
    await expect(page.getByTestId('qmp-problem')).toBeVisible();
    await input(page).fill('');
    await page.keyboard.type('query-m');
    await expect(page.getByRole('listbox', { name: 'QMP commands' })).toBeVisible();
    const sizes = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.view);
    const panel = (await page.locator('aside.side').boundingBox())!;
    for (const part of [input(page), transcript(page), page.getByTestId('qmp-state')]) {
      const box = (await part.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width + 0.5);
    }
    await page.screenshot({ path: `${SCREENSHOT_DIR}/qmp-console-${viewport.width}.png` });
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    await page.keyboard.press('1');
    const colo = page.locator('details.qmp-eq').filter({ hasText: 'QMP for these actions' });
    await colo.locator('summary').click();
    await colo.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOT_DIR}/qmp-equivalents-${viewport.width}.png` });
  });
}
