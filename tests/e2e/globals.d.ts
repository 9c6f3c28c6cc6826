/** What the app exposes on window for tests (src/main.ts), as the tests use it. */
import type { SimulationSettings } from '../../src/engine/colo/simulation';
import type { SimEvent } from '../../src/engine/sim/events';
import type { SimClient } from '../../src/worker/client';
import type { CommandResult, PersistenceStatus, SimSummary } from '../../src/worker/protocol';

interface TestDiskImage {
  readonly content: Uint16Array;
  readonly allocated: Uint8Array;
}

declare global {
  interface Window {
    coloSim: {
      client: SimClient;
      state: {
        readonly disks: {
          readonly images: Map<string, TestDiskImage>;
          get(name: string): TestDiskImage | undefined;
          flush(): void;
        };
        readonly history: ReadonlyArray<{ readonly step: { readonly op: string }; readonly status: string }>;
        readonly announcer: { readonly text: string };
        /** The page's event log: a ring of the newest events. */
        readonly log: { readonly size: number; filter(predicate: undefined): ReadonlyArray<{ readonly event: SimEvent }> };
        readonly summary: SimSummary | null;
        readonly persistence: PersistenceStatus | null;
        readonly savedUpToUs: number | null;
        readonly saved: boolean;
        readonly droppedEvents: number;
        readonly clock: { readonly playing: boolean; readonly speed: number };
        setSpeed(speed: number): Promise<void>;
        setPlaying(playing: boolean): Promise<void>;
        newSimulation(settings: Partial<SimulationSettings>): Promise<void>;
        /** Runs a command as the page's controls do (history, toast). */
        run(step: Record<string, unknown> & { op: string }, options?: { quiet?: boolean }): Promise<CommandResult | undefined>;
        /** The scenario being played, as far as the benchmarks read it (tests/bench/browser/app-pace.ts). */
        readonly scenario: { readonly nextStepIndex: number; readonly done: boolean; readonly outcome?: { readonly passed: boolean } } | null;
        loadScenarioText(name: string, text: string): Promise<boolean>;
        /** Set while the page asks whether to replace the user's own simulation (answer as the dialog would). */
        replaceRequest: { name: string; answer(replace: boolean): void } | null;
        scenarioRunToEnd(): Promise<void>;
        /** One QMP command typed on a host's console: a History entry, failed when QMP answers an error. */
        sendQmp(host: 'primary' | 'secondary', execute: string, args?: Record<string, unknown>): Promise<unknown>;
      };
    };
  }
}

export {};
