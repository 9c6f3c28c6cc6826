/**
 * A turn of the event loop without a timer's delay: a message posted to itself on a
 * MessageChannel runs as the next task. Browsers clamp a nested `setTimeout(0)` to at least 4 ms
 * (HTML's timer rules), which between 12-ms bursts of a run to the end left the worker idle a
 * quarter of the time; a message task has no such clamp. Calls and answers that arrived meanwhile
 * still get in first (they are tasks queued before it).
 */
let channel: MessageChannel | undefined;
const waiting: Array<() => void> = [];

/** Resolves in a later task of the event loop. Falls back to `setTimeout(0)` where there is no MessageChannel. */
export function nextTurn(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    // Node: an idle channel must not keep the process alive (browsers have no unref).
    (channel.port1 as { unref?: () => void }).unref?.();
  }
  const port = channel.port2;
  return new Promise((resolve) => {
    waiting.push(resolve);
    port.postMessage(null);
  });
}
