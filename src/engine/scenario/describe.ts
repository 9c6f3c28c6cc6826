/**
 * Scenario steps and expectations in words, for the runner's report, the app's narration and
 * the event log.
 */
import { formatByte } from '../block/data-runs.js';
import type { ActionStep, Expectation, ParsedStep, Until } from './schema.js';
import { formatDuration, formatSize } from './units.js';

function range(offset: number, length: number): string {
  return `[${formatSize(offset)}, +${formatSize(length)})`;
}

const described = new WeakMap<ParsedStep | ActionStep, string>();

/**
 * A step in words ("read primary-disk [4 KiB, +4 KiB)"). The text is made once per step object
 * (steps are never changed once parsed): a run's results and the app's step list then hold one
 * string per step, not one more per result, which a long run kept alive to the end.
 */
export function describeStep(step: ParsedStep | ActionStep): string {
  let text = described.get(step);
  if (text === undefined) {
    text = composeDescription(step);
    described.set(step, text);
  }
  return text;
}

function composeDescription(step: ParsedStep | ActionStep): string {
  switch (step.op) {
    case 'write':
      return `write ${formatByte(step.pattern)} to ${step.node} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'read':
      return `read ${step.node} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'guest-write':
      return `${step.vm} VM writes ${formatByte(step.pattern)} ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'guest-read':
      return `${step.vm} VM reads ${range(step.offset, step.length)}${step.async ? ' (async)' : ''}`;
    case 'flush':
      return `${step.vm === undefined ? `flush ${step.node}` : `${step.vm} VM flushes its disk`}${step.async ? ' (async)' : ''}`;
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
    case 'restart':
      return `the lost ${step.host} host restarts as the new secondary (disk ${step.disks})`;
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
        case 'host-down':
          return `fault: the ${step.host} host dies`;
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
      return `check ${describeUntil(step)}`;
    case 'ask':
      return step.question;
    case 'task':
      return step.goal;
    case 'say':
      return step.text;
    case 'workload':
      return step.writesPerSecond === 0
        ? 'stop the guest workload'
        : `guest workload: ${step.writesPerSecond} writes/s on ${step.vm ?? 'primary'} (${formatSize(step.blockSize ?? 4096)} blocks, up to ${step.maxBlocks ?? 16} per write)`;
  }
}

/** A check (of a check step, or a task's goal) in words: "replication-secondary is failover". */
export function describeUntil(check: Until): string {
  if (check.event) return `the ${check.event.host} emitted ${check.event.name}${check.event.data ? ` ${JSON.stringify(check.event.data)}` : ''}`;
  if (check.stage) return `${check.stage.node} is ${check.stage.is}`;
  if (check.job) return `the ${check.job.type} job on ${check.job.host} is ${check.job.is}`;
  if (check.allocated) return `${check.allocated.node} ${range(check.allocated.offset, check.allocated.length)} is ${check.allocated.is === 'all' ? 'all allocated' : 'not allocated'}`;
  return `${check.same!.join(', ')} read the same`;
}

export function describeExpectation(expect: Expectation | undefined, control: boolean): string {
  if (!expect || expect.ok) return 'success';
  if (expect.return !== undefined) return `return ${JSON.stringify(expect.return)}`;
  if (expect.pattern !== undefined) return `every byte ${formatByte(expect.pattern)}`;
  if (expect.error === true) return 'an error';
  return control ? `error "${expect.error}"` : `error ${expect.error}`;
}
