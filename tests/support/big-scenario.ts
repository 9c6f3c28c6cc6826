/**
 * A valid scenario of any length for load and scale tests: COLO start, then guest writes on both
 * VMs with reads of what the primary wrote and a checkpoint every 500 writes, on a 1 MiB disk.
 * It passes; `failAt` makes the read at that 0-based step expect 0xEE instead, so it fails there.
 */
export function bigScenarioText(steps: number, options: { readonly failAt?: number } = {}): string {
  const list: unknown[] = [{ op: 'colo-start' }];
  for (let index = 1; list.length < steps; index++) {
    const offset = (index % 256) * 4096;
    const pattern = (index % 255) + 1;
    list.push({ op: 'guest-write', vm: index % 3 === 0 ? 'secondary' : 'primary', offset, length: 4096, pattern });
    if (list.length < steps && index % 3 !== 0) list.push({ op: 'read', node: 'primary-disk', offset, length: 4096, expect: { pattern } });
    if (list.length < steps && index % 500 === 0) list.push({ op: 'checkpoint' });
  }
  const chosen = list.slice(0, steps) as Array<{ op: string; expect?: { pattern: number } }>;
  if (options.failAt !== undefined) {
    const read = chosen[options.failAt];
    if (read?.op !== 'read' || read.expect?.pattern === 0xee) throw new Error(`step ${options.failAt} is not a read that 0xee would fail`);
    read.expect = { pattern: 0xee };
  }
  return JSON.stringify({ format: 'colo-sim/1', title: `${steps} steps`, setup: { diskSize: '1M' }, steps: chosen });
}
