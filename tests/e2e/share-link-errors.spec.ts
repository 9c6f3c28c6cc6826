/**
 * Broken share links (issue 9): a cut-short link, a changed character, a bad step, a file that is
 * not there, a link whose JSON is not a scenario. Each shows its sentence on a page that works,
 * and the saved simulation is the one the user had, untouched.
 */
import { digest, execute, expect, openApp, test, waitForApp } from './helpers';
import { encodeShareFragment } from '../../src/ui/lib/share-link';

test('a broken link says what is wrong, and the saved simulation is not lost', async ({ page, errorWatch }) => {
  // The fetch from a port where nothing listens is logged by the browser itself.
  errorWatch.allow(/Failed to load resource: net::ERR_CONNECTION_REFUSED|ERR_CONNECTION_REFUSED/);
  await openApp(page);
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x11' })).ok).toBe(true);
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '2');
  const before = await digest(page);

  const good = await encodeShareFragment(JSON.stringify({ format: 'colo-sim/1', title: 'ok', setup: { diskSize: '1M', clusterSize: '64K' }, steps: [{ op: 'colo-start' }] }), 1);
  const data = /scenario=([^&]+)/.exec(good)![1]!;
  const notAScenario = await encodeShareFragment(JSON.stringify({ format: 'colo-sim/1', title: 'bad', steps: [{ op: 'jump' }] }), 0);
  const cases: Array<{ address: string; says: RegExp; asks?: true }> = [
    { address: `/#scenario=${data.slice(0, Math.floor(data.length / 2))}&step=1`, says: /damaged or cut short|cut short/ },
    { address: `/#scenario=${data.slice(0, 5)}!${data.slice(6)}&step=1`, says: /a character base64url does not use \("!" at position 6\)/ },
    { address: `/#scenario=${data}&step=two`, says: /step must be a whole number of steps \(0 or more\), not "two"/ },
    // The preview server answers a missing file with the app's page (a single-page app's fallback).
    { address: '/?scenario=scenarios/no-such-file.json&step=1', says: /answered \S*scenarios\/no-such-file.json with a web page, not a scenario file: is the address right\?/ },
    { address: '/?scenario=http://127.0.0.1:59999/nothing.json', says: /the scenario at http:\/\/127.0.0.1:59999\/nothing.json could not be fetched/ },
    // Only the worker validates a scenario (the page does not bundle the validator): the page asks
    // first, and even "Replace it" leaves the simulation as it was when the file is refused.
    { address: `/${notAScenario}`, says: /not a valid scenario file \(.+\)/, asks: true },
  ];
  for (const { address, says, asks } of cases) {
    await page.goto(address);
    await waitForApp(page);
    if (asks) await page.getByTestId('replace-confirm').click();
    const problem = page.getByTestId('link-problem');
    await expect(problem, address).toContainText('This link cannot be opened');
    await expect(problem, address).toContainText(says);
    await expect(problem).toContainText('Your saved simulation is unchanged');
    // The page works, and shows the simulation the user had.
    await expect(page.getByTestId('replace-dialog')).toHaveCount(0);
    await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '2');
    expect(await digest(page), address).toEqual(before);
    await page.getByTestId('link-problem').getByRole('button', { name: 'Dismiss' }).click();
    await expect(problem).toHaveCount(0);
  }
});
