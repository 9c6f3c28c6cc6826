/** A digest of every image's bytes and allocation, to compare disks byte for byte across a reload. */
import { ImageNode } from '../engine/block/image.js';
import { Qcow2Image } from '../engine/block/qcow2-image.js';
import type { Simulation } from '../engine/colo/simulation.js';
import { Fnv1a } from './fnv1a.js';

export function digestImages(sim: Simulation): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const host of [sim.primary, sim.secondary]) {
    for (const node of host.graph.nodes()) {
      if (!(node instanceof ImageNode)) continue;
      const digest = new Fnv1a();
      for (const run of node.peekOwnLayer(0, node.sizeBytes).runs) {
        if (run.bytes) digest.addBytes(run.bytes);
        else digest.addRepeated(run.fillByte, run.lengthBytes);
      }
      if (node instanceof Qcow2Image) for (const cluster of [...node.allocatedClusterIndices()].sort((a, b) => a - b)) digest.addNumber(cluster);
      digests[node.nodeName] = digest.hex();
    }
  }
  return digests;
}
