/**
 * axe-core on each main state of the app: the test fails on any serious or critical violation
 * (every rule axe runs by default, WCAG 2.x A/AA and best practices). Less severe findings are
 * printed so they stay visible without failing the run.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { execute, expect, openApp, openOverSession, test } from './helpers';
import { coloWithWrites, failoverFailed, freshSmall, midCommit } from './states';

interface Finding {
  state: string;
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

async function audit(page: Page, state: string): Promise<Finding[]> {
  // Animations settle first: axe measures colours of what is on screen, and a fading toast or
  // chip would be measured half transparent.
  await page.waitForTimeout(400);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => ({
      state,
      id: violation.id,
      impact: node.impact ?? violation.impact ?? 'unknown',
      help: violation.help,
      targets: node.target.map(String),
    })),
  );
}

function report(findings: Finding[]): void {
  for (const finding of findings) console.log(`[axe] ${finding.state}: ${finding.impact} ${finding.id} (${finding.help}) at ${finding.targets.join(' ')}`);
}

function serious(findings: Finding[]): string[] {
  return findings.filter((finding) => finding.impact === 'serious' || finding.impact === 'critical').map((finding) => `${finding.state}: ${finding.impact} ${finding.id} at ${finding.targets.join(' ')}`);
}

for (const width of [1280, 390]) {
  test(`axe finds no serious or critical violation in the main states at ${width} px`, async ({ page }) => {
    test.setTimeout(300_000);
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
    await openApp(page);
    const findings: Finding[] = [];
    const narrow = width < 900;
    /** On a narrow screen the side panel is a drawer: open it on a tab. */
    const showTab = async (key: string) => {
      await page.locator('body').focus();
      await page.keyboard.press(key);
      if (narrow) await expect(page.locator('aside.side')).toBeVisible();
    };
    const closeDrawer = async () => {
      if (narrow && (await page.locator('aside.side').isVisible())) await page.keyboard.press('p');
    };

    findings.push(...(await audit(page, 'fresh app')));
    await showTab('1');
    findings.push(...(await audit(page, 'fresh app, control panel')));
    await closeDrawer();

    await freshSmall(page);
    await coloWithWrites(page);
    findings.push(...(await audit(page, 'COLO running with writes')));
    await execute(page, { op: 'checkpoint' });
    findings.push(...(await audit(page, 'after a checkpoint')));
    await showTab('4');
    findings.push(...(await audit(page, 'history tab')));
    await closeDrawer();
    // The QMP console with a reply, an error and an event in its transcript, and the QMP beside the COLO buttons.
    await showTab('5');
    await page.getByTestId('qmp-input').fill('query-status');
    await page.getByTestId('qmp-input').press('Enter');
    await page.getByTestId('qmp-input').fill('query-cheese');
    await page.getByTestId('qmp-input').press('Enter');
    await expect(page.getByTestId('qmp-transcript')).toContainText('CommandNotFound');
    findings.push(...(await audit(page, 'QMP console')));
    await page.getByTestId('qmp-input').press('Escape');
    await closeDrawer();
    await showTab('1');
    await page.locator('details.qmp-eq summary').first().click();
    findings.push(...(await audit(page, "the COLO buttons' QMP")));
    await closeDrawer();

    await midCommit(page);
    findings.push(...(await audit(page, 'failover, mid-commit')));
    await page.evaluate(() => window.coloSim.state.setPlaying(true));
    await expect(page.getByTestId('stage-replication-secondary')).toContainText('done', { timeout: 20_000 });
    await page.evaluate(() => window.coloSim.state.setPlaying(false));
    findings.push(...(await audit(page, 'after failover')));

    await freshSmall(page);
    await failoverFailed(page);
    await execute(page, { op: 'fault', kind: 'link-down' });
    await showTab('2');
    findings.push(...(await audit(page, 'faults injected, failover failed')));
    await closeDrawer();

    await showTab('l');
    await openOverSession(page, 'behaviours/06-colo-failover-to-secondary.json');
    for (let step = 0; step < 6; step++) await page.getByTestId('scenario-step').click();
    findings.push(...(await audit(page, 'scenario loaded')));
    await page.getByTestId('scenario-close').click();
    await closeDrawer();

    await page.locator('body').focus();
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    findings.push(...(await audit(page, 'shortcuts dialog')));
    await page.keyboard.press('Escape');
    await page.keyboard.press('n');
    await expect(page.getByRole('dialog', { name: 'New simulation' })).toBeVisible();
    findings.push(...(await audit(page, 'new simulation dialog')));
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'SVM view as a table' }).click();
    await expect(page.getByRole('dialog', { name: 'SVM view as a table' })).toBeVisible();
    findings.push(...(await audit(page, 'a disk as a table')));
    await page.keyboard.press('Escape');

    report(findings);
    expect(serious(findings)).toEqual([]);
  });
}
