/**
 * npm run bench: prints the engine's speed and memory figures. These are measurements, not
 * pass/fail tests; the README records them with the machine they ran on.
 */
import { cpus, totalmem } from 'node:os';
import { benchCheckpointCost } from './checkpoint-cost.js';
import { benchCliStartup, type WallTimes } from './cli-startup.js';
import { benchHeap } from './heap.js';
import { benchQemuScenarios } from './qemu-scenarios.js';
import { runBrowserBench } from './browser/run-browser-bench.js';
import { benchTimeTravel } from './time-travel.js';
import { benchWriteThroughput } from './write-throughput.js';

const machine = `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`;
process.stdout.write(`colo-sim engine benchmarks on ${machine}\n\n`);

const qemu = benchQemuScenarios();
process.stdout.write(`QEMU's ${qemu.files} test-replication.c scenarios at 64 MiB: ${qemu.wallMs.toFixed(0)} ms total (target < 1000 ms)${qemu.allPassed ? '' : '  [SOME FAILED]'}\n`);

const cli = await benchCliStartup();
const wall = (times: WallTimes): string => `${times.medianMs.toFixed(0)} ms median, ${times.minMs.toFixed(0)} ms fastest of ${times.runs}`;
process.stdout.write(`colo-sim run, whole process (node bin/colo-sim.js): QEMU's 13 scenarios ${wall(cli.qemuScenarios)} (target < 300 ms)\n`);
process.stdout.write(`colo-sim run, whole process: a scenario with no steps ${wall(cli.emptyScenario)} (target < 150 ms); node -e 0 ${wall(cli.nodeAlone)}\n`);
if (cli.withoutExtraCaCerts) {
  process.stdout.write(
    `  the same without NODE_EXTRA_CA_CERTS (set here: Node parses those certificates at every start): a scenario with no steps ${wall(cli.withoutExtraCaCerts.emptyScenario)}; node -e 0 ${wall(cli.withoutExtraCaCerts.nodeAlone)}\n`,
  );
}

const heap = benchHeap();
process.stdout.write(`Heap for four ${heap.diskSizeMiB} MiB disks filled with patterns: ${heap.heapMiB.toFixed(2)} MiB (target < 16 MiB)\n`);

const checkpoint = benchCheckpointCost();
process.stdout.write(
  `Checkpoint with 100 dirty clusters: ${checkpoint.smallUs.toFixed(0)} us on 64 MiB, ${checkpoint.largeUs.toFixed(0)} us on 1 GiB, ratio ${checkpoint.ratio.toFixed(2)} (target <= 1.5)\n`,
);

const throughput = benchWriteThroughput();
process.stdout.write(
  `Random 4 KiB guest writes through the COLO topology (${(throughput.primaryShare * 100).toFixed(0)}% primary): ${throughput.writesPerSecond.toFixed(0)} writes/s of wall time\n`,
);

const travel = benchTimeTravel();
process.stdout.write(
  `Time travel, ${travel.steps.toLocaleString('en')}-step session on 64 MiB: first pass ${(travel.firstPassMs / 1000).toFixed(1)} s; go to a random step ${travel.goTo.medianMs.toFixed(0)} ms median, ${travel.goTo.p95Ms.toFixed(0)} ms p95, ${travel.goTo.maxMs.toFixed(0)} ms max (target < 100 ms); with the last 1,000 events rebuilt ${travel.goToWithLog.medianMs.toFixed(0)} ms median\n`,
);
process.stdout.write(
  `Time travel keyframes: ${travel.keyframes} (every ${travel.intervalSteps} steps, at most 256), ${travel.keyframeMiB.toFixed(1)} MiB estimated, ${travel.heapMiB === undefined ? 'heap not measured (run with --expose-gc)' : `${travel.heapMiB.toFixed(1)} MiB of heap`}\n`,
);

await runBrowserBench((line) => process.stdout.write(line));
