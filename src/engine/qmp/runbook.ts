/**
 * A session as a QMP runbook: what an operator would type into each host's QMP monitor to do
 * what the session did, in the session's order.
 *
 * The format (docs/qmp-runbook.md): plain text, one QMP command per line in QEMU's JSON layout,
 * for the host named by the last `# on the primary` / `# on the secondary` line before it;
 * every other line starts with `#` and is a comment: the header, and each step that has no QMP
 * (guest I/O, faults, the clock, a host dying) with what it stands for. `grep -v '^#'` leaves
 * the commands; the host lines split them per host.
 */
import { DEFAULT_CHECKPOINT_DELAY_MS } from '../colo/colo-protocol.js';
import type { HostName } from '../sim/events.js';
import { qmpEquivalent, type LooseStep } from './equivalents.js';
import { formatQmpCommand, formatQmpJson } from './qmp-json.js';

export interface RunbookInput {
  readonly title: string;
  /** Where the session is, in words ("virtual time 1.5 s"). */
  readonly exportedAt: string;
  /** The session's steps as an exported scenario holds them (each with what it observed as `expect`). */
  readonly steps: readonly unknown[];
}

export const RUNBOOK_HOST_LINE: Readonly<Record<HostName, string>> = { primary: '# on the primary', secondary: '# on the secondary' };

export function buildQmpRunbook(input: RunbookInput): string {
  const lines: string[] = [
    `# colo-sim QMP runbook: ${oneLine(input.title)}`,
    `# Exported from colo-sim at ${input.exportedAt}.`,
    '# One QMP command per line, for the host of the last "# on the primary" or "# on the secondary" line;',
    '# every other line starting with "#" is a comment: the steps that have no QMP say what they were.',
    '#',
    "# Before the first line, as colo-sim's hosts boot (docs/COLO-FT.txt, steps 2 and 3): the secondary",
    '# runs with -incoming tcp:0.0.0.0:9998 and has its NBD server started and secondary-disk exported.',
  ];
  for (const part of qmpEquivalent({ op: 'colo-start' }).parts) {
    if (part.kind === 'qmp' && part.atBoot) lines.push(`#   ${part.host}: ${formatQmpCommand(part.command)}`);
  }
  lines.push('');
  let host: HostName | undefined;
  let checkpointDelayMs = DEFAULT_CHECKPOINT_DELAY_MS;
  for (const [index, raw] of input.steps.entries()) {
    if (!isStep(raw)) {
      lines.push(`# step ${index + 1}: not a step`);
      continue;
    }
    const equivalent = qmpEquivalent(raw, { checkpointDelayMs });
    const failure = failureOf(raw);
    if (raw.op !== 'qmp') lines.push(`# step ${index + 1}: ${formatQmpJson(withoutExpect(raw))}`);
    for (const part of equivalent.parts) {
      if (part.atBoot) continue;
      if (part.kind === 'no-qmp') {
        lines.push(`#   no QMP: ${part.what}`);
        continue;
      }
      if (part.host !== host) {
        host = part.host;
        lines.push(RUNBOOK_HOST_LINE[host]);
      }
      lines.push(formatQmpCommand(part.command));
    }
    if (failure !== undefined) lines.push(`#   colo-sim answered with an error: ${oneLine(failure)}`);
    checkpointDelayMs = delayAfter(raw, failure, checkpointDelayMs);
  }
  return `${lines.join('\n')}\n`;
}

function isStep(value: unknown): value is LooseStep {
  return value !== null && typeof value === 'object' && typeof (value as { op?: unknown }).op === 'string';
}

function withoutExpect(step: LooseStep): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...step };
  delete copy.expect;
  return copy;
}

/** The error message the session observed for this step, if it failed. */
function failureOf(step: LooseStep): string | undefined {
  const expect = step.expect as { error?: unknown } | undefined;
  return typeof expect?.error === 'string' ? expect.error : undefined;
}

/** The primary's x-checkpoint-delay after a step: a successful migrate-set-parameters there changes it. */
function delayAfter(step: LooseStep, failure: string | undefined, delayMs: number): number {
  if (step.op !== 'qmp' || step.host !== 'primary' || step.execute !== 'migrate-set-parameters' || failure !== undefined) return delayMs;
  const value = (step.arguments as Record<string, unknown> | undefined)?.['x-checkpoint-delay'];
  return typeof value === 'number' ? value : delayMs;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
