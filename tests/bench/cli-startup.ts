/**
 * `colo-sim run` as a user runs it: whole-process wall time of `node bin/colo-sim.cjs run ...`
 * (the launcher and the built bundle), started several times in a row, median and fastest kept
 * (like hyperfine). Node's own start (`node -e 0`) is measured the same way, for scale: it is
 * the floor no CLI written for Node gets under.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../scripts/build-cli.mjs';
import { buildState } from '../../scripts/cli-bundle.cjs';

export interface WallTimes {
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
}

export interface CliStartupFigures {
  readonly nodeAlone: WallTimes;
  readonly emptyScenario: WallTimes;
  readonly qemuScenarios: WallTimes;
}

const RUNS = 15;

function timeProcess(args: readonly string[], runs: number, expectedExitCode: number): WallTimes {
  const wallMs: number[] = [];
  // One run first, unmeasured: it pages the files in, as they are in any run but the first after a boot.
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const elapsedMs = performance.now() - started;
    if (result.status !== expectedExitCode) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
    if (run > 0) wallMs.push(elapsedMs);
  }
  wallMs.sort((a, b) => a - b);
  return { medianMs: wallMs[Math.floor(wallMs.length / 2)]!, minMs: wallMs[0]!, runs };
}

export async function benchCliStartup(): Promise<CliStartupFigures> {
  // Measure the CLI as `npm install` leaves it, not a first run that rebuilds it.
  if (!buildState().fresh) await buildCli();
  const directory = mkdtempSync(join(tmpdir(), 'colo-sim-bench-'));
  try {
    const empty = join(directory, 'empty.json');
    writeFileSync(empty, JSON.stringify({ format: 'colo-sim/1', title: 'no steps', steps: [] }));
    return {
      nodeAlone: timeProcess(['-e', '0'], RUNS, 0),
      emptyScenario: timeProcess(['bin/colo-sim.cjs', 'run', empty], RUNS, 0),
      qemuScenarios: timeProcess(['bin/colo-sim.cjs', 'run', 'public/scenarios/qemu-tests'], RUNS, 0),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
