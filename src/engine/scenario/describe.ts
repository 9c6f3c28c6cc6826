/**
 * Scenario steps and expectations in words, for the runner's report, the app's narration and
 * the event log.
 */
import { formatByte } from '../block/data-runs.js';
import type { Expectation, ParsedStep } from './schema.js';
import { formatDuration, formatSize } from './units.js';

function range(offset: number, length: number): string {
  return `[${formatSize(offset)}, +${formatSize(length)})`;
}

export function describeStep(step: ParsedStep): string {
  switch (step.op) {
    case 'write':
      return `write ${formatByte(step.pattern)} to ${step.node} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'read':
      return `read ${step.node} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'guest-write':
      return `${step.vm} VM writes ${formatByte(step.pattern)} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'guest-read':
      return `${step.vm} VM reads ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'replication': {
      const details = step.action === 'start' ? ` mode=${step.mode ?? step.host}` : step.action === 'stop' ? ` failover=${step.failover ?? false}` : '';
      return `replication ${step.action} on ${step.host}${details}`;
    }
    case 'colo-start':
      return 'COLO start (secondary, then primary)';
    case 'checkpoint':
      return 'COLO checkpoint';
    case 'failover':
      return `failover to the ${step.to}`;
    case 'open': {
      const options = Object.entries(step.options)
        .map(([key, value]) => `${key}=${value}`)
        .join(',');
      return `open replication node on ${step.host}: ${options}`;
    }
    case 'fault':
      switch (step.kind) {
        case 'io-error':
          return `fault: I/O error on ${step.node} (${step.on}${step.count === undefined ? '' : ` x${step.count}`})`;
        case 'cancel-job':
          return `fault: cancel the ${step.type} job on ${step.host}`;
        case 'eject':
          return `fault: eject ${step.node}`;
        default:
          return `fault: ${step.kind}`;
      }
    case 'run':
      if (step.for !== undefined) return `run for ${formatDuration(step.for)}`;
      if (step.events !== undefined) return `run ${step.events} event${step.events === 1 ? '' : 's'}`;
      return 'run until idle';
    case 'qmp':
      return `QMP on the ${step.host}: ${step.execute}${step.arguments ? ` ${JSON.stringify(step.arguments)}` : ''}`;
    case 'check':
      if (step.event) return `check the ${step.event.host} emitted ${step.event.name}${step.event.data ? ` ${JSON.stringify(step.event.data)}` : ''}`;
      if (step.stage) return `check ${step.stage.node} is ${step.stage.is}`;
      if (step.job) return `check the ${step.job.type} job on ${step.job.host} is ${step.job.is}`;
      if (step.allocated) return `check ${step.allocated.node} ${range(step.allocated.offset, step.allocated.length)} is ${step.allocated.is === 'all' ? 'all allocated' : 'not allocated'}`;
      return `check ${step.same!.join(', ')} read the same`;
    case 'say':
      return step.text;
    case 'workload':
      return step.writesPerSecond === 0
        ? 'stop the guest workload'
        : `guest workload: ${step.writesPerSecond} writes/s on ${step.vm ?? 'primary'} (${formatSize(step.blockSize ?? 4096)} blocks, up to ${step.maxBlocks ?? 16} per write)`;
  }
}

export function describeExpectation(expect: Expectation | undefined, control: boolean): string {
  if (!expect || expect.ok) return 'success';
  if (expect.return !== undefined) return `return ${JSON.stringify(expect.return)}`;
  if (expect.pattern !== undefined) return `every byte ${formatByte(expect.pattern)}`;
  if (expect.error === true) return 'an error';
  return control ? `error "${expect.error}"` : `error ${expect.error}`;
}
