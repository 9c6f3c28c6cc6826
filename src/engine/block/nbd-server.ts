/**
 * One host's NBD server (nbd-server-start, nbd-server-add, nbd-server-stop): whether it runs
 * and the exports it offers, each a BlockBackend of the host's graph over the exported node.
 * An NBD client on the other host finds its export here by name when a request arrives, so a
 * stopped server or a removed export answers nothing (the connection is closed).
 */
import { BlockBackend, type BlockGraph } from './graph.js';
import type { BlockNode } from './node.js';

export interface NbdExportState {
  /** The export's name, as a client asks for it (nbd-server-add's name, else the device). */
  readonly name: string;
  /** The BlockBackend the export holds (its name in the graph). */
  readonly backendName: string;
  readonly writable: boolean;
}

export interface NbdServerState {
  running: boolean;
  /** The TCP port it listens on (nbd-server-start's addr), while it runs. */
  port: string | null;
  exports: NbdExportState[];
}

/** The first export of a host is "nbd-export" (the app draws it by that name); later ones are numbered. */
function backendNameFor(index: number): string {
  return index === 0 ? 'nbd-export' : `nbd-export-${index + 1}`;
}

export class NbdServer {
  constructor(
    private readonly graph: BlockGraph,
    public state: NbdServerState = { running: false, port: null, exports: [] },
  ) {}

  get running(): boolean {
    return this.state.running;
  }

  has(exportName: string): boolean {
    return this.state.exports.some((entry) => entry.name === exportName);
  }

  /** The export's BlockBackend and whether it takes writes, when the server runs and offers `exportName`. */
  exportOf(exportName: string): { readonly backend: BlockBackend; readonly writable: boolean } | undefined {
    if (!this.state.running) return undefined;
    const entry = this.state.exports.find((candidate) => candidate.name === exportName);
    const backend = entry ? this.graph.backendNamed(entry.backendName) : undefined;
    return entry && backend ? { backend, writable: entry.writable } : undefined;
  }

  /** The exported node of each export, for views. */
  exportedNodes(): Array<{ name: string; node: BlockNode | undefined }> {
    return this.state.exports.map((entry) => ({ name: entry.name, node: this.graph.backendNamed(entry.backendName)?.root }));
  }

  start(port: string): void {
    this.state.running = true;
    this.state.port = port;
  }

  /** Adds an export of `node` (the caller has checked QEMU's preconditions). */
  add(exportName: string, node: BlockNode, writable: boolean): BlockBackend {
    let index = 0;
    while (this.graph.backendNamed(backendNameFor(index))) index++;
    const backend = new BlockBackend(backendNameFor(index), node, node.nodeName);
    this.graph.backends.push(backend);
    this.state.exports.push({ name: exportName, backendName: backend.name, writable });
    return backend;
  }

  /** nbd-server-stop: every export goes away with the server. */
  stop(): void {
    for (const entry of this.state.exports) {
      const position = this.graph.backends.findIndex((backend) => backend.name === entry.backendName);
      if (position >= 0) this.graph.backends.splice(position, 1);
    }
    this.state = { running: false, port: null, exports: [] };
  }

  saveState(): NbdServerState {
    return { running: this.state.running, port: this.state.port, exports: this.state.exports.map((entry) => ({ ...entry })) };
  }
}
