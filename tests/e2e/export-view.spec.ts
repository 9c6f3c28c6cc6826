/**
 * Export the current view for slides (issue 9): "Export view" gives an SVG that stands alone
 * (the graph with its styles written in, each disk grid as an image under its title, the legend
 * and a caption naming the step) and a PNG of it at twice the size.
 */
import { readFileSync } from 'node:fs';
import { expect, openApp, test } from './helpers';
import { buildSession, shownAt, xOfStep } from './time-travel-helpers';

test('the view exports as SVG and as PNG', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const point = await xOfStep(page, 3, 7);
  await page.mouse.click(point.x, point.y);
  await shownAt(page, 3);
  const stage = (await page.locator('section.stage').boundingBox())!;

  await page.getByTestId('tt-export').locator('summary').click();
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('tt-export-svg').click()]);
  expect(svgDownload.suggestedFilename()).toBe('colo-sim-step-3.svg');
  const svg = readFileSync((await svgDownload.path())!, 'utf8');
  expect(svg.startsWith('<?xml')).toBe(true);
  // Parsed by the browser's XML parser: well formed, an <svg> root.
  const parsed = await page.evaluate((text) => {
    const document = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = document.documentElement;
    return {
      error: document.querySelector('parsererror')?.textContent ?? null,
      root: root.localName,
      width: Number(root.getAttribute('width')),
      grids: [...document.querySelectorAll('image[data-disk]')].map((image) => image.getAttribute('data-disk')),
      pngImages: [...document.querySelectorAll('image')].every((image) => (image.getAttribute('href') ?? '').startsWith('data:image/png;base64,')),
      texts: [...document.querySelectorAll('text')].map((text) => text.textContent),
      graphNodes: document.querySelectorAll('svg svg g').length,
      classes: document.querySelectorAll('[class]').length,
      // Texts with a halo (a stroke) drawn over their letters: they would show as blank gaps.
      haloOverText: [...document.querySelectorAll('text')]
        .filter((text) => {
          const style = text.getAttribute('style') ?? '';
          const stroke = /(?:^|;)stroke:([^;]*)/.exec(style)?.[1]?.trim() ?? 'none';
          const width = Number.parseFloat(/(?:^|;)stroke-width:([^;]*)/.exec(style)?.[1] ?? '0');
          return stroke !== 'none' && width > 0 && !/(?:^|;)paint-order:\s*stroke/.test(style);
        })
        .map((text) => text.textContent),
      edgeLabels: [...document.querySelectorAll('text')].filter((text) => ['target', 'hidden disk', 'secondary disk', 'backing'].includes(text.textContent ?? '')).length,
    };
  }, svg);
  expect(parsed.error).toBeNull();
  expect(parsed.root).toBe('svg');
  expect(parsed.width).toBe(Math.ceil(stage.width + 32));
  // Every grid, each as its cells and its overlay.
  for (const disk of ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk', 'svm-view']) expect(parsed.grids.filter((name) => name === disk), disk).toHaveLength(2);
  expect(parsed.pngImages).toBe(true);
  expect(parsed.texts).toEqual(expect.arrayContaining(['Primary host', 'Secondary host', 'primary-disk', 'hidden-disk', 'LEGEND', '0x11', '0x22']));
  expect(parsed.texts.filter((text) => /^colo-sim session · step 3 of 7 · virtual time .+ · COLO running$/.test(text ?? ''))).toHaveLength(1);
  expect(parsed.graphNodes).toBeGreaterThan(10);
  // Styles are written onto the elements: no class is left to a stylesheet that does not travel.
  expect(parsed.classes).toBe(0);
  expect(parsed.edgeLabels, 'edge labels in the export').toBeGreaterThan(0);
  expect(parsed.haloOverText).toEqual([]);

  // The menu stays open after the SVG.
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('tt-export-png').click()]);
  expect(pngDownload.suggestedFilename()).toBe('colo-sim-step-3.png');
  const png = readFileSync((await pngDownload.path())!);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // IHDR: width and height, big-endian, twice the SVG's.
  expect(png.readUInt32BE(16)).toBe(2 * parsed.width);
  expect(png.length, 'a picture, not an empty canvas').toBeGreaterThan(20_000);

  // Inside a command, the file is named as the caption names the moment (not the step before).
  await page.getByTestId('tt-event-forward').click();
  const strip = page.getByTestId('timeline');
  await expect(strip).not.toHaveAttribute('data-within', '');
  const [stepIndex, entries] = (await strip.getAttribute('data-within'))!.split(':').map(Number);
  // The press on the step button, outside the menu, closed it.
  await expect(page.getByTestId('tt-export')).not.toHaveAttribute('open');
  await page.getByTestId('tt-export').locator('summary').click();
  const [insideDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('tt-export-svg').click()]);
  expect(insideDownload.suggestedFilename()).toBe(`colo-sim-inside-step-${stepIndex! + 1}-entry-${entries}.svg`);
  expect(readFileSync((await insideDownload.path())!, 'utf8')).toContain(`inside step ${stepIndex! + 1} of 7`);
});
