/** What the page exposes for tests and benchmarks (src/main.ts), as far as the benchmarks use it. */
export {};

interface BenchClient {
  newSimulation(settings: object): Promise<void>;
  execute(step: object): Promise<unknown>;
  setClock(clock: object): Promise<void>;
}

interface BenchState {
  readonly summary: { readonly workload: { readonly writesIssued: number } | null } | null;
  readonly savedUpToUs: number | null;
  readonly scenario: { readonly done: boolean; readonly outcome?: { readonly passed: boolean } } | null;
  setSpeed(speed: number): Promise<void>;
  setPlaying(playing: boolean): Promise<void>;
  loadScenarioText(name: string, text: string): Promise<boolean>;
  scenarioRunToEnd(): Promise<void>;
}

declare global {
  interface Window {
    coloSim: { client: BenchClient; state: BenchState };
  }
}
