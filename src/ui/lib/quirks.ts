/**
 * An error a replication node shows that is QEMU's quirk rather than a failure, and the words
 * that say so where the error shows (the graph's badge, the host's chip).
 */
import type { NodeView, SimSummary } from '../../worker/protocol.js';

/** The engine's QUIRKS.getErrorDuringCommit, said where the −EIO shows. */
export const QUIRK_EIO_DURING_COMMIT =
  'QEMU quirk: stop on the secondary cancelled the backup job, whose callback set s->error = -EIO; it stays until the active commit completes (get-error fails meanwhile). No write failed.';
/** The engine's QUIRKS.getErrorAfterStop. */
export const QUIRK_EIO_AFTER_STOP =
  'QEMU quirk: stop on the secondary cancelled the backup job, whose callback set s->error = -EIO, and nothing clears it unless an active commit completes. No write failed.';

/**
 * The quirk behind a replication node's error, or null for a real one. In QEMU 7.2
 * (block/replication.c) replication_stop cancels the backup job on the secondary; its completion
 * callback sets s->error = -EIO, which only replication_done clears when an active commit
 * succeeds. So during a normal failover's commit (stage failover) and after a stop without
 * failover (stage done) the −EIO is the quirk; in FAILOVER_FAILED or while running it is real.
 */
export function errorQuirk(datum: { readonly view?: NodeView | undefined }, summary: SimSummary): string | null {
  const view = datum.view;
  const replication = view?.replication;
  if (!view || !replication || replication.error !== 'EIO' || replication.mode !== 'secondary') return null;
  if (replication.stage === 'failover' && summary.jobs.some((job) => job.type === 'commit' && job.host === view.host)) return QUIRK_EIO_DURING_COMMIT;
  if (replication.stage === 'done') return QUIRK_EIO_AFTER_STOP;
  return null;
}
