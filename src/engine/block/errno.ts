/** The errno values a request can fail with, by name, as scenario expectations write them. */
export const ERRNO_NAMES = ['EIO', 'ENOMEDIUM', 'ECANCELED', 'EINVAL', 'ENOSPC', 'EPERM', 'ENOTSUP'] as const;
export type Errno = (typeof ERRNO_NAMES)[number];

/** strerror() of each errno, as QEMU appends it to messages built with error_setg_errno. */
export const STRERROR: Record<Errno, string> = {
  EIO: 'Input/output error',
  ENOMEDIUM: 'No medium found',
  ECANCELED: 'Operation canceled',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EPERM: 'Operation not permitted',
  ENOTSUP: 'Operation not supported',
};

export type ReadResult = { readonly ok: true; readonly data: import('./data-runs.js').DataRuns } | { readonly ok: false; readonly errno: Errno };
export type WriteResult = { readonly ok: true } | { readonly ok: false; readonly errno: Errno };

export const WRITE_OK: WriteResult = Object.freeze({ ok: true });

export function failed(errno: Errno): { readonly ok: false; readonly errno: Errno } {
  return { ok: false, errno };
}
