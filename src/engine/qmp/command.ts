/**
 * What every QMP command is: its QAPI arguments and a handler returning QEMU's reply. The
 * tables of commands (qmp.ts, block-commands.ts, host-commands.ts) are made of these.
 */
import type { Simulation } from '../colo/simulation.js';
import type { HostName } from '../sim/events.js';
import type { QapiMember } from './qapi.js';

export type QmpErrorClass = 'GenericError' | 'CommandNotFound' | 'DeviceNotActive' | 'DeviceNotFound';

export type QmpReply = { readonly return: unknown } | { readonly error: { readonly class: QmpErrorClass; readonly desc: string } };

export interface QmpCommandInput {
  readonly execute: string;
  readonly arguments?: Record<string, unknown>;
}

export interface QmpContext {
  readonly sim: Simulation;
  readonly host: HostName;
}

export interface QmpCommand {
  /** The command's QAPI arguments ('data' in the schema), in schema order. */
  readonly args: Readonly<Record<string, QapiMember>>;
  /** The function in QEMU that implements it, for the event log. */
  readonly qemuFunction: string;
  /** Members beyond `args` are the type's own properties (object-add's flat union): not refused. */
  readonly openArguments?: boolean;
  run(context: QmpContext, args: Record<string, unknown>): QmpReply;
}

export const ok = (value: unknown = {}): QmpReply => ({ return: value });
export const fail = (desc: string, errorClass: QmpErrorClass = 'GenericError'): QmpReply => ({ error: { class: errorClass, desc } });

