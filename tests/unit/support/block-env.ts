/**
 * Standalone block nodes for tests: an environment (virtual clock, event bus) and a way to
 * run a node's read or write coroutine to completion.
 */
import { DataRuns } from '../../../src/engine/block/data-runs.js';
import type { ReadResult, WriteResult } from '../../../src/engine/block/errno.js';
import type { BlockEnv, BlockNode, IoContext } from '../../../src/engine/block/node.js';
import { Qcow2Image } from '../../../src/engine/block/qcow2-image.js';
import { RawImage } from '../../../src/engine/block/raw-image.js';
import { spawn, type Co } from '../../../src/engine/sim/coroutine.js';
import { EventBus, type SimEvent } from '../../../src/engine/sim/events.js';
import { Scheduler } from '../../../src/engine/sim/scheduler.js';
import { ChunkedMemoryStore } from '../../../src/storage/chunked-memory-store.js';

export interface TestEnv extends BlockEnv {
  readonly events: EventBus;
  readonly scheduler: Scheduler;
  readonly recorded: SimEvent[];
}

export function newEnv(): TestEnv {
  const scheduler = new Scheduler();
  const events = new EventBus(() => scheduler.nowUs);
  const recorded: SimEvent[] = [];
  events.subscribe((event) => recorded.push(event));
  return { scheduler, events, recorded };
}

let nextRequestId = 1;
const ctx = (): IoContext => ({ requestId: nextRequestId++, origin: 'step' });

export function runCo<T>(env: TestEnv, co: Co<T>): T {
  const future = spawn(env.scheduler, co);
  while (!future.isSettled) {
    if (!env.scheduler.runNext()) throw new Error('coroutine stalled');
  }
  return future.value;
}

export function readNode(env: TestEnv, node: BlockNode, offsetBytes: number, lengthBytes: number): ReadResult {
  return runCo(env, node.read(offsetBytes, lengthBytes, ctx()));
}

export function readNodeBytes(env: TestEnv, node: BlockNode, offsetBytes: number, lengthBytes: number): Uint8Array {
  const result = readNode(env, node, offsetBytes, lengthBytes);
  if (!result.ok) throw new Error(`read of ${node.nodeName} failed with ${result.errno}`);
  return result.data.toBytes();
}

export function writeNode(env: TestEnv, node: BlockNode, offsetBytes: number, data: DataRuns | Uint8Array): WriteResult {
  const runs = data instanceof DataRuns ? data : DataRuns.fromBytes(data.slice());
  return runCo(env, node.write(offsetBytes, runs, ctx()));
}

export function newRaw(env: TestEnv, name: string, sizeBytes: number): RawImage {
  return new RawImage(name, 'secondary', env, `${name}.raw`, new ChunkedMemoryStore(sizeBytes));
}

export function newQcow2(env: TestEnv, name: string, sizeBytes: number, clusterSizeBytes: number, backing?: BlockNode): Qcow2Image {
  const image = new Qcow2Image(name, 'secondary', env, `${name}.qcow2`, new ChunkedMemoryStore(sizeBytes), clusterSizeBytes);
  if (backing) image.children.set('backing', backing);
  return image;
}
