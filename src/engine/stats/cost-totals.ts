/**
 * The few figures that sum up a CostReport (replication-cost.ts), for comparing two runs side by
 * side: bytes forwarded over NBD, copy-before-write copies and bytes, the buffers' peak occupancy
 * (clusters), how many checkpoints ran and how many clusters each emptied (active plus hidden,
 * mean and most). Sizes bytes, occupancy clusters; a run without checkpoint has mean and most 0.
 */
import type { CostReport } from './replication-cost.js';

export interface CostTotals {
  readonly bytesForwarded: number;
  readonly cbwCopies: number;
  readonly cbwBytes: number;
  readonly hiddenPeakClusters: number;
  readonly activePeakClusters: number;
  readonly checkpoints: number;
  /** Clusters make_empty freed per checkpoint (active and hidden together). */
  readonly clustersEmptiedMean: number;
  readonly clustersEmptiedMax: number;
}

export function costTotals(report: CostReport): CostTotals {
  const emptied = report.checkpoints.map((checkpoint) => checkpoint.activeClustersFreed + checkpoint.hiddenClustersFreed);
  return {
    bytesForwarded: report.nbd.bytesForwarded,
    cbwCopies: report.copyBeforeWrite.copies,
    cbwBytes: report.copyBeforeWrite.bytes,
    hiddenPeakClusters: report.occupancy.hiddenPeakClusters,
    activePeakClusters: report.occupancy.activePeakClusters,
    checkpoints: report.checkpoints.length,
    clustersEmptiedMean: emptied.length === 0 ? 0 : emptied.reduce((sum, count) => sum + count, 0) / emptied.length,
    clustersEmptiedMax: emptied.reduce((max, count) => Math.max(max, count), 0),
  };
}
