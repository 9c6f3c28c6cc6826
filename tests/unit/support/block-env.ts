/**
 * Standalone block nodes for tests: an environment (virtual clock, event bus, frame table) and
 * synchronous reads and writes. Standalone images and filters never wait (nothing below them
 * crosses a network), so a request that suspends here is a bug and fails the test.
 */
import { DataRuns } from '../../../src/engine/block/data-runs.js';
import type { ReadResult, WriteResult } from '../../../src/engine/block/errno.js';
import type { BlockEnv, BlockNode, IoContext } from '../../../src/engine/block/node.js';
import { Qcow2Image } from '../../../src/engine/block/qcow2-image.js';
import { RawImage } from '../../../src/engine/block/raw-image.js';
import { FrameTable, isSuspended, type IoOutcome, type IoResult } from '../../../src/engine/block/io-frames.js';
import type { EngineAction } from '../../../src/engine/sim/actions.js';
import { EventBus, type SimEvent } from '../../../src/engine/sim/events.js';
import { Scheduler } from '../../../src/engine/sim/scheduler.js';
import { ChunkedMemoryStore } from '../../../src/storage/chunked-memory-store.js';

export interface TestEnv extends BlockEnv {
  readonly events: EventBus;
  readonly scheduler: Scheduler<EngineAction>;
  readonly recorded: SimEvent[];
}

export function newEnv(): TestEnv {
  const scheduler = new Scheduler<EngineAction>();
  const events = new EventBus(() => scheduler.nowUs);
  const frames = new FrameTable(() => {
    throw new Error('a standalone node suspended a request');
  });
  const recorded: SimEvent[] = [];
  events.subscribe((event) => recorded.push(event));
  return { scheduler, events, frames, recorded };
}

let nextRequestId = 1;
const ctx = (): IoContext => ({ requestId: nextRequestId++, origin: 'step' });

/** The answer of a standalone node's request, which must come at once. */
export function answered<R extends IoResult>(outcome: IoOutcome<R>): R {
  if (isSuspended(outcome)) throw new Error(`a standalone node suspended a request (frame ${outcome.frameId})`);
  return outcome;
}

export function readNode(_env: TestEnv, node: BlockNode, offsetBytes: number, lengthBytes: number): ReadResult {
  return answered(node.read(offsetBytes, lengthBytes, ctx()));
}

export function readNodeBytes(env: TestEnv, node: BlockNode, offsetBytes: number, lengthBytes: number): Uint8Array {
  const result = readNode(env, node, offsetBytes, lengthBytes);
  if (!result.ok) throw new Error(`read of ${node.nodeName} failed with ${result.errno}`);
  return result.data.toBytes();
}

export function writeNode(_env: TestEnv, node: BlockNode, offsetBytes: number, data: DataRuns | Uint8Array): WriteResult {
  const runs = data instanceof DataRuns ? data : DataRuns.fromBytes(data.slice());
  return answered(node.write(offsetBytes, runs, ctx()));
}

export function newRaw(env: TestEnv, name: string, sizeBytes: number): RawImage {
  return new RawImage(name, 'secondary', env, `${name}.raw`, new ChunkedMemoryStore(sizeBytes));
}

export function newQcow2(env: TestEnv, name: string, sizeBytes: number, clusterSizeBytes: number, backing?: BlockNode): Qcow2Image {
  const image = new Qcow2Image(name, 'secondary', env, `${name}.qcow2`, new ChunkedMemoryStore(sizeBytes), clusterSizeBytes);
  if (backing) image.children.set('backing', backing);
  return image;
}
