/**
 * Opening an NBD client the way drive_add's file.driver=nbd and drive-mirror's nbd:// target do:
 * resolve the host, connect to its NBD server's port, ask for the export (nbd/client.c). Hosts
 * are named by their role ("secondary"), as colo-sim's migration URI names them.
 */
import type { HostName } from '../sim/events.js';
import type { Simulation } from '../colo/simulation.js';

/** An NBD server's address and export, as a client names them. */
export interface NbdAddress {
  readonly host: string;
  readonly port: string;
  readonly exportName: string;
}

/**
 * The export to connect to, or QEMU's error: the text (for QMP's desc) and the hint
 * error_report_err prints after it (HMP's output).
 */
export type NbdConnectOutcome = { readonly ok: true; readonly serverHost: HostName } | { readonly ok: false; readonly message: string; readonly hint?: string };

/** nbd://HOST:PORT/EXPORT, as drive-mirror's target names an NBD export. */
export function parseNbdUri(uri: string): NbdAddress | undefined {
  const match = /^nbd:\/\/([^:/]+)(?::(\d+))?\/(.+)$/.exec(uri);
  if (!match) return undefined;
  return { host: match[1]!, port: match[2] ?? '10809', exportName: match[3]! };
}

/** Connects from `fromHost` to the NBD server at `address`; nothing is opened on failure. */
export function connectNbd(sim: Simulation, fromHost: HostName, address: NbdAddress): NbdConnectOutcome {
  const where = `${address.host}:${address.port}`;
  if (address.host !== 'primary' && address.host !== 'secondary') {
    return { ok: false, message: `address resolution failed for ${where}: Name or service not known` };
  }
  const serverHost: HostName = address.host;
  const server = sim.host(serverHost).nbdServer;
  const reachable = serverHost === fromHost || sim.link.isUp;
  if (!reachable || sim.colo.process(serverHost).state.crashed || !server.running || server.state.port !== address.port) {
    return { ok: false, message: `Failed to connect to '${where}': Connection refused` };
  }
  if (!server.has(address.exportName)) {
    return { ok: false, message: 'Requested export not available', hint: `server reported: export '${address.exportName}' not present` };
  }
  return { ok: true, serverHost };
}
