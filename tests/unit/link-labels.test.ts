/**
 * The NBD links' labels (issue 11: labels never overlap a node or each other): at every step of
 * every lifecycle scenario, in every layout, each label covers no node's box and no other label;
 * and the order search finds a placement that placing labels in the links' own order misses.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { analyseRoles, keyOf } from '../../src/ui/lib/host-roles.js';
import { boxOf, extraCountsOf, GraphLayout, linkCurve, narrowLayout, overlaps, sizeOf, stackedLayout, wideLayout, type Box, type LayoutSpec } from '../../src/ui/views/graph-layout.js';
import { placeLinkLabels } from '../../src/ui/views/link-labels.js';
import { ViewBuilder } from '../../src/worker/view-builder.js';
import { loadScenario } from '../support/scenario-files.js';

const LIFECYCLE = 'public/scenarios/lifecycle';
const FILES = ['01-secondary-resume-replication', '02-primary-resume-replication', '03-quorum-child-names', '04-hung-peer-and-yank', '05-closing-replication-nodes', '06-fresh-secondary-then-failover-to-primary'];
const LAYOUTS: ReadonlyArray<[string, (shapes: LayoutSpec['shapes'], extras: LayoutSpec['extras']) => LayoutSpec]> = [
  ['wide', (shapes, extras) => wideLayout(1000, shapes, extras)],
  ['wide 1600', (shapes, extras) => wideLayout(1600, shapes, extras)],
  ['stacked', (shapes, extras) => stackedLayout(shapes, extras)],
  ['narrow', (shapes, extras) => narrowLayout(shapes, extras)],
];

describe('NBD link labels', () => {
  it('cover no node and no other label at any step of the lifecycle scenarios, in every layout', () => {
    let labelsChecked = 0;
    for (const file of FILES) {
      const runner = new ScenarioRunner(loadScenario(`${LIFECYCLE}/${file}.json`), createMemoryStore);
      const builder = new ViewBuilder(runner.simulation);
      // One GraphLayout per layout across the steps, as the view keeps one (extras keep their places).
      const layouts = LAYOUTS.map(() => new GraphLayout());
      while (!runner.done) {
        runner.step();
        const summary = builder.summary();
        const roles = analyseRoles(summary);
        LAYOUTS.forEach(([name, make], index) => {
          const spec = make({ primary: roles.hosts.primary.shape, secondary: roles.hosts.secondary.shape }, extraCountsOf(roles));
          const layout = layouts[index]!;
          layout.spec = spec;
          const placed = layout.place(roles);
          const nodeBoxes: Array<[string, Box]> = [
            ...summary.nodes.map((node) => [keyOf(node.host, node.name), node.driver as string] as const),
            ...summary.backends.map((backend) => [keyOf(backend.host, backend.name), 'backend'] as const),
          ].map(([key, driver]) => [key, boxOf(placed.get(key)!, sizeOf(driver))]);
          const links = roles.links.flatMap((link, linkIndex) => {
            const from = placed.get(keyOf(link.clientHost, link.client));
            const to = placed.get(keyOf(link.exportHost, link.exportBackend));
            return from && to ? [{ key: String(linkIndex), curve: linkCurve(from, to, spec.link), up: summary.linkUp, purpose: link.purpose }] : [];
          });
          const { labelBoxes } = placeLinkLabels(links, spec, nodeBoxes.map(([, box]) => box));
          const where = `${file}, step ${runner.nextStepIndex}, ${name}`;
          labelBoxes.forEach((label, labelIndex) => {
            labelsChecked++;
            for (const [key, box] of nodeBoxes) expect(overlaps(label, box), `${where}: label ${labelIndex} on ${key}`).toBe(false);
            labelBoxes.slice(labelIndex + 1).forEach((other) => expect(overlaps(label, other), `${where}: labels ${labelIndex} and another`).toBe(false));
          });
        });
      }
    }
    expect(labelsChecked).toBeGreaterThan(500);
  });

  it("tries the labels in another order when the links' own order leaves one on another", () => {
    // Two vertical links side by side: the first's best spot, on its middle, is where the
    // second's only free spot would be; the second, placed first, leaves the first another.
    const spec = { width: 300, height: 200, link: 'vertical' as const };
    const walls: Box[] = [
      { x: 0, y: 0, width: 300, height: 80 },
      { x: 0, y: 120, width: 300, height: 80 },
      { x: 0, y: 80, width: 60, height: 40 },
    ];
    const link = (key: string, x: number) => ({ key, curve: linkCurve({ x, y: 0 }, { x, y: 200 }, 'vertical'), up: true, purpose: 'replication' });
    // In the links' own order, b finds no free spot once a's label is placed.
    const first = placeLinkLabels([link('a', 150)], spec, walls);
    const second = placeLinkLabels([link('b', 120)], spec, [...walls, ...first.labelBoxes]);
    expect(second.places.get('b')!.covered).toBeGreaterThan(0);
    const { places, labelBoxes } = placeLinkLabels([link('a', 150), link('b', 120)], spec, walls);
    expect(places.size).toBe(2);
    for (const label of labelBoxes) for (const wall of walls) expect(overlaps(label, wall), JSON.stringify(label)).toBe(false);
    expect(overlaps(labelBoxes[0]!, labelBoxes[1]!)).toBe(false);
  });
});
