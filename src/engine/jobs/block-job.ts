/**
 * What every block job shares (job.c): an id, a status, progress as offset/len, cancel.
 * Jobs of a host are kept in its JobRegistry while they exist; internal jobs are dismissed
 * as soon as they conclude.
 */
import type { BlockEnv } from '../block/node.js';
import type { HostName, JobType } from '../sim/events.js';

export type JobStatus = 'running' | 'ready' | 'concluded';

export abstract class BlockJob {
  abstract readonly type: JobType;
  status: JobStatus = 'running';
  /** Progress, as QEMU reports it: bytes done and the current estimate of the total. */
  offsetBytes = 0;
  lenBytes = 0;

  constructor(
    readonly id: string,
    readonly host: HostName,
    protected readonly env: BlockEnv,
    protected readonly registry: JobRegistry,
  ) {}

  /** Whether the job still has copying to do: `run until idle` waits for such jobs. */
  abstract hasPendingWork(): boolean;

  abstract cancel(): void;

  protected conclude(): void {
    this.status = 'concluded';
    this.registry.remove(this);
  }
}

export class JobRegistry {
  /** By id, in creation order. */
  private readonly jobs = new Map<string, BlockJob>();
  private nextJobNumber = 1;

  constructor(readonly host: HostName) {}

  get nextJobNumberValue(): number {
    return this.nextJobNumber;
  }

  restoreNextJobNumber(value: number): void {
    this.nextJobNumber = value;
  }

  newJobId(type: JobType): string {
    return `${this.host}-${type}-${this.nextJobNumber++}`;
  }

  add(job: BlockJob): void {
    this.jobs.set(job.id, job);
  }

  remove(job: BlockJob): void {
    this.jobs.delete(job.id);
  }

  get(jobId: string): BlockJob | undefined {
    return this.jobs.get(jobId);
  }

  ofType(type: JobType): BlockJob | undefined {
    for (const job of this.jobs.values()) if (job.type === type) return job;
    return undefined;
  }

  all(): BlockJob[] {
    return [...this.jobs.values()];
  }

  get busy(): boolean {
    for (const job of this.jobs.values()) if (job.hasPendingWork()) return true;
    return false;
  }
}
