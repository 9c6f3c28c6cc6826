/**
 * `colo-sim run` as a user runs it: whole-process wall time of `node bin/colo-sim.js run ...`
 * (the launcher and the built bundle), started several times, median and fastest kept (like
 * hyperfine). Node's own start (`node -e 0`) is measured the same way, for scale: it is
 * the floor no CLI written for Node gets under.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../scripts/build-cli.mjs';
import { PROJECT_ROOT } from '../../scripts/cli-bundle.cjs';

export interface WallTimes {
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
}

export interface CliStartupFigures {
  readonly nodeAlone: WallTimes;
  readonly emptyScenario: WallTimes;
  readonly qemuScenarios: WallTimes;
  /**
   * When NODE_EXTRA_CA_CERTS is set (this machine sets it), Node parses every certificate it
   * names at each start, before any script runs; the same two runs without it show how much of
   * the whole is that.
   */
  readonly withoutExtraCaCerts?: { readonly nodeAlone: WallTimes; readonly emptyScenario: WallTimes };
}

const RUNS = 15;

interface Command {
  readonly args: readonly string[];
  readonly expectedExitCode: number;
  /** Variables to drop from the environment for this command. */
  readonly unset?: readonly string[];
}

/**
 * Runs each command `runs` times, taking turns (A, B, C, A, B, C, ...) so that another load on
 * the machine falls on all of them alike rather than on whichever ran while it lasted.
 */
function timeProcesses(commands: readonly Command[], runs: number): WallTimes[] {
  const wallMs = commands.map((): number[] => []);
  // One round first, unmeasured: it pages the files in, as they are in any run but the first after a boot.
  for (let round = 0; round <= runs; round++) {
    commands.forEach(({ args, expectedExitCode }, index) => {
      const started = performance.now();
      const env = { ...process.env };
      for (const name of commands[index]!.unset ?? []) delete env[name];
      const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
      const elapsedMs = performance.now() - started;
      if (result.status !== expectedExitCode) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
      if (round > 0) wallMs[index]!.push(elapsedMs);
    });
  }
  return wallMs.map((times) => {
    times.sort((a, b) => a - b);
    return { medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]!, runs };
  });
}

export async function benchCliStartup(): Promise<CliStartupFigures> {
  // The CLI as `npm install` leaves it: built, with the code cache its build makes.
  await buildCli(PROJECT_ROOT, { warmCodeCache: true });
  const directory = mkdtempSync(join(tmpdir(), 'colo-sim-bench-'));
  try {
    const empty = join(directory, 'empty.json');
    writeFileSync(empty, JSON.stringify({ format: 'colo-sim/1', title: 'no steps', steps: [] }));
    const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS ? ['NODE_EXTRA_CA_CERTS'] : undefined;
    const [nodeAlone, emptyScenario, qemuScenarios, nodeAloneBare, emptyScenarioBare] = timeProcesses(
      [
        { args: ['-e', '0'], expectedExitCode: 0 },
        { args: ['bin/colo-sim.js', 'run', empty], expectedExitCode: 0 },
        { args: ['bin/colo-sim.js', 'run', 'public/scenarios/qemu-tests'], expectedExitCode: 0 },
        ...(extraCaCerts
          ? [
              { args: ['-e', '0'], expectedExitCode: 0, unset: extraCaCerts },
              { args: ['bin/colo-sim.js', 'run', empty], expectedExitCode: 0, unset: extraCaCerts },
            ]
          : []),
      ],
      RUNS,
    );
    return {
      nodeAlone: nodeAlone!,
      emptyScenario: emptyScenario!,
      qemuScenarios: qemuScenarios!,
      ...(nodeAloneBare && emptyScenarioBare ? { withoutExtraCaCerts: { nodeAlone: nodeAloneBare, emptyScenario: emptyScenarioBare } } : {}),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
