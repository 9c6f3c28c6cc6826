/**
 * Small helpers around the engine's Simulation for unit tests: settings, synchronous I/O
 * that fails loudly, an event recorder, and direct access to nodes by their fixed names.
 */
import { DataRuns } from '../../../src/engine/block/data-runs.js';
import type { Errno } from '../../../src/engine/block/errno.js';
import type { ImageNode } from '../../../src/engine/block/image.js';
import { Qcow2Image } from '../../../src/engine/block/qcow2-image.js';
import { DEFAULT_SETTINGS, Simulation, type SimulationSettings } from '../../../src/engine/colo/simulation.js';
import type { ReplicationNode } from '../../../src/engine/replication/replication-node.js';
import type { SimEvent, SimEventKind } from '../../../src/engine/sim/events.js';
import { createMemoryStore } from '../../../src/storage/chunked-memory-store.js';
import { KiB, MiB } from './bytes.js';

export const SMALL_SETTINGS: SimulationSettings = {
  ...DEFAULT_SETTINGS,
  diskSizeBytes: 1 * MiB,
  clusterSizeBytes: 4 * KiB,
  nbdLatencyUs: 500,
  copyTimeUs: 1000,
};

export function newSimulation(overrides: Partial<SimulationSettings> = {}): Simulation {
  return new Simulation({ ...SMALL_SETTINGS, ...overrides }, createMemoryStore);
}

/** Reads through the node (as a scenario step would) and returns the bytes; throws on failure. */
export function readBytes(sim: Simulation, nodeName: string, offsetBytes: number, lengthBytes: number): Uint8Array {
  const result = sim.readNow(nodeName, offsetBytes, lengthBytes);
  if (!result.ok) throw new Error(`read of ${nodeName} [${offsetBytes}, +${lengthBytes}) failed with ${result.errno}`);
  return result.data.toBytes();
}

export function readWholeDisk(sim: Simulation, nodeName: string): Uint8Array {
  return readBytes(sim, nodeName, 0, sim.settings.diskSizeBytes);
}

/** The errno of a read, or 'ok'. */
export function readOutcome(sim: Simulation, nodeName: string, offsetBytes: number, lengthBytes: number): Errno | 'ok' {
  const result = sim.readNow(nodeName, offsetBytes, lengthBytes);
  return result.ok ? 'ok' : result.errno;
}

/** Writes and runs the clock until the write completes; returns 'ok' or the errno. */
export function writeOutcome(sim: Simulation, nodeName: string, offsetBytes: number, data: DataRuns | Uint8Array): Errno | 'ok' {
  const runs = data instanceof DataRuns ? data : DataRuns.fromBytes(data.slice());
  const result = sim.settle(sim.write(nodeName, offsetBytes, runs));
  return result.ok ? 'ok' : result.errno;
}

export function writePattern(sim: Simulation, nodeName: string, offsetBytes: number, lengthBytes: number, fillByte: number): Errno | 'ok' {
  return writeOutcome(sim, nodeName, offsetBytes, DataRuns.fill(lengthBytes, fillByte));
}

export function guestWritePattern(sim: Simulation, vm: 'primary' | 'secondary', offsetBytes: number, lengthBytes: number, fillByte: number): Errno | 'ok' {
  const result = sim.settle(sim.guestWrite(vm, offsetBytes, DataRuns.fill(lengthBytes, fillByte)));
  return result.ok ? 'ok' : result.errno;
}

export function replicationNode(sim: Simulation, name: string): ReplicationNode {
  const node = sim.replicationNode(name);
  if (!node) throw new Error(`no replication node ${name}`);
  return node;
}

export function qcow2(sim: Simulation, name: string): Qcow2Image {
  const node = sim.image(name);
  if (!(node instanceof Qcow2Image)) throw new Error(`${name} is not a qcow2 image`);
  return node;
}

export function image(sim: Simulation, name: string): ImageNode {
  const node = sim.image(name);
  if (!node) throw new Error(`${name} is not an image`);
  return node;
}

/** An image's own layer, bytes only (no request, no backing file). */
export function ownLayer(sim: Simulation, name: string, offsetBytes: number, lengthBytes: number): Uint8Array {
  return image(sim, name).peekOwnLayer(offsetBytes, lengthBytes).toBytes();
}

/** Records every event from now on. */
export function recordEvents(sim: Simulation): SimEvent[] {
  const events: SimEvent[] = [];
  sim.events.subscribe((event) => events.push(event));
  return events;
}

export function eventsOfKind<K extends SimEventKind>(events: readonly SimEvent[], kind: K): Array<Extract<SimEvent, { kind: K }>> {
  return events.filter((event): event is Extract<SimEvent, { kind: K }> => event.kind === kind);
}

/** Indices of the qcow2 clusters allocated in the image's own layer, ascending. */
export function allocatedClusters(sim: Simulation, name: string): number[] {
  return [...qcow2(sim, name).allocatedClusterIndices()].sort((a, b) => a - b);
}

/** The clusters [first, last] as a list. */
export function clusterRange(first: number, last: number): number[] {
  const out: number[] = [];
  for (let index = first; index <= last; index++) out.push(index);
  return out;
}

/** Starts replication on the secondary only; throws if it fails. */
export function startSecondary(sim: Simulation): void {
  const outcome = sim.replication('secondary', 'start');
  if (!outcome.ok) throw new Error(`secondary start failed: ${outcome.message}`);
}
