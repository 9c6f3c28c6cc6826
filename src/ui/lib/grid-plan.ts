/**
 * Which disk grids each host's card shows, in what order, with what title and which VM a click
 * writes as: by what each image is for in its host's graph (lib/host-roles.ts), so a survivor's
 * disk is drawn as the primary VM's disk once it is the primary, and the images a restart brings
 * (active-disk-2, hidden-disk-2, a fresh disk) get grids of their own.
 */
import type { HostName } from '../../engine/sim/events.js';
import type { DiskLayout } from '../../worker/protocol.js';
import { HOSTS, type PairRoles, type Slot } from './host-roles.js';

export type LayerColourName = 'primary-disk' | 'secondary-disk' | 'hidden-disk' | 'active-disk';

export interface GridSpec {
  /** The image's node name. */
  readonly name: string;
  readonly subtitle: string;
  /** Clicking a cell writes as this VM (null: the grid is to look at). */
  readonly vm: HostName | null;
  /** The layer colour of its part (null: an image that plays no part). */
  readonly layer: LayerColourName | null;
  readonly slot: Slot | undefined;
}

const ORDER: readonly Slot[] = ['local', 'base', 'hidden', 'active'];

export function gridPlan(roles: PairRoles | null, layouts: readonly DiskLayout[]): Record<HostName, GridSpec[]> {
  const plan: Record<HostName, GridSpec[]> = { primary: [], secondary: [] };
  for (const host of HOSTS) {
    const images = layouts.filter((layout) => layout.host === host);
    const hostRoles = roles?.hosts[host];
    const slotOf = new Map((hostRoles?.members ?? []).map((member) => [member.name, member.slot]));
    const rank = (layout: DiskLayout) => {
      const slot = slotOf.get(layout.name);
      const index = slot === undefined ? -1 : ORDER.indexOf(slot);
      return index < 0 ? ORDER.length : index;
    };
    // Parts first (in the chain's order, as the graph draws them), then any other image as it came.
    const sorted = images.map((layout, index) => ({ layout, index })).sort((a, b) => rank(a.layout) - rank(b.layout) || a.index - b.index);
    for (const { layout } of sorted) plan[host].push(specOf(layout, slotOf.get(layout.name), host, hostRoles?.shape ?? (host === 'primary' ? 'primary' : 'secondary')));
  }
  return plan;
}

function specOf(layout: DiskLayout, slot: Slot | undefined, host: HostName, shape: 'primary' | 'secondary'): GridSpec {
  const base = { name: layout.name, slot };
  switch (slot) {
    case 'local':
      return { ...base, subtitle: `${layout.driver} · the primary VM's disk (quorum child 0)`, vm: host, layer: 'primary-disk' };
    case 'base':
      // A survivor that is now the primary: its disk is the primary VM's (the replication node above it is done).
      if (host === 'primary' && shape === 'secondary') return { ...base, subtitle: `${layout.driver} · the primary VM's disk (kept from the failover)`, vm: 'primary', layer: 'secondary-disk' };
      return { ...base, subtitle: `${layout.driver} · receives forwarded writes`, vm: null, layer: 'secondary-disk' };
    case 'hidden':
      return { ...base, subtitle: host === 'secondary' ? `${layout.driver} · old clusters (copy-before-write)` : `${layout.driver} · left from the failover`, vm: null, layer: 'hidden-disk' };
    case 'active':
      return { ...base, subtitle: host === 'secondary' ? `${layout.driver} · the secondary VM's writes` : `${layout.driver} · left from the failover`, vm: host === 'secondary' ? 'secondary' : null, layer: 'active-disk' };
    default:
      return { ...base, subtitle: `${layout.driver} · ${layout.filename}`, vm: null, layer: null };
  }
}
