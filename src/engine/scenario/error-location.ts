/**
 * Where a validation error is, said the same way by the CLI and the app: the JSON path to find it
 * in the file, and the 1-based step number both of them show for steps.
 */

/** The 1-based step a JSON path (`steps[3].offset`) is in, or undefined outside `steps`. */
export function stepOfPath(path: string): number | undefined {
  const match = /^steps\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) + 1 : undefined;
}

/** `steps[3].offset` → `steps[3].offset (step 4)`; other paths as they are. */
export function locateError(path: string): string {
  const step = stepOfPath(path);
  return step === undefined ? path : `${path} (step ${step})`;
}
