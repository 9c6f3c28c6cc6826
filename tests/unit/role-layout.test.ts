/**
 * The views follow the roles (issue 8): the graph's layout, the NBD links and the grids are
 * computed from the engine's view model (what each node is for), so after a failover, a restart
 * and "resume replication" the survivor's chain is drawn on the primary side and the new
 * secondary's images on the secondary side, in every layout, in both directions.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { analyseRoles, keyOf, secondaryChain, type PairRoles } from '../../src/ui/lib/host-roles.js';
import { gridPlan } from '../../src/ui/lib/grid-plan.js';
import { boxOf, extraCountsOf, GraphLayout, narrowLayout, overlaps, sizeOf, stackedLayout, wideLayout, type ExtraCounts, type LayoutSpec, type Point } from '../../src/ui/views/graph-layout.js';
import type { SimSummary } from '../../src/worker/protocol.js';
import { ViewBuilder } from '../../src/worker/view-builder.js';
import { loadScenario } from '../support/scenario-files.js';

const LIFECYCLE = 'public/scenarios/lifecycle';

/** Runs a scenario step by step, handing the view model to `at` after each step (1-based, as the app numbers them). */
function summariesOf(file: string, steps: readonly number[]): Map<number, { summary: SimSummary; builder: ViewBuilder }> {
  const scenario = loadScenario(`${LIFECYCLE}/${file}`);
  const runner = new ScenarioRunner(scenario, createMemoryStore);
  const builder = new ViewBuilder(runner.simulation);
  const out = new Map<number, { summary: SimSummary; builder: ViewBuilder }>();
  while (!runner.done) {
    const step = runner.nextStepIndex + 1;
    runner.step();
    if (steps.includes(step)) out.set(step, { summary: builder.summary(), builder });
  }
  expect(runner.outcome().passed, `${file} passes`).toBe(true);
  return out;
}

/** The step (1-based) of the first step matching `predicate`. */
function stepOf(file: string, predicate: (step: Record<string, unknown>) => boolean, after = 0): number {
  const scenario = loadScenario(`${LIFECYCLE}/${file}`);
  const index = scenario.steps.findIndex((step, position) => position >= after && predicate(step as unknown as Record<string, unknown>));
  expect(index, `a matching step in ${file}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

const isOp = (op: string, extra: Record<string, unknown> = {}) => (step: Record<string, unknown>) =>
  step['op'] === op && Object.entries(extra).every(([key, value]) => step[key] === value);

const LAYOUTS: ReadonlyArray<[string, (shapes: LayoutSpec['shapes'], extras: ExtraCounts) => LayoutSpec]> = [
  ['wide', (shapes, extras) => wideLayout(1000, shapes, extras)],
  ['wide 1600', (shapes, extras) => wideLayout(1600, shapes, extras)],
  ['stacked', (shapes, extras) => stackedLayout(shapes, extras)],
  ['narrow', (shapes, extras) => narrowLayout(shapes, extras)],
];

/** Places the nodes as the graph view does: the layout made for the hosts' shapes and their nodes with no part. */
function place(summary: SimSummary, make: (shapes: LayoutSpec['shapes'], extras: ExtraCounts) => LayoutSpec): { spec: LayoutSpec; roles: PairRoles; positions: Map<string, Point> } {
  const roles = analyseRoles(summary);
  const spec = make({ primary: roles.hosts.primary.shape, secondary: roles.hosts.secondary.shape }, extraCountsOf(roles));
  const layout = new GraphLayout();
  layout.spec = spec;
  return { spec, roles, positions: layout.place(roles) };
}

/** Whether a point is in a host's area: its side of the split (wide), its region (stacked, narrow). */
function inRegion(spec: LayoutSpec, host: 'primary' | 'secondary', point: Point): boolean {
  if (spec.split) return host === 'primary' ? point.x < spec.split[0] : point.x > spec.split[0] + spec.split[1];
  const box = spec.regions.find((region) => region.host === host)!.box;
  return point.x > box.x && point.x < box.x + box.width && point.y > box.y && point.y < box.y + box.height;
}

/** Every node is drawn inside its host's area and inside the drawing, and no two nodes overlap. */
function expectTidy(summary: SimSummary, spec: LayoutSpec, positions: Map<string, Point>, label: string): void {
  const drawn = [
    ...summary.nodes.map((node) => ({ key: keyOf(node.host, node.name), host: node.host, driver: node.driver as string })),
    ...summary.backends.map((backend) => ({ key: keyOf(backend.host, backend.name), host: backend.host, driver: 'backend' })),
  ];
  const boxes = drawn.map((node) => {
    const point = positions.get(node.key);
    expect(point, `${label}: ${node.key} has a place`).toBeDefined();
    expect(inRegion(spec, node.host, point!), `${label}: ${node.key} at ${point!.x},${point!.y} is in the ${node.host}'s area`).toBe(true);
    const box = boxOf(point!, sizeOf(node.driver));
    expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= spec.width && box.y + box.height <= spec.height, `${label}: ${node.key} inside the drawing`).toBe(true);
    return { key: node.key, box };
  });
  for (let a = 0; a < boxes.length; a++)
    for (let b = a + 1; b < boxes.length; b++) expect(overlaps(boxes[a]!.box, boxes[b]!.box), `${label}: ${boxes[a]!.key} overlaps ${boxes[b]!.key}`).toBe(false);
}

describe('layout by role', () => {
  it('draws the first generation where it always was', () => {
    const summary = summariesOf('01-secondary-resume-replication.json', [5]).get(5)!.summary;
    const { positions, roles } = place(summary, (shapes) => wideLayout(1000, shapes));
    expect(roles.hosts.primary.shape).toBe('primary');
    expect(roles.hosts.secondary.shape).toBe('secondary');
    // The places of the wide layout before issue 8 (docs/block-replication.txt's drawing).
    expect(positions.get('primary:primary-vm')).toEqual({ x: 162, y: 18 });
    expect(positions.get('primary:colo-disk')).toEqual({ x: 162, y: 70 });
    expect(positions.get('primary:primary-disk')).toEqual({ x: 80, y: 126 });
    expect(positions.get('primary:replication-primary')).toEqual({ x: 248, y: 126 });
    expect(positions.get('primary:nbd-client')).toEqual({ x: 248, y: 182 });
    expect(positions.get('secondary:secondary-vm')).toEqual({ x: 916, y: 18 });
    expect(positions.get('secondary:top-disk')).toEqual({ x: 916, y: 70 });
    expect(positions.get('secondary:replication-secondary')).toEqual({ x: 916, y: 126 });
    expect(positions.get('secondary:active-disk')).toEqual({ x: 916, y: 236 });
    expect(positions.get('secondary:hidden-disk')).toEqual({ x: 680, y: 236 });
    expect(positions.get('secondary:secondary-disk')).toEqual({ x: 444, y: 236 });
    expect(positions.get('secondary:secondary-disk-cbw')).toEqual({ x: 444, y: 182 });
    expect(positions.get('secondary:nbd-export')).toEqual({ x: 444, y: 126 });
    expect(roles.links).toEqual([{ clientHost: 'primary', client: 'nbd-client', exportHost: 'secondary', exportBackend: 'nbd-export', purpose: 'replication' }]);
  });

  it('secondary resume replication: the survivor (once the secondary) is drawn as the primary, the new secondary on its side, in every layout', () => {
    const file = '01-secondary-resume-replication.json';
    const restart = stepOf(file, isOp('restart'));
    const mirror = stepOf(file, (step) => step['execute'] === 'drive-mirror');
    const added = stepOf(file, (step) => step['execute'] === 'x-blockdev-change');
    const protectedAgain = stepOf(file, isOp('run'), stepOf(file, (step) => step['execute'] === 'migrate'));
    const secondFailover = stepOf(file, isOp('failover'), restart);
    const runs = summariesOf(file, [restart, mirror, added, protectedAgain, secondFailover]);

    for (const [name, make] of LAYOUTS) {
      // After the restart: the survivor's own chain keeps its names, on the primary side.
      const afterRestart = runs.get(restart)!.summary;
      const { spec, roles, positions } = place(afterRestart, make);
      expect(roles.hosts.primary.shape, name).toBe('secondary');
      expect(roles.hosts.primary.slots).toMatchObject({ vm: 'primary-vm', quorum: 'top-disk', repl: 'replication-secondary', base: 'secondary-disk', hidden: 'hidden-disk', active: 'active-disk', export: 'nbd-export' });
      expect(roles.hosts.secondary.slots).toMatchObject({ vm: 'secondary-vm', quorum: 'top-disk-2', repl: 'replication-secondary-2', active: 'active-disk-2', hidden: 'hidden-disk-2', base: 'primary-disk', export: 'nbd-export' });
      for (const node of ['top-disk', 'replication-secondary', 'secondary-disk', 'hidden-disk', 'active-disk']) expect(inRegion(spec, 'primary', positions.get(keyOf('primary', node))!), `${name}: ${node}`).toBe(true);
      for (const node of ['top-disk-2', 'replication-secondary-2', 'primary-disk', 'hidden-disk-2', 'active-disk-2']) expect(inRegion(spec, 'secondary', positions.get(keyOf('secondary', node))!), `${name}: ${node}`).toBe(true);
      expectTidy(afterRestart, spec, positions, `${name} after the restart`);
      // No link yet: the survivor has no NBD client.
      expect(roles.links, name).toEqual([]);

      // The resync: drive-mirror's filter above the quorum and its NBD target, linked to the new secondary's export.
      const during = runs.get(mirror)!.summary;
      const resync = place(during, make);
      expect(resync.roles.hosts.primary.slots['vm-filter'], name).toBe('top-disk-mirror-top');
      expect(resync.roles.hosts.primary.slots['mirror-target'], name).toBe('resync-target');
      expect(resync.roles.links, name).toEqual([{ clientHost: 'primary', client: 'resync-target', exportHost: 'secondary', exportBackend: 'nbd-export', purpose: 'mirror' }]);
      expectTidy(during, resync.spec, resync.positions, `${name} during the resync`);

      // The new quorum child and its NBD client; COLO's link goes from it to the new secondary's export.
      const afterAdd = runs.get(added)!.summary;
      const quorumChild = place(afterAdd, make);
      expect(quorumChild.roles.hosts.primary.slots['out-repl'], name).toBe('replication0');
      expect(quorumChild.roles.hosts.primary.slots['out-client'], name).toBe('replication0-nbd');
      expect(quorumChild.roles.links, name).toEqual([{ clientHost: 'primary', client: 'replication0-nbd', exportHost: 'secondary', exportBackend: 'nbd-export', purpose: 'replication' }]);
      expectTidy(afterAdd, quorumChild.spec, quorumChild.positions, `${name} after x-blockdev-change`);

      // Protected again, then the second failover (to the new secondary): still tidy, same sides.
      for (const step of [protectedAgain, secondFailover]) {
        const summary = runs.get(step)!.summary;
        const placed = place(summary, make);
        expectTidy(summary, placed.spec, placed.positions, `${name} at step ${step}`);
        expect(inRegion(placed.spec, 'secondary', placed.positions.get('secondary:active-disk-2')!), name).toBe(true);
      }
      const running = runs.get(protectedAgain)!.summary;
      expect(analyseRoles(running).hosts.secondary.slots.cbw, name).toBe('primary-disk-cbw');
    }
    // The grids: the survivor's disk is the primary VM's; the restart's new images have grids.
    const plan = gridPlan(analyseRoles(runs.get(restart)!.summary), runs.get(restart)!.builder.layouts());
    expect(plan.primary.map((grid) => [grid.name, grid.vm])).toEqual([
      ['secondary-disk', 'primary'],
      ['hidden-disk', null],
      ['active-disk', null],
    ]);
    expect(plan.secondary.map((grid) => [grid.name, grid.vm])).toEqual([
      ['primary-disk', null],
      ['hidden-disk-2', null],
      ['active-disk-2', 'secondary'],
    ]);
    expect(secondaryChain(analyseRoles(runs.get(restart)!.summary))).toEqual({ active: 'active-disk-2', hidden: 'hidden-disk-2', base: 'primary-disk' });
  });

  it('primary resume replication: no swap, the new secondary has grids, the resync is linked', () => {
    const file = '02-primary-resume-replication.json';
    const restart = stepOf(file, isOp('restart'));
    const mirror = stepOf(file, (step) => step['execute'] === 'drive-mirror');
    const runs = summariesOf(file, [restart, mirror]);
    for (const [name, make] of LAYOUTS) {
      const { spec, roles, positions } = place(runs.get(restart)!.summary, make);
      expect(roles.hosts.primary.shape, name).toBe('primary');
      expect(roles.hosts.primary.slots).toMatchObject({ quorum: 'colo-disk', local: 'primary-disk' });
      expect(roles.hosts.secondary.slots).toMatchObject({ quorum: 'top-disk-2', active: 'active-disk-2', hidden: 'hidden-disk-2', base: 'secondary-disk-2' });
      expectTidy(runs.get(restart)!.summary, spec, positions, `${name} after the restart`);
      const during = place(runs.get(mirror)!.summary, make);
      expect(during.roles.links.map((link) => [link.client, link.exportHost, link.purpose]), name).toEqual([['resync-target', 'secondary', 'mirror']]);
      // drive-mirror's target takes the replication client's place (the runbook removed that client).
      expect(during.positions.get('primary:resync-target'), name).toEqual(place(runs.get(restart)!.summary, make).spec.templates.primary.slots['out-client']);
      expectTidy(runs.get(mirror)!.summary, during.spec, during.positions, `${name} during the resync`);
    }
    const plan = gridPlan(analyseRoles(runs.get(restart)!.summary), runs.get(restart)!.builder.layouts());
    expect(plan.primary.map((grid) => grid.name)).toEqual(['primary-disk']);
    expect(plan.secondary.map((grid) => grid.name)).toEqual(['secondary-disk-2', 'hidden-disk-2', 'active-disk-2']);
  });

  it('fresh secondary, then a failover to the primary and a second restart: the third generation on the secondary side', () => {
    const file = '06-fresh-secondary-then-failover-to-primary.json';
    const firstRestart = stepOf(file, isOp('restart'));
    const secondRestart = stepOf(file, isOp('restart'), firstRestart);
    const runs = summariesOf(file, [secondRestart]);
    const summary = runs.get(secondRestart)!.summary;
    for (const [name, make] of LAYOUTS) {
      const { spec, roles, positions } = place(summary, make);
      expect(roles.hosts.secondary.slots).toMatchObject({ quorum: 'top-disk-3', active: 'active-disk-3', hidden: 'hidden-disk-3', base: 'secondary-disk-2' });
      // replication0 left the quorum but is still open: it keeps its part and a place.
      expect(roles.hosts.primary.slots['out-repl'], name).toBe('replication0');
      expectTidy(summary, spec, positions, `${name} after the second restart`);
    }
  });

  it("nodes with no part of their own (a quorum child's spares) get places of their own at every step, in every layout", () => {
    const file = '03-quorum-child-names.json';
    const count = loadScenario(`${LIFECYCLE}/${file}`).steps.length;
    const runs = summariesOf(file, Array.from({ length: count }, (_, index) => index + 1));
    let mostExtras = 0;
    for (const [step, { summary }] of runs) {
      for (const [name, make] of LAYOUTS) {
        const { spec, roles, positions } = place(summary, make);
        mostExtras = Math.max(mostExtras, extraCountsOf(roles).primary);
        expectTidy(summary, spec, positions, `${name} at step ${step}`);
      }
    }
    // The scenario gives the primary more such nodes than the narrow and stacked drawings have places for.
    expect(mostExtras).toBeGreaterThan(1);
  });

  it('sends the layouts again when the images change, as a change of the same simulation', () => {
    const file = '01-secondary-resume-replication.json';
    const restart = stepOf(file, isOp('restart'));
    const scenario = loadScenario(`${LIFECYCLE}/${file}`);
    const runner = new ScenarioRunner(scenario, createMemoryStore);
    const builder = new ViewBuilder(runner.simulation);
    expect(builder.takeLayouts()?.changed).toBe(false);
    builder.takeCells();
    while (runner.nextStepIndex + 1 < restart) runner.step();
    expect(builder.takeLayouts()).toBeUndefined();
    runner.step();
    const taken = builder.takeLayouts();
    expect(taken?.changed).toBe(true);
    expect(taken!.layouts.map((layout) => `${layout.host}:${layout.name}`)).toEqual([
      'primary:secondary-disk',
      'primary:hidden-disk',
      'primary:active-disk',
      'secondary:primary-disk',
      'secondary:hidden-disk-2',
      'secondary:active-disk-2',
    ]);
    // Every image's cells follow in full, the new ones included.
    expect(builder.takeCells().filter((cells) => cells.indices === undefined).map((cells) => cells.name).sort()).toEqual(['active-disk', 'active-disk-2', 'hidden-disk', 'hidden-disk-2', 'primary-disk', 'secondary-disk']);
    expect(builder.takeLayouts()).toBeUndefined();
  });
});
