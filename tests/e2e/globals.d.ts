/** What the app exposes on window for tests (src/main.ts), as the tests use it. */
import type { SimClient } from '../../src/worker/client';

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
        readonly history: ReadonlyArray<{ readonly step: { readonly op: string } }>;
        readonly announcer: { readonly text: string };
        setSpeed(speed: number): Promise<void>;
        setPlaying(playing: boolean): Promise<void>;
      };
    };
  }
}

export {};
